//! The APNs accept loop: one task per connection, graceful shutdown that waits for them all.

use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;

use crate::server::connection_task;
use crate::shared::Shared;
use crate::shared::StopSignal;

/// Accepts connections until `shutdown` flips to true, then waits until every connection has
/// answered its accepted streams and closed.
pub(crate) async fn run(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    shared: Arc<Shared>,
    shutdown: StopSignal,
) {
    let mut stop = shutdown.clone();
    // Each connection task holds a clone; `recv()` yields `None` once all have ended.
    let (done_tx, mut done_rx) = mpsc::channel::<()>(1);
    let mut backoff = Duration::from_millis(5);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, peer)) => {
                    backoff = Duration::from_millis(5);
                    let (acceptor, shared, shutdown, done) =
                        (acceptor.clone(), shared.clone(), shutdown.clone(), done_tx.clone());
                    tokio::spawn(async move {
                        connection_task::serve(tcp, peer, acceptor, shared, shutdown).await;
                        drop(done);
                    });
                }
                Err(e) => {
                    // Usually out of file descriptors: wait a little instead of spinning.
                    tracing::warn!("accept failed: {e}; retrying in {backoff:?}");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(1));
                }
            },
            () = stop.stopped() => break,
        }
    }
    drop(listener);
    drop(done_tx);
    let _ = done_rx.recv().await;
}
