//! What a fired fault rule does to one push: a different answer, a delay, or another fate for
//! the stream (reset, GOAWAY, closed connection, stall).

use std::time::Duration;

use crate::apns::checks::Ctx;
use crate::apns::rejection::Rejection;
use crate::faults::{Action, PushFacts, Rule};
use crate::server::connection_state::{Connection, GoAway};
use crate::shared::Shared;
use crate::{ErrorCode, Reason};

/// What goes on the wire for a stream.
#[derive(Debug)]
pub(crate) enum Wire {
    /// An HTTP answer (the outcome, maybe changed by a fault).
    Answer,
    /// RST_STREAM with this code, no answer.
    Reset(ErrorCode),
    /// Close the TCP connection without GOAWAY.
    Close(String),
    /// Never answer.
    Stall,
}

impl Wire {
    pub(crate) fn describe(&self) -> String {
        match self {
            Wire::Answer => "answered".into(),
            Wire::Reset(code) => format!("no answer: stream reset with {code}"),
            Wire::Close(why) => format!("no answer: connection closed without GOAWAY ({why})"),
            Wire::Stall => "no answer: stalled by a fault rule".into(),
        }
    }
}

/// Applies a fired rule: changes the outcome, or picks another fate for the stream.
pub(crate) async fn apply_fault(
    rule: &Rule,
    outcome: &mut Result<(), Rejection>,
    conn: &Connection,
    stream_id: u32,
    shared: &Shared,
) -> Wire {
    let by = format!("fault rule {}", rule.label());
    let reject = |reason: Reason, timestamp: Option<u64>| {
        let timestamp = reason
            .has_timestamp()
            .then(|| timestamp.unwrap_or(shared.clock.now_ms()));
        Err(Rejection {
            reason,
            timestamp,
            detail: by.clone(),
        })
    };
    match &rule.spec.action {
        Action::Reject {
            reject: reason,
            timestamp,
        } => *outcome = reject(*reason, *timestamp),
        Action::Delay { delay_ms } => tokio::time::sleep(Duration::from_millis(*delay_ms)).await,
        Action::Reset { reset } => return Wire::Reset(*reset),
        Action::GoAway { goaway } => {
            // Excluded: last-stream-id stops below this stream, which is then refused, unread.
            let last = if goaway.include_current {
                stream_id
            } else {
                stream_id.saturating_sub(2)
            };
            let frame = GoAway {
                reason: goaway.reason,
                error_code: goaway.error_code,
                last_stream_id: Some(last),
            };
            conn.go_away(frame, by.clone());
            if !goaway.include_current {
                return Wire::Reset(ErrorCode::RefusedStream);
            }
        }
        Action::Close { .. } => return Wire::Close(by),
        Action::Stall { .. } => return Wire::Stall,
        Action::RateLimit { .. } => *outcome = reject(Reason::TooManyRequests, None),
        Action::Outage { outage } => {
            *outcome = reject(*outage, None);
            if *outage == Reason::Shutdown {
                let frame = GoAway {
                    last_stream_id: Some(stream_id),
                    ..GoAway::shutdown()
                };
                conn.go_away(frame, by.clone());
            }
        }
        Action::MaxConnections { .. } => {}
    }
    Wire::Answer
}

/// What a fault rule's match sees of a push.
pub(crate) fn facts<'a>(ctx: &'a Ctx<'_>) -> PushFacts<'a> {
    let (team_id, key_id) = match ctx.token.get() {
        Some(t) => (Some(&*t.team_id), Some(&*t.key_id)),
        None => (None, None),
    };
    PushFacts {
        device_token: ctx.head.device_token(),
        topic: ctx.topic(),
        push_type: ctx.head.header("apns-push-type"),
        priority: ctx
            .head
            .header("apns-priority")
            .map_or(Some(10), |p| p.parse().ok()),
        team_id,
        key_id,
        connection_id: ctx.conn.id,
        payload: &ctx.body.bytes,
    }
}
