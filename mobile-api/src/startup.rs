//! Builds mobile-api from its settings: the same code path for the binary and for tests (which bind port 0).

use std::net::TcpListener;

use actix_web::dev::{Server, ServerHandle};
use actix_web::http::header;
use actix_web::middleware::{DefaultHeaders, from_fn};
use actix_web::{App, HttpServer, web};
use qrlogin_shared::http::{
    access_log, healthz, json_config, method_not_allowed, not_found, path_error, problem_fallback, readyz,
    request_deadline,
};
use qrlogin_shared::rate_limit::RateLimiter;
use qrlogin_shared::store::{CreatePoolError, Decision};
use qrlogin_shared::verification::WeakSecret;
use qrlogin_shared::{KeySchema, Redis, SessionStore};

use crate::config::Settings;
use crate::context::PhoneContext;
use crate::limits::throttle_bad_tokens;
use crate::routes;
use crate::user_token::{BadKey, UserTokenValidator, authenticate};

/// Longest wait for a client to send its request head.
const HEAD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Largest request body: a QR link or a uuid and verification string fit many times over.
const BODY_LIMIT: usize = 4 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot listen on the configured address")]
    Bind(#[from] std::io::Error),
    #[error("invalid Redis settings")]
    Redis(#[from] CreatePoolError),
    #[error(transparent)]
    Secret(#[from] WeakSecret),
    #[error(transparent)]
    UserJwtKey(#[from] BadKey),
}

pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        let redis = Redis::connect(&settings.service.redis)?;
        let keys = KeySchema::new(settings.service.redis.key_prefix.clone());
        let tokens = web::Data::new(UserTokenValidator::new(&settings.user_jwt)?);
        let ctx = web::Data::new(PhoneContext {
            store: SessionStore::new(redis.clone(), keys.clone()),
            verifier: settings.service.verifier()?,
            base: settings.service.qr_base_url.clone(),
            limiter: RateLimiter::new(redis.clone(), keys),
            limits: settings.limits,
            trusted_proxies: settings.service.trusted_proxies.clone(),
        });
        let redis = web::Data::new(redis);

        let listener = TcpListener::bind(settings.service.listen_addr)?;
        let port = listener.local_addr()?.port();
        let server = HttpServer::new(move || {
            App::new()
                .wrap(from_fn(request_deadline))
                .wrap(problem_fallback())
                // No CORS headers at all: this API is for the app's backend and the app, never for web pages.
                .wrap(
                    DefaultHeaders::new()
                        .add((header::CACHE_CONTROL, "no-store"))
                        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff")),
                )
                .wrap(from_fn(throttle_bad_tokens))
                .wrap(from_fn(access_log))
                .app_data(json_config(BODY_LIMIT))
                .app_data(web::PathConfig::default().error_handler(path_error))
                .app_data(redis.clone())
                .app_data(ctx.clone())
                .app_data(tokens.clone())
                .configure(configure_routes)
        })
        .client_request_timeout(HEAD_TIMEOUT)
        .workers(settings.service.workers)
        .listen(listener)?
        .run();
        Ok(Self { port, server })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server gracefully; tests use it to end an instance.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

fn configure_routes(cfg: &mut web::ServiceConfig) {
    let resource = |path| web::resource(path).default_service(web::to(method_not_allowed));
    // The user's token is checked before anything of the request body is read.
    let authed = |path| resource(path).wrap(from_fn(authenticate));
    cfg.service(resource("/healthz").get(healthz).head(healthz))
        .service(resource("/readyz").get(readyz).head(readyz))
        .service(authed("/v1/scan").post(routes::scan))
        .service(authed("/v1/confirm").app_data(web::Data::new(Decision::Confirm)).post(routes::decide))
        .service(authed("/v1/deny").app_data(web::Data::new(Decision::Deny)).post(routes::decide))
        .default_service(web::to(not_found));
}
