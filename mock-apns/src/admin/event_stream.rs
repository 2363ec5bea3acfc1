//! [`Client::events`]: the event stream (`GET /api/v1/events`) read as it comes, one typed
//! [`Event`] at a time, for tests and tools that follow pushes live instead of polling.

use bytes::Bytes;
use http::Method;
use http_body_util::BodyExt as _;
use hyper::body::Incoming;

use super::client::{refusal, Client, ClientError, PushQuery, RawRequest, Response};
use crate::record::notification::Notification;

/// One event of the stream.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Event {
    /// A push was recorded (the event's id is its record id).
    Push(Box<Notification>),
    /// The record was cleared.
    Cleared,
}

/// An open event stream ([`Client::events`]).
#[derive(Debug)]
pub struct EventStream {
    path: String,
    body: Incoming,
    buffer: Vec<u8>,
    last_event_id: Option<u64>,
}

impl Client {
    /// `GET /api/v1/events`: the matching pushes recorded after `resume_after` (sent as
    /// `Last-Event-ID`, as a browser resumes; `Some(0)`: every push held), or with `None` only
    /// those recorded from now on, then each new one as it is recorded.
    pub async fn events(
        &self,
        query: &PushQuery,
        resume_after: Option<u64>,
    ) -> Result<EventStream, ClientError> {
        let path = super::client::with_query("/api/v1/events", &query.pairs());
        let mut raw =
            RawRequest::new(Method::GET, &path, Bytes::new()).header("accept", "text/event-stream");
        if let Some(id) = resume_after {
            raw = raw.header("last-event-id", &id.to_string());
        }
        let open = self.open(raw);
        let response = self
            .within(Method::GET, &path, self.timeout(), open)
            .await?;
        if response.status() != http::StatusCode::OK {
            let read = Response::read(response);
            let answer = self
                .within(Method::GET, &path, self.timeout(), read)
                .await?;
            return Err(refusal(&Method::GET, &path, &answer));
        }
        Ok(EventStream {
            path,
            body: response.into_body(),
            buffer: Vec::new(),
            last_event_id: resume_after,
        })
    }
}

impl EventStream {
    /// The next event; `None` once the mock ends the stream (it stops). Waits as long as it
    /// takes: bound it with a timeout.
    pub async fn next(&mut self) -> Result<Option<Event>, ClientError> {
        loop {
            while let Some(end) = find_blank_line(&self.buffer) {
                let block: Vec<u8> = self.buffer.drain(..end.0 + end.1).collect();
                if let Some(event) = self.parse(&block[..end.0])? {
                    return Ok(Some(event));
                }
            }
            match self.body.frame().await {
                None => return Ok(None),
                Some(Err(e)) => return Err(self.error(e.to_string())),
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        self.buffer.extend_from_slice(&data);
                    }
                }
            }
        }
    }

    /// The id of the last push read (or the position the stream was opened at): reopen with
    /// it to miss nothing.
    pub fn last_event_id(&self) -> Option<u64> {
        self.last_event_id
    }

    /// One block of lines: `id:`, `event:`, `data:` (joined with `\n`); comments and `retry:`
    /// are skipped, and a block with neither event nor data is no event.
    fn parse(&mut self, block: &[u8]) -> Result<Option<Event>, ClientError> {
        let text = String::from_utf8_lossy(block);
        let (mut id, mut kind, mut data) = (None, None, Vec::new());
        for line in text.lines() {
            let (field, value) = line.split_once(':').unwrap_or((line, ""));
            let value = value.strip_prefix(' ').unwrap_or(value);
            match field {
                "id" => id = value.parse::<u64>().ok(),
                "event" => kind = Some(value.to_owned()),
                "data" => data.push(value),
                _ => {}
            }
        }
        match kind.as_deref() {
            Some("push") => {
                let record: Notification = serde_json::from_str(&data.join("\n"))
                    .map_err(|e| self.error(format!("a push event that is no record: {e}")))?;
                self.last_event_id = id.or(Some(record.id));
                Ok(Some(Event::Push(Box::new(record))))
            }
            Some("clear") => Ok(Some(Event::Cleared)),
            _ => Ok(None),
        }
    }

    fn error(&self, message: String) -> ClientError {
        ClientError::Transport {
            method: Method::GET,
            path: self.path.clone(),
            message,
        }
    }
}

/// Where the first block ends: (its length, the length of the blank line after it).
fn find_blank_line(buffer: &[u8]) -> Option<(usize, usize)> {
    let lf = buffer.windows(2).position(|w| w == b"\n\n").map(|i| (i, 2));
    let crlf = buffer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, 4));
    match (lf, crlf) {
        (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
        (a, b) => a.or(b),
    }
}
