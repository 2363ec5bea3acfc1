//! The ids the mock answers with (`apns-id`, `apns-unique-id`): random (v4) UUIDs, kept as
//! 16 bytes and written as text (upper case for `apns-id`, lower for `apns-unique-id`, as
//! APNs writes them) only when answered or listed.
//!
//! `Uuid::new_v4` asks the kernel for 16 bytes each time, one `getrandom` system call per id
//! and two per accepted push, which showed up in profiles under load. Here each thread keeps a
//! pool of OS randomness and refills it with one call per 256 ids. The ids are public (they are
//! sent to the client), so leftover pool bytes are no secret.

use std::cell::RefCell;

use ring::rand::{SecureRandom as _, SystemRandom};
use uuid::Uuid;

/// Bytes fetched from the OS at a time: 256 ids.
const POOL_BYTES: usize = 4096;

struct Pool {
    bytes: Box<[u8; POOL_BYTES]>,
    /// How many bytes from the front are spent.
    used: usize,
}

thread_local! {
    static POOL: RefCell<Pool> = RefCell::new(Pool {
        bytes: Box::new([0; POOL_BYTES]),
        used: POOL_BYTES,
    });
}

/// A random (version 4) UUID.
pub(crate) fn new_v4() -> Uuid {
    let bytes = POOL.with_borrow_mut(|pool| {
        if pool.used == POOL_BYTES {
            if SystemRandom::new().fill(&mut pool.bytes[..]).is_err() {
                // Never seen on Linux; the per-id path still works.
                return *Uuid::new_v4().as_bytes();
            }
            pool.used = 0;
        }
        let mut bytes = [0; 16];
        bytes.copy_from_slice(&pool.bytes[pool.used..pool.used + 16]);
        pool.used += 16;
        bytes
    });
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_distinct_version_4_uuids_across_pool_refills() {
        let ids: Vec<Uuid> = (0..600).map(|_| new_v4()).collect();
        let distinct: std::collections::HashSet<_> = ids.iter().collect();
        assert_eq!(distinct.len(), ids.len(), "an id repeated");
        assert!(ids.iter().all(|id| id.get_version_num() == 4));
        assert!(ids
            .iter()
            .all(|id| id.get_variant() == uuid::Variant::RFC4122));
    }
}
