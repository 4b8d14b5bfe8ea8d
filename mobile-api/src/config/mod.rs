//! mobile-api's settings, from environment variables (see README "Configuration").

mod user_jwt;

use std::path::PathBuf;
use std::time::Duration;

use qrlogin_shared::config::{ConfigError, Env, ServiceSettings, device_memory, invalid};
use qrlogin_shared::rate_limit::Rate;
use qrlogin_shared::session::{CheckCodeMode, RiskLevel};

pub use user_jwt::{JwksSettings, MIN_USER_JWT_SECRET_BYTES, UserJwtKey, UserJwtSettings};

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
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let far_km: f64 = env.parse_or("QRL_RISK_FAR_KM", 500.0)?;
        if !(far_km.is_finite() && far_km > 0.0) {
            return Err(invalid("QRL_RISK_FAR_KM", "expected a positive number of kilometres"));
        }
        let block = match env.optional("QRL_RISK_BLOCK").as_deref().map(str::trim) {
            None | Some("") => None,
            Some(level) => match level.parse() {
                Ok(level @ (RiskLevel::Medium | RiskLevel::High)) => Some(level),
                _ => return Err(invalid("QRL_RISK_BLOCK", "expected high or medium")),
            },
        };
        Ok(Self {
            geo_db: env.optional("QRL_GEOIP_CITY_DB").map(PathBuf::from),
            far_km,
            block,
            device_memory: device_memory(env)?,
        })
    }
}

/// Abuse limits of the phone side, shared by every instance through Redis: per-user scan and decision rates and
/// invalid-token attempts per client IP.
#[derive(Debug, Clone, Copy)]
pub struct MobileLimits {
    pub scan_per_user: Rate,
    pub decide_per_user: Rate,
    pub bad_token_per_ip: Rate,
}

impl MobileLimits {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            scan_per_user: env.parse_or("QRL_LIMIT_SCAN_PER_USER", Rate::new(20, 60))?,
            decide_per_user: env.parse_or("QRL_LIMIT_DECIDE_PER_USER", Rate::new(20, 60))?,
            bad_token_per_ip: env.parse_or("QRL_LIMIT_BAD_TOKEN_PER_IP", Rate::new(20, 60))?,
        })
    }

    pub const fn unlimited() -> Self {
        let off = Rate::new(0, 0);
        Self { scan_per_user: off, decide_per_user: off, bad_token_per_ip: off }
    }
}

impl Settings {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            service: ServiceSettings::from_env(env, DEFAULT_PORT)?,
            user_jwt: UserJwtSettings::from_env(env)?,
            limits: MobileLimits::from_env(env)?,
            check_code: env.parse_or("QRL_CHECK_CODE", CheckCodeMode::Risky)?,
            risk: RiskSettings::from_env(env)?,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_map(pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect())
    }

    #[test]
    fn risk_settings_defaults_and_refusals() {
        let defaults = RiskSettings::from_env(&env(&[])).unwrap();
        assert_eq!((defaults.geo_db, defaults.far_km, defaults.block), (None, 500.0, None));
        let set = env(&[("QRL_RISK_BLOCK", "high"), ("QRL_RISK_FAR_KM", "250"), ("QRL_GEOIP_CITY_DB", "/x.mmdb")]);
        let set = RiskSettings::from_env(&set).unwrap();
        assert_eq!((set.block, set.far_km, set.geo_db), (Some(RiskLevel::High), 250.0, Some("/x.mmdb".into())));
        for bad in [("QRL_RISK_BLOCK", "low"), ("QRL_RISK_BLOCK", "sometimes"), ("QRL_RISK_FAR_KM", "-1")] {
            assert!(RiskSettings::from_env(&env(&[bad])).is_err(), "{bad:?}");
        }
    }
}
