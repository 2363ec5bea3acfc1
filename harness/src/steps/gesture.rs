//! What `answer` and `decline` share: the user's hand on a ringing phone.

use serde_json::json;

use crate::player::{Player, Stop};

/// Which gesture.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Gesture {
    Answer,
    Decline,
}

pub(crate) fn describe(verb: &str, phone: &str, call: Option<&str>) -> String {
    match call {
        None => format!("{verb} on {phone}"),
        Some(call) => format!("{verb} call {call} on {phone}"),
    }
}

/// Answers or declines on the mock; a phone that does not ring fails the step.
pub(crate) async fn play(
    player: &mut Player<'_>,
    gesture: Gesture,
    phone: &str,
    call: Option<&str>,
) -> Result<(), Stop> {
    let call = call.map(|c| player.expand(c)).transpose()?;
    let answer = matches!(gesture, Gesture::Answer);
    match player.mock.gesture(phone, answer, call.as_deref()).await? {
        Ok(done) => {
            let key = if answer { "answered" } else { "declined" };
            player.current().phone = Some(json!({ key: done.call }));
            Ok(())
        }
        Err(message) => Err(Stop::failed(message)),
    }
}
