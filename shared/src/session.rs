//! The vocabulary of a login session, defined once: the states Redis stores, the status a browser is told, the
//! phone's decision, and where a login comes from. The Lua scripts, the JSON answers and the browser client
//! spell these names; the names come from here (`strum`, lower case), and tests hold the others to them.
//!
//! No Redis or HTTP types in here: the reference phone client uses this module too.

use serde::{Deserialize, Serialize};

/// What a session's `st` field in Redis holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString, strum::VariantArray)]
#[strum(serialize_all = "lowercase")]
pub enum SessionState {
    Pending,
    Scanned,
    Confirmed,
    Denied,
    Cancelled,
    /// The web token was handed out; the session lives on only for the claim's grace window.
    Claimed,
}

impl SessionState {
    /// Every state, in declaration order.
    pub const ALL: &'static [Self] = <Self as strum::VariantArray>::VARIANTS;

    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// What the browser is told about a session in this state.
    pub fn status(self) -> Status {
        match self {
            Self::Pending => Status::Pending,
            Self::Scanned => Status::Scanned,
            // The browser that claimed keeps being told "confirmed" (with its token) in the grace window.
            Self::Confirmed | Self::Claimed => Status::Confirmed,
            Self::Denied => Status::Denied,
            Self::Cancelled => Status::Cancelled,
        }
    }
}

/// The `status` of a poll answer or event: what the browser shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, strum::IntoStaticStr, strum::EnumString, strum::VariantArray)]
#[strum(serialize_all = "lowercase")]
pub enum Status {
    Pending,
    Scanned,
    Confirmed,
    Denied,
    Cancelled,
    /// Unknown, expired, or claimed and past its grace window: one answer, so nothing can be probed.
    Expired,
}

impl Status {
    /// Every status, in declaration order.
    pub const ALL: &'static [Self] = <Self as strum::VariantArray>::VARIANTS;

    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Nothing will change any more for this browser.
    pub fn is_final(self) -> bool {
        !matches!(self, Self::Pending | Self::Scanned)
    }
}

/// What the phone is told about a login its user scanned (`GET /v1/logins/{uuid}`): the session's state while it
/// lives, then, for a confirmed login, how it ended, for [`OUTCOME_KEPT`](crate::store::OUTCOME_KEPT) more.
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString, strum::VariantArray)]
#[strum(serialize_all = "lowercase")]
pub enum LoginStatus {
    Scanned,
    /// Confirmed, and the browser has not collected its token yet.
    Confirmed,
    /// The browser got its token: the login is done.
    Claimed,
    Denied,
    /// Ended in the browser (or by a second scanner), whatever the phone had answered.
    Cancelled,
    /// Confirmed, but the login window ended before the browser collected the token: nobody was logged in.
    Expired,
}

impl LoginStatus {
    pub const ALL: &'static [Self] = <Self as strum::VariantArray>::VARIANTS;

    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Nothing will change any more.
    pub fn is_final(self) -> bool {
        !matches!(self, Self::Scanned | Self::Confirmed)
    }
}

/// The phone user's answer to a scanned login.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Confirm,
    Deny,
}

impl Decision {
    /// The state the session moves to.
    pub fn state(self) -> SessionState {
        match self {
            Self::Confirm => SessionState::Confirmed,
            Self::Deny => SessionState::Denied,
        }
    }
}

/// Where a login request came from, shown to the user on the phone before they approve.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requester {
    pub ip: String,
    pub user_agent: String,
    /// RFC 3339.
    pub created_at: String,
}

/// How likely a login is not the phone user's own (relayed, phished): the scan's verdict, shown to the user.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, strum::IntoStaticStr, strum::EnumString, strum::VariantArray,
)]
#[strum(serialize_all = "lowercase")]
pub enum RiskLevel {
    Low,
    Medium,
    High,
}

impl RiskLevel {
    pub const ALL: &'static [Self] = <Self as strum::VariantArray>::VARIANTS;

    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// One reason behind a [`Risk`] verdict, in the scan answer's `risk.signals` (names pinned; README "Risk").
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString, strum::VariantArray)]
#[strum(serialize_all = "snake_case")]
pub enum Signal {
    /// The browser is in another country than the phone, or further away than `QRL_RISK_FAR_KM`.
    FarFromPhone,
    /// The browser's address is in the phone's network (same IPv4 /24, same IPv6 /48).
    SameNetwork,
    /// This browser never logged in as the scanning user (within `QRL_DEVICE_MEMORY_DAYS`).
    NewDevice,
    /// The browser's address has no location in the city database (or none is configured).
    NoLocation,
    /// The phone's own address has no location, so distance could not be judged.
    PhoneNotLocated,
    /// The browser's `User-Agent` names no browser the parser knows (a script, a tool, or nothing at all).
    UnknownBrowser,
}

