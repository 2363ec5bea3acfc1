//! Reaching the mock without changing a client: the CONNECT front door for clients that keep
//! Apple's host names, and the environment variables that point them at it.

pub(crate) mod client_env;
pub(crate) mod connect_proxy;
pub(crate) mod tunnels;
