//! Virtual phones: what a provider's pushes did on the device side (`docs/phones.md`).
//!
//! APNs's answer says only that Apple took the push. A phone (named, `bob-iphone`) owns the
//! tokens registered for it and has a state the test sets (online, app installed); each push
//! APNs accepted for one of its tokens gets a [`Delivery`] beside its record: delivered,
//! stored while offline, or discarded, named like Apple's Push Notifications Console. A
//! delivered VoIP push starts an incoming [`Call`] that rings until answered, declined, stopped
//! by a later non-VoIP push with the same call id, or timed out; a VoIP push that cannot be a
//! new call breaks PushKit's rule ([`policy`]).
//!
//! The hot path stays cheap: the registry is read through a lock-free snapshot (`ArcSwap`),
//! a push to a token no phone owns stops there, and each phone has its own short lock.
//!
//! - `incoming.rs`: a push as the phone side reads it (type, app, expiration, call id).
//! - `phone.rs`: one phone's state and what each event does to it.
//! - `calls.rs`, `delivery.rs`, `policy.rs`, `timeline.rs`: the words of its record.

mod calls;
mod delivery;
pub(crate) mod incoming;
mod phone;
pub(crate) mod policy;
mod timeline;

pub use calls::{Call, CallEnd, CallState, DEFAULT_CALL_ID_POINTERS, DEFAULT_RING_TIMEOUT};
pub use delivery::{Delivery, DeliveryReason, DeliveryStatus, Effect};
pub use phone::{PhoneView, PushFate};
pub use policy::{Violation, DEFAULT_VIOLATION_LIMIT};
pub use timeline::{PhoneEvent, TimelineEntry};

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arc_swap::ArcSwap;
use serde::{Deserialize, Serialize};

use self::incoming::Incoming;
use self::phone::{Arrival, Phone};
use crate::record::clock::Clock;
use crate::record::devices::is_hex_token;
use crate::record::wake::Wake;

/// How phones behave; the same for every phone of one mock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneSettings {
    /// Where a payload's call id is looked for, in order (JSON pointers).
    pub call_id_pointers: Vec<String>,
    /// How long a call rings unanswered (mock clock); `None`: until something ends it.
    pub ring_timeout: Option<Duration>,
    /// PushKit violations that make iOS stop delivering VoIP pushes; 0: never.
    pub violation_limit: u32,
}

impl Default for PhoneSettings {
    fn default() -> Self {
        Self {
            call_id_pointers: DEFAULT_CALL_ID_POINTERS
                .iter()
                .map(|p| (*p).to_owned())
                .collect(),
            ring_timeout: Some(DEFAULT_RING_TIMEOUT),
            violation_limit: DEFAULT_VIOLATION_LIMIT,
        }
    }
}

/// What a test sets on a phone (`PUT`/`PATCH /api/v1/phones/{name}`); absent fields are left
/// as they are (a new phone: no tokens, online, app installed).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhoneSpec {
    /// The device tokens it owns (hex; its app token and its VoIP token). Replaces the list;
    /// a token another phone owned moves to this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<Vec<String>>,
    /// Reachable, or offline (airplane mode). Coming online delivers what APNs stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub online: Option<bool>,
    /// Whether the app is installed; without it every push is discarded (token unregistered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_installed: Option<bool>,
}

impl PhoneSpec {
    /// These tokens.
    pub fn tokens<I, S>(mut self, tokens: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.tokens = Some(tokens.into_iter().map(Into::into).collect());
        self
    }

    /// Online or offline.
    pub fn online(mut self, online: bool) -> Self {
        self.online = Some(online);
        self
    }

    /// App installed or removed.
    pub fn app_installed(mut self, installed: bool) -> Self {
        self.app_installed = Some(installed);
        self
    }
}

/// What a phone wait waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PhoneCondition {
    /// Some call rings (this one, when given).
    Ringing(Option<String>),
    /// No call rings.
    NotRinging,
    /// The latest push that reached the phone has this fate (and reason, when given).
    LastPush(DeliveryStatus, Option<DeliveryReason>),
}

impl PhoneCondition {
    /// Whether the phone is in this condition.
    pub fn holds(&self, phone: &PhoneView) -> bool {
        match self {
            PhoneCondition::Ringing(call) => phone.is_ringing(call.as_deref()),
            PhoneCondition::NotRinging => !phone.is_ringing(None),
            PhoneCondition::LastPush(status, reason) => phone
                .last_push()
                .is_some_and(|f| f.status == *status && reason.is_none_or(|r| f.reason == Some(r))),
        }
    }
}

