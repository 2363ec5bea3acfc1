//! Keeps every request's record: a bounded in-memory log, an optional JSON-lines file, and
//! wake-ups for whoever waits for pushes.
//!
//! The hot path takes no global lock. Records are spread over shards by sequence number, each
//! with its own short lock (held for one `push_back`), so concurrent connections rarely meet;
//! listing merges the shards by id. The file line is written with one `write` on an
//! `O_APPEND` file before the answer is sent, so a process killed with SIGKILL has already
//! handed every acknowledged push to the kernel.

use std::collections::VecDeque;
use std::fs::File;
use std::io::Write as _;
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;

use crate::error::Error;
use crate::Notification;

const SHARDS: usize = 16;

/// The record of every request.
#[derive(Debug)]
pub(crate) struct Recorder {
    shards: Box<[Mutex<VecDeque<Arc<Notification>>>]>,
    per_shard: usize,
    next_id: AtomicU64,
    /// Records stored so far; lets a waiter skip looking when its count cannot be reached yet.
    stored: AtomicU64,
    dropped: AtomicU64,
    file: Option<File>,
    notify: Notify,
    /// How many waiters exist, so recording skips `Notify` (which locks) when nobody waits.
    waiters: AtomicUsize,
}

impl Recorder {
    /// Keeps about `max_records` in memory (the oldest are dropped and counted) and, with
    /// `file`, appends each record as one JSON line.
    pub(crate) fn new(max_records: usize, file: Option<&Path>) -> Result<Self, Error> {
        let file = match file {
            None => None,
            Some(path) => Some(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|e| Error::io(path, e))?,
            ),
        };
        let shards = SHARDS.min(max_records.max(1));
        Ok(Self {
            shards: (0..shards).map(|_| Mutex::new(VecDeque::new())).collect(),
            per_shard: max_records.div_ceil(shards),
            next_id: AtomicU64::new(1),
            stored: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            file,
            notify: Notify::new(),
            waiters: AtomicUsize::new(0),
        })
    }

    /// The id the next record will get.
    pub(crate) fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Stores a record (file first), then wakes waiters.
    pub(crate) fn record(&self, n: Notification) -> std::io::Result<()> {
        let written = match &self.file {
            Some(file) => {
                let mut line = n.to_json();
                line.push('\n');
                (&*file).write_all(line.as_bytes())
            }
            None => Ok(()),
        };
        if self.per_shard > 0 {
            let shard = &self.shards[n.id as usize % self.shards.len()];
            let evicted = {
                let mut shard = shard.lock().unwrap_or_else(|p| p.into_inner());
                shard.push_back(Arc::new(n));
                (shard.len() > self.per_shard).then(|| shard.pop_front())
            };
            if evicted.is_some() {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
        // After the push above: a waiter that reads the new count finds the record too.
        self.stored.fetch_add(1, Ordering::SeqCst);
        if self.waiters.load(Ordering::SeqCst) > 0 {
            self.notify.notify_waiters();
        }
        written
    }

    /// Every kept record, in id order.
    pub(crate) fn all(&self) -> Vec<Arc<Notification>> {
        let mut all: Vec<_> = self
            .shards
            .iter()
            .flat_map(|s| {
                s.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .iter()
                    .cloned()
                    .collect::<Vec<_>>()
            })
            .collect();
        all.sort_unstable_by_key(|n| n.id);
        all
    }

    /// Every kept record, in id order, as owned values (for the Rust test API).
    pub(crate) fn snapshot(&self) -> Vec<Notification> {
        self.all().iter().map(|n| Notification::clone(n)).collect()
    }

    /// How many records are kept now. Locks each shard in turn: for a scrape, not per push.
    pub(crate) fn kept(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|p| p.into_inner()).len())
            .sum()
    }

    /// How many records were dropped to keep memory bounded.
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Forgets every kept record (ids keep counting up).
    pub(crate) fn clear(&self) {
        for shard in self.shards.iter() {
            shard.lock().unwrap_or_else(|p| p.into_inner()).clear();
        }
    }

    /// Waits until at least `count` records satisfy `filter`, or `timeout` passes.
    /// Returns the matching records and whether the count was reached.
    pub(crate) async fn wait_for(
        &self,
        count: usize,
        timeout: Duration,
        filter: impl Fn(&Notification) -> bool,
    ) -> (Vec<Arc<Notification>>, bool) {
        let deadline = tokio::time::Instant::now() + timeout;
        self.waiters.fetch_add(1, Ordering::SeqCst);
        let _guard = WaiterGuard(&self.waiters);
        let matching = || -> Vec<_> { self.all().into_iter().filter(|n| filter(n)).collect() };
        // Looking means copying and sorting every kept record; doing it on every new record
        // halved the mock's throughput while one long-poll was pending. Each record stored
        // after a look adds at most one match, so after finding `m` the count cannot be
        // reached before `count - m` more records are stored: until then, don't look.
        let mut look_at = 0;
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            // Register before looking, so a record stored after the look still wakes us.
            notified.as_mut().enable();
            let stored = self.stored.load(Ordering::SeqCst);
            if stored >= look_at {
                let found = matching();
                if found.len() >= count {
                    return (found, true);
                }
                look_at = stored + (count - found.len()) as u64;
            }
            tokio::select! {
                () = notified => {}
                () = tokio::time::sleep_until(deadline) => {
                    let found = matching();
                    let complete = found.len() >= count;
                    return (found, complete);
                }
            }
        }
    }
}

struct WaiterGuard<'a>(&'a AtomicUsize);

impl Drop for WaiterGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Payload;

    fn store(recorder: &Recorder, status: u16) {
        let n = Notification::sample(recorder.next_id(), Payload::Json("{}".into()), status);
        recorder.record(n).unwrap();
    }

    #[tokio::test]
    async fn a_waiter_sees_matching_records_stored_while_it_waits() {
        let recorder = Arc::new(Recorder::new(100, None).unwrap());
        store(&recorder, 200);
        let waiter = {
            let recorder = recorder.clone();
            tokio::spawn(async move {
                recorder
                    .wait_for(3, Duration::from_secs(10), |n| n.status == 200)
                    .await
            })
        };
        for status in [400, 200, 400, 400, 200] {
            tokio::task::yield_now().await;
            store(&recorder, status);
        }
        let (found, complete) = waiter.await.unwrap();
        assert!(complete, "3 accepted pushes were stored");
        assert_eq!(
            found.iter().map(|n| n.id).collect::<Vec<_>>(),
            vec![1, 3, 6]
        );
    }

    #[tokio::test]
    async fn a_waiter_that_times_out_gets_what_matches_then() {
        let recorder = Recorder::new(100, None).unwrap();
        store(&recorder, 200);
        store(&recorder, 400);
        let (found, complete) = recorder
            .wait_for(2, Duration::from_millis(20), |n| n.status == 200)
            .await;
        assert!(!complete);
        assert_eq!(found.len(), 1);
    }
}
