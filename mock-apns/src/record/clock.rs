//! The one clock every time rule reads (token age, 410 timestamps, `received_at`).
//!
//! Wall time plus an offset that tests move forward, so an hour-long rule is tested in
//! milliseconds. Lock-free: an atomic offset read on every push. Timers that run on this clock
//! (the idle timeout) also wake when it is advanced.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::Notify;

/// A shareable wall clock that can be advanced, never rewound.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    offset_ms: AtomicI64,
    advanced: Notify,
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
        (real + self.inner.offset_ms.load(Ordering::Relaxed)).max(0) as u64
    }

    /// Seconds since the Unix epoch (the unit of JWT `iat` and `apns-expiration`).
    pub fn now_secs(&self) -> u64 {
        self.now_ms() / 1000
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.inner.offset_ms.fetch_add(ms, Ordering::Relaxed);
        self.inner.advanced.notify_waiters();
    }

    /// Sleeps until the clock reads `deadline_ms`, waking early (and re-checking) whenever it
    /// is advanced.
    pub async fn sleep_until_ms(&self, deadline_ms: u64) {
        loop {
            let advanced = self.inner.advanced.notified();
            tokio::pin!(advanced);
            advanced.as_mut().enable();
            let now = self.now_ms();
            if now >= deadline_ms {
                return;
            }
            tokio::select! {
                () = tokio::time::sleep(Duration::from_millis(deadline_ms - now)) => {}
                () = advanced => {}
            }
        }
    }

    /// How far the clock has been advanced in total.
    pub fn offset(&self) -> Duration {
        Duration::from_millis(self.inner.offset_ms.load(Ordering::Relaxed).max(0) as u64)
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

    #[tokio::test]
    async fn an_hour_long_sleep_ends_when_the_clock_is_advanced() {
        let clock = Clock::new();
        let deadline = clock.now_ms() + 3_600_000;
        let sleeper = tokio::spawn({
            let clock = clock.clone();
            async move { clock.sleep_until_ms(deadline).await }
        });
        // Advance until the sleeper ends; the timeout only bounds failure.
        let woke = tokio::time::timeout(Duration::from_secs(5), async {
            while !sleeper.is_finished() {
                clock.advance(Duration::from_secs(3600));
                tokio::task::yield_now().await;
            }
        })
        .await;
        assert!(woke.is_ok(), "sleep_until_ms did not wake on advance");
    }
}
