//! One virtual phone: the tokens it owns, its state (online, app installed), the push APNs
//! stores for it, its calls, its PushKit policy state and its timeline.
//!
//! Each phone has its own lock, held for one event and never across an `await`. Time is the
//! mock's clock, read by the caller: ring timeouts and stored pushes' expirations are settled
//! lazily, at their own time, before anything else happens to the phone (or it is looked at),
//! so no timer task is needed and advancing the clock is enough.

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::calls::{Call, CallEnd, CallState};
use super::delivery::{Delivery, DeliveryReason, DeliveryStatus, Effect};
use super::incoming::{Expiration, Incoming};
use super::policy::{self, Violation};
use super::timeline::{PhoneEvent, Timeline, TimelineEntry};
use super::{PhoneError, PhoneSettings};
use crate::PushType;

/// Calls kept per phone (the oldest ended ones go first).
const MAX_CALLS: usize = 1_000;
/// Call ids remembered as "already rang" per phone.
const MAX_RANG: usize = 10_000;
/// Push fates kept per phone.
const MAX_FATES: usize = 1_000;

/// A phone, shared by the registry and every push to its tokens.
#[derive(Debug)]
pub(crate) struct Phone {
    pub(crate) name: Box<str>,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    tokens: Vec<String>,
    online: bool,
    app_installed: bool,
    violations: u32,
    voip_suspended: bool,
    /// At most one per app (APNs keeps only the newest), in arrival order.
    stored: Vec<Stored>,
    calls: VecDeque<Call>,
    rang: Rang,
    fates: VecDeque<PushFate>,
    timeline: Timeline,
}

/// A push APNs holds for the phone while it is offline.
#[derive(Debug, Clone)]
struct Stored {
    facts: Facts,
    /// Deliverable until then (epoch ms); `None`: no `apns-expiration`, kept.
    until_ms: Option<u64>,
}

/// What the phone needs of a push, kept while it is stored.
#[derive(Debug, Clone)]
struct Facts {
    push_id: u64,
    push_type: Option<PushType>,
    bundle: String,
    call_id: Option<String>,
}

impl Facts {
    fn of(push: &Incoming<'_>) -> Self {
        Self {
            push_id: push.push_id,
            push_type: push.push_type,
            bundle: push.bundle().to_owned(),
            call_id: push.call_id().map(str::to_owned),
        }
    }

    fn is_voip(&self) -> bool {
        self.push_type == Some(PushType::Voip)
    }
}

/// Call ids this phone rang, bounded.
#[derive(Debug, Default)]
struct Rang {
    order: VecDeque<String>,
    set: HashSet<String>,
}

impl Rang {
    fn contains(&self, id: &str) -> bool {
        self.set.contains(id)
    }

    fn insert(&mut self, id: &str) {
        if self.set.insert(id.to_owned()) {
            self.order.push_back(id.to_owned());
            if self.order.len() > MAX_RANG {
                if let Some(old) = self.order.pop_front() {
                    self.set.remove(&old);
                }
            }
        }
    }
}

/// The current fate of one push that reached the phone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushFate {
    /// The record's id.
    pub push_id: u64,
    /// Its push type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push_type: Option<PushType>,
    /// Delivered, stored or discarded, as of now.
    pub status: DeliveryStatus,
    /// Why it was stored or discarded, or that it came from storage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<DeliveryReason>,
    /// When it reached this status (epoch ms, mock clock).
    pub at: u64,
}

/// A phone as the admin API and the Rust API show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhoneView {
    /// Its name.
    pub name: String,
    /// The device tokens it owns (lower case).
    pub tokens: Vec<String>,
    /// Reachable (not in airplane mode).
    pub online: bool,
    /// The app is installed.
    pub app_installed: bool,
    /// PushKit violations since the last reset.
    pub violations: u32,
    /// iOS no longer delivers VoIP pushes to the app.
    pub voip_suspended: bool,
    /// Ids of the calls ringing now, oldest first.
    pub ringing: Vec<String>,
    /// Calls, oldest first.
    pub calls: Vec<Call>,
    /// Pushes APNs holds for the phone (their ids).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stored: Vec<u64>,
    /// The latest fate of each push that reached the phone, in arrival order.
    pub pushes: Vec<PushFate>,
    /// Everything that happened, in order.
    pub timeline: Vec<TimelineEntry>,
    /// Timeline entries dropped to keep memory bounded.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub timeline_dropped: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl PhoneView {
    /// Whether any call rings (or this one, when given).
    pub fn is_ringing(&self, call: Option<&str>) -> bool {
        match call {
            None => !self.ringing.is_empty(),
            Some(c) => self.ringing.iter().any(|r| r == c),
        }
    }

    /// The fate of the latest push that reached the phone.
    pub fn last_push(&self) -> Option<&PushFate> {
        self.pushes.last()
    }
}

