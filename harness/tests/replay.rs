//! Every committed scenario replayed against the reference call provider through the library,
//! one insta snapshot per scenario file (`insta::glob!`).
//!
//! This binary holds this one test on purpose: while `glob!` runs, insta collects the failure
//! of *any* snapshot assertion in the process (its glob state is global), so a concurrent test
//! that expects an assertion to fail would both pass wrongly and fail this one.
#![allow(
    clippy::unwrap_used,
    reason = "helpers of tests: a failure is a failed test"
)]

mod provider;

use harness::Harness;
use provider::reference_provider;

#[test]
fn every_scenario_matches_its_snapshot() {
    let harness = Harness::new(reference_provider().into());
    insta::glob!("../../fixtures/scenarios", "*.json", |path| {
        let transcript = harness
            .run_file_blocking(path)
            .unwrap_or_else(|e| panic!("{e}"));
        harness::snapshot_settings(path).bind(|| {
            insta::assert_yaml_snapshot!(harness::snapshot_name(path), transcript);
        });
    });
}
