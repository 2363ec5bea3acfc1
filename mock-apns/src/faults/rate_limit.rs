//! A real per-device-token rate limiter: a sliding window of push times on the mock's clock.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use super::RateLimitAction;

/// Counts pushes per token; state lives with its rule, so only pushes that rule matches lock it.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    settings: RateLimitAction,
    seen: Mutex<HashMap<String, VecDeque<u64>>>,
}

impl RateLimiter {
    pub(crate) fn new(settings: RateLimitAction) -> Self {
        Self {
            settings,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// Counts this push; true when it is beyond `max` within the window (it is then not
    /// counted, as APNs does not deliver it).
    pub(crate) fn over_limit(&self, token: &str, now_ms: u64) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let times = seen.entry(token.to_ascii_lowercase()).or_default();
        while times
            .front()
            .is_some_and(|t| now_ms.saturating_sub(*t) >= self.settings.window_ms)
        {
            times.pop_front();
        }
        if times.len() as u64 >= self.settings.max {
            return true;
        }
        times.push_back(now_ms);
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_n_plus_first_push_in_a_window_is_over_and_the_window_slides() {
        let limiter = RateLimiter::new(RateLimitAction {
            max: 2,
            window_ms: 1000,
        });
        assert!(!limiter.over_limit("aa", 0));
        assert!(!limiter.over_limit("AA", 10));
        assert!(limiter.over_limit("aa", 20));
        assert!(!limiter.over_limit("bb", 20), "tokens are counted apart");
        assert!(!limiter.over_limit("aa", 1000));
    }
}
