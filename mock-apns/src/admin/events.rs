//! `GET /api/v1/events`: every new push as a Server-Sent Event, for the web UI and for scripts
//! (`curl -N http://127.0.0.1:2198/api/v1/events`).
//!
//! Each push is `id: <record id>`, `event: push`, `data: <the record, as /api/v1/pushes lists
//! it>`; `event: clear` says the record was cleared; a comment line every 15 s keeps idle
//! proxies and dead peers in check. Events follow the record in id order and never skip one
//! that is still arriving (the recorder's `follow`), so a client that reconnects with
//! `Last-Event-ID: N` (browsers do it on their own) gets every push after N, even those recorded
//! while it was away, provided they are still held (`--max-records`). Where to start, first
//! match wins: the `Last-Event-ID` header, `?after=N` (`after=0`: every push held), else only
//! pushes recorded from now on. The filters of `/api/v1/inbox` apply.
//!
//! Fed by the same wake-up as the long-poll (`Recorder::follower`); one task per stream, which
//! ends when the client goes away or the mock stops (so a graceful stop is not held open).

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Response, StatusCode};
use http_body_util::BodyExt as _;
use hyper::body::{Body, Frame};
use tokio::sync::mpsc;

use super::inbox::InboxQuery;
use super::plumbing::{error, query_u64, Reply};
use crate::shared::{Shared, StopSignal};
use crate::Notification;

/// Records read per look: bounds the memory of a stream catching up on a large record.
const BATCH: usize = 500;
/// A comment this often keeps the connection known to be alive.
const HEARTBEAT: Duration = Duration::from_secs(15);
/// After sending pushes, wait this long before looking again: under load one look (and one
/// write) carries many pushes instead of one each.
const COALESCE: Duration = Duration::from_millis(20);
/// How long a browser waits before reconnecting (the `retry:` field).
const RETRY_MS: u64 = 2000;

/// The body of an event stream: chunks from the stream's task, until it ends.
#[derive(Debug)]
struct EventBody(mpsc::Receiver<Bytes>);

impl Body for EventBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.0
            .poll_recv(cx)
            .map(|chunk| chunk.map(|c| Ok(Frame::data(c))))
    }
}

/// Starts an event stream, or says why not (a bad filter or position).
pub(super) fn stream(
    query: &[(String, String)],
    headers: &HeaderMap,
    shared: &Arc<Shared>,
) -> Reply {
    start(query, headers, shared).unwrap_or_else(|e| error(StatusCode::BAD_REQUEST, e))
}

fn start(
    query: &[(String, String)],
    headers: &HeaderMap,
    shared: &Arc<Shared>,
) -> Result<Reply, String> {
    let filter = InboxQuery::from_query(query, &[])?;
    let last_event_id = match headers.get("last-event-id") {
        None => None,
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
                .ok_or_else(|| format!("Last-Event-ID {v:?} is not a push id"))?,
        ),
    };
    let after = last_event_id
        .or(query_u64(query, "after")?)
        .unwrap_or_else(|| shared.recorder.latest_id());
    let (tx, rx) = mpsc::channel(4);
    tokio::spawn(follow(
        shared.clone(),
        filter,
        after,
        tx,
        shared.stop_signal(),
    ));
    let mut response = Response::new(EventBody(rx).boxed());
    let h = response.headers_mut();
    h.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/event-stream"),
    );
    h.insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-store"),
    );
    Ok(response)
}

/// Sends the records after `cursor` that match, then each new one, until the client goes
/// away or the mock stops.
async fn follow(
    shared: Arc<Shared>,
    filter: InboxQuery,
    mut cursor: u64,
    tx: mpsc::Sender<Bytes>,
    mut stop: StopSignal,
) {
    let recorder = &shared.recorder;
    let follower = recorder.follower();
    let mut clears = recorder.clears();
    let start = tokio::time::Instant::now() + HEARTBEAT;
    let mut heartbeat = tokio::time::interval_at(start, HEARTBEAT);
    let mut chunk = format!("retry: {RETRY_MS}\n\n").into_bytes();
    loop {
        let notified = follower.notified();
        tokio::pin!(notified);
        // Before looking: a record stored after the look still wakes us.
        notified.as_mut().enable();
        if recorder.clears() != clears {
            clears = recorder.clears();
            chunk.extend_from_slice(b"event: clear\ndata: {}\n\n");
        }
        let (records, next) = recorder.follow(cursor, BATCH);
        let more = records.len() == BATCH;
        cursor = next;
        let mut sent_pushes = false;
        for n in records.iter().filter(|n| filter.matches(n)) {
            write_event(&mut chunk, &n.to_notification());
            sent_pushes = true;
        }
        if !chunk.is_empty() {
            let chunk = Bytes::from(std::mem::take(&mut chunk));
            tokio::select! {
                sent = tx.send(chunk) => if sent.is_err() { return },
                () = stop.stopped() => return,
            }
        }
        if more {
            continue;
        }
        if sent_pushes {
            tokio::select! {
                () = tokio::time::sleep(COALESCE) => {}
                () = stop.stopped() => return,
            }
        }
        tokio::select! {
            () = &mut notified => {}
            _ = heartbeat.tick() => chunk.extend_from_slice(b": keep-alive\n\n"),
            () = tx.closed() => return,
            () = stop.stopped() => return,
        }
    }
}

/// One `push` event. A payload is kept as sent, so its JSON may hold line breaks: each line
/// becomes a `data:` line, which the client joins back with `\n`.
fn write_event(out: &mut Vec<u8>, n: &Notification) {
    out.extend_from_slice(format!("id: {}\nevent: push\n", n.id).as_bytes());
    let json = n.to_json();
    for line in json.split('\n') {
        out.extend_from_slice(b"data: ");
        out.extend_from_slice(line.trim_end_matches('\r').as_bytes());
        out.push(b'\n');
    }
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Payload;

    #[test]
    fn a_payload_with_line_breaks_becomes_several_data_lines() {
        let n = Notification::sample(7, Payload::Json("{\r\n \"a\": 1\n}".into()), 200);
        let mut out = Vec::new();
        write_event(&mut out, &n);
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("id: 7\nevent: push\ndata: {"), "{text}");
        assert!(text.ends_with("}\n\n"), "{text}");
        let data: String = text
            .lines()
            .filter_map(|l| l.strip_prefix("data: "))
            .collect::<Vec<_>>()
            .join("\n");
        let record: serde_json::Value = serde_json::from_str(&data).unwrap();
        assert_eq!(record["payload"]["a"], 1);
        assert!(!text.contains('\r'));
    }
}