/// What the phone side made of one push.
#[derive(Debug, Default)]
pub(crate) struct Arrival {
    /// Its fate, for a push answered 200.
    pub(crate) delivery: Option<Delivery>,
    /// For a VoIP push with a call id: whether the phone already rang that call (lint).
    pub(crate) repeated_call: Option<bool>,
}

impl Phone {
    /// A phone with no tokens yet, online, its app installed (`put` sets the rest).
    pub(crate) fn new(name: &str) -> Self {
        Self {
            name: name.into(),
            state: Mutex::new(State {
                tokens: Vec::new(),
                online: true,
                app_installed: true,
                violations: 0,
                voip_suspended: false,
                stored: Vec::new(),
                calls: VecDeque::new(),
                rang: Rang::default(),
                fates: VecDeque::new(),
                timeline: Timeline::default(),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A push to one of the phone's tokens. Only a push APNs accepted (`accepted`) is
    /// delivered, stored or discarded; any other is only looked at for lint.
    pub(crate) fn receive(
        &self,
        push: &Incoming<'_>,
        accepted: bool,
        now: u64,
        settings: &PhoneSettings,
    ) -> Arrival {
        let mut s = self.lock();
        s.settle(now);
        let repeated_call = push
            .is_voip()
            .then(|| push.call_id().map(|id| s.rang.contains(id)))
            .flatten();
        if !accepted {
            return Arrival {
                delivery: None,
                repeated_call,
            };
        }
        let facts = Facts::of(push);
        let delivery = if s.online {
            s.deliver(&self.name, facts, now, false, settings)
        } else {
            s.store(&self.name, facts, push.expiration, now)
        };
        Arrival {
            delivery: Some(delivery),
            repeated_call,
        }
    }

    /// Sets what the test controls; going online delivers what APNs stored.
    pub(crate) fn update(
        &self,
        tokens: Option<Vec<String>>,
        online: Option<bool>,
        app_installed: Option<bool>,
        now: u64,
        settings: &PhoneSettings,
    ) {
        let mut s = self.lock();
        s.settle(now);
        if let Some(tokens) = tokens {
            s.tokens = tokens;
        }
        if let Some(installed) = app_installed.filter(|i| *i != s.app_installed) {
            s.app_installed = installed;
            let event = if installed {
                PhoneEvent::AppInstalled
            } else {
                PhoneEvent::AppRemoved
            };
            s.timeline.push(now, event);
        }
        if let Some(online) = online.filter(|o| *o != s.online) {
            s.online = online;
            if online {
                s.timeline.push(now, PhoneEvent::Online);
                for stored in std::mem::take(&mut s.stored) {
                    s.deliver(&self.name, stored.facts, now, true, settings);
                }
            } else {
                s.timeline.push(now, PhoneEvent::Offline);
            }
        }
    }

    /// Removes tokens now owned by another phone.
    pub(crate) fn drop_tokens(&self, gone: &[String]) {
        self.lock().tokens.retain(|t| !gone.contains(t));
    }

    /// The user answers: the given call, or the one ringing longest.
    pub(crate) fn answer(&self, call: Option<&str>, now: u64) -> Result<Call, PhoneError> {
        let mut s = self.lock();
        s.settle(now);
        let c = s.ringing_call(call).ok_or_else(|| self.not_ringing(call))?;
        c.state = CallState::Answered;
        c.ring_deadline = None;
        c.answered_at = Some(now);
        let answered = c.clone();
        s.timeline.push(
            now,
            PhoneEvent::Answered {
                call: answered.call.clone(),
            },
        );
        Ok(answered)
    }

    /// The user declines: the given call, or the one ringing longest.
    pub(crate) fn decline(&self, call: Option<&str>, now: u64) -> Result<Call, PhoneError> {
        let mut s = self.lock();
        s.settle(now);
        let c = s.ringing_call(call).ok_or_else(|| self.not_ringing(call))?;
        c.finish(CallEnd::Declined, now, None);
        let declined = c.clone();
        s.timeline.push(
            now,
            PhoneEvent::Ended {
                call: declined.call.clone(),
                why: CallEnd::Declined,
                push_id: None,
            },
        );
        Ok(declined)
    }

    fn not_ringing(&self, call: Option<&str>) -> PhoneError {
        PhoneError::NotRinging {
            phone: self.name.to_string(),
            call: call.map(str::to_owned),
        }
    }

    /// Forgets the violations and lets VoIP pushes through again (the app reinstalled, say).
    /// The calls it rang are still remembered.
    pub(crate) fn reset(&self, now: u64) {
        let mut s = self.lock();
        s.settle(now);
        s.violations = 0;
        s.voip_suspended = false;
        s.timeline.push(now, PhoneEvent::Reset);
    }

    pub(crate) fn view(&self, now: u64) -> PhoneView {
        let mut s = self.lock();
        s.settle(now);
        PhoneView {
            name: self.name.to_string(),
            tokens: s.tokens.clone(),
            online: s.online,
            app_installed: s.app_installed,
            violations: s.violations,
            voip_suspended: s.voip_suspended,
            ringing: s
                .calls
                .iter()
                .filter(|c| c.state == CallState::Ringing)
                .map(|c| c.call.clone())
                .collect(),
            calls: s.calls.iter().cloned().collect(),
            stored: s.stored.iter().map(|st| st.facts.push_id).collect(),
            pushes: s.fates.iter().cloned().collect(),
            timeline: s.timeline.entries(),
            timeline_dropped: s.timeline.dropped(),
        }
    }

    /// The next time something happens by itself (a ring timeout, a stored push expiring).
    pub(crate) fn next_deadline(&self) -> Option<u64> {
        let s = self.lock();
        let rings = s.calls.iter().filter_map(|c| c.ring_deadline);
        let expiries = s.stored.iter().filter_map(|st| st.until_ms.map(|u| u + 1));
        rings.chain(expiries).min()
    }
}

impl State {
    /// Applies what happened by itself up to `now`, in time order: calls that rang out and
    /// stored pushes that expired.
    fn settle(&mut self, now: u64) {
        let mut due: Vec<(u64, usize, bool)> = Vec::new();
        for (i, c) in self.calls.iter().enumerate() {
            if let Some(deadline) = c.ring_deadline.filter(|d| *d <= now) {
                due.push((deadline, i, true));
            }
        }
        for (i, st) in self.stored.iter().enumerate() {
            if let Some(until) = st.until_ms.filter(|u| *u < now) {
                due.push((until, i, false));
            }
        }
        if due.is_empty() {
            return;
        }
        due.sort_unstable();
        let mut expired = Vec::new();
        for (at, i, is_call) in due {
            if is_call {
                let c = &mut self.calls[i];
                c.finish(CallEnd::RingTimeout, at, None);
                let call = c.call.clone();
                self.timeline.push(
                    at,
                    PhoneEvent::Ended {
                        call,
                        why: CallEnd::RingTimeout,
                        push_id: None,
                    },
                );
            } else {
                let facts = self.stored[i].facts.clone();
                self.fate(
                    &facts,
                    DeliveryStatus::Discarded,
                    Some(DeliveryReason::Expired),
                    at,
                );
                expired.push(i);
            }
        }
        expired.sort_unstable_by(|a, b| b.cmp(a));
        for i in expired {
            self.stored.remove(i);
        }
    }

    /// The phone is offline: APNs stores the push (the newest per app only) unless its
    /// expiration says not to.
    fn store(&mut self, phone: &str, facts: Facts, expiration: Expiration, now: u64) -> Delivery {
        let until_ms = match expiration {
            Expiration::Absent => None,
            Expiration::Now => return self.discard(phone, &facts, DeliveryReason::Expired, now),
            Expiration::At(secs) => {
                let until = secs.saturating_mul(1000);
                if until < now {
                    return self.discard(phone, &facts, DeliveryReason::Expired, now);
                }
                Some(until)
            }
        };
        if let Some(i) = self
            .stored
            .iter()
            .position(|s| s.facts.bundle == facts.bundle)
        {
            let older = self.stored.remove(i);
            self.fate(
                &older.facts,
                DeliveryStatus::Discarded,
                Some(DeliveryReason::Superseded),
                now,
            );
        }
        let reason = Some(DeliveryReason::DeviceOffline);
        self.fate(&facts, DeliveryStatus::Stored, reason, now);
        self.stored.push(Stored { facts, until_ms });
        Delivery::new(phone, DeliveryStatus::Stored, reason)
    }

    fn discard(
        &mut self,
        phone: &str,
        facts: &Facts,
        reason: DeliveryReason,
        now: u64,
    ) -> Delivery {
        self.fate(facts, DeliveryStatus::Discarded, Some(reason), now);
        Delivery::new(phone, DeliveryStatus::Discarded, Some(reason))
    }

    /// The phone is online: the app gets the push, and PushKit's rules apply to a VoIP one.
    fn deliver(
        &mut self,
        phone: &str,
        facts: Facts,
        now: u64,
        from_storage: bool,
        settings: &PhoneSettings,
    ) -> Delivery {
        if !self.app_installed {
            return self.discard(phone, &facts, DeliveryReason::TokenUnregistered, now);
        }
        if facts.is_voip() && self.voip_suspended {
            return self.discard(phone, &facts, DeliveryReason::VoipSuspended, now);
        }
        let reason = from_storage.then_some(DeliveryReason::FromStorage);
        self.fate(&facts, DeliveryStatus::Delivered, reason, now);
        let mut delivery = Delivery::new(phone, DeliveryStatus::Delivered, reason);
        delivery.call = facts.call_id.clone();
        if facts.is_voip() {
            match policy::judge(facts.call_id.as_deref(), |id| self.rang.contains(id)) {
                Ok(call) => {
                    let deadline = settings.ring_timeout.map(|t| now + t.as_millis() as u64);
                    self.ring(call.to_owned(), facts.push_id, now, deadline);
                    delivery.effect = Some(Effect::Ringing);
                }
                Err(violation) => {
                    self.violate(violation, facts.push_id, now, settings.violation_limit);
                    delivery.effect = Some(Effect::PolicyViolation);
                    delivery.violation = Some(violation);
                }
            }
        } else if let Some(id) = &facts.call_id {
            if self.stop(id, facts.push_id, now) {
                delivery.effect = Some(Effect::EndedCall);
            }
        }
        delivery
    }

    fn ring(&mut self, call: String, push_id: u64, now: u64, deadline: Option<u64>) {
        self.rang.insert(&call);
        if self.calls.len() == MAX_CALLS {
            let oldest_ended = self.calls.iter().position(|c| !c.is_active());
            self.calls.remove(oldest_ended.unwrap_or(0));
        }
        self.calls
            .push_back(Call::ringing(&call, push_id, now, deadline));
        self.timeline
            .push(now, PhoneEvent::Ringing { call, push_id });
    }

    /// A non-VoIP push with the id of a call in progress ends it. Returns whether one ended.
    fn stop(&mut self, call: &str, push_id: u64, now: u64) -> bool {
        let Some(c) = self
            .calls
            .iter_mut()
            .find(|c| c.is_active() && c.call == call)
        else {
            return false;
        };
        c.finish(CallEnd::StoppedByPush, now, Some(push_id));
        self.timeline.push(
            now,
            PhoneEvent::Ended {
                call: call.to_owned(),
                why: CallEnd::StoppedByPush,
                push_id: Some(push_id),
            },
        );
        true
    }

    /// iOS terminates the app: its calls end with it; past the limit VoIP delivery stops.
    fn violate(&mut self, why: Violation, push_id: u64, now: u64, limit: u32) {
        self.violations += 1;
        self.timeline.push(
            now,
            PhoneEvent::Violation {
                push_id,
                why,
                count: self.violations,
            },
        );
        let mut ended = Vec::new();
        for c in self.calls.iter_mut().filter(|c| c.is_active()) {
            c.finish(CallEnd::AppTerminated, now, Some(push_id));
            ended.push(c.call.clone());
        }
        for call in ended {
            self.timeline.push(
                now,
                PhoneEvent::Ended {
                    call,
                    why: CallEnd::AppTerminated,
                    push_id: Some(push_id),
                },
            );
        }
        if !self.voip_suspended && policy::suspends(self.violations, limit) {
            self.voip_suspended = true;
            self.timeline.push(
                now,
                PhoneEvent::VoipSuspended {
                    violations: self.violations,
                },
            );
        }
    }

    fn ringing_call(&mut self, call: Option<&str>) -> Option<&mut Call> {
        self.calls
            .iter_mut()
            .find(|c| c.state == CallState::Ringing && call.is_none_or(|id| c.call == id))
    }

    /// Records a push's current fate (its timeline entry, and its line in `pushes`).
    fn fate(
        &mut self,
        facts: &Facts,
        status: DeliveryStatus,
        reason: Option<DeliveryReason>,
        at: u64,
    ) {
        self.timeline.push(
            at,
            PhoneEvent::Push {
                push_id: facts.push_id,
                push_type: facts.push_type,
                status,
                reason,
            },
        );
        let fate = PushFate {
            push_id: facts.push_id,
            push_type: facts.push_type,
            status,
            reason,
            at,
        };
        // A push newer than the newest listed is a fresh arrival: no need to search.
        let newest = self.fates.back().map_or(0, |f| f.push_id);
        let listed = (facts.push_id <= newest)
            .then(|| {
                self.fates
                    .iter_mut()
                    .rev()
                    .find(|f| f.push_id == facts.push_id)
            })
            .flatten();
        match listed {
            Some(existing) => *existing = fate,
            None => {
                if self.fates.len() == MAX_FATES {
                    self.fates.pop_front();
                }
                self.fates.push_back(fate);
            }
        }
    }
}
