//! What the phone steps share: the check of a phone's name (and of a call's), taking a phone
//! offline or online, and an expectation on a phone that waits on the mock and closes the
//! group of pushes like the push expectations.

use std::time::Duration;

use mock_apns::phones::{PhoneCondition, PhoneEvent, PhoneSpec, PhoneView, PushFate};
use serde_json::Value;

use crate::check::{Invalid, Scope};
use crate::player::{Player, Stop};

/// The longest wait of a phone expectation when the step does not say.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(10);

/// The phone is a declared device.
pub(crate) fn check(scope: &Scope, phone: &str) -> Result<(), Invalid> {
    scope.device(phone).map_err(|m| Invalid::new(".phone", m))
}

/// The phone is a declared device, and the call's templates (when one is named) are defined.
pub(crate) fn check_call(scope: &Scope, phone: &str, call: Option<&str>) -> Result<(), Invalid> {
    check(scope, phone)?;
    if let Some(call) = call {
        scope.template(call).map_err(|m| Invalid::new(".call", m))?;
    }
    Ok(())
}

/// Takes the mock's phone offline (APNs stores or discards its pushes) or back online (it
/// gets what was stored).
pub(crate) async fn set_online(
    player: &mut Player<'_>,
    phone: &str,
    online: bool,
) -> Result<(), Stop> {
    let spec = PhoneSpec::default().online(online);
    Ok(player.mock.update_phone(phone, &spec).await?)
}

/// Waits on the mock until `phone` is in `condition`, then records the pushes since the
/// previous expectation and what `show` picks of the phone. A timeout fails the step with the
/// phone's timeline.
pub(crate) async fn expect(
    player: &mut Player<'_>,
    phone: &str,
    condition: PhoneCondition,
    timeout: Duration,
    show: impl Fn(&PhoneView) -> Value,
) -> Result<(), Stop> {
    let waited = player.mock.wait_phone(phone, &condition, timeout).await?;
    let records = player.mock.records().await?;
    let new = player.close(&records);
    let view = match &waited {
        Ok(view) | Err(view) => view,
    };
    player.current().phone = Some(show(view));
    if waited.is_ok() {
        return Ok(());
    }
    let names = player.names();
    let timeline = names.timeline(&view.timeline);
    let lines: String = timeline.iter().map(|l| format!("\n    {l}")).collect();
    Err(Stop::Failed {
        message: format!(
            "{phone} was not {} within {timeout:?}; its timeline:{}",
            names.text(&condition.to_string()),
            if lines.is_empty() {
                " empty".to_owned()
            } else {
                lines
            }
        ),
        pushes: player.summaries(&new),
    })
}

/// A push's fate in one line: `voip push discarded (expired)`, as the phone's timeline says
/// it (the mock's own wording, so the two lines of a transcript never differ).
pub(crate) fn fate(fate: Option<&PushFate>) -> Value {
    let Some(f) = fate else {
        return Value::String("no push yet".into());
    };
    let event = PhoneEvent::Push {
        push_id: f.push_id,
        push_type: f.push_type,
        status: f.status,
        reason: f.reason,
    };
    Value::String(event.describe())
}
