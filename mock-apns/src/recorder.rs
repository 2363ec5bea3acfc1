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
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            // Register before looking, so a record stored after the look still wakes us.
            notified.as_mut().enable();
            let matching: Vec<_> = self.all().into_iter().filter(|n| filter(n)).collect();
            if matching.len() >= count {
                return (matching, true);
            }
            tokio::select! {
                () = notified => {}
                () = tokio::time::sleep_until(deadline) => return (matching, false),
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
