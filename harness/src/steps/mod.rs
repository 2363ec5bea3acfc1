//! The steps of a scenario: [`Step`], one variant per kind, each kind in a file of its own
//! (as mini-redis keeps one command per file under `cmd/`).
//!
//! A step kind's file holds its type, which owns
//! - its serde shape (`#[derive(Deserialize)]`, `#[serde(deny_unknown_fields)]`),
//! - `const KIND: &'static str`, its key in the file (`"expect_pushes"`),
//! - `const IS_EXPECTATION: bool`, whether it waits on the mock (and so closes a group of
//!   pushes; a scenario must end with such a step),
//! - `const USES_PHONE: bool`, whether it drives or watches a phone (a scenario with such a
//!   step gets each phone's timeline in its transcript),
//! - `fn describe(&self) -> String`, its line in the transcript and in messages,
//! - `fn check(&self, &mut Scope) -> Result<(), Invalid>`, what serde cannot check, given
//!   the names defined before it (the error's path is relative to the step: `.path`),
//! - `async fn play(&self, &mut Player<'_>) -> Result<(), Stop>`, what it does.
//!
//! # Adding a step
//!
//! Write `steps/<kind>.rs` with a type providing those seven, and add one line
//! `Variant(<kind>::Type),` to the `steps!` list below. The macro declares the module,
//! re-exports the type, and generates [`Step`], its `Deserialize` (keyed by each `KIND`) and
//! the dispatching `match`es; nothing else changes.

mod gesture;
mod phone;
mod push_filter;

pub use call::Method;
pub use push_filter::PushFilter;

use crate::check::{Invalid, Scope};
use crate::player::{Player, Stop};

steps! {
    Call(call::CallStep),
    Run(run::RunStep),
    ExpectPushes(expect_pushes::ExpectPushes),
    ExpectNoPush(expect_no_push::ExpectNoPush),
    AddFault(add_fault::AddFault),
    RemoveFault(remove_fault::RemoveFault),
    RegisterDevice(register_device::RegisterDevice),
    UnregisterDevice(unregister_device::UnregisterDevice),
    AdvanceClock(advance_clock::AdvanceClock),
    Mark(mark::Mark),
    ExpectRinging(expect_ringing::ExpectRinging),
    ExpectNotRinging(expect_not_ringing::ExpectNotRinging),
    ExpectDelivery(expect_delivery::ExpectDelivery),
    Answer(answer::Answer),
    Decline(decline::Decline),
    PhoneOffline(phone_offline::PhoneOffline),
    PhoneOnline(phone_online::PhoneOnline),
}

