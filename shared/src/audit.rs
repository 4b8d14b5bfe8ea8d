//! The one audit point: every security-relevant step of a login is an [`AuditEvent`], and [`record`] writes its
//! log line (target `audit`) and moves its counter in one go, so the trail and the metrics cannot drift apart.
//! A step that carries its login's trace context is also marked in the login's trace (`telemetry::login_step`).

use crate::telemetry::{Traceparent, login_step};
use crate::{SessionId, UserId};

/// What happened. Session events count in `qrlogin_sessions_total{event, outcome}`, refusals by an abuse limit in
/// `qrlogin_rate_limited_total{limit}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr, strum::VariantArray)]
#[strum(serialize_all = "snake_case")]
pub enum Event {
    Issued,
    Scanned,
    Confirmed,
    Denied,
    Claimed,
    /// A request met an expired, unknown or finished session (or a code past its expiry).
    Expired,
    Cancelled,
    /// Repeated wrong verification strings destroyed the session.
    Lockout,
    WrongVerification,
    RateLimited,
    /// The user ended web sessions from the phone (one, or all of them).
    WebSessionEnded,
}

impl Event {
    /// The outcome this event usually has: its series is exported at zero from the start.
    pub fn usual_outcome(self) -> Outcome {
        match self {
            Self::Expired => Outcome::NotFound,
            Self::Lockout => Outcome::Destroyed,
            Self::WrongVerification => Outcome::Counted,
            Self::RateLimited => Outcome::Refused,
            _ => Outcome::Ok,
        }
    }
}

/// How it ended, as the log's `outcome` field and the counter's label.
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum Outcome {
    Ok,
    /// Scanned while in another state or by another user.
    Conflict,
    NotFound,
    WrongState,
    WrongUser,
    /// A wrong verification string was counted against the session.
    Counted,
    Destroyed,
    /// An abuse limit refused the request.
    Refused,
    /// A poll came faster than advised and was told to slow down.
    SlowDown,
    /// A second user scanned a QR another user had scanned: the login was ended.
    SecondScanner,
    /// A confirm without the check code the browser shows, or with another one (the last allowed denies).
    WrongCheckCode,
    /// A confirm refused because the scan judged the login too risky (`QRL_RISK_BLOCK`); nothing changed.
    RiskBlocked,
}

/// The abuse limit behind a [`Event::RateLimited`], named as its rate limit is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "snake_case")]
pub enum Limit {
    Issue,
    Poll,
    Scan,
    Decide,
    /// `GET /v1/logins/{uuid}` (the phone asking how a login stands).
    Status,
    BadToken,
}

/// One audit record. `ip` is always known; `session`, `user`, `limit`, `left` and `jti` where the step has them.
#[derive(Clone, Copy, Debug)]
pub struct AuditEvent<'a> {
    pub event: Event,
    pub outcome: Outcome,
    pub ip: &'a str,
    pub session: Option<&'a SessionId>,
    pub user: Option<&'a UserId>,
    pub limit: Option<Limit>,
    /// Wrong verification strings the session still tolerates.
    pub left: Option<u32>,
    /// Who had scanned the session before `user` did (a second scanner ends the login).
    pub first_scanner: Option<&'a UserId>,
    /// The `jti` of the web token a claim handed out (an identifier, not the token), to trace a token back to
    /// its login.
    pub jti: Option<&'a str>,
    /// The login's trace context the step's script answered with (traces on, and stored at create).
    pub trace: Option<&'a Traceparent>,
}

impl<'a> AuditEvent<'a> {
    /// A session event from `ip`, with nothing else known yet; add the rest with the builders below.
    pub fn new(event: Event, outcome: Outcome, ip: &'a str) -> Self {
        Self {
            event,
            outcome,
            ip,
            session: None,
            user: None,
            limit: None,
            left: None,
            first_scanner: None,
            jti: None,
            trace: None,
        }
    }

