//! call-provider as a process against a real mock-apns (TLS + HTTP/2), configured only
//! through the environment, exactly as the harness runs it.

mod support;

mod api;
mod calls;
mod robustness;
