//! mobile-api's settings, from environment variables (see README "Configuration"); [`vars`] lists them for
//! `--help`.

mod user_jwt;
mod vars;

use std::path::PathBuf;
use std::time::Duration;

use qrlogin_shared::config::{ConfigErrors, Env, ServiceSettings, device_memory};
use qrlogin_shared::rate_limit::Rate;
use qrlogin_shared::session::{CheckCodeMode, RiskLevel};

pub use user_jwt::{JwksSettings, MIN_USER_JWT_SECRET_BYTES, UserJwtKey, UserJwtSettings};
pub use vars::{env_groups, env_help};

pub const DEFAULT_PORT: u16 = 8081;

#[derive(Debug)]
pub struct Settings {
    pub service: ServiceSettings,
    pub user_jwt: UserJwtSettings,
    pub limits: MobileLimits,
    /// When the user must type the number the browser shows to confirm (`QRL_CHECK_CODE`, default `risky`).
    pub check_code: CheckCodeMode,
    pub risk: RiskSettings,
}

/// The scan's risk verdict (README "Risk").
#[derive(Debug, Clone)]
pub struct RiskSettings {
    /// A MaxMind-format city database (`QRL_GEOIP_CITY_DB`); unset: no address is located.
    pub geo_db: Option<PathBuf>,
    /// Browser and phone further apart than this are `far_from_phone` (`QRL_RISK_FAR_KM`).
    pub far_km: f64,
    /// Confirming a login judged this risky or worse is refused (`QRL_RISK_BLOCK`); `None`: never.
    pub block: Option<RiskLevel>,
    /// A browser that logged in as the user within this long is a known device (`QRL_DEVICE_MEMORY_DAYS`).
    pub device_memory: Duration,
}

impl RiskSettings {
    /// Problems are noted in `env` (see [`Env::finish`]).
    pub fn read(env: &Env) -> Self {
        let far_km: f64 = env.parse_or("QRL_RISK_FAR_KM", 500.0);
        if !(far_km.is_finite() && far_km > 0.0) {
            env.invalid("QRL_RISK_FAR_KM", "expected a positive number of kilometres");
        }
        let block = env.parse_with("QRL_RISK_BLOCK", |level| match level.parse() {
            Ok(level @ (RiskLevel::Medium | RiskLevel::High)) => Ok(level),
            _ => Err("expected high or medium"),
        });
        let geo_db = env.optional("QRL_GEOIP_CITY_DB").map(PathBuf::from);
        // Whether it is a city database is checked where it is opened; a wrong path is found here with the rest.
        if let Some(path) = &geo_db
            && let Err(e) = std::fs::File::open(path)
        {
            env.invalid("QRL_GEOIP_CITY_DB", format!("cannot read {}: {e}", path.display()));
        }
        Self { geo_db, far_km, block, device_memory: device_memory(env) }
    }
}

/// Abuse limits of the phone side, shared by every instance through Redis: per-user scan and decision rates and
/// invalid-token attempts per client IP.
#[derive(Debug, Clone, Copy)]
pub struct MobileLimits {
    pub scan_per_user: Rate,
    pub decide_per_user: Rate,
    /// `GET /v1/logins/{uuid}`: an app waiting for the browser asks about once a second.
    pub status_per_user: Rate,
    pub bad_token_per_ip: Rate,
}

impl MobileLimits {
    /// Problems are noted in `env` (see [`Env::finish`]).
    pub fn read(env: &Env) -> Self {
        Self {
            scan_per_user: env.parse_or("QRL_LIMIT_SCAN_PER_USER", Rate::new(20, 60)),
            decide_per_user: env.parse_or("QRL_LIMIT_DECIDE_PER_USER", Rate::new(20, 60)),
            status_per_user: env.parse_or("QRL_LIMIT_STATUS_PER_USER", Rate::new(120, 60)),
            bad_token_per_ip: env.parse_or("QRL_LIMIT_BAD_TOKEN_PER_IP", Rate::new(20, 60)),
        }
    }

    pub const fn unlimited() -> Self {
        let off = Rate::new(0, 0);
        Self { scan_per_user: off, decide_per_user: off, status_per_user: off, bad_token_per_ip: off }
    }
}

impl Settings {
    /// Every problem at once, not only the first (`check-config` and a failed start list them all).
    pub fn from_env(env: &Env) -> Result<Self, ConfigErrors> {
        let settings = Self {
            service: ServiceSettings::read(env, DEFAULT_PORT),
            user_jwt: UserJwtSettings::read(env),
            limits: MobileLimits::read(env),
            check_code: env.parse_or("QRL_CHECK_CODE", CheckCodeMode::Risky),
            risk: RiskSettings::read(env),
        };
        env.finish(settings)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use super::*;

    fn risk(pairs: &[(&str, &str)]) -> Result<RiskSettings, ConfigErrors> {
        let env = Env::from_map(pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect());
        let settings = RiskSettings::read(&env);
        env.finish(settings)
    }

    #[test]
    fn risk_settings_defaults_and_refusals() {
        let defaults = risk(&[]).unwrap();
        assert_eq!((defaults.geo_db, defaults.far_km, defaults.block), (None, 500.0, None));
        let db = crate::test_support::CITY_DB;
        let set = risk(&[("QRL_RISK_BLOCK", "high"), ("QRL_RISK_FAR_KM", "250"), ("QRL_GEOIP_CITY_DB", db)]).unwrap();
        assert_eq!((set.block, set.far_km, set.geo_db), (Some(RiskLevel::High), 250.0, Some(db.into())));
        for bad in [("QRL_RISK_BLOCK", "low"), ("QRL_RISK_BLOCK", "sometimes"), ("QRL_RISK_FAR_KM", "-1")] {
            assert!(risk(&[bad]).is_err(), "{bad:?}");
        }
        let err = risk(&[("QRL_GEOIP_CITY_DB", "/nowhere/city.mmdb")]).unwrap_err().to_string();
        assert!(err.starts_with("QRL_GEOIP_CITY_DB is invalid: cannot read /nowhere/city.mmdb"), "{err}");
    }
}
