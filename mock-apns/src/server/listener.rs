//! Accepting connections under a cap, as mini-redis's `Listener` does: a connection beyond the
//! cap is closed as soon as it is accepted (not left in the kernel's queue, where the client
//! would hang), and a failed `accept` (usually out of file descriptors, EMFILE) is retried
//! after a pause that doubles up to a second instead of at once, which spun a core at 100%.
//! Both are logged at most once per second, with how many happened since the last line.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// First pause after a failed `accept`; it doubles on each failure in a row.
const FIRST_BACKOFF: Duration = Duration::from_millis(5);
/// Longest pause after a failed `accept`.
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// A listening socket that hands out at most `cap` connections at a time.
#[derive(Debug)]
pub(crate) struct Listener {
    inner: TcpListener,
    /// One permit per open connection; the connection's task drops it when it ends.
    permits: Arc<Semaphore>,
    cap: usize,
    /// Names the listener in log lines ("APNs endpoint", "admin API", ...).
    name: &'static str,
    refusals: Throttled,
    failures: Throttled,
}

/// An accepted connection and its place under the cap.
#[derive(Debug)]
pub(crate) struct Accepted {
    pub(crate) tcp: TcpStream,
    pub(crate) peer: SocketAddr,
    /// Held for as long as the connection is open.
    pub(crate) permit: OwnedSemaphorePermit,
}

impl Listener {
    pub(crate) fn new(inner: TcpListener, cap: usize, name: &'static str) -> Self {
        let cap = cap.max(1);
        Self {
            inner,
            permits: Arc::new(Semaphore::new(cap)),
            cap,
            name,
            refusals: Throttled::default(),
            failures: Throttled::default(),
        }
    }

    /// The next connection within the cap. Cancel-safe: dropping the future loses nothing
    /// but a pause.
    pub(crate) async fn accept(&mut self) -> Accepted {
        let mut backoff = FIRST_BACKOFF;
        loop {
            match self.inner.accept().await {
                Ok((tcp, peer)) => {
                    backoff = FIRST_BACKOFF;
                    if let Ok(permit) = self.permits.clone().try_acquire_owned() {
                        return Accepted { tcp, peer, permit };
                    }
                    // Closing at once tells the client now, instead of after its own timeout.
                    drop(tcp);
                    if let Some(more) = self.refusals.note() {
                        tracing::warn!(
                            %peer,
                            "{}: refused a connection: {} open, the cap (--max-connections){}",
                            self.name,
                            self.cap,
                            since(more, "refused")
                        );
                    }
                }
                Err(e) => {
                    if let Some(more) = self.failures.note() {
                        tracing::warn!(
                            "{}: accept failed: {e}; retrying in {backoff:?}{}",
                            self.name,
                            since(more, "failed")
                        );
                    }
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }
}

fn since(more: u64, what: &str) -> String {
    if more == 0 {
        String::new()
    } else {
        format!(" ({more} more {what} since the last such line)")
    }
}

/// Lets a log line through at most once per second, counting the ones held back.
#[derive(Debug, Default)]
struct Throttled {
    last: Option<Instant>,
    held_back: u64,
}

impl Throttled {
    /// `Some(held back since the last line)` when a line may be logged now.
    fn note(&mut self) -> Option<u64> {
        let now = Instant::now();
        match self.last {
            Some(last) if now.duration_since(last) < Duration::from_secs(1) => {
                self.held_back += 1;
                None
            }
            _ => {
                self.last = Some(now);
                Some(std::mem::take(&mut self.held_back))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_of_events_logs_one_line_and_counts_the_rest() {
        let mut throttled = Throttled::default();

        let first = throttled.note();
        let burst: Vec<_> = (0..99).map(|_| throttled.note()).collect();

        assert_eq!(first, Some(0));
        assert!(burst.iter().all(Option::is_none), "{burst:?}");
        assert_eq!(throttled.held_back, 99);
    }

    #[tokio::test]
    async fn a_connection_beyond_the_cap_is_closed_and_one_within_is_handed_out() {
        use tokio::io::AsyncReadExt as _;
        let patience = Duration::from_secs(10);
        let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = tcp.local_addr().unwrap();
        let mut listener = Listener::new(tcp, 1, "test");
        let _first_client = TcpStream::connect(addr).await.unwrap();
        let first = listener.accept().await;

        let mut second_client = TcpStream::connect(addr).await.unwrap();
        let mut buf = [0u8; 1];
        let read = tokio::time::timeout(patience, async {
            tokio::select! {
                read = second_client.read(&mut buf) => read,
                accepted = listener.accept() => panic!("accepted beyond the cap: {accepted:?}"),
            }
        })
        .await
        .expect("the connection beyond the cap is closed");
        drop(first);
        let third_client = TcpStream::connect(addr).await.unwrap();
        let third = tokio::time::timeout(patience, listener.accept())
            .await
            .expect("a connection fits once the first is gone");

        assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
        assert_eq!(third.peer, third_client.local_addr().unwrap());
    }
}
