//! The open-file limit and the connection cap. Every connection is a file descriptor; at the
//! common soft limit of 1024, a flood of idle sockets used to take them all, and then every
//! push and the admin API failed with EMFILE. At start the soft limit is raised to the hard
//! limit (as Go programs do), and `--max-connections` is lowered, with a warning, when even
//! that cannot hold it.

/// Descriptors kept for everything but connections: stdio, the runtime's epoll and wakers,
/// the listeners, the record file, the state files.
const RESERVED: u64 = 32;

/// The connection cap that fits the open-file limit. Each APNs connection takes one
/// descriptor; each CONNECT front-door tunnel two more (the client's socket and the one to
/// the APNs endpoint); the admin API has its own cap.
pub(crate) fn fit_max_connections(asked: u64, front_door: bool) -> u64 {
    let Some(limit) = raise_soft_limit() else {
        return asked;
    };
    let admin = mock_apns::admin::MAX_CONNECTIONS as u64;
    let per_connection = if front_door { 3 } else { 1 };
    let fits = limit.saturating_sub(RESERVED + admin) / per_connection;
    if fits >= asked {
        return asked;
    }
    let fits = fits.max(1);
    tracing::warn!(
        "the open-file limit ({limit}) holds {fits} connections, not {asked}: \
         --max-connections lowered to {fits}; raise it with `ulimit -n` (hard limit) to allow more"
    );
    fits
}

/// Raises the soft open-file limit to the hard one; returns the limit now in force (`None`:
/// unlimited or unknown).
#[cfg(unix)]
fn raise_soft_limit() -> Option<u64> {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let Rlimit { current, maximum } = getrlimit(Resource::Nofile);
    if current != maximum {
        let raised = Rlimit {
            current: maximum,
            maximum,
        };
        match setrlimit(Resource::Nofile, raised) {
            Ok(()) => {
                tracing::debug!("open-file limit raised from {current:?} to {maximum:?}");
                return maximum;
            }
            Err(e) => tracing::debug!("open-file limit stays at {current:?}: {e}"),
        }
    }
    current
}

#[cfg(not(unix))]
fn raise_soft_limit() -> Option<u64> {
    None
}
