//! Keeps every request's record: a bounded in-memory log, an optional JSON-lines file, and
//! wake-ups for whoever waits for pushes.
//!
//! The hot path takes no global lock. Records are spread over shards by sequence number, each
//! with its own short lock (held for one `push_back`), so concurrent connections rarely meet;
//! listing merges the shards by id. Each shard is a ring of compact [`Record`]s, kept by
//! value, whose capacity grows to the shard's share of `--max-records` and no further; at the
//! cap a new record takes the oldest one's slot. The file line is written before the answer is decided
//! final ([`Recorder::write`], then [`Recorder::keep`]): a record that cannot be written turns
//! the answer into a 500 (see `record_file.rs`).
//!
//! Followers (the event stream) read records in id order without gaps. Ids are taken just
//! before storing, so for a moment a record may be stored before a lower id still in flight:
//! a follower stops at such a gap until the record arrives, and skips only gaps it knows are
//! final: every taken id stored (`settled_through`), or ids dropped by eviction or `clear`.

use std::collections::{BinaryHeap, VecDeque};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use crate::error::Error;
use crate::record::compact::Record;
use crate::record::record_file::RecordFile;
use crate::record::wake::{Waiter, Wake};
use crate::Notification;

const SHARDS: usize = 16;

/// How far from its place in id order a record can sit in its shard: records stored at the
/// same moment by different threads, far fewer than this.
const DISORDER: usize = 64;

/// How far below the newest id a record can still be in flight (taken, not yet stored): a
/// few microseconds of pushes, far fewer than this.
const GAP_WINDOW: u64 = 4096;

/// The record of every request.
#[derive(Debug)]
pub(crate) struct Recorder {
    shards: Box<[Mutex<VecDeque<Record>>]>,
    /// `--max-records`: the shards' shares add up to it exactly (see [`Self::share`]).
    max_records: usize,
    next_id: AtomicU64,
    /// Records stored so far; lets a waiter skip looking when its count cannot be reached yet.
    stored: AtomicU64,
    dropped: AtomicU64,
    /// The highest id dropped by eviction or `clear`: a missing id at or below it never comes.
    forgotten: AtomicU64,
    /// How many times the record was cleared, so followers can tell theirs to start over.
    clears: AtomicU64,
    file: Option<RecordFile>,
    /// Rung by every record stored and every clear.
    wake: Wake,
}

impl Recorder {
    /// Keeps about `max_records` in memory (the oldest are dropped and counted) and, with
    /// `file`, appends each record as one JSON line.
    pub(crate) fn new(max_records: usize, file: Option<&Path>) -> Result<Self, Error> {
        let file = match file {
            None => None,
            Some(path) => Some(RecordFile::open(path).map_err(|e| Error::io(path, e))?),
        };
        let shards = SHARDS.min(max_records.max(1));
        Ok(Self {
            shards: (0..shards).map(|_| Mutex::new(VecDeque::new())).collect(),
            max_records,
            next_id: AtomicU64::new(1),
            stored: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            forgotten: AtomicU64::new(0),
            clears: AtomicU64::new(0),
            file,
            wake: Wake::default(),
        })
    }

    /// How many records shard `index` keeps: an even share of `max_records`, the first
    /// shards one more each until the remainder is spent, so the whole is `max_records` to
    /// the record.
    fn share(&self, index: usize) -> usize {
        let shards = self.shards.len();
        self.max_records / shards + usize::from(index < self.max_records % shards)
    }

    /// The id the next record will get.
    pub(crate) fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Appends the record to the record file, when there is one. `Err` says why it is not
    /// there: the caller must not acknowledge the push.
    pub(crate) fn write(&self, n: &Record) -> Result<(), String> {
        let Some(file) = &self.file else {
            return Ok(());
        };
        let mut line = n.to_notification().to_json();
        line.push('\n');
        file.append(line.as_bytes())
            .map_err(|e| format!("record file {}: {e}", file.path().display()))
    }

