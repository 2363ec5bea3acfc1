//! `apns-soak push`: a few HTTP/2 connections with many pushes in flight, each with its own
//! `apns-id`; the ids answered 200 go to the acknowledged file.

use std::fs::OpenOptions;
use std::io::{BufWriter, Write as _};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use anyhow::{anyhow, Context as _, Result};
use bytes::Bytes;
use h2::client::SendRequest;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_rustls::TlsConnector;

use crate::PushArgs;

const DEVICE: &str = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";
const PAYLOAD: &str =
    r#"{"aps":{},"call_id":"c0ffee00-1234-4567-89ab-0123456789ab","caller":"Alice"}"#;

/// What every push shares.
struct Job {
    token: String,
    id_prefix: u32,
    /// The next push's sequence number, shared by every stream.
    next: AtomicU64,
    max: u64,
}

impl Job {
    fn apns_id(&self, seq: u64) -> String {
        format!("{:08X}-0000-4000-8000-{seq:012X}", self.id_prefix)
    }
}

pub(crate) fn run(args: PushArgs) -> Result<()> {
    // One thread: the mock gets the other core.
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(push(args))
}

async fn push(args: PushArgs) -> Result<()> {
    let tls = tls_config(&args.ca)?;
    let token = std::fs::read_to_string(&args.token_file)
        .with_context(|| format!("reading {}", args.token_file.display()))?;
    let job = Arc::new(Job {
        token: token.trim().to_owned(),
        id_prefix: args.id_prefix,
        next: AtomicU64::new(0),
        max: args.max,
    });
    let (acked_tx, mut acked_rx) = mpsc::unbounded_channel::<u64>();
    let mut connections = JoinSet::new();
    for _ in 0..args.connections {
        let (job, tls, acked) = (job.clone(), tls.clone(), acked_tx.clone());
        connections.spawn(connection(args.addr, tls, job, acked, args.streams));
    }
    drop(acked_tx);

    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&args.acked)
        .with_context(|| format!("opening {}", args.acked.display()))?;
    let mut out = BufWriter::new(file);
    let mut acked = 0u64;
    while let Some(seq) = acked_rx.recv().await {
        writeln!(out, "{}", job.apns_id(seq))?;
        acked += 1;
        if acked % 10_000 == 0 {
            // The ids go to disk before the script hears of them (and maybe kills the mock).
            out.flush()?;
            println!("acked {acked}");
        }
    }
    out.flush()?;
    let mut errors = Vec::new();
    while let Some(ended) = connections.join_next().await {
        if let Ok(Err(e)) = ended {
            errors.push(format!("{e:#}"));
        }
    }
    errors.sort();
    errors.dedup();
    println!(
        "done {acked} (pushes sent {}; connections ended by: {})",
        job.next.load(Ordering::Relaxed).min(job.max),
        if errors.is_empty() {
            "--max".into()
        } else {
            errors.join("; ")
        }
    );
    Ok(())
}

fn tls_config(ca: &std::path::Path) -> Result<Arc<rustls::ClientConfig>> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca).with_context(|| format!("{}", ca.display()))? {
        roots.add(cert?)?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(Arc::new(config))
}

/// One connection: a first push alone (APNs allows one stream until a push with a valid token
/// is accepted), then `streams` pushers until the connection dies or `max` is reached.
async fn connection(
    addr: SocketAddr,
    tls: Arc<rustls::ClientConfig>,
    job: Arc<Job>,
    acked: mpsc::UnboundedSender<u64>,
    streams: usize,
) -> Result<()> {
    let tcp = TcpStream::connect(addr).await.context("connecting")?;
    tcp.set_nodelay(true)?;
    let name = ServerName::try_from("localhost")?;
    let tls = TlsConnector::from(tls)
        .connect(name, tcp)
        .await
        .context("TLS")?;
    let (client, driver) = h2::client::handshake(tls).await.context("HTTP/2")?;
    tokio::spawn(async move {
        let _ = driver.await;
    });
    pusher(client.clone(), job.clone(), acked.clone(), true).await?;
    let mut pushers = JoinSet::new();
    for _ in 0..streams {
        pushers.spawn(pusher(client.clone(), job.clone(), acked.clone(), false));
    }
    let mut first_error = None;
    while let Some(ended) = pushers.join_next().await {
        if let Ok(Err(e)) = ended {
            first_error.get_or_insert(e);
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// Sends pushes one after another (just one with `once`) until `max` or an error.
async fn pusher(
    client: SendRequest<Bytes>,
    job: Arc<Job>,
    acked: mpsc::UnboundedSender<u64>,
    once: bool,
) -> Result<()> {
    loop {
        let seq = job.next.fetch_add(1, Ordering::Relaxed);
        if seq >= job.max {
            return Ok(());
        }
        let status = send(&client, &job, seq).await?;
        if status != 200 {
            return Err(anyhow!("answered {status}"));
        }
        let _ = acked.send(seq);
        if once {
            return Ok(());
        }
    }
}

async fn send(client: &SendRequest<Bytes>, job: &Job, seq: u64) -> Result<u16> {
    let request = http::Request::builder()
        .method("POST")
        .uri(format!("https://localhost/3/device/{DEVICE}"))
        .header("authorization", format!("bearer {}", job.token))
        .header("apns-push-type", "voip")
        .header("apns-topic", "com.example.app.voip")
        .header("apns-priority", "10")
        .header("apns-expiration", "0")
        .header("apns-id", job.apns_id(seq))
        .body(())?;
    let mut client = client.clone().ready().await.context("stream slot")?;
    let (response, mut body) = client.send_request(request, false).context("request")?;
    body.send_data(Bytes::from_static(PAYLOAD.as_bytes()), true)
        .context("body")?;
    let response = response.await.context("answer")?;
    let status = response.status().as_u16();
    let mut answer = response.into_body();
    while let Some(chunk) = answer.data().await {
        let chunk = chunk.context("answer body")?;
        let _ = answer.flow_control().release_capacity(chunk.len());
    }
    Ok(status)
}
