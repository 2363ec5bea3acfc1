//! The call flows: ring the callee's devices, tell them the call was missed, or that it was
//! answered elsewhere; prune tokens APNs declares dead.

use std::sync::Arc;

use serde::Serialize;
use tokio::task::JoinSet;
use uuid::Uuid;

use crate::apns::{ApnsClient, Outcome, Push};
use crate::config::Bug;
use crate::pushes;
use crate::store::{CallError, CallState, Store, Target, TokenKind};

/// What happened to the push for one device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Delivery {
    pub(crate) device: String,
    /// APNs' final status; absent when APNs never answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) reason: Option<String>,
    /// The token was dead (410) and has been removed.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub(crate) pruned: bool,
    /// Why there was no answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<String>,
}

/// The answer to a call request: the call and one delivery per device pushed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Report {
    pub(crate) call_id: Uuid,
    pub(crate) deliveries: Vec<Delivery>,
}

/// Why a call request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    UnknownUser(String),
    UnknownCall,
    NotRinging(CallState),
    UnknownDevice(String),
}

/// The provider: its state, its APNs client, and the app's bundle id.
#[derive(Debug)]
pub(crate) struct App {
    pub(crate) store: Store,
    apns: ApnsClient,
    bundle: String,
    bug: Option<Bug>,
}

impl App {
    pub(crate) fn new(apns: ApnsClient, bundle: String, bug: Option<Bug>) -> Self {
        Self {
            store: Store::default(),
            apns,
            bundle,
            bug,
        }
    }

    /// Starts a call: a VoIP push to every device of `to` that has a VoIP token.
    pub(crate) async fn call(self: &Arc<Self>, from: &str, to: &str) -> Result<Report, Refusal> {
        if !self.store.knows(to) {
            return Err(Refusal::UnknownUser(to.to_owned()));
        }
        let call_id = self.store.start_call(from, to);
        let targets = self.store.targets(to, TokenKind::Voip, None);
        let from = from.to_owned();
        let bundle = self.bundle.clone();
        let late = self.bug == Some(Bug::VoipExpiration60);
        let deliveries = self
            .deliver(TokenKind::Voip, targets, move |t| {
                let push = pushes::incoming_call(&bundle, &t.token, call_id, &from);
                if late {
                    return pushes::stored_for_a_minute(push);
                }
                push
            })
            .await;
        Ok(Report {
            call_id,
            deliveries,
        })
    }

    /// The caller hung up before anyone answered: a missed-call alert to the callee's
    /// regular tokens.
    pub(crate) async fn cancel(self: &Arc<Self>, call_id: Uuid) -> Result<Report, Refusal> {
        let call = self
            .store
            .end_call(call_id, CallState::Cancelled)
            .map_err(refusal)?;
        let bundle = self.bundle.clone();
        let caller = call.from;
        let deliveries = match self.bug {
            Some(Bug::CancelAsVoip) => {
                let targets = self.store.targets(&call.to, TokenKind::Voip, None);
                self.deliver(TokenKind::Voip, targets, move |t| {
                    pushes::missed_call_as_voip(&bundle, &t.token, call_id, &caller)
                })
                .await
            }
            None | Some(Bug::VoipExpiration60) => {
                let targets = self.store.targets(&call.to, TokenKind::Apns, None);
                self.deliver(TokenKind::Apns, targets, move |t| {
                    pushes::missed_call(&bundle, &t.token, call_id, &caller)
                })
                .await
            }
        };
        Ok(Report {
            call_id,
            deliveries,
        })
    }

    /// `device` answered: a stop-ringing background push to the callee's other devices.
    pub(crate) async fn answer(
        self: &Arc<Self>,
        call_id: Uuid,
        device: &str,
    ) -> Result<Report, Refusal> {
        let call = self.store.call(call_id).ok_or(Refusal::UnknownCall)?;
        if !self.store.has_device(&call.to, device) {
            return Err(Refusal::UnknownDevice(device.to_owned()));
        }
        let call = self
            .store
            .end_call(call_id, CallState::Answered)
            .map_err(refusal)?;
        let targets = self.store.targets(&call.to, TokenKind::Apns, Some(device));
        let bundle = self.bundle.clone();
        let deliveries = self
            .deliver(TokenKind::Apns, targets, move |t| {
                pushes::answered_elsewhere(&bundle, &t.token, call_id)
            })
            .await;
        Ok(Report {
            call_id,
            deliveries,
        })
    }

    /// Sends one push per target concurrently; prunes tokens answered 410. Deliveries come
    /// back ordered by device name, whatever order APNs answered in.
    async fn deliver(
        self: &Arc<Self>,
        kind: TokenKind,
        targets: Vec<Target>,
        make: impl Fn(&Target) -> Push,
    ) -> Vec<Delivery> {
        let mut tasks = JoinSet::new();
        for target in targets {
            let push = make(&target);
            let app = self.clone();
            tasks.spawn(async move {
                let outcome = app.apns.send(&push).await;
                let pruned = outcome.token_is_dead() && app.store.prune(kind, &target.token);
                tracing::info!(
                    device = %target.device,
                    push_type = push.push_type,
                    ?outcome,
                    pruned,
                    "push finished"
                );
                delivery(target.device, outcome, pruned)
            });
        }
        let mut deliveries = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok(d) => deliveries.push(d),
                Err(e) => tracing::error!("a push task failed: {e}"),
            }
        }
        deliveries.sort_by(|a, b| a.device.cmp(&b.device));
        deliveries
    }
}

fn refusal(e: CallError) -> Refusal {
    match e {
        CallError::Unknown => Refusal::UnknownCall,
        CallError::NotRinging(state) => Refusal::NotRinging(state),
    }
}

fn delivery(device: String, outcome: Outcome, pruned: bool) -> Delivery {
    let (status, reason, error) = match outcome {
        Outcome::Delivered => (Some(200), None, None),
        Outcome::Rejected { status, reason } => (Some(status), Some(reason), None),
        Outcome::Failed { error } => (None, None, Some(error)),
    };
    Delivery {
        device,
        status,
        reason,
        pruned,
        error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deliveries_serialise_as_the_harness_expects() {
        let ok = delivery("bob-iphone".into(), Outcome::Delivered, false);
        assert_eq!(
            serde_json::to_value(ok).unwrap(),
            serde_json::json!({"device": "bob-iphone", "status": 200})
        );
        let gone = delivery(
            "bob-ipad".into(),
            Outcome::Rejected {
                status: 410,
                reason: "Unregistered".into(),
            },
            true,
        );
        assert_eq!(
            serde_json::to_value(gone).unwrap(),
            serde_json::json!({"device": "bob-ipad", "status": 410, "reason": "Unregistered", "pruned": true})
        );
    }
}
