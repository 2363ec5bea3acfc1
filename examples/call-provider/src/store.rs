//! In-memory state: users' devices with their two tokens, and calls.
//!
//! PushKit gives a device a VoIP token distinct from its regular APNs token, so each device
//! keeps both. A token APNs answers 410 is removed here (pruned) so it is never pushed again,
//! until the app registers it anew. One `std` mutex; it is never held across an await.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use uuid::Uuid;

/// Which of a device's tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenKind {
    /// The regular token (`UIApplication` registration): alert and background pushes.
    Apns,
    /// The PushKit VoIP token: VoIP pushes only.
    Voip,
}

/// A device's registered tokens.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Device {
    apns_token: Option<String>,
    voip_token: Option<String>,
}

impl Device {
    fn token(&self, kind: TokenKind) -> Option<&String> {
        match kind {
            TokenKind::Apns => self.apns_token.as_ref(),
            TokenKind::Voip => self.voip_token.as_ref(),
        }
    }

    fn token_mut(&mut self, kind: TokenKind) -> &mut Option<String> {
        match kind {
            TokenKind::Apns => &mut self.apns_token,
            TokenKind::Voip => &mut self.voip_token,
        }
    }
}

/// Where a call stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CallState {
    Ringing,
    Cancelled,
    Answered,
}

/// A call from one user to another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Call {
    pub(crate) from: String,
    pub(crate) to: String,
    pub(crate) state: CallState,
}

/// Why a call could not change state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CallError {
    Unknown,
    /// It was already cancelled or answered.
    NotRinging(CallState),
}

/// One push target: a device by name and one of its tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    pub(crate) device: String,
    pub(crate) token: String,
}

#[derive(Debug, Default)]
struct Inner {
    /// user → device name → tokens (ordered, so answers list devices in a stable order).
    users: BTreeMap<String, BTreeMap<String, Device>>,
    calls: HashMap<Uuid, Call>,
}

/// The provider's state.
#[derive(Debug, Default)]
pub(crate) struct Store {
    inner: Mutex<Inner>,
}

impl Store {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic elsewhere cannot leave `Inner` half-updated (every update is one statement),
        // so a poisoned lock is still good to use.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Registers (or re-registers) a device; a token left out keeps no old value.
    pub(crate) fn register(
        &self,
        user: &str,
        device: &str,
        apns_token: Option<String>,
        voip_token: Option<String>,
    ) {
        self.lock()
            .users
            .entry(user.to_owned())
            .or_default()
            .insert(
                device.to_owned(),
                Device {
                    apns_token,
                    voip_token,
                },
            );
    }

    /// Whether the user has registered any device.
    pub(crate) fn knows(&self, user: &str) -> bool {
        self.lock().users.contains_key(user)
    }

    /// Whether `user` has a device called `device`.
    pub(crate) fn has_device(&self, user: &str, device: &str) -> bool {
        self.lock()
            .users
            .get(user)
            .is_some_and(|d| d.contains_key(device))
    }

    /// The user's devices that have a token of `kind`, except `except`, by device name.
    pub(crate) fn targets(&self, user: &str, kind: TokenKind, except: Option<&str>) -> Vec<Target> {
        let inner = self.lock();
        let Some(devices) = inner.users.get(user) else {
            return Vec::new();
        };
        devices
            .iter()
            .filter(|(name, _)| Some(name.as_str()) != except)
            .filter_map(|(name, d)| {
                d.token(kind).map(|token| Target {
                    device: name.clone(),
                    token: token.clone(),
                })
            })
            .collect()
    }

    /// Forgets `token` (of `kind`) wherever it is registered; true if it was.
    pub(crate) fn prune(&self, kind: TokenKind, token: &str) -> bool {
        let mut inner = self.lock();
        let mut pruned = false;
        for device in inner.users.values_mut().flat_map(BTreeMap::values_mut) {
            let slot = device.token_mut(kind);
            if slot.as_deref() == Some(token) {
                *slot = None;
                pruned = true;
            }
        }
        pruned
    }

    /// Records a new ringing call.
    pub(crate) fn start_call(&self, from: &str, to: &str) -> Uuid {
        let id = Uuid::new_v4();
        self.lock().calls.insert(
            id,
            Call {
                from: from.to_owned(),
                to: to.to_owned(),
                state: CallState::Ringing,
            },
        );
        id
    }

    /// The call, if known.
    pub(crate) fn call(&self, id: Uuid) -> Option<Call> {
        self.lock().calls.get(&id).cloned()
    }

    /// Moves a ringing call to `state`; a call rings once and ends once.
    pub(crate) fn end_call(&self, id: Uuid, state: CallState) -> Result<Call, CallError> {
        let mut inner = self.lock();
        let call = inner.calls.get_mut(&id).ok_or(CallError::Unknown)?;
        if call.state != CallState::Ringing {
            return Err(CallError::NotRinging(call.state));
        }
        call.state = state;
        Ok(call.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bob() -> Store {
        let store = Store::default();
        store.register("bob", "ipad", Some("a1".into()), None);
        store.register("bob", "iphone", Some("a2".into()), Some("v2".into()));
        store
    }

    #[test]
    fn targets_are_the_devices_with_that_kind_of_token() {
        let store = bob();
        let voip: Vec<_> = store
            .targets("bob", TokenKind::Voip, None)
            .into_iter()
            .map(|t| t.token)
            .collect();
        assert_eq!(voip, ["v2"]);
        let others: Vec<_> = store
            .targets("bob", TokenKind::Apns, Some("iphone"))
            .into_iter()
            .map(|t| t.device)
            .collect();
        assert_eq!(others, ["ipad"]);
        assert!(store.targets("carol", TokenKind::Apns, None).is_empty());
    }

    #[test]
    fn a_pruned_token_is_no_longer_a_target_until_registered_again() {
        let store = bob();
        assert!(store.prune(TokenKind::Voip, "v2"));
        assert!(store.targets("bob", TokenKind::Voip, None).is_empty());
        assert_eq!(store.targets("bob", TokenKind::Apns, None).len(), 2);
        assert!(!store.prune(TokenKind::Voip, "v2"), "already gone");

        store.register("bob", "iphone", Some("a2".into()), Some("v2".into()));
        assert_eq!(store.targets("bob", TokenKind::Voip, None).len(), 1);
    }

    #[test]
    fn a_call_ends_once() {
        let store = bob();
        let id = store.start_call("alice", "bob");
        assert_eq!(
            store.end_call(id, CallState::Answered).unwrap().state,
            CallState::Answered
        );
        assert_eq!(
            store.end_call(id, CallState::Cancelled),
            Err(CallError::NotRinging(CallState::Answered))
        );
        assert_eq!(
            store.end_call(Uuid::new_v4(), CallState::Cancelled),
            Err(CallError::Unknown)
        );
    }
}
