//! One login, one trace. The create stores its trace context (a W3C `traceparent`) with the session, only while
//! traces are exported; each later step (scan, confirm or deny, claim) gets it back in the reply of the script
//! that makes the step, and marks itself in the login's trace with [`login_step`]: a span that is a child of the
//! stored context and links to the server span of the request that made the step. That request's span stays in
//! the trace it started (its trusted proxy's, or a new one): a span's parent is fixed when it starts, and the
//! stored context is known only once the step's script has answered.

use std::collections::HashMap;

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{SpanContext, TraceContextExt};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::traces::enabled;
use crate::SessionId;

const TRACEPARENT: &str = "traceparent";

tokio::task_local! {
    /// The server span of the request being served: what its login steps link to.
    static REQUEST_SPAN: SpanContext;
}

/// Runs `served` (the handling of the request whose server span is `span`) with that span known to
/// [`login_step`]. While traces are off it only runs it.
pub(crate) async fn serving<F: Future>(span: &Span, served: F) -> F::Output {
    if !enabled() {
        return served.await;
    }
    let request = span.context().span().span_context().clone();
    REQUEST_SPAN.scope(request, served).await
}

/// A W3C `traceparent` (`00-<trace id>-<span id>-<flags>`): identifiers only, never a secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Traceparent(String);

impl Traceparent {
    /// The server span's context of the request being served (outside one: the current span's), when traces are
    /// exported; `None` otherwise, so nothing is stored.
    pub fn of_request() -> Option<Self> {
        if !enabled() {
            return None;
        }
        let context = opentelemetry::Context::new().with_remote_span_context(request_span());
        let mut carrier = HashMap::new();
        TraceContextPropagator::new().inject_context(&context, &mut carrier);
        carrier.remove(TRACEPARENT).map(Self)
    }

    /// A stored or received value, if it is a valid `traceparent` (`''`, what a script answers for none, is not).
    pub fn parse(value: &str) -> Option<Self> {
        let this = Self(value.trim().to_owned());
        this.context().span().span_context().is_valid().then_some(this)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The remote parent this value names.
    pub(crate) fn context(&self) -> opentelemetry::Context {
        let carrier = HashMap::from([(TRACEPARENT.to_owned(), self.0.clone())]);
        TraceContextPropagator::new().extract(&carrier)
    }
}

fn request_span() -> SpanContext {
    REQUEST_SPAN
        .try_with(SpanContext::clone)
        .unwrap_or_else(|_| Span::current().context().span().span_context().clone())
}

/// Marks one step of a login in the login's trace (see the module doc): a span named `login <step>`, child of
/// `trace` (what the create stored), linked to the server span of the request being served. Nothing when traces are off or the
/// session holds no context. Its attributes are the step, its outcome and the session id, never a secret.
pub fn login_step(step: &'static str, outcome: &'static str, session: Option<&SessionId>, trace: Option<&Traceparent>) {
    let Some(trace) = trace.filter(|_| enabled()) else { return };
    let request = request_span();
    let span = tracing::info_span!(
        parent: None,
        "login step",
        otel.name = format!("login {step}"),
        qrlogin.step = step,
        qrlogin.outcome = outcome,
        qrlogin.session = session.map(tracing::field::display),
    );
    // Cannot fail: the span is new and not started yet.
    let _ = span.set_parent(trace.context());
    span.add_link(request);
    // Dropped here: the step is a point in the login's timeline; the work it took is in the linked request span.
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_valid_traceparents_are_kept() {
        let good = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        assert_eq!(Traceparent::parse(good).map(|t| t.0), Some(good.to_owned()));
        assert_eq!(Traceparent::parse(""), None);
        assert_eq!(Traceparent::parse("00-00000000000000000000000000000000-b7ad6b7169203331-01"), None);
        assert_eq!(Traceparent::parse("not a traceparent"), None);
    }

    #[test]
    fn nothing_is_taken_while_traces_are_off() {
        assert_eq!(Traceparent::of_request(), None);
    }
}
