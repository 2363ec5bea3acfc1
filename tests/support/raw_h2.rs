//! Hand-written HTTP/2 frames, for what the `h2` client cannot do or does not show:
//! - send Apple's documented example head, `:method`/`:scheme`/`:path` plus a plain `host`
//!   header and no `:authority` (h2 derives `:authority` from the URI and needs one with a
//!   scheme);
//! - read a GOAWAY's last-stream-id, error code and debug data (APNs's JSON reason), which the
//!   h2 client keeps to itself.
//!
//! It speaks just enough HTTP/2: the preface, SETTINGS (and their ACK), PING ACKs, HEADERS in
//! HPACK without Huffman or indexing, DATA.

use anyhow::{bail, Context as _};
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};

use mock_apns::MockApns;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use super::apns_client::tls_connect;
use super::push::provider_token;
use super::{DEVICE, PATIENCE, VOIP_TOPIC};

/// A frame-by-frame connection to `apns` over TLS with ALPN `h2`.
pub(crate) async fn raw_connection(apns: &MockApns) -> RawH2<TlsStream<TcpStream>> {
    let tls = tls_connect(apns.address(), apns.ca_cert_pem(), "localhost", &[b"h2"])
        .await
        .expect("TLS to the mock");
    RawH2::start(tls).await.expect("HTTP/2 preface sent")
}

/// `/3/device/<DEVICE>`.
pub(crate) fn device_path() -> String {
    format!("/3/device/{DEVICE}")
}

/// A VoIP push's headers as Apple's example shows them: a plain `host`, no `:authority`.
pub(crate) fn voip_headers(apns: &MockApns) -> Vec<(&'static str, String)> {
    voip_headers_for(&provider_token(apns))
}

/// [`voip_headers`] with a given provider token, e.g. one from the binary's key
/// ([`super::binary::MockProcess::token`]).
pub(crate) fn voip_headers_for(token: &str) -> Vec<(&'static str, String)> {
    vec![
        ("host", "api.sandbox.push.apple.com".into()),
        ("authorization", format!("bearer {token}")),
        ("apns-push-type", "voip".into()),
        ("apns-topic", VOIP_TOPIC.into()),
    ]
}

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const DATA: u8 = 0x0;
const HEADERS: u8 = 0x1;
const RST_STREAM: u8 = 0x3;
const SETTINGS: u8 = 0x4;
const PING: u8 = 0x6;
const GOAWAY: u8 = 0x7;
const WINDOW_UPDATE: u8 = 0x8;
const END_STREAM: u8 = 0x1;
const ACK: u8 = 0x1;
const END_HEADERS: u8 = 0x4;

/// What came back on a stream.
#[derive(Debug)]
pub(crate) struct RawReply {
    /// `:status`, when the server sent it as an HPACK static-table entry (200, 204, 206, 304,
    /// 400, 404, 500); `None` for other encodings.
    pub(crate) status: Option<u16>,
    /// HEADERS carried END_STREAM: an answer without a body (APNs's success shape).
    pub(crate) headers_ended_stream: bool,
    /// The DATA received (APNs's JSON error body).
    pub(crate) body: Vec<u8>,
}

/// A GOAWAY frame as received.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct GoAwayFrame {
    pub(crate) last_stream_id: u32,
    /// 0 is `NO_ERROR`.
    pub(crate) error_code: u32,
    /// APNs puts `{"reason":"…"}` here.
    pub(crate) debug_data: String,
}

/// A frame from the server, as the tests look at it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Frame {
    /// HEADERS: the `:status` when it is a static-table entry, and END_STREAM.
    Headers {
        stream: u32,
        status: Option<u16>,
        end_stream: bool,
    },
    /// DATA.
    Data {
        stream: u32,
        body: Vec<u8>,
        end_stream: bool,
    },
    /// RST_STREAM with its error code (7 is `REFUSED_STREAM`, 8 `CANCEL`).
    Reset { stream: u32, code: u32 },
    /// GOAWAY.
    GoAway(GoAwayFrame),
    /// SETTINGS (already acknowledged and recorded in [`RawH2::settings`]).
    Settings(Vec<(u16, u32)>),
    /// The server closed the TCP connection.
    Closed,
}

/// One HTTP/2 connection driven frame by frame.
#[derive(Debug)]
pub(crate) struct RawH2<S> {
    io: S,
    /// Every SETTINGS frame received (acknowledged automatically), as (id, value) pairs.
    settings: Vec<Vec<(u16, u32)>>,
    /// How many of `settings` [`Self::next_stream_limit`] has looked at; the server's first
    /// SETTINGS frame is the initial state, not a change.
    limits_seen: usize,
}

