//! What the mock remembers: every push and its answer, the registered devices, the clock every
//! time rule reads, and the Simulator's file of a recorded push.

pub(crate) mod clock;
pub(crate) mod compact;
pub(crate) mod devices;
pub(crate) mod json_syntax;
pub(crate) mod notification;
pub(crate) mod record_file;
pub(crate) mod recorder;
pub(crate) mod simulator_file;
pub(crate) mod wake;
