//! What the mock remembers: every push and its answer, the registered devices, and the clock every
//! time rule reads.

pub(crate) mod clock;
pub(crate) mod devices;
pub(crate) mod notification;
pub(crate) mod recorder;