impl<S: AsyncRead + AsyncWrite + Unpin> RawH2<S> {
    /// Sends the client preface and an empty SETTINGS frame.
    pub(crate) async fn start(mut io: S) -> anyhow::Result<Self> {
        let mut out = PREFACE.to_vec();
        frame(&mut out, SETTINGS, 0, 0, &[]);
        io.write_all(&out).await?;
        io.flush().await?;
        Ok(Self {
            io,
            settings: Vec::new(),
            limits_seen: 1,
        })
    }

    /// Sends `POST path` on `stream` with the given regular headers (pseudo-headers are added:
    /// `:method POST`, `:scheme https`, `:path`; no `:authority`) and `body`, then reads the
    /// answer (each frame within [`PATIENCE`]).
    pub(crate) async fn post(
        &mut self,
        stream: u32,
        path: &str,
        headers: &[(&str, String)],
        body: &[u8],
    ) -> anyhow::Result<RawReply> {
        self.send_head(stream, path, headers, body.is_empty())
            .await?;
        if !body.is_empty() {
            self.send_data(stream, body, true).await?;
        }
        self.reply(stream).await
    }

    /// Sends a request head for `POST path` on `stream`, ending the stream or not.
    pub(crate) async fn send_head(
        &mut self,
        stream: u32,
        path: &str,
        headers: &[(&str, String)],
        end_stream: bool,
    ) -> anyhow::Result<()> {
        let mut block = vec![0x83, 0x87]; // static table: `:method POST`, `:scheme https`
        hpack_int(&mut block, 4, 0x00, 4); // literal, not indexed, name = static 4 (`:path`)
        hpack_str(&mut block, path);
        for (name, value) in headers {
            block.push(0x00); // literal, not indexed, new name
            hpack_str(&mut block, name);
            hpack_str(&mut block, value);
        }
        let mut out = Vec::new();
        let flags = END_HEADERS | if end_stream { END_STREAM } else { 0 };
        frame(&mut out, HEADERS, flags, stream, &block);
        self.io.write_all(&out).await?;
        Ok(self.io.flush().await?)
    }

    /// Sends DATA on `stream`.
    pub(crate) async fn send_data(
        &mut self,
        stream: u32,
        body: &[u8],
        end_stream: bool,
    ) -> anyhow::Result<()> {
        let mut out = Vec::new();
        frame(
            &mut out,
            DATA,
            if end_stream { END_STREAM } else { 0 },
            stream,
            body,
        );
        self.io.write_all(&out).await?;
        Ok(self.io.flush().await?)
    }

    /// Sends `count` copies of one `POST path` (headers as in [`Self::send_head`], `body` in
    /// one DATA frame) on fresh streams from `first_stream` on, keeping at most `in_flight`
    /// open and within the connection's flow-control window, and reads every answer. Returns
    /// how many were 200. For filling the record fast: the request is encoded once, and the
    /// frames go out in large writes.
    pub(crate) async fn post_many(
        &mut self,
        first_stream: u32,
        count: usize,
        in_flight: usize,
        path: &str,
        headers: &[(&str, String)],
        body: &[u8],
    ) -> anyhow::Result<usize> {
        let mut block = vec![0x83, 0x87];
        hpack_int(&mut block, 4, 0x00, 4);
        hpack_str(&mut block, path);
        for (name, value) in headers {
            block.push(0x00);
            hpack_str(&mut block, name);
            hpack_str(&mut block, value);
        }
        // The client's send window on the connection: 65 535 until the server adds to it.
        let mut window: usize = 65_535;
        let (mut stream, mut sent, mut answered, mut accepted) = (first_stream, 0, 0, 0);
        let mut out = Vec::new();
        while answered < count {
            while sent < count && sent - answered < in_flight && window >= body.len() {
                frame(&mut out, HEADERS, END_HEADERS, stream, &block);
                frame(&mut out, DATA, END_STREAM, stream, body);
                window -= body.len();
                stream += 2;
                sent += 1;
            }
            if !out.is_empty() {
                self.io.write_all(&out).await?;
                self.io.flush().await?;
                out.clear();
            }
            let (kind, flags, id, payload) = self.next_frame().await?;
            match kind {
                HEADERS if flags & END_STREAM != 0 => {
                    answered += 1;
                    if payload.first().and_then(|b| static_status(*b)) == Some(200) {
                        accepted += 1;
                    }
                }
                DATA if flags & END_STREAM != 0 => answered += 1,
                RST_STREAM => answered += 1,
                WINDOW_UPDATE if id == 0 => {
                    let increment = payload
                        .get(..4)
                        .map_or(0, |b| u32::from_be_bytes([b[0] & 0x7f, b[1], b[2], b[3]]));
                    window += increment as usize;
                }
                GOAWAY => bail!("the server closed the connection: {:?}", goaway(&payload)),
                _ => {}
            }
        }
        Ok(accepted)
    }

