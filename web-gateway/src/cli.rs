//! The gateway's command line (README "Operating the binaries"): `serve`, the default, or `check-config`.

use qrlogin_shared::cli::{Command, SummaryLine, service_summary};

use crate::config::{DirectorySettings, Settings, env_help};

/// qrlogin web gateway: QR login sessions for browsers, and their web session token.
///
/// Issues QR login sessions to browsers, answers their polling (long-poll, SSE) and mints the web session token
/// (ES256, keys at /.well-known/jwks.json) once the phone has confirmed. Configured by environment variables
/// only; shares Redis with mobile-api and never calls it.
#[derive(clap::Parser, Debug)]
// term_width 0: the variable table keeps its columns (clap would wrap its lines flush left).
#[command(name = "web-gateway", version, after_help = env_help(), term_width = 0)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// What `check-config` prints on success: where it listens and what it uses, no secret.
pub fn summary(s: &Settings) -> Vec<SummaryLine> {
    let directory = match &s.directory {
        DirectorySettings::File(path) => format!("file {}", path.display()),
        // Scheme, host and port only: the URL may carry credentials.
        DirectorySettings::Http { base_url, .. } => match reqwest::Url::parse(base_url) {
            Ok(url) => format!("HTTP, {}", url.origin().ascii_serialization()),
            Err(_) => "HTTP".to_owned(),
        },
    };
    let t = &s.web_token;
    let mut lines = service_summary(&s.service);
    lines.extend([
        ("login window", format!("{} s, QR re-issued every {} s", s.session_ttl.as_secs(), s.qr_rotate.as_secs())),
        ("web token", format!("ES256, iss {}, aud {}, {} s", t.issuer, t.audience, t.ttl.as_secs())),
        ("user directory", directory),
        ("CORS origins", if s.cors_origins.is_empty() { "none".to_owned() } else { s.cors_origins.join(", ") }),
        ("Secure cookies", s.cookie_secure.to_string()),
        ("back-channel logout", delivered_to(s.deliveries.backchannel_logout_url.as_ref())),
        ("login webhook", delivered_to(s.deliveries.login_webhook.as_ref().map(|hook| &hook.url))),
    ]);
    lines
}

/// Scheme, host and port only: the URL may carry credentials.
fn delivered_to(url: Option<&reqwest::Url>) -> String {
    url.map_or_else(|| "off".to_owned(), |url| url.origin().ascii_serialization())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }
}
