//! `apns-push-type` values and the topic suffix each one requires.
//!
//! Source: Apple, "Sending notification requests to APNs" (table in `docs/apns.md` §2).

use std::str::FromStr;

/// One of Apple's eleven push types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PushType {
    /// A user-visible alert; topic `<bundle>`.
    Alert,
    /// A silent content-available push; topic `<bundle>`, priority 5 only.
    Background,
    /// A PushKit VoIP push; topic `<bundle>.voip`, payload up to 5120 bytes.
    Voip,
    /// A watchOS complication update; topic `<bundle>.complication`.
    Complication,
    /// A File Provider extension update; topic `<bundle>.pushkit.fileprovider`.
    Fileprovider,
    /// A Live Activity update; topic `<bundle>.push-type.liveactivity`.
    Liveactivity,
    /// A location query; topic `<bundle>.location-query`.
    Location,
    /// An MDM push; topic = the MDM certificate's subject UID (no suffix rule).
    Mdm,
    /// A Push to Talk push; topic `<bundle>.voip-ptt`.
    Pushtotalk,
    /// A WidgetKit reload; topic `<bundle>.push-type.widgets`.
    Widgets,
    /// A controls reload; topic `<bundle>.push-type.controls`.
    Controls,
}

impl PushType {
    /// Every push type, in Apple's table order.
    pub const ALL: &'static [PushType] = &[
        PushType::Alert,
        PushType::Background,
        PushType::Voip,
        PushType::Complication,
        PushType::Fileprovider,
        PushType::Liveactivity,
        PushType::Location,
        PushType::Mdm,
        PushType::Pushtotalk,
        PushType::Widgets,
        PushType::Controls,
    ];

    /// The header value.
    pub const fn as_str(self) -> &'static str {
        match self {
            PushType::Alert => "alert",
            PushType::Background => "background",
            PushType::Voip => "voip",
            PushType::Complication => "complication",
            PushType::Fileprovider => "fileprovider",
            PushType::Liveactivity => "liveactivity",
            PushType::Location => "location",
            PushType::Mdm => "mdm",
            PushType::Pushtotalk => "pushtotalk",
            PushType::Widgets => "widgets",
            PushType::Controls => "controls",
        }
    }

    /// The suffix Apple requires after the bundle id: `Some("")` for the bare bundle id,
    /// `None` where there is no rule (MDM topics are a certificate UID).
    pub const fn topic_suffix(self) -> Option<&'static str> {
        match self {
            PushType::Alert | PushType::Background => Some(""),
            PushType::Voip => Some(".voip"),
            PushType::Complication => Some(".complication"),
            PushType::Fileprovider => Some(".pushkit.fileprovider"),
            PushType::Liveactivity => Some(".push-type.liveactivity"),
            PushType::Location => Some(".location-query"),
            PushType::Mdm => None,
            PushType::Pushtotalk => Some(".voip-ptt"),
            PushType::Widgets => Some(".push-type.widgets"),
            PushType::Controls => Some(".push-type.controls"),
        }
    }

    /// The push type whose special suffix `topic` ends with, if any (`com.a.voip` → `Voip`).
    pub fn from_topic_suffix(topic: &str) -> Option<PushType> {
        PushType::ALL.iter().copied().find(|t| {
            matches!(t.topic_suffix(), Some(s) if !s.is_empty() && topic.ends_with(s) && topic.len() > s.len())
        })
    }

    /// The push type a push declares, else the one its topic's suffix implies, as APNs
    /// infers it when `apns-push-type` is missing.
    pub(crate) fn declared_or_implied(
        declared: Option<PushType>,
        topic: Option<&str>,
    ) -> Option<PushType> {
        declared.or_else(|| topic.and_then(PushType::from_topic_suffix))
    }

    /// The app a topic is for: the topic without this push type's suffix (`com.a.voip` →
    /// `com.a`); the whole topic when the type has no suffix or the topic is only the suffix.
    pub(crate) fn bundle_of(push_type: Option<PushType>, topic: &str) -> &str {
        match push_type.and_then(PushType::topic_suffix) {
            Some(suffix) if !suffix.is_empty() && topic.len() > suffix.len() => {
                topic.strip_suffix(suffix).unwrap_or(topic)
            }
            _ => topic,
        }
    }

    /// The largest payload APNs accepts for this push type, in bytes (inclusive).
    pub const fn max_payload(self) -> usize {
        match self {
            PushType::Voip => VOIP_MAX_PAYLOAD,
            _ => MAX_PAYLOAD,
        }
    }
}

/// Largest payload for every push type except VoIP (Apple: 4 KB, inclusive).
pub const MAX_PAYLOAD: usize = 4096;
/// Largest VoIP payload (Apple: 5 KB, inclusive).
pub const VOIP_MAX_PAYLOAD: usize = 5120;

/// The value is not one of Apple's push types.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown apns-push-type {0:?}")]
pub struct UnknownPushType(pub String);

impl FromStr for PushType {
    type Err = UnknownPushType;

    /// Exact, case-sensitive match: Apple documents the values in lower case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PushType::ALL
            .iter()
            .copied()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| UnknownPushType(s.to_owned()))
    }
}

crate::apns::str_enum::str_traits!(PushType);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_special_suffix_wins() {
        assert_eq!(
            PushType::from_topic_suffix("com.a.voip"),
            Some(PushType::Voip)
        );
        assert_eq!(
            PushType::from_topic_suffix("com.a.voip-ptt"),
            Some(PushType::Pushtotalk)
        );
        assert_eq!(PushType::from_topic_suffix("com.a"), None);
        assert_eq!(PushType::from_topic_suffix(".voip"), None);
    }

    #[test]
    fn voip_alone_gets_5120_bytes() {
        assert_eq!(PushType::Voip.max_payload(), 5120);
        assert_eq!(PushType::Alert.max_payload(), 4096);
        assert_eq!(PushType::ALL.len(), 11);
    }
}