    /// A request refused by `limit`.
    pub fn rate_limited(limit: Limit, ip: &'a str) -> Self {
        let outcome = if limit == Limit::Poll { Outcome::SlowDown } else { Outcome::Refused };
        Self { limit: Some(limit), ..Self::new(Event::RateLimited, outcome, ip) }
    }

    pub fn session(self, session: &'a SessionId) -> Self {
        Self { session: Some(session), ..self }
    }

    pub fn user(self, user: &'a UserId) -> Self {
        Self { user: Some(user), ..self }
    }

    pub fn left(self, left: u32) -> Self {
        Self { left: Some(left), ..self }
    }

    pub fn first_scanner(self, user: &'a UserId) -> Self {
        Self { first_scanner: Some(user), ..self }
    }

    pub fn jti(self, jti: &'a str) -> Self {
        Self { jti: Some(jti), ..self }
    }

    pub fn trace(self, trace: Option<&'a Traceparent>) -> Self {
        Self { trace, ..self }
    }

    /// Warnings are what an operator should look at: guessing, and clients held back by a limit.
    fn is_warning(&self) -> bool {
        match self.event {
            Event::Lockout => true,
            Event::RateLimited => self.limit != Some(Limit::Poll),
            _ => false,
        }
    }

    fn message(&self) -> &'static str {
        match (self.event, self.outcome) {
            (Event::Issued, _) => "login session issued",
            (Event::Scanned, Outcome::Ok) => "login session scanned",
            (Event::Scanned, _) => "scan refused: wrong state",
            (Event::Confirmed | Event::Denied, _) => "login decision",
            (Event::Claimed, _) => "web token issued",
            (Event::WebSessionEnded, _) => "web session ended from the phone",
            (Event::Expired, _) => "expired, unknown or finished session",
            (Event::Cancelled, Outcome::SecondScanner) => "login ended: its QR was scanned by a second user",
            (Event::Cancelled, _) => "login cancelled by browser",
            (Event::Lockout, _) => "session destroyed after repeated wrong verification strings",
            (Event::WrongVerification, _) => "wrong verification string",
            (Event::RateLimited, _) => "request refused by an abuse limit",
        }
    }
}

/// Exports every session event's usual series at zero, so each exists from the first scrape (the bootstrap
/// calls this once per service).
pub fn export_counters() {
    for event in <Event as strum::VariantArray>::VARIANTS.iter().filter(|e| **e != Event::RateLimited) {
        crate::metrics::session_events(event.into(), event.usual_outcome().into(), 0);
    }
}

/// Writes the event's audit line, moves its counter and, with a trace context, marks the step in the login's trace.
pub fn record(e: &AuditEvent<'_>) {
    let event: &'static str = e.event.into();
    let outcome: &'static str = e.outcome.into();
    let limit = e.limit.map(<&'static str>::from);
    let session = e.session.map(tracing::field::display);
    let user = e.user.map(tracing::field::display);
    let first_scanner = e.first_scanner.map(tracing::field::display);
    macro_rules! line {
        ($level:ident) => {
            tracing::$level!(target: "audit", event, session, user, first_scanner, ip = e.ip, outcome, limit, left = e.left, jti = e.jti, "{}", e.message())
        };
    }
    if e.is_warning() {
        line!(warn);
    } else {
        line!(info);
    }
    match e.limit {
        Some(limit) => crate::metrics::rate_limited(limit.into()),
        None => crate::metrics::session_event(event, outcome),
    }
    login_step(event, outcome, e.session, e.trace);
}

#[cfg(test)]
mod tests {
    use strum::VariantArray;

    use super::*;

    #[test]
    fn every_session_event_is_exported_from_the_start() {
        let events: Vec<&str> =
            Event::VARIANTS.iter().filter(|e| **e != Event::RateLimited).map(|e| (*e).into()).collect();
        let mut exported = crate::metrics::SESSION_EVENTS.to_vec();
        exported.sort_unstable();
        let mut sorted = events.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, exported);
    }
}