    /// Sends PING and reads until its ACK: the server has then read every frame sent before
    /// it (frames are processed in order), so a stream opened earlier is known to it.
    pub(crate) async fn ping(&mut self) -> anyhow::Result<()> {
        let payload = *b"mockapns";
        let mut out = Vec::new();
        frame(&mut out, PING, 0, 0, &payload);
        self.io.write_all(&out).await?;
        self.io.flush().await?;
        loop {
            let (kind, flags, _, body) = self.next_frame().await?;
            if kind == PING && flags & ACK != 0 && body == payload {
                return Ok(());
            }
            anyhow::ensure!(
                kind != GOAWAY,
                "GOAWAY before the PING ACK: {:?}",
                goaway(&body)
            );
        }
    }

    /// The SETTINGS frames received so far, oldest first.
    pub(crate) fn settings(&self) -> &[Vec<(u16, u32)>] {
        &self.settings
    }

    /// The next change of `MAX_CONCURRENT_STREAMS` after the server's initial SETTINGS, in the
    /// order received (reading frames until one arrives, within [`PATIENCE`] each).
    pub(crate) async fn next_stream_limit(&mut self) -> anyhow::Result<u32> {
        loop {
            while self.limits_seen < self.settings.len() {
                let frame = &self.settings[self.limits_seen];
                self.limits_seen += 1;
                if let Some((_, limit)) = frame
                    .iter()
                    .find(|(id, _)| *id == SETTINGS_MAX_CONCURRENT_STREAMS)
                {
                    return Ok(*limit);
                }
            }
            let frame = self.next_any().await?;
            anyhow::ensure!(
                !matches!(frame, Frame::GoAway(_) | Frame::Closed),
                "connection ended: {frame:?}"
            );
        }
    }

    /// The next frame from the server other than SETTINGS (acknowledged, and recorded in
    /// [`Self::settings`]) and PING (answered), within [`PATIENCE`].
    pub(crate) async fn next(&mut self) -> anyhow::Result<Frame> {
        loop {
            match self.next_any().await? {
                Frame::Settings(_) => {}
                frame => return Ok(frame),
            }
        }
    }

    /// Like [`Self::next`], SETTINGS included.
    async fn next_any(&mut self) -> anyhow::Result<Frame> {
        let (kind, flags, stream, payload) = match self.next_frame().await {
            Ok(frame) => frame,
            Err(e) if is_eof(&e) => return Ok(Frame::Closed),
            Err(e) => return Err(e),
        };
        let end_stream = flags & END_STREAM != 0;
        Ok(match kind {
            HEADERS => Frame::Headers {
                stream,
                status: payload.first().and_then(|b| static_status(*b)),
                end_stream,
            },
            DATA => Frame::Data {
                stream,
                body: payload,
                end_stream,
            },
            RST_STREAM => {
                let code = payload
                    .get(..4)
                    .map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
                Frame::Reset { stream, code }
            }
            GOAWAY => Frame::GoAway(goaway(&payload)?),
            SETTINGS if flags & ACK == 0 => Frame::Settings(settings_pairs(&payload)),
            // SETTINGS and PING ACKs, WINDOW_UPDATE, PRIORITY: bookkeeping, not news.
            _ => return Box::pin(self.next_any()).await,
        })
    }

    /// Reads the answer on `stream`: status, and the body up to END_STREAM.
    pub(crate) async fn reply(&mut self, stream: u32) -> anyhow::Result<RawReply> {
        let mut reply = RawReply {
            status: None,
            headers_ended_stream: false,
            body: Vec::new(),
        };
        loop {
            let (kind, flags, id, payload) = self.next_frame().await?;
            match kind {
                HEADERS if id == stream => {
                    reply.status = payload.first().and_then(|b| static_status(*b));
                    if flags & END_STREAM != 0 {
                        reply.headers_ended_stream = true;
                        return Ok(reply);
                    }
                }
                DATA if id == stream => {
                    reply.body.extend_from_slice(&payload);
                    if flags & END_STREAM != 0 {
                        return Ok(reply);
                    }
                }
                RST_STREAM if id == stream => {
                    bail!("the server reset stream {stream}: {payload:?}")
                }
                GOAWAY => bail!("the server closed the connection: {:?}", goaway(&payload)),
                _ => {}
            }
        }
    }

    /// Reads frames until a GOAWAY arrives (each within [`PATIENCE`]).
    pub(crate) async fn goaway(&mut self) -> anyhow::Result<GoAwayFrame> {
        loop {
            let (kind, _, _, payload) = self.next_frame().await?;
            if kind == GOAWAY {
                return goaway(&payload);
            }
        }
    }