/// Declares the step modules and generates [`Step`] from one list, `Variant(module::Type)`,
/// with a `Deserialize` equal to serde's derive for an externally tagged enum, except that
/// the tag is each type's `KIND`.
macro_rules! steps {
    ($( $variant:ident($module:ident::$ty:ident), )+) => {
        $(
            mod $module;
            pub use $module::$ty;
        )+

        /// One step. Written as an object with a single key naming the step.
        #[derive(Debug, Clone)]
        pub enum Step {
            $(
                #[doc = concat!("`", stringify!($module), "`: see [`", stringify!($ty), "`].")]
                $variant($ty),
            )+
        }

        /// Every step's key, in the order of the list (for "expected one of" messages).
        const KINDS: &[&str] = &[$( $ty::KIND, )+];

        impl Step {
            /// The step's key in the file, for messages.
            pub fn kind(&self) -> &'static str {
                match self {
                    $( Step::$variant(_) => $ty::KIND, )+
                }
            }

            /// Whether the step waits on the mock (and so closes a group of pushes).
            pub fn is_expectation(&self) -> bool {
                match self {
                    $( Step::$variant(_) => $ty::IS_EXPECTATION, )+
                }
            }

            /// Whether the step drives or watches a phone.
            pub fn uses_phone(&self) -> bool {
                match self {
                    $( Step::$variant(_) => $ty::USES_PHONE, )+
                }
            }

            /// The expectations' keys, in the order of the list (for the message that the
            /// last step must be one).
            pub(crate) fn expectation_kinds() -> Vec<&'static str> {
                [$( ($ty::KIND, $ty::IS_EXPECTATION), )+]
                    .into_iter()
                    .filter_map(|(kind, expectation)| expectation.then_some(kind))
                    .collect()
            }

            /// One line per step, for the transcript and for messages.
            pub fn describe(&self) -> String {
                match self {
                    $( Step::$variant(step) => step.describe(), )+
                }
            }

            /// What serde cannot check, given the names defined by the steps before.
            pub(crate) fn check(&self, scope: &mut Scope) -> Result<(), Invalid> {
                match self {
                    $( Step::$variant(step) => step.check(scope), )+
                }
            }

            /// Plays the step.
            pub(crate) async fn play(&self, player: &mut Player<'_>) -> Result<(), Stop> {
                match self {
                    $( Step::$variant(step) => step.play(player).await, )+
                }
            }
        }

        /// Which step an object's key names.
        enum Tag {
            $( $variant, )+
        }

        impl<'de> serde::Deserialize<'de> for Tag {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct TagVisitor;

                impl serde::de::Visitor<'_> for TagVisitor {
                    type Value = Tag;

                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str("a step's name")
                    }

                    fn visit_str<E: serde::de::Error>(self, key: &str) -> Result<Tag, E> {
                        $( if key == $ty::KIND { return Ok(Tag::$variant); } )+
                        Err(E::custom(crate::choices::unknown("step", key, KINDS)))
                    }
                }

                deserializer.deserialize_identifier(TagVisitor)
            }
        }

        /// Read as a map rather than as serde's externally tagged enum, so that a step with
        /// no key or with two (a missing `}, {`) says so, instead of serde_json's "expected
        /// value".
        impl<'de> serde::Deserialize<'de> for Step {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct StepVisitor;

                impl<'de> serde::de::Visitor<'de> for StepVisitor {
                    type Value = Step;

                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(f, "a step: an object with one key naming its action ({})", kinds())
                    }

                    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Step, E> {
                        Err(E::custom(format!(
                            "a step is an object with one key naming its action, like \
                             {{\"mark\": \"…\"}}, not the string {text:?} (one of {})",
                            kinds()
                        )))
                    }

                    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Step, A::Error> {
                        use serde::de::Error as _;
                        let Some(tag) = map.next_key::<Tag>()? else {
                            return Err(A::Error::custom(format!(
                                "this step is empty: a step is an object with one key naming \
                                 its action ({})",
                                kinds()
                            )));
                        };
                        let step = match tag {
                            $( Tag::$variant => Step::$variant(map.next_value::<$ty>()?), )+
                        };
                        if let Some(other) = map.next_key::<String>()? {
                            return Err(A::Error::custom(format!(
                                "one action per step: this step has `{}` and `{other}`; write \
                                 each as a step of its own ({{\"{}\": …}}, {{\"{other}\": …}})",
                                step.kind(),
                                step.kind(),
                            )));
                        }
                        Ok(step)
                    }
                }

                deserializer.deserialize_any(StepVisitor)
            }
        }

        /// The step kinds, for messages: `` `call`, `run`, … ``.
        fn kinds() -> String {
            KINDS.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
        }
    };
}
// The list above names the macro by this path; a `macro_rules!` is in scope by name only
// after its definition.
use steps;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_a_distinct_key() {
        let distinct: std::collections::BTreeSet<_> = KINDS.iter().collect();
        assert_eq!(distinct.len(), KINDS.len(), "{KINDS:?}");
        let mark: Step = serde_json::from_str(r#"{"mark": "m"}"#).unwrap();
        assert_eq!(mark.kind(), "mark");
    }

    #[test]
    fn an_unknown_step_is_refused_with_the_nearest_and_the_known_ones() {
        let err = serde_json::from_str::<Step>(r#"{"expect_push": {"count": 1}}"#)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(
                r#"unknown step "expect_push" (did you mean "expect_pushes"?); one of "call", "run", "expect_pushes""#
            ),
            "{err}"
        );
    }

    #[test]
    fn a_step_with_two_actions_is_refused_as_one_action_per_step() {
        let err = serde_json::from_str::<Step>(
            r#"{"call": {"path": "/calls"}, "expect_pushes": {"count": 1}}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with(
                r#"one action per step: this step has `call` and `expect_pushes`; write each as a step of its own ({"call": …}, {"expect_pushes": …})"#
            ),
            "{err}"
        );
    }

    #[test]
    fn an_empty_step_or_a_bare_string_says_what_a_step_is() {
        let err = serde_json::from_str::<Step>("{}").unwrap_err().to_string();
        assert!(err.starts_with("this step is empty: a step is an object with one key naming its action (`call`, `run`,"), "{err}");
        let err = serde_json::from_str::<Step>(r#""mark""#)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(r#"like {"mark": "…"}, not the string "mark""#),
            "{err}"
        );
        let err = serde_json::from_str::<Step>("3").unwrap_err().to_string();
        assert!(
            err.contains("expected a step: an object with one key naming its action"),
            "{err}"
        );
    }

    #[test]
    fn the_filter_s_fields_sit_beside_the_step_s_own() {
        let e: ExpectPushes =
            serde_json::from_str(r#"{"count": 2, "push_type": "voip", "timeout": "5s"}"#).unwrap();
        let voip = PushFilter {
            push_type: Some(mock_apns::PushType::Voip),
            ..PushFilter::default()
        };
        assert_eq!((e.count, &e.filter), (2, &voip));
        assert_eq!(e.describe(), "expect 2 pushes (push_type voip)");

        let err = serde_json::from_str::<ExpectNoPush>(r#"{"for": "1s", "count": 1}"#)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(
                "unknown field `count`, expected one of `for`, `device`, `topic`, `push_type`, \
                 `status`, `reason`"
            ),
            "{err}"
        );
    }
}
