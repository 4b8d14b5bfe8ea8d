//! mobile-api's command line (README "Operating the binaries"): `serve`, the default, or `check-config`.

use qrlogin_shared::cli::{Command, SummaryLine, service_summary};

use crate::config::{Settings, UserJwtKey, env_help};

/// qrlogin mobile API: the app scans a login QR, then confirms or denies it.
///
/// The app user's backend-facing endpoints (/v1/scan, /v1/confirm, /v1/deny), behind the app user's JWT.
/// Configured by environment variables only; shares Redis with web-gateway and never calls it.
#[derive(clap::Parser, Debug)]
// term_width 0: the variable table keeps its columns (clap would wrap its lines flush left).
#[command(name = "mobile-api", version, after_help = env_help(), term_width = 0)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// What `check-config` prints on success: where it listens and what it uses, no secret.
pub fn summary(s: &Settings) -> Vec<SummaryLine> {
    let jwt = &s.user_jwt;
    let key = match &jwt.key {
        UserJwtKey::Secret(_) => format!("{:?} with a shared secret", jwt.algorithm),
        UserJwtKey::PublicPem(_) => format!("{:?} with a public key", jwt.algorithm),
        // Scheme, host and path: no query, which could carry a token.
        UserJwtKey::Jwks(jwks) => format!("JWKS from {}{}", jwks.url.origin().ascii_serialization(), jwks.url.path()),
    };
    let geo = s.risk.geo_db.as_ref().map_or_else(|| "none".to_owned(), |p| p.display().to_string());
    let block = s.risk.block.map_or_else(|| "never".to_owned(), |level| format!("from {}", <&str>::from(level)));
    let mut lines = service_summary(&s.service);
    lines.extend([
        ("user tokens", format!("{key}, iss {}, aud {}", jwt.issuer, jwt.audience)),
        ("check code", <&str>::from(s.check_code).to_owned()),
        ("city database", geo),
        ("risk block", block),
    ]);
    lines
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
