//! Where a login comes from, as the phone is told at scan time: what the browser said about itself (cleaned),
//! what the services found out on their own (browser and OS parsed from its `User-Agent`, its location, whether
//! it logged in as this user before), next to the stored [`crate::session::Requester`]. Domain only: the phone client uses it.

use serde::{Deserialize, Serialize};

/// Longest user agent kept (bytes): enough to name the browser, bounded so a client cannot bloat Redis.
pub const MAX_USER_AGENT: usize = 256;

/// The scan answer's `requester`: the stored fields of [`Requester`], then what was derived from them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "service", derive(utoipa::ToSchema))]
pub struct RequesterDetails {
    pub ip: String,
    /// Sanitised ([`sanitize_user_agent`]) but still the browser's own words: show `browser` and `os` instead.
    pub user_agent: String,
    /// RFC 3339.
    pub created_at: String,
    /// Browser name and major version, e.g. `Chrome 131`; `unknown` when the parser knows none.
    pub browser: String,
    /// e.g. `Linux`, `Mac OSX`, `Android`; `unknown` when the parser knows none.
    pub os: String,
    /// From the city database; `null` without one or for an address it does not know.
    pub location: Option<Location>,
    /// This browser logged in as the scanning user before (its device cookie is in the user's history).
    pub known_device: bool,
}

/// A located address: ISO 3166-1 country code, and the city's English name where the database has one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "service", derive(utoipa::ToSchema))]
pub struct Location {
    pub country: String,
    pub city: Option<String>,
}

/// Text a browser chose, made safe to show: control characters and bidirectional formatting characters
/// (which can reorder what a reader sees: `U+202A..U+202E`, `U+2066..U+2069`, `U+200E`, `U+200F`, `U+061C`)
/// removed, then cut to [`MAX_USER_AGENT`] bytes on a character boundary.
pub fn sanitize_user_agent(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len().min(MAX_USER_AGENT));
    for c in raw.chars().filter(|c| !is_hidden(*c)) {
        if out.len() + c.len_utf8() > MAX_USER_AGENT {
            break;
        }
        out.push(c);
    }
    out
}

fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn bidi_and_control_characters_go_and_the_length_is_bounded() {
        let ua = "Safari \u{202E}caM ruoy\u{202C} \u{2066}home\u{2069}\r\n\u{200F}\u{061C}\u{7}ok";
        assert_eq!(sanitize_user_agent(ua), "Safari caM ruoy homeok");
        let long = "é".repeat(200);
        let cut = sanitize_user_agent(&long);
        assert!(cut.len() <= MAX_USER_AGENT && cut.len() >= MAX_USER_AGENT - 1);
    }

    #[test]
    fn the_answer_carries_every_pinned_field() {
        let details = RequesterDetails {
            ip: "192.0.2.1".into(),
            user_agent: "ua".into(),
            created_at: "t".into(),
            browser: "Chrome 131".into(),
            os: "Linux".into(),
            location: Some(Location { country: "DE".into(), city: Some("Berlin".into()) }),
            known_device: false,
        };
        let json = serde_json::to_value(&details).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"ip": "192.0.2.1", "user_agent": "ua", "created_at": "t", "browser": "Chrome 131",
                "os": "Linux", "location": {"country": "DE", "city": "Berlin"}, "known_device": false})
        );
        assert_eq!(serde_json::from_value::<RequesterDetails>(json).unwrap(), details);
    }

    proptest! {
        #[test]
        fn sanitized_text_is_bounded_and_shows_nothing_hidden(s in "\\PC{0,300}|[\\x00-\\x1f\u{202A}-\u{202E}a]{0,300}") {
            let clean = sanitize_user_agent(&s);
            prop_assert!(clean.len() <= MAX_USER_AGENT);
            prop_assert!(!clean.chars().any(is_hidden));
        }
    }
}
