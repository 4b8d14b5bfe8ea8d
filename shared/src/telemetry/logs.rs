//! Logs go to stdout, as text for people or JSON for collectors. `RUST_LOG` filters them, and only them: the
//! trace export keeps its own filter, so quieter logs do not thin out the traces.

use tracing_subscriber::{EnvFilter, Layer, Registry};

/// `json` switches to one JSON object per line. `RUST_LOG` overrides the default filter.
pub(super) fn layer(json: bool) -> Box<dyn Layer<Registry> + Send + Sync> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Colours only for a person at a terminal; files and collectors get plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let fmt = tracing_subscriber::fmt::layer().with_target(true).with_ansi(ansi);
    if json { fmt.json().flatten_event(true).with_filter(filter).boxed() } else { fmt.with_filter(filter).boxed() }
}
