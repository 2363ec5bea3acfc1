//! `apns-soak check`: every acknowledged push must be in the record file, with status 200.

use std::collections::HashSet;
use std::io::{BufRead as _, BufReader};

use anyhow::{bail, Context as _, Result};

use crate::CheckArgs;

pub(crate) fn run(args: &CheckArgs) -> Result<()> {
    let file = std::fs::File::open(&args.record)
        .with_context(|| format!("opening {}", args.record.display()))?;
    let (mut lines, mut unreadable) = (0u64, 0u64);
    let mut accepted = HashSet::new();
    for line in BufReader::new(file).lines() {
        let line = line.context("reading the record file")?;
        lines += 1;
        let Ok(record) = serde_json::from_str::<serde_json::Value>(&line) else {
            unreadable += 1;
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
        "record lines {lines}, unreadable {unreadable}, recorded as 200 {}",
        accepted.len()
    );
    println!(
        "acknowledged {acked}, missing from the record {}",
        missing.len()
    );
    if !missing.is_empty() || unreadable > 0 {
        let first: Vec<_> = missing.iter().take(5).collect();
        bail!("{} acknowledged pushes are not recorded (first: {first:?}); {unreadable} record lines are not JSON", missing.len());
    }
    Ok(())
}
