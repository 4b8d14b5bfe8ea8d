//! What both binaries report about themselves, and how they learn to stop.
//!
//! ```text
//! logs     stdout, text for people or JSON for collectors (RUST_LOG filters them)
//! traces   OpenTelemetry over OTLP/HTTP, off unless the standard OTEL_* variables ask for it (README "Traces")
//! context  a login's trace context (`traceparent`), kept with the session so every step joins the login's trace
//! ```
//! [`init`] installs both; the [`Telemetry`] it returns must live until the server has stopped: dropping it
//! sends the spans still queued.

mod context;
mod logs;
mod traces;

pub(crate) use context::serving;
pub use context::{Traceparent, login_step};
pub use traces::{TracesError, enabled};

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Holds the trace pipeline, when there is one; dropping it flushes and stops it.
#[must_use = "dropping it at once would stop the trace export before the server runs"]
pub struct Telemetry {
    traces: Option<traces::Pipeline>,
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(traces) = self.traces.take() {
            traces.shutdown();
        }
    }
}

/// Installs logging (`json`: one JSON object per line) and, when the OTEL_* variables ask for it, trace export
/// as `service` (the `service.name` unless `OTEL_SERVICE_NAME` says otherwise). Fails only on OTEL_* values it
/// cannot honour. A second call (tests starting several apps) installs nothing and exports nothing.
/// The `OTEL_*` variables as `check-config` sees them: what [`init`] would refuse, as a configuration problem.
pub fn check() -> Result<(), crate::config::ConfigErrors> {
    traces::Plan::from_vars(|name| std::env::var(name).ok())
        .map(|_| ())
        .map_err(|e| crate::config::ConfigError::unusable(&e).into())
}

pub fn init(service: &'static str, json: bool) -> Result<Telemetry, TracesError> {
    let plan = traces::Plan::from_vars(|name| std::env::var(name).ok())?;
    let pipeline = plan.map(|plan| traces::Pipeline::start(&plan, service)).transpose()?;
    let logs = tracing_subscriber::registry().with(logs::layer(json));
    // Without export, the logs' filter alone decides which callsites are live (an empty `Option` layer would
    // keep every callsite under evaluation).
    let installed = match &pipeline {
        Some(pipeline) => logs.with(pipeline.layer()).try_init(),
        None => logs.try_init(),
    }
    .is_ok();
    let traces = match pipeline {
        Some(pipeline) if installed => {
            traces::mark_enabled();
            tracing::info!(service, "trace export on (OTEL_* variables)");
            Some(pipeline)
        }
        Some(pipeline) => {
            pipeline.shutdown();
            None
        }
        None => None,
    };
    Ok(Telemetry { traces })
}

/// Resolves on SIGTERM (the orchestrator's stop) or Ctrl-C.
pub async fn terminated() {
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(term) => term,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM; only Ctrl-C stops gracefully");
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
