//! A wake-up for long-polls and followers that costs one atomic load while nobody waits:
//! `Notify::notify_waiters` takes a lock, and the push path rings on every push.

use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::futures::Notified;
use tokio::sync::Notify;

/// Wakes every registered [`Waiter`] when rung.
#[derive(Debug, Default)]
pub(crate) struct Wake {
    notify: Notify,
    /// How many waiters are registered: ringing skips `Notify` at zero.
    waiters: AtomicUsize,
}

impl Wake {
    /// Wakes every waiter's pending [`Waiter::notified`], if there is a waiter.
    pub(crate) fn ring(&self) {
        if self.waiters.load(Ordering::SeqCst) > 0 {
            self.notify.notify_waiters();
        }
    }

    /// Registers a waiter for as long as the guard lives.
    pub(crate) fn waiter(&self) -> Waiter<'_> {
        self.waiters.fetch_add(1, Ordering::SeqCst);
        Waiter(self)
    }
}

/// A registered waiter ([`Wake::waiter`]).
#[derive(Debug)]
pub(crate) struct Waiter<'a>(&'a Wake);

impl Waiter<'_> {
    /// Resolves at the next ring; call `enable` on it before looking at what it guards, so a
    /// change after the look still wakes it.
    pub(crate) fn notified(&self) -> Notified<'_> {
        self.0.notify.notified()
    }
}

impl Drop for Waiter<'_> {
    fn drop(&mut self) {
        self.0.waiters.fetch_sub(1, Ordering::SeqCst);
    }
}
