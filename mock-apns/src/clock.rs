//! The one clock every time rule reads (token age, 410 timestamps, `received_at`).
//!
//! Wall time plus an offset that tests move forward, so an hour-long rule is tested in
//! milliseconds. Lock-free: an atomic offset read on every push.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A shareable wall clock that can be advanced, never rewound.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    /// A clock at real time.
    pub fn new() -> Self {
        Self::default()
    }

    /// Milliseconds since the Unix epoch, as the mock sees them.
    pub fn now_ms(&self) -> u64 {
        let real = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis() as i64;
        (real + self.offset_ms.load(Ordering::Relaxed)).max(0) as u64
    }

    /// Seconds since the Unix epoch (the unit of JWT `iat` and `apns-expiration`).
    pub fn now_secs(&self) -> u64 {
        self.now_ms() / 1000
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.offset_ms.fetch_add(ms, Ordering::Relaxed);
    }

    /// How far the clock has been advanced in total.
    pub fn offset(&self) -> Duration {
        Duration::from_millis(self.offset_ms.load(Ordering::Relaxed).max(0) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_moves_every_clone() {
        let clock = Clock::new();
        let other = clock.clone();
        let before = other.now_ms();
        clock.advance(Duration::from_secs(3600));
        assert!(other.now_ms() >= before + 3_600_000);
        assert_eq!(other.offset(), Duration::from_secs(3600));
    }
}