impl std::fmt::Display for PhoneCondition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PhoneCondition::Ringing(None) => f.write_str("ringing"),
            PhoneCondition::Ringing(Some(call)) => write!(f, "ringing for call {call}"),
            PhoneCondition::NotRinging => f.write_str("not ringing"),
            PhoneCondition::LastPush(status, None) => {
                write!(f, "showing its latest push {status}")
            }
            PhoneCondition::LastPush(status, Some(reason)) => {
                write!(f, "showing its latest push {status} ({})", reason.as_str())
            }
        }
    }
}

/// A phone request that cannot be done.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PhoneError {
    /// No phone has that name.
    #[error("no phone named {0:?}")]
    NoSuchPhone(String),
    /// Nothing (or not that call) rings on the phone.
    #[error("{phone} is not ringing{}", call.as_deref().map(|c| format!(" for call {c}")).unwrap_or_default())]
    NotRinging {
        /// The phone.
        phone: String,
        /// The call asked for.
        call: Option<String>,
    },
    /// A phone name must be usable in a URL path.
    #[error("{0:?} is not a phone name (1 to 64 letters, digits, '-' or '_')")]
    BadName(String),
    /// A token must be hex.
    #[error("{0:?} is not a hex device token")]
    BadToken(String),
}

/// The registry: phones by name, and which phone owns each token.
#[derive(Debug)]
pub(crate) struct Phones {
    registry: ArcSwap<Registry>,
    /// Serializes writers (they also touch the phones' own token lists); readers never wait.
    writing: Mutex<()>,
    pub(crate) settings: PhoneSettings,
    /// Rung when a push reached a phone or a phone was changed.
    changed: Wake,
}

#[derive(Debug, Default, Clone)]
struct Registry {
    by_name: BTreeMap<Box<str>, Arc<Phone>>,
    /// Lower-case token → its phone.
    by_token: HashMap<Box<str>, Arc<Phone>>,
}

impl Phones {
    pub(crate) fn new(settings: PhoneSettings) -> Self {
        Self {
            registry: ArcSwap::default(),
            writing: Mutex::new(()),
            settings,
            changed: Wake::default(),
        }
    }

    fn phone(&self, name: &str) -> Result<Arc<Phone>, PhoneError> {
        self.registry
            .load()
            .by_name
            .get(name)
            .cloned()
            .ok_or_else(|| PhoneError::NoSuchPhone(name.to_owned()))
    }

    /// What the phone side makes of one push (`accepted`: APNs answered 200). A token no phone
    /// owns costs one atomic load.
    pub(crate) fn receive(
        &self,
        token: Option<&str>,
        push: &Incoming<'_>,
        accepted: bool,
        clock: &Clock,
    ) -> Arrival {
        let phone = {
            let registry = self.registry.load();
            if registry.by_token.is_empty() {
                return Arrival::default();
            }
            let lower = token.map(str::to_ascii_lowercase);
            match lower.and_then(|t| registry.by_token.get(t.as_str()).cloned()) {
                Some(phone) => phone,
                None => return Arrival::default(),
            }
        };
        // The snapshot's guard is gone before the phone's lock is taken.
        phone.receive(push, accepted, clock.now_ms(), &self.settings)
    }