impl Signal {
    pub const ALL: &'static [Self] = <Self as strum::VariantArray>::VARIANTS;

    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// The scan's verdict on a login: how risky, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "service", derive(utoipa::ToSchema))]
pub struct Risk {
    pub level: RiskLevel,
    pub signals: Vec<Signal>,
}

impl Risk {
    pub fn has(&self, signal: Signal) -> bool {
        self.signals.contains(&signal)
    }
}

/// When the phone must type the number the browser shows (`QRL_CHECK_CODE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "lowercase")]
pub enum CheckCodeMode {
    Never,
    /// From risk level medium up.
    Risky,
    Always,
}

impl CheckCodeMode {
    pub fn required(self, risk: RiskLevel) -> bool {
        match self {
            Self::Never => false,
            Self::Risky => risk >= RiskLevel::Medium,
            Self::Always => true,
        }
    }
}

/// The two digits the browser shows and the phone user types (number matching): the user proves they are
/// looking at the browser that will be logged in, not at a relayed QR.
#[derive(Clone, PartialEq, Eq)]
pub struct CheckCode(String);

impl CheckCode {
    /// Drawn from the thread's CSPRNG.
    pub fn random() -> Self {
        use rand::Rng;
        Self(format!("{:02}", rand::rng().random_range(0..100u8)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for CheckCode {
    // Shown only to the browser that asked for the QR; logs only see that there is one.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CheckCode(..)")
    }
}

/// Both enums travel as their plain names in JSON, the same names as in Redis.
macro_rules! serde_by_name {
    ($ty:ty) => {
        impl Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let name = String::deserialize(deserializer)?;
                name.parse().map_err(|_| serde::de::Error::custom(format!("unknown {}: {name:?}", stringify!($ty))))
            }
        }
    };
}

/// In the OpenAPI documents, each is a string enum of its names.
#[cfg(feature = "service")]
macro_rules! schema_by_name {
    ($ty:ty, $description:literal) => {
        impl utoipa::PartialSchema for $ty {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                let names = <$ty as strum::VariantArray>::VARIANTS.iter().map(|v| v.as_str());
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some(names))
                    .description(Some($description))
                    .into()
            }
        }

        impl utoipa::ToSchema for $ty {}
    };
}

#[cfg(feature = "service")]
schema_by_name!(
    Status,
    "What the browser shows. `expired` also stands for unknown, and for claimed past its grace window."
);
#[cfg(feature = "service")]
schema_by_name!(LoginStatus, "How a login the phone's user scanned stands, and once confirmed how it ended.");
#[cfg(feature = "service")]
schema_by_name!(RiskLevel, "How likely the login is not the phone user's own.");
#[cfg(feature = "service")]
schema_by_name!(Signal, "One reason behind the risk verdict.");

serde_by_name!(SessionState);
serde_by_name!(Status);
serde_by_name!(LoginStatus);
serde_by_name!(RiskLevel);
serde_by_name!(Signal);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_text_and_json() {
        for state in SessionState::ALL {
            assert_eq!(state.as_str().parse::<SessionState>(), Ok(*state));
            assert_eq!(serde_json::to_value(state).unwrap(), state.as_str());
        }
        for status in Status::ALL {
            assert_eq!(serde_json::from_value::<Status>(serde_json::json!(status.as_str())).unwrap(), *status);
        }
        assert!(serde_json::from_str::<Status>("\"claimed\"").is_err());
        for status in LoginStatus::ALL {
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
            assert_eq!(serde_json::from_value::<LoginStatus>(serde_json::json!(status.as_str())).unwrap(), *status);
        }
        // The phone's statuses that are also session states are spelt as the states are.
        let states: Vec<_> = SessionState::ALL.iter().map(|s| s.as_str()).collect();
        let phone: Vec<_> = LoginStatus::ALL.iter().map(|s| s.as_str()).filter(|s| *s != "expired").collect();
        assert!(phone.iter().all(|s| states.contains(s)), "{phone:?}");
    }

    #[test]
    fn the_browser_is_told_confirmed_for_a_claimed_login_and_only_waits_on_open_states() {
        assert_eq!(SessionState::Claimed.status(), Status::Confirmed);
        let open: Vec<_> = Status::ALL.iter().filter(|s| !s.is_final()).collect();
        assert_eq!(open, [&Status::Pending, &Status::Scanned]);
        assert_eq!(Decision::Deny.state().as_str(), "denied");
    }

    #[test]
    fn the_check_code_follows_the_mode_and_the_risk() {
        assert!(!CheckCodeMode::Never.required(RiskLevel::High));
        assert!(CheckCodeMode::Always.required(RiskLevel::Low));
        assert_eq!(
            RiskLevel::ALL.iter().map(|r| CheckCodeMode::Risky.required(*r)).collect::<Vec<_>>(),
            [false, true, true]
        );
        assert_eq!("risky".parse(), Ok(CheckCodeMode::Risky));
        assert_eq!(serde_json::to_value(RiskLevel::Medium).unwrap(), "medium");
    }

    #[test]
    fn check_codes_are_two_digits() {
        for _ in 0..200 {
            let code = CheckCode::random();
            assert!(code.as_str().len() == 2 && code.as_str().bytes().all(|b| b.is_ascii_digit()), "{:?}", code.0);
        }
    }

    #[test]
    fn signal_names_are_the_pinned_ones() {
        let names: Vec<_> = Signal::ALL.iter().map(|s| serde_json::to_value(s).unwrap()).collect();
        for pinned in ["far_from_phone", "same_network", "new_device", "no_location"] {
            assert!(names.contains(&serde_json::json!(pinned)), "{pinned}");
        }
        assert_eq!(serde_json::from_str::<Signal>("\"unknown_browser\"").unwrap(), Signal::UnknownBrowser);
    }
}
