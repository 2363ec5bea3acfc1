//! The one clock every time rule reads (token age, 410 timestamps, `received_at`).
//!
//! Wall time plus an offset that tests move forward, so an hour-long rule is tested in
//! milliseconds. Lock-free: an atomic offset read on every push. Timers that run on this clock
//! (the idle timeout) also wake when it is advanced.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::Notify;

/// The latest time the clock reads: 9999-12-31T23:59:59.999Z, the last instant a four-digit
/// year (RFC 3339, most date libraries) can show. Far beyond any test, far below any overflow
/// (epoch ms stay under 2^48, so `now + a day` can never wrap).
pub const MAX_NOW_MS: u64 = 253_402_300_799_999;

/// A shareable wall clock that can be advanced, never rewound.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Never above [`MAX_NOW_MS`], so `real + offset` cannot overflow.
    offset_ms: AtomicU64,
    advanced: Notify,
}

/// An advance the clock cannot make: it would read past [`MAX_NOW_MS`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "advance_ms {requested} would move the clock past 9999-12-31 (the clock reads {now_ms} ms; \
     at most {max_advance_ms} ms more)"
)]
pub struct AdvanceTooFar {
    /// The advance asked for, ms.
    pub requested: u128,
    /// The clock's reading when it was asked, epoch ms.
    pub now_ms: u64,
    /// The largest advance it could have made, ms.
    pub max_advance_ms: u64,
}

impl Clock {
    /// A clock at real time.
    pub fn new() -> Self {
        Self::default()
    }

    /// Milliseconds since the Unix epoch, as the mock sees them (at most [`MAX_NOW_MS`]).
    pub fn now_ms(&self) -> u64 {
        real_ms()
            .saturating_add(self.inner.offset_ms.load(Ordering::Relaxed))
            .min(MAX_NOW_MS)
    }

    /// Seconds since the Unix epoch (the unit of JWT `iat` and `apns-expiration`).
    pub fn now_secs(&self) -> u64 {
        self.now_ms() / 1000
    }

    /// Moves the clock forward by `by`, or as far as it goes ([`MAX_NOW_MS`]): it saturates,
    /// never wraps. [`Self::try_advance`] refuses instead.
    pub fn advance(&self, by: Duration) {
        let by = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        self.update(|offset, room| Some(offset + by.min(room)));
    }

    /// Moves the clock forward by `by` if it can read that late, else changes nothing: what the
    /// admin API does with an advance (a test asking for 2^64 ms has a bug worth hearing about).
    pub fn try_advance(&self, by: Duration) -> Result<(), AdvanceTooFar> {
        let ms = by.as_millis();
        let mut refused = None;
        // The closure refuses only by returning `None`, which ends the update: `refused` is
        // set exactly when the clock did not move.
        self.update(|offset, room| match u64::try_from(ms) {
            Ok(ms) if ms <= room => Some(offset + ms),
            _ => {
                refused = Some(room);
                None
            }
        });
        match refused {
            None => Ok(()),
            Some(room) => Err(AdvanceTooFar {
                requested: ms,
                now_ms: MAX_NOW_MS - room,
                max_advance_ms: room,
            }),
        }
    }

    /// Applies `next(offset, room)` atomically, `room` being how far the clock can still move
    /// (ms); wakes sleepers when it moved.
    fn update(&self, mut next: impl FnMut(u64, u64) -> Option<u64>) {
        let moved = self
            .inner
            .offset_ms
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |offset| {
                let room = MAX_NOW_MS.saturating_sub(real_ms().saturating_add(offset));
                next(offset, room)
            })
            .is_ok();
        if moved {
            self.inner.advanced.notify_waiters();
        }
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
        Duration::from_millis(self.inner.offset_ms.load(Ordering::Relaxed))
    }
}

/// Real time, epoch ms.
fn real_ms() -> u64 {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis();
    u64::try_from(ms).unwrap_or(MAX_NOW_MS)
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

    #[test]
    fn absurd_advances_saturate_or_are_refused_and_never_wrap() {
        let clock = Clock::new();
        let before = clock.now_ms();
        let err = clock.try_advance(Duration::MAX).unwrap_err();
        assert_eq!(clock.offset(), Duration::ZERO);
        assert!(
            err.max_advance_ms > 0 && err.to_string().contains("advance_ms"),
            "{err}"
        );
        assert!(clock.try_advance(Duration::from_millis(u64::MAX)).is_err());
        clock.advance(Duration::MAX);
        assert_eq!(clock.now_ms(), MAX_NOW_MS);
        clock.advance(Duration::from_millis(u64::MAX));
        assert_eq!(clock.now_ms(), MAX_NOW_MS);
        assert!(clock.try_advance(Duration::from_millis(1)).is_err());
        assert!(clock.now_ms() >= before);
        assert!(clock.try_advance(Duration::ZERO).is_ok());
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
