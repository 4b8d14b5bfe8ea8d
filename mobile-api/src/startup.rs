//! Builds mobile-api from its settings: the same code path for the binary and for tests (which bind port 0).
//! Listeners, timeouts, headers and shutdown are the shared bootstrap's; this adds the phone's state and routes.

use actix_web::middleware::from_fn;
use actix_web::web;
use qrlogin_shared::config::{ConfigError, ConfigErrors};
use qrlogin_shared::http::request_deadline;
use qrlogin_shared::openapi::Published;
use qrlogin_shared::rate_limit::RateLimiter;
use qrlogin_shared::server::{Bootstrap, Server, Shutdown, resource};
use qrlogin_shared::store::Decision;
use qrlogin_shared::{KeySchema, Redis, SessionStore};

pub use qrlogin_shared::server::StartupError;

use crate::config::Settings;
use crate::context::PhoneContext;
use crate::middleware::{authenticate, throttle_bad_tokens};
use crate::risk::{GeoDb, RiskJudge};
use crate::routes;
use crate::user_token::UserTokenValidator;

/// mobile-api, started by [`Application::build`].
pub struct Application;

impl Application {
    /// What `check-config` adds to reading the settings: loads what they name (the user token key, the city
    /// database) and reports every problem, touching neither Redis nor a port. Every start does the same first.
    pub fn check(settings: &Settings) -> Result<(), ConfigErrors> {
        load(settings).map(drop)
    }

    pub async fn build(settings: Settings) -> Result<Server, StartupError> {
        let (tokens, geo) = load(&settings)?;
        let redis = Redis::connect(&settings.service.redis)?;
        let keys = KeySchema::new(settings.service.redis.key_prefix.clone());
        let tokens = web::Data::new(tokens);
        let risk = RiskJudge { geo, far_km: settings.risk.far_km, device_memory: settings.risk.device_memory };
        let ctx = web::Data::new(PhoneContext {
            store: SessionStore::new(redis.clone(), keys.clone()),
            verifier: settings.service.verifier()?,
            base: settings.service.qr_base_url.clone(),
            limiter: RateLimiter::new(redis.clone(), keys),
            blocked: Default::default(),
            limits: settings.limits,
            trusted_proxies: settings.service.trusted_proxies.clone(),
            check_code: settings.check_code,
            risk,
            risk_block: settings.risk.block,
        });
        // No CORS headers at all: this API is for the app's backend and the app, never for web pages.
        let doc = crate::openapi::document().map_err(StartupError::service)?;
        let doc = Published::new(&doc).map_err(StartupError::service)?;
        Bootstrap::new(&settings.service, redis, Shutdown::default()).openapi(doc).serve(move |cfg| {
            cfg.app_data(ctx.clone()).app_data(tokens.clone());
            configure_routes(cfg);
        })
    }
}

/// What the settings name and mobile-api loads before it connects to anything.
fn load(settings: &Settings) -> Result<(UserTokenValidator, GeoDb), ConfigErrors> {
    let tokens = UserTokenValidator::new(&settings.user_jwt).map_err(|e| ConfigError::unusable(&e));
    let geo = match &settings.risk.geo_db {
        Some(path) => GeoDb::open(path).map_err(|e| ConfigError::unusable(&e)),
        None => Ok(GeoDb::none()),
    };
    ConfigErrors::both(tokens, geo)
}

fn configure_routes(cfg: &mut web::ServiceConfig) {
    // Outermost first: the deadline bounds the whole request, refused tokens are counted, and the user's token
    // is checked before anything of the request body is read.
    let authed = |path| {
        resource(path).wrap(from_fn(authenticate)).wrap(from_fn(throttle_bad_tokens)).wrap(from_fn(request_deadline))
    };
    cfg.service(authed("/v1/scan").post(routes::scan))
        .service(authed("/v1/confirm").app_data(web::Data::new(Decision::Confirm)).post(routes::decide))
        .service(authed("/v1/deny").app_data(web::Data::new(Decision::Deny)).post(routes::decide))
        .service(authed("/v1/logins/{uuid}").get(routes::status))
        .service(authed("/v1/sessions").get(routes::sessions::list).delete(routes::sessions::end_all))
        .service(authed("/v1/sessions/{sid}").delete(routes::sessions::end));
}
