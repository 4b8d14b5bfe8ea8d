//! The audit point pairs every log line with its counter: for each kind of event, recording it writes exactly
//! one `audit` line with its fields and moves exactly one series by one.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use qrlogin_shared::audit::{self, AuditEvent, Event, Limit, Outcome};
use qrlogin_shared::metrics::Exporter;
use qrlogin_shared::test_support::logs::Captured;
use qrlogin_shared::test_support::{self, prometheus};
use qrlogin_shared::{Redis, SessionId, UserId};
use serde_json::Value;

/// Records `event` under a subscriber of its own; returns its JSON log lines and how the counters moved.
fn record(exporter: &Exporter, event: &AuditEvent<'_>, series: (&str, &[(&str, &str)])) -> (Vec<Value>, f64) {
    let before = prometheus::parse(&exporter.render()).unwrap().sum(series.0, series.1);
    let lines = Captured::default();
    let subscriber = tracing_subscriber::fmt().json().with_writer(lines.clone()).finish();
    tracing::subscriber::with_default(subscriber, || audit::record(event));
    let after = prometheus::parse(&exporter.render()).unwrap().sum(series.0, series.1);
    (lines.lines(), after - before)
}

#[test]
fn every_event_writes_one_line_and_moves_its_one_counter() {
    let settings = test_support::redis_settings(&test_support::dead_redis_url());
    let exporter = Exporter::new(Redis::connect(&settings).unwrap(), None);
    let (id, user) = (SessionId::random(), UserId::parse("alice").unwrap());
    let cases = [
        (AuditEvent::new(Event::Issued, Outcome::Ok, "192.0.2.1").session(&id), "issued", "ok", "INFO"),
        (
            AuditEvent::new(Event::Scanned, Outcome::Conflict, "192.0.2.1").session(&id).user(&user),
            "scanned",
            "conflict",
            "INFO",
        ),
        (
            AuditEvent::new(Event::Denied, Outcome::WrongState, "192.0.2.1").session(&id).user(&user),
            "denied",
            "wrong_state",
            "INFO",
        ),
        (
            AuditEvent::new(Event::WrongVerification, Outcome::Counted, "192.0.2.1").session(&id).left(3),
            "wrong_verification",
            "counted",
            "INFO",
        ),
        (AuditEvent::new(Event::Lockout, Outcome::Destroyed, "192.0.2.1").session(&id), "lockout", "destroyed", "WARN"),
    ];
    for (event, name, outcome, level) in cases {
        let labels = [("event", name), ("outcome", outcome)];
        let (lines, moved) = record(&exporter, &event, ("qrlogin_sessions_total", &labels));
        assert_eq!(lines.len(), 1, "{lines:?}");
        let fields = &lines[0]["fields"];
        assert_eq!((&lines[0]["target"], &lines[0]["level"]), (&"audit".into(), &level.into()));
        assert_eq!(
            (&fields["event"], &fields["outcome"], &fields["ip"]),
            (&name.into(), &outcome.into(), &"192.0.2.1".into())
        );
        assert_eq!(fields["session"], id.to_string());
        assert_eq!(moved, 1.0, "{name}/{outcome}");
    }

    for (limit, name, level) in [(Limit::Issue, "issue", "WARN"), (Limit::Poll, "poll", "INFO")] {
        let (lines, moved) = record(
            &exporter,
            &AuditEvent::rate_limited(limit, "192.0.2.1"),
            ("qrlogin_rate_limited_total", &[("limit", name)]),
        );
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert_eq!(
            (&lines[0]["fields"]["event"], &lines[0]["fields"]["limit"]),
            (&"rate_limited".into(), &name.into())
        );
        assert_eq!(lines[0]["level"], level);
        assert_eq!(moved, 1.0, "{name}");
    }
}
