//! [`Phone`]: a virtual phone of a running [`MockApns`](crate::MockApns), driven from a Rust
//! test: `apns.phone("bob-iphone").tokens([voip, apns]).online(false)`, then `ringing()`,
//! `answer()`, the timeline.

use std::sync::Arc;
use std::time::Duration;

use crate::phones::{Call, PhoneCondition, PhoneError, PhoneSpec, PhoneView, TimelineEntry};
use crate::shared::Shared;

/// One virtual phone. Each method acts at once on the mock's state; the setters consume and
/// return the handle so they chain.
#[derive(Debug, Clone)]
pub struct Phone {
    shared: Arc<Shared>,
    name: String,
}

/// A phone wait ran out; holds the phone as it was then.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{} was not {condition} within {timeout:?}: {}", phone.name, describe(phone))]
pub struct PhoneWaitTimeout {
    /// What was waited for.
    pub condition: PhoneCondition,
    /// How long the wait lasted.
    pub timeout: Duration,
    /// The phone at the deadline.
    pub phone: Box<PhoneView>,
}

fn describe(phone: &PhoneView) -> String {
    let ringing = if phone.ringing.is_empty() {
        "nothing rings".to_owned()
    } else {
        format!("ringing for {}", phone.ringing.join(", "))
    };
    format!(
        "{ringing}; {} calls, {} pushes, {} violations{}",
        phone.calls.len(),
        phone.pushes.len(),
        phone.violations,
        if phone.voip_suspended {
            ", VoIP suspended"
        } else {
            ""
        }
    )
}

impl Phone {
    /// The phone named `name`, created (online, app installed, no tokens) if it is new.
    ///
    /// # Panics
    /// If the name is not 1 to 64 letters, digits, `-` or `_`.
    pub(crate) fn open(shared: Arc<Shared>, name: &str) -> Self {
        let phone = Self {
            shared,
            name: name.to_owned(),
        };
        phone.set(PhoneSpec::default());
        phone
    }

    #[track_caller]
    fn set(&self, spec: PhoneSpec) {
        if let Err(e) = self
            .shared
            .phones
            .put(&self.name, spec, true, &self.shared.clock)
        {
            panic!("mock-apns: {e}");
        }
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The device tokens it owns (its app token, its VoIP token), replacing earlier ones; a
    /// token another phone owned moves here.
    ///
    /// # Panics
    /// If a token is not hex.
    #[track_caller]
    pub fn tokens<I, S>(self, tokens: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.set(PhoneSpec::default().tokens(tokens));
        self
    }

    /// Online, or offline (airplane mode). Coming back online delivers what APNs stored.
    pub fn online(self, online: bool) -> Self {
        self.set(PhoneSpec::default().online(online));
        self
    }

    /// The app installed, or removed (every push is then discarded: token unregistered).
    pub fn app_installed(self, installed: bool) -> Self {
        self.set(PhoneSpec::default().app_installed(installed));
        self
    }

    /// The phone now: state, calls, the fate of each push, the timeline.
    pub fn view(&self) -> PhoneView {
        match self.shared.phones.view(&self.name, &self.shared.clock) {
            Ok(view) => view,
            // Removed through the admin API meanwhile: it exists again, empty.
            Err(_) => Self::open(self.shared.clone(), &self.name).view(),
        }
    }

    /// The ids of the calls ringing now, oldest first.
    pub fn ringing(&self) -> Vec<String> {
        self.view().ringing
    }

    /// Whether any call rings.
    pub fn is_ringing(&self) -> bool {
        !self.ringing().is_empty()
    }

    /// Everything that happened on the phone, in order.
    pub fn timeline(&self) -> Vec<TimelineEntry> {
        self.view().timeline
    }

    /// The user answers the call ringing longest.
    pub fn answer(&self) -> Result<Call, PhoneError> {
        self.shared
            .phones
            .answer(&self.name, None, &self.shared.clock)
    }

    /// The user answers this call.
    pub fn answer_call(&self, call: &str) -> Result<Call, PhoneError> {
        self.shared
            .phones
            .answer(&self.name, Some(call), &self.shared.clock)
    }

    /// The user declines the call ringing longest.
    pub fn decline(&self) -> Result<Call, PhoneError> {
        self.shared
            .phones
            .decline(&self.name, None, &self.shared.clock)
    }

    /// The user declines this call.
    pub fn decline_call(&self, call: &str) -> Result<Call, PhoneError> {
        self.shared
            .phones
            .decline(&self.name, Some(call), &self.shared.clock)
    }

    /// Forgets PushKit violations: VoIP pushes are delivered again (as after reinstalling).
    pub fn reset(&self) -> PhoneView {
        match self.shared.phones.reset(&self.name, &self.shared.clock) {
            Ok(view) => view,
            Err(_) => self.view(),
        }
    }

    /// Waits until a call rings (this one, when given); the timeout only bounds failure.
    pub async fn wait_until_ringing(
        &self,
        call: Option<&str>,
        timeout: Duration,
    ) -> Result<PhoneView, PhoneWaitTimeout> {
        self.wait(PhoneCondition::Ringing(call.map(str::to_owned)), timeout)
            .await
    }

    /// Waits until nothing rings (answered, declined, stopped, timed out on the mock's clock).
    pub async fn wait_until_silent(
        &self,
        timeout: Duration,
    ) -> Result<PhoneView, PhoneWaitTimeout> {
        self.wait(PhoneCondition::NotRinging, timeout).await
    }

    async fn wait(
        &self,
        condition: PhoneCondition,
        timeout: Duration,
    ) -> Result<PhoneView, PhoneWaitTimeout> {
        let waited = self
            .shared
            .phones
            .wait(&self.name, &condition, timeout, &self.shared.clock)
            .await;
        match waited {
            Ok(Ok(view)) => Ok(view),
            Ok(Err(view)) => Err(PhoneWaitTimeout {
                condition,
                timeout,
                phone: Box::new(view),
            }),
            Err(_) => Err(PhoneWaitTimeout {
                condition,
                timeout,
                phone: Box::new(self.view()),
            }),
        }
    }
}