    /// The next frame that needs more than an automatic answer (SETTINGS and PING are
    /// acknowledged here; SETTINGS are recorded and still returned, PINGs are not).
    async fn next_frame(&mut self) -> anyhow::Result<(u8, u8, u32, Vec<u8>)> {
        loop {
            let mut head = [0u8; 9];
            tokio::time::timeout(PATIENCE, self.io.read_exact(&mut head))
                .await
                .context("no frame in time")?
                .context("reading a frame")?;
            let len = u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize;
            let (kind, flags) = (head[3], head[4]);
            let stream = u32::from_be_bytes([head[5], head[6], head[7], head[8]]) & 0x7fff_ffff;
            let mut payload = vec![0u8; len];
            self.io.read_exact(&mut payload).await?;
            let ack = match kind {
                SETTINGS | PING if flags & ACK == 0 => Some(kind),
                _ => None,
            };
            if kind == SETTINGS && flags & ACK == 0 {
                self.settings.push(settings_pairs(&payload));
            }
            if let Some(kind) = ack {
                let mut out = Vec::new();
                let echo = if kind == PING { &payload[..] } else { &[] };
                frame(&mut out, kind, ACK, 0, echo);
                self.io.write_all(&out).await?;
                self.io.flush().await?;
                if kind == PING {
                    continue;
                }
            }
            return Ok((kind, flags, stream, payload));
        }
    }
}

/// A SETTINGS payload as (id, value) pairs.
fn settings_pairs(payload: &[u8]) -> Vec<(u16, u32)> {
    payload
        .chunks_exact(6)
        .map(|c| {
            (
                u16::from_be_bytes([c[0], c[1]]),
                u32::from_be_bytes([c[2], c[3], c[4], c[5]]),
            )
        })
        .collect()
}

/// `SETTINGS_MAX_CONCURRENT_STREAMS` (RFC 9113 §6.5.2).
pub(crate) const SETTINGS_MAX_CONCURRENT_STREAMS: u16 = 0x3;

fn is_eof(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause.downcast_ref::<std::io::Error>().is_some_and(|io| {
            use std::io::ErrorKind::{ConnectionReset, UnexpectedEof};
            matches!(io.kind(), UnexpectedEof | ConnectionReset)
        })
    })
}

fn goaway(payload: &[u8]) -> anyhow::Result<GoAwayFrame> {
    anyhow::ensure!(payload.len() >= 8, "short GOAWAY: {payload:?}");
    Ok(GoAwayFrame {
        last_stream_id: u32::from_be_bytes([payload[0], payload[1], payload[2], payload[3]])
            & 0x7fff_ffff,
        error_code: u32::from_be_bytes([payload[4], payload[5], payload[6], payload[7]]),
        debug_data: String::from_utf8_lossy(&payload[8..]).into_owned(),
    })
}

fn frame(out: &mut Vec<u8>, kind: u8, flags: u8, stream: u32, payload: &[u8]) {
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes()[1..]);
    out.extend_from_slice(&[kind, flags]);
    out.extend_from_slice(&stream.to_be_bytes());
    out.extend_from_slice(payload);
}

/// HPACK integer (RFC 7541 §5.1) with an `n`-bit prefix after the `first` flag bits.
fn hpack_int(out: &mut Vec<u8>, n: u32, first: u8, mut value: usize) {
    let max = (1usize << n) - 1;
    if value < max {
        out.push(first | value as u8);
        return;
    }
    out.push(first | max as u8);
    value -= max;
    while value >= 128 {
        out.push((value % 128) as u8 | 0x80);
        value /= 128;
    }
    out.push(value as u8);
}

/// HPACK string literal, not Huffman-coded.
fn hpack_str(out: &mut Vec<u8>, s: &str) {
    hpack_int(out, 7, 0x00, s.len());
    out.extend_from_slice(s.as_bytes());
}

/// `:status` from an indexed header field of the static table (RFC 7541 Appendix A).
fn static_status(first: u8) -> Option<u16> {
    match first {
        0x88 => Some(200),
        0x89 => Some(204),
        0x8a => Some(206),
        0x8b => Some(304),
        0x8c => Some(400),
        0x8d => Some(404),
        0x8e => Some(500),
        _ => None,
    }
}

#[test]
fn hpack_integers_follow_rfc_7541_examples() {
    // C.1.1 and C.1.2: 10 and 1337 with a 5-bit prefix.
    let mut out = Vec::new();
    hpack_int(&mut out, 5, 0, 10);
    assert_eq!(out, [10]);
    out.clear();
    hpack_int(&mut out, 5, 0, 1337);
    assert_eq!(out, [31, 154, 10]);
}