    /// Creates the phone or changes what `spec` sets; `create: false` refuses a new name.
    /// Returns the phone and whether it was created (decided under the write lock: of two
    /// racing creations, one is told so).
    pub(crate) fn put(
        &self,
        name: &str,
        spec: PhoneSpec,
        create: bool,
        clock: &Clock,
    ) -> Result<(Arc<Phone>, bool), PhoneError> {
        if name.is_empty()
            || name.len() > 64
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(PhoneError::BadName(name.to_owned()));
        }
        let tokens = match spec.tokens {
            None => None,
            Some(tokens) => Some(
                tokens
                    .into_iter()
                    .map(|t| {
                        is_hex_token(&t)
                            .then(|| t.to_ascii_lowercase())
                            .ok_or(PhoneError::BadToken(t))
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
        };
        let _writing = self.writing.lock().unwrap_or_else(|p| p.into_inner());
        let mut registry = Registry::clone(&self.registry.load());
        let (phone, created) = match registry.by_name.get(name) {
            Some(phone) => (phone.clone(), false),
            None if create => {
                let phone = Arc::new(Phone::new(name));
                registry.by_name.insert(name.into(), phone.clone());
                (phone, true)
            }
            None => return Err(PhoneError::NoSuchPhone(name.to_owned())),
        };
        if let Some(tokens) = &tokens {
            registry
                .by_token
                .retain(|_, owner| !Arc::ptr_eq(owner, &phone));
            for token in tokens {
                if let Some(other) = registry
                    .by_token
                    .insert(token.as_str().into(), phone.clone())
                {
                    if !Arc::ptr_eq(&other, &phone) {
                        other.drop_tokens(std::slice::from_ref(token));
                    }
                }
            }
        }
        let now = clock.now_ms();
        phone.update(tokens, spec.online, spec.app_installed, now, &self.settings);
        self.registry.store(Arc::new(registry));
        drop(_writing);
        self.changed();
        Ok((phone, created))
    }

    /// Forgets a phone; its tokens are no one's any more.
    pub(crate) fn remove(&self, name: &str) -> Result<(), PhoneError> {
        let _writing = self.writing.lock().unwrap_or_else(|p| p.into_inner());
        let mut registry = Registry::clone(&self.registry.load());
        let phone = registry
            .by_name
            .remove(name)
            .ok_or_else(|| PhoneError::NoSuchPhone(name.to_owned()))?;
        registry
            .by_token
            .retain(|_, owner| !Arc::ptr_eq(owner, &phone));
        self.registry.store(Arc::new(registry));
        Ok(())
    }

    pub(crate) fn view(&self, name: &str, clock: &Clock) -> Result<PhoneView, PhoneError> {
        Ok(self.phone(name)?.view(clock.now_ms()))
    }

    /// Every phone, by name.
    pub(crate) fn list(&self, clock: &Clock) -> Vec<PhoneView> {
        let now = clock.now_ms();
        self.registry
            .load()
            .by_name
            .values()
            .map(|p| p.view(now))
            .collect()
    }

    pub(crate) fn answer(
        &self,
        name: &str,
        call: Option<&str>,
        clock: &Clock,
    ) -> Result<Call, PhoneError> {
        let answered = self.phone(name)?.answer(call, clock.now_ms());
        self.changed();
        answered
    }

    pub(crate) fn decline(
        &self,
        name: &str,
        call: Option<&str>,
        clock: &Clock,
    ) -> Result<Call, PhoneError> {
        let declined = self.phone(name)?.decline(call, clock.now_ms());
        self.changed();
        declined
    }

    pub(crate) fn reset(&self, name: &str, clock: &Clock) -> Result<PhoneView, PhoneError> {
        let phone = self.phone(name)?;
        let now = clock.now_ms();
        phone.reset(now);
        self.changed();
        Ok(phone.view(now))
    }

    /// Wakes whoever waits on a phone (after a push reached one, or a test changed one).
    pub(crate) fn changed(&self) {
        self.changed.ring();
    }

    /// Waits until the phone is in `condition`, or `timeout` passes: `Ok` with the phone then,
    /// `Err` with the phone as it is at the deadline. Ring timeouts on the mock's clock wake it
    /// too.
    pub(crate) async fn wait(
        &self,
        name: &str,
        condition: &PhoneCondition,
        timeout: Duration,
        clock: &Clock,
    ) -> Result<Result<PhoneView, PhoneView>, PhoneError> {
        let deadline = tokio::time::Instant::now() + timeout;
        let waiter = self.changed.waiter();
        loop {
            let changed = waiter.notified();
            tokio::pin!(changed);
            // Register before looking, so a change after the look still wakes us.
            changed.as_mut().enable();
            let phone = self.phone(name)?;
            let view = phone.view(clock.now_ms());
            if condition.holds(&view) {
                return Ok(Ok(view));
            }
            let next = phone.next_deadline();
            tokio::select! {
                () = changed => {}
                () = async {
                    match next {
                        Some(at) => clock.sleep_until_ms(at).await,
                        None => std::future::pending().await,
                    }
                } => {}
                () = tokio::time::sleep_until(deadline) => {
                    return Ok(Err(self.phone(name)?.view(clock.now_ms())));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
