//! The APNs accept loop: one task per connection, under the connection cap; a graceful
//! shutdown that waits for the connections, but never longer than the shutdown timeout.

use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use crate::server::connection_task;
use crate::server::listener::{Accepted, Listener};
use crate::shared::Shared;
use crate::shared::StopSignal;

/// Accepts connections until `shutdown` flips to true, then waits until every connection has
/// answered its accepted streams and closed, or `shutdown_timeout` has passed; connections
/// still open then are closed (their unanswered streams were never acknowledged, so the
/// record stays true).
pub(crate) async fn run(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    shared: Arc<Shared>,
    shutdown: StopSignal,
) {
    let mut stop = shutdown.clone();
    let mut listener = Listener::new(listener, shared.config.max_connections, "APNs endpoint");
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            Accepted { tcp, peer, permit } = listener.accept() => {
                let (acceptor, shared, shutdown) =
                    (acceptor.clone(), shared.clone(), shutdown.clone());
                connections.spawn(async move {
                    connection_task::serve(tcp, peer, acceptor, shared, shutdown).await;
                    drop(permit);
                });
            }
            // Reaps ended connections, so the set holds only open ones.
            Some(ended) = connections.join_next(), if !connections.is_empty() => log_panic(ended),
            () = stop.stopped() => break,
        }
    }
    drop(listener);
    let grace = shared.config.shutdown_timeout;
    let drained = tokio::time::timeout(grace, async {
        while let Some(ended) = connections.join_next().await {
            log_panic(ended);
        }
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            "shutdown: {} connections still busy after {grace:?} (--shutdown-timeout); \
             closing them, their unanswered streams unrecorded",
            connections.len()
        );
        connections.shutdown().await;
    }
}

fn log_panic(ended: Result<(), tokio::task::JoinError>) {
    if let Err(e) = ended {
        if e.is_panic() {
            tracing::error!("a connection task panicked: {e}");
        }
    }
}