    /// Keeps a record in memory, then wakes waiters.
    pub(crate) fn keep(&self, n: Record) {
        let index = n.id as usize % self.shards.len();
        let share = self.share(index);
        if share > 0 {
            let shard = &self.shards[index];
            // Dropped after the lock is released.
            let evicted = {
                let mut shard = shard.lock().unwrap_or_else(|p| p.into_inner());
                let evicted = if shard.len() >= share {
                    shard.pop_front()
                } else {
                    if shard.len() == shard.capacity() {
                        // Doubling, but never past the shard's share: at the cap a ring of
                        // 8192 slots for 6250 records would cost ~60 bytes a record.
                        let more = shard.len().max(16).min(share - shard.len());
                        shard.reserve_exact(more);
                    }
                    None
                };
                shard.push_back(n);
                evicted
            };
            if let Some(evicted) = evicted {
                self.forgotten.fetch_max(evicted.id, Ordering::SeqCst);
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
        // After the push above: a waiter that reads the new count finds the record too.
        self.stored.fetch_add(1, Ordering::SeqCst);
        self.wake.ring();
    }

    /// Every kept record, in id order.
    pub(crate) fn all(&self) -> Vec<Record> {
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
        self.all().iter().map(Record::to_notification).collect()
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

    /// Forgets every kept record (ids keep counting up), and tells followers.
    pub(crate) fn clear(&self) {
        for shard in self.shards.iter() {
            let mut shard = shard.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(newest) = shard.iter().map(|n| n.id).max() {
                self.forgotten.fetch_max(newest, Ordering::SeqCst);
            }
            shard.clear();
        }
        self.clears.fetch_add(1, Ordering::SeqCst);
        self.wake.ring();
    }

    /// How many times the record was cleared.
    pub(crate) fn clears(&self) -> u64 {
        self.clears.load(Ordering::SeqCst)
    }

    /// The highest id taken so far (0: none).
    pub(crate) fn latest_id(&self) -> u64 {
        self.next_id.load(Ordering::SeqCst) - 1
    }

    /// An id at or below which a missing record will never be stored: every id taken is
    /// stored when the stored count equals the taken count; otherwise the ids forgotten.
    fn final_through(&self) -> u64 {
        // Stored first: if it then equals the ids taken, nothing taken was in flight when
        // it was read, and every later id is higher.
        let stored = self.stored.load(Ordering::SeqCst);
        let taken = self.latest_id();
        let forgotten = self.forgotten.load(Ordering::SeqCst);
        if stored == taken {
            taken.max(forgotten)
        } else {
            forgotten
        }
    }

    /// The newest `limit` records older than `before` that `keep` selects, newest first,
    /// with counts, without copying or sorting the whole record (100 000 records are listed
    /// in milliseconds).
    pub(crate) fn newest(
        &self,
        before: u64,
        limit: usize,
        keep: impl Fn(&Record) -> bool,
    ) -> Newest {
        let final_through = self.final_through();
        // A record still in flight was taken moments ago: look for gaps among the newest ids
        // only, so a busy mock does not make every listing sort the whole record.
        let gaps_from = final_through.max(self.latest_id().saturating_sub(GAP_WINDOW));
        let mut page = Vec::new();
        let mut tail = Vec::new();
        let (mut total, mut older) = (0, 0);
        for shard in self.shards.iter() {
            let shard = shard.lock().unwrap_or_else(|p| p.into_inner());
            // Nearly in id order, so a shard's newest are among its last `limit + DISORDER`.
            let mut taken = 0;
            for n in shard.iter().rev() {
                if n.id > gaps_from {
                    tail.push(n.id);
                }
                if !keep(n) {
                    continue;
                }
                total += 1;
                if n.id < before {
                    older += 1;
                    if taken < limit + DISORDER {
                        page.push(n.clone());
                        taken += 1;
                    }
                }
            }
        }
        page.sort_unstable_by_key(|n| std::cmp::Reverse(n.id));
        page.truncate(limit);
        // Above `final_through`, a missing id may still arrive: the list is complete up to
        // the first one.
        tail.sort_unstable();
        let mut complete_through = gaps_from;
        for id in tail {
            if id != complete_through + 1 {
                break;
            }
            complete_through = id;
        }
        Newest {
            more: older > page.len(),
            page,
            total,
            complete_through,
        }
    }

    /// Up to `limit` records after `cursor`, in id order and without skipping one that may
    /// still arrive, and the cursor to follow from next.
    pub(crate) fn follow(&self, cursor: u64, limit: usize) -> (Vec<Record>, u64) {
        let final_through = self.final_through();
        let candidates = self.after(cursor, limit);
        let complete = candidates.len() < limit;
        let mut next = cursor;
        let mut out = Vec::with_capacity(candidates.len());
        for n in candidates {
            // A gap before `n` that may still fill: stop there and wait for it.
            if n.id != next + 1 && n.id - 1 > final_through {
                return (out, next);
            }
            next = n.id;
            out.push(n);
        }
        if complete {
            next = next.max(final_through);
        }
        (out, next)
    }

    /// The record with this id, while it is kept: in its own shard, near its place in id
    /// order.
    pub(crate) fn get(&self, id: u64) -> Option<Record> {
        let shard = &self.shards[id as usize % self.shards.len()];
        let shard = shard.lock().unwrap_or_else(|p| p.into_inner());
        let start = shard
            .partition_point(|n| n.id < id)
            .saturating_sub(DISORDER);
        let mut near = shard.range(start..).take(2 * DISORDER + 1);
        near.find(|n| n.id == id).cloned()
    }

    /// Up to `limit` of the lowest ids after `cursor`, in id order.
    fn after(&self, cursor: u64, limit: usize) -> Vec<Record> {
        let mut found = Vec::new();
        for shard in self.shards.iter() {
            let shard = shard.lock().unwrap_or_else(|p| p.into_inner());
            let start = shard
                .partition_point(|n| n.id <= cursor)
                .saturating_sub(DISORDER);
            let newer = shard.range(start..).filter(|n| n.id > cursor);
            found.extend(newer.take(limit).cloned());
        }
        found.sort_unstable_by_key(|n| n.id);
        found.truncate(limit);
        found
    }

    /// Registers a follower: while it lives, every record stored (and every clear) wakes
    /// the futures its [`Waiter::notified`] returns.
    pub(crate) fn follower(&self) -> Waiter<'_> {
        self.wake.waiter()
    }

    /// Up to `limit` kept records with ids above `after` that satisfy `filter`, in id order,
    /// and whether more such records exist: one page of a listing.
    ///
    /// Memory is the page's, whatever the record holds: each shard is scanned under its lock
    /// (nothing is awaited while it is held), keeping only the `limit + 1` lowest matching ids
    /// in a bounded heap. Copying every record's `Arc` out and sorting them all, as listing
    /// once did, cost 16 bytes per kept record per request.
    pub(crate) fn page(
        &self,
        after: u64,
        limit: usize,
        filter: impl Fn(&Record) -> bool,
    ) -> (Vec<Record>, bool) {
        let keep = limit.saturating_add(1);
        let mut lowest: BinaryHeap<ById> = BinaryHeap::with_capacity(keep.min(4096));
        for shard in self.shards.iter() {
            let shard = shard.lock().unwrap_or_else(|p| p.into_inner());
            for n in shard.iter().filter(|n| n.id > after) {
                let full = lowest.len() >= keep;
                if full && lowest.peek().is_some_and(|top| top.0.id < n.id) {
                    continue;
                }
                if !filter(n) {
                    continue;
                }
                if full {
                    lowest.pop();
                }
                lowest.push(ById(n.clone()));
            }
        }
        let mut page: Vec<_> = lowest.into_sorted_vec().into_iter().map(|n| n.0).collect();
        let more = page.len() > limit;
        page.truncate(limit);
        (page, more)
    }

    /// How many kept records with ids above `after` satisfy `filter`, counting no further
    /// than `up_to`. Allocates nothing.
    fn count(&self, after: u64, up_to: usize, filter: &impl Fn(&Record) -> bool) -> usize {
        let mut found = 0;
        for shard in self.shards.iter() {
            let shard = shard.lock().unwrap_or_else(|p| p.into_inner());
            found += shard
                .iter()
                .filter(|n| n.id > after && filter(n))
                .take(up_to - found)
                .count();
            if found >= up_to {
                break;
            }
        }
        found
    }

    /// Waits until at least `count` records with ids above `after` satisfy `filter`, or
    /// `timeout` passes. Returns how many match (at most `count`) and whether that is `count`.
    pub(crate) async fn wait_for(
        &self,
        count: usize,
        timeout: Duration,
        after: u64,
        filter: impl Fn(&Record) -> bool,
    ) -> (usize, bool) {
        let deadline = tokio::time::Instant::now() + timeout;
        let waiter = self.wake.waiter();
        // Looking means scanning every kept record; doing it on every new record halved the
        // mock's throughput while one long-poll was pending. Each record stored after a look
        // adds at most one match, so after finding `m` the count cannot be reached before
        // `count - m` more records are stored: until then, don't look.
        let mut look_at = 0;
        loop {
            let notified = waiter.notified();
            tokio::pin!(notified);
            // Register before looking, so a record stored after the look still wakes us.
            notified.as_mut().enable();
            let stored = self.stored.load(Ordering::SeqCst);
            if stored >= look_at {
                let found = self.count(after, count, &filter);
                if found >= count {
                    return (found, true);
                }
                // Saturating: `count` comes from a query string, up to u64::MAX.
                look_at = stored.saturating_add((count - found) as u64);
            }
            tokio::select! {
                () = notified => {}
                () = tokio::time::sleep_until(deadline) => {
                    let found = self.count(after, count, &filter);
                    return (found, found >= count);
                }
            }
        }
    }
}

/// A record ordered by id alone, for the page heap.
struct ById(Record);

impl PartialEq for ById {
    fn eq(&self, other: &Self) -> bool {
        self.0.id == other.0.id
    }
}

impl Eq for ById {}

impl PartialOrd for ById {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ById {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.id.cmp(&other.0.id)
    }
}

/// A page of the record, newest first ([`Recorder::newest`]).
#[derive(Debug)]
pub(crate) struct Newest {
    pub(crate) page: Vec<Record>,
    /// Records `keep` selected.
    pub(crate) total: usize,
    /// Whether more selected records are older than the page.
    pub(crate) more: bool,
    /// Every id up to this one is either stored or gone for good: a follower starting here
    /// misses nothing, even a record stored a moment later than a higher one.
    pub(crate) complete_through: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Payload;
    use std::sync::Arc;

    fn store(recorder: &Recorder, status: u16) {
        let n = Notification::sample(recorder.next_id(), Payload::Json("{}".into()), status);
        let n = Record::from_notification(&n);
        recorder.write(&n).unwrap();
        recorder.keep(n);
    }

    #[tokio::test]
    async fn a_waiter_sees_matching_records_stored_while_it_waits() {
        let recorder = Arc::new(Recorder::new(100, None).unwrap());
        store(&recorder, 200);
        let waiter = {
            let recorder = recorder.clone();
            tokio::spawn(async move {
                recorder
                    .wait_for(3, Duration::from_secs(10), 0, |n| n.status == 200)
                    .await
            })
        };
        for status in [400, 200, 400, 400, 200] {
            tokio::task::yield_now().await;
            store(&recorder, status);
        }
        let (found, complete) = waiter.await.unwrap();
        assert!(complete, "3 accepted pushes were stored");
        assert_eq!(found, 3);
        let (page, more) = recorder.page(0, 10, |n| n.status == 200);
        assert_eq!(page.iter().map(|n| n.id).collect::<Vec<_>>(), vec![1, 3, 6]);
        assert!(!more);
    }

    #[tokio::test]
    async fn a_waiter_that_times_out_says_how_many_matched() {
        let recorder = Recorder::new(100, None).unwrap();
        store(&recorder, 200);
        store(&recorder, 400);
        let (found, complete) = recorder
            .wait_for(2, Duration::from_millis(20), 0, |n| n.status == 200)
            .await;
        assert!(!complete);
        assert_eq!(found, 1);
        let (found, complete) = recorder
            .wait_for(1, Duration::from_millis(20), 1, |n| n.status == 200)
            .await;
        assert_eq!(
            (found, complete),
            (0, false),
            "the only match is not after id 1"
        );
    }

    #[test]
    fn at_the_cap_the_oldest_records_make_room_and_no_shard_grows_past_its_share() {
        // 1000 is not a multiple of the 16 shards: still exactly 1000 are kept.
        let recorder = Recorder::new(1000, None).unwrap();
        for _ in 0..2500 {
            store(&recorder, 200);
        }
        let kept = 1000;
        assert_eq!(recorder.dropped(), 2500 - kept);
        let (page, _) = recorder.page(0, 10, |_| true);
        let oldest = page.first().map_or(0, |n| n.id);
        assert!(oldest > 2500 - kept - 16, "the oldest kept is {oldest}");
        for (index, shard) in recorder.shards.iter().enumerate() {
            let shard = shard.lock().unwrap();
            assert_eq!(shard.len(), recorder.share(index));
            assert!(
                shard.capacity() <= recorder.share(index) + 1,
                "{}",
                shard.capacity()
            );
        }
    }

    #[test]
    fn pages_walk_every_shard_in_id_order_from_the_cursor() {
        let recorder = Recorder::new(1000, None).unwrap();
        for i in 0..100 {
            store(&recorder, if i % 4 == 0 { 400 } else { 200 });
        }
        let mut after = 0;
        let mut seen = Vec::new();
        loop {
            let (page, more) = recorder.page(after, 7, |n| n.status == 200);
            assert!(page.len() <= 7);
            seen.extend(page.iter().map(|n| n.id));
            match (more, page.last()) {
                (true, Some(last)) => after = last.id,
                _ => break,
            }
        }
        let expected: Vec<u64> = (1..=100).filter(|id| (id - 1) % 4 != 0).collect();
        assert_eq!(seen, expected);
        let (page, more) = recorder.page(100, 7, |_| true);
        assert!(page.is_empty() && !more);
        let (page, more) = recorder.page(0, 0, |_| true);
        assert!(page.is_empty() && more);
    }

    #[test]
    fn a_record_is_found_by_id_even_stored_out_of_order_until_it_is_evicted() {
        let recorder = Recorder::new(1000, None).unwrap();
        let taken: Vec<u64> = (0..300).map(|_| recorder.next_id()).collect();
        // Each run of 32 stored second half first, as threads may: a shard gets id + 16
        // before id, so ids are not in order in their shards.
        assert_eq!(recorder.shards.len(), 16);
        for run in taken.chunks(32) {
            let (first, second) = run.split_at(run.len() / 2);
            for &id in second.iter().chain(first) {
                let sample = Notification::sample(id, Payload::Json("{}".into()), 200);
                recorder.keep(Record::from_notification(&sample));
            }
        }
        for id in [1, 2, 17, 150, 299, 300] {
            assert_eq!(recorder.get(id).map(|n| n.id), Some(id));
        }
        assert!(recorder.get(0).is_none() && recorder.get(301).is_none());
        for _ in 0..2000 {
            store(&recorder, 200);
        }
        assert!(recorder.get(1).is_none(), "evicted at the cap");
        assert_eq!(recorder.get(2300).map(|n| n.id), Some(2300));
    }

    fn ids(records: &[Record]) -> Vec<u64> {
        records.iter().map(|n| n.id).collect()
    }

    #[test]
    fn a_follower_waits_at_a_gap_until_the_lower_id_is_stored() {
        let recorder = Recorder::new(100, None).unwrap();
        store(&recorder, 200);
        let (first, second) = (recorder.next_id(), recorder.next_id());
        let sample = |id| {
            Record::from_notification(&Notification::sample(id, Payload::Json("{}".into()), 200))
        };
        recorder.keep(sample(second));

        let (got, cursor) = recorder.follow(0, 100);
        assert_eq!((ids(&got), cursor), (vec![1], 1), "id 2 is still in flight");
        assert_eq!(recorder.newest(u64::MAX, 10, |_| true).complete_through, 1);

        recorder.keep(sample(first));
        let (got, cursor) = recorder.follow(cursor, 100);
        assert_eq!((ids(&got), cursor), (vec![2, 3], 3));
        assert_eq!(recorder.newest(u64::MAX, 10, |_| true).complete_through, 3);
    }

    #[test]
    fn a_follower_skips_records_dropped_by_eviction_or_clearing() {
        let recorder = Recorder::new(2, None).unwrap();
        for _ in 0..5 {
            store(&recorder, 200);
        }
        let (got, cursor) = recorder.follow(0, 100);
        assert_eq!((ids(&got), cursor), (vec![4, 5], 5), "1 to 3 were evicted");
        let (got, cursor) = recorder.follow(1, 1);
        assert_eq!(
            (ids(&got), cursor),
            (vec![4], 4),
            "a full batch stops at its end"
        );

        recorder.clear();
        assert_eq!(recorder.clears(), 1);
        store(&recorder, 200);
        let (got, cursor) = recorder.follow(2, 100);
        assert_eq!((ids(&got), cursor), (vec![6], 6));
    }

    #[test]
    fn the_newest_page_is_counted_and_ordered_across_shards() {
        let recorder = Recorder::new(1000, None).unwrap();
        for i in 0..100 {
            store(&recorder, if i % 3 == 0 { 400 } else { 200 });
        }
        let page = recorder.newest(u64::MAX, 5, |n| n.status == 400);
        assert_eq!(ids(&page.page), vec![100, 97, 94, 91, 88]);
        assert_eq!(
            (page.total, page.more, page.complete_through),
            (34, true, 100)
        );
        let older = recorder.newest(10, 5, |_| true);
        assert_eq!(ids(&older.page), vec![9, 8, 7, 6, 5]);
        assert!(older.more);
        let last = recorder.newest(3, 5, |_| true);
        assert_eq!((ids(&last.page), last.more), (vec![2, 1], false));
    }
}
