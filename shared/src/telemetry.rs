//! Logging setup shared by both binaries. Logs go to stdout, as text for people or JSON for collectors.

use tracing_subscriber::EnvFilter;

/// `json` switches to one JSON object per line. `RUST_LOG` overrides the default filter.
pub fn init(json: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Colours only for a person at a terminal; files and collectors get plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(true).with_ansi(ansi);
    // try_init: a second call (tests starting several apps) is harmless.
    let _ = if json { builder.json().flatten_event(true).try_init() } else { builder.try_init() };
}
