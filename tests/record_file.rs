//! The record file when it cannot be written, or is deleted or replaced while the mock runs:
//! a push whose record is not on disk is never acknowledged.

use std::collections::HashSet;

use mock_apns::{MockApns, Reason};

use crate::support::assertions::{record_of, recorded_ids};
use crate::support::{assert_accepted, ApnsClient, Push};

/// `--record /dev/full`: every write fails with ENOSPC, as on a full disk. The push is answered
/// 500 `InternalServerError` (Apple's reason for its own failures), not 200, and the record
/// kept in memory says why.
#[tokio::test]
async fn a_push_whose_record_cannot_be_written_gets_500_not_200() {
    let apns = MockApns::builder().record_file("/dev/full").start().await;
    let client = ApnsClient::connect(&apns).await;

    let reply = client.send(&Push::voip(&apns)).await.unwrap();

    assert_eq!(reply.status, 500, "{reply:?}");
    assert_eq!(
        reply.reason().as_deref(),
        Some(Reason::InternalServerError.as_str())
    );
    let record = record_of(&apns, &reply);
    assert_eq!(record.status, 500);
    assert_eq!(record.reason, Some(Reason::InternalServerError));
    let detail = record.detail.as_deref().unwrap_or_default();
    assert!(detail.contains("/dev/full"), "{detail}");
    assert!(detail.contains("No space left on device"), "{detail}");
}

/// A record file deleted while the mock runs (by hand, or by a clean-up job) is created again
/// on the next push, which is in it; nothing is written to the deleted file's inode alone.
#[tokio::test]
async fn a_deleted_record_file_is_created_again_with_the_next_push() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pushes.jsonl");
    let apns = MockApns::builder().record_file(&path).start().await;
    let client = ApnsClient::connect(&apns).await;
    let first = client.send(&Push::voip(&apns)).await.unwrap();
    assert_accepted(&apns, &first);

    std::fs::remove_file(&path).unwrap();
    let second = client.send(&Push::voip(&apns)).await.unwrap();

    assert_accepted(&apns, &second);
    assert_eq!(
        recorded_ids(&path),
        HashSet::from([second.apns_id().to_owned()])
    );
}

/// A record file moved away (log rotation) is followed by a new file at the same path: the
/// rotated file keeps the earlier pushes, the new one gets the later ones.
#[tokio::test]
async fn a_rotated_record_file_is_reopened_at_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pushes.jsonl");
    let rotated = dir.path().join("pushes.jsonl.1");
    let apns = MockApns::builder().record_file(&path).start().await;
    let client = ApnsClient::connect(&apns).await;
    let first = client.send(&Push::voip(&apns)).await.unwrap();

    std::fs::rename(&path, &rotated).unwrap();
    std::fs::write(&path, "").unwrap();
    let second = client.send(&Push::voip(&apns)).await.unwrap();

    assert_accepted(&apns, &second);
    assert_eq!(
        recorded_ids(&rotated),
        HashSet::from([first.apns_id().to_owned()])
    );
    assert_eq!(
        recorded_ids(&path),
        HashSet::from([second.apns_id().to_owned()])
    );
}
