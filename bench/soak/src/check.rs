//! `apns-soak check`: every acknowledged push must be in the record file, with status 200.
//!
//! A kill can cut the line being written (the kernel stops copying a write at SIGKILL): such a
//! line is the start of a record (`{"id":…`) that was never acknowledged, and the mock ends it
//! with a newline when it opens the file again. Those are counted apart, at most one per kill
//! and worker thread; any other line that is not JSON fails the check.

use std::collections::HashSet;
use std::io::{BufRead as _, BufReader};

use anyhow::{bail, Context as _, Result};

use crate::CheckArgs;

pub(crate) fn run(args: &CheckArgs) -> Result<()> {
    let file = std::fs::File::open(&args.record)
        .with_context(|| format!("opening {}", args.record.display()))?;
    let (mut lines, mut unreadable, mut cut) = (0u64, 0u64, 0u64);
    let mut accepted = HashSet::new();
    for line in BufReader::new(file).lines() {
        let line = line.context("reading the record file")?;
        lines += 1;
        let Ok(record) = serde_json::from_str::<serde_json::Value>(&line) else {
            match line.starts_with("{\"id\":") {
                true => cut += 1,
                false => unreadable += 1,
            }
            continue;
        };
        if record["status"] == 200 {
            if let Some(id) = record["apns_id"].as_str() {
                accepted.insert(id.to_owned());
            }
        }
    }
    let (mut acked, mut missing) = (0u64, Vec::new());
    for path in &args.acked {
        let file =
            std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
        for id in BufReader::new(file).lines() {
            let id = id.context("reading an acknowledged-id file")?;
            acked += 1;
            if !accepted.contains(&id) {
                missing.push(id);
            }
        }
    }
    println!(
        "record lines {lines}, cut by a kill {cut}, unreadable {unreadable}, recorded as 200 {}",
        accepted.len()
    );
    println!(
        "acknowledged {acked}, missing from the record {}",
        missing.len()
    );
    // Each kill can cut one write per worker thread of the mock (one per core by default).
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
    if cut > args.acked.len() as u64 * cores {
        bail!("{cut} cut lines, more than one per kill and worker thread");
    }
    if !missing.is_empty() || unreadable > 0 {
        let first: Vec<_> = missing.iter().take(5).collect();
        bail!("{} acknowledged pushes are not recorded (first: {first:?}); {unreadable} record lines are not JSON", missing.len());
    }
    Ok(())
}
