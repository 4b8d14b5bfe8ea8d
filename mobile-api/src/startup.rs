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
use qrlogin_shared::metrics::Exporter;
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
    metrics_port: Option<u16>,
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
        // `/metrics` on a listener of its own when configured: the public port then never answers it.
        let metrics_listener = settings.service.metrics_addr.map(TcpListener::bind).transpose()?;
        let metrics_addr = metrics_listener.as_ref().map(TcpListener::local_addr).transpose()?;
        let exporter = web::Data::new(Exporter::new(redis.clone(), metrics_addr));
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
                .app_data(exporter.clone())
                .configure(configure_routes)
        })
        .client_request_timeout(HEAD_TIMEOUT)
        .shutdown_timeout(settings.service.shutdown_timeout.as_secs())
        // SIGTERM is handled in `run_until_stopped`, the same way as on the gateway.
        .disable_signals()
        .workers(settings.service.workers)
        .listen(listener)?;
        let server = match metrics_listener {
            Some(metrics) => server.listen(metrics)?,
            None => server,
        }
        .run();
        Ok(Self { port, metrics_port: metrics_addr.map(|a| a.port()), server })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port of `QRL_METRICS_ADDR`, when set (tests bind port 0 and read it back).
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics_port
    }

    /// Stops the server gracefully; tests use it to end an instance.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Runs until SIGTERM or Ctrl-C, then stops accepting connections and lets in-flight requests finish,
    /// within `QRL_SHUTDOWN_TIMEOUT_SECS`.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let handle = self.server.handle();
        tokio::spawn(async move {
            qrlogin_shared::telemetry::terminated().await;
            tracing::info!("shutting down: finishing requests");
            handle.stop(true).await;
        });
        self.server.await
    }
}

fn configure_routes(cfg: &mut web::ServiceConfig) {
    let resource = |path| web::resource(path).default_service(web::to(method_not_allowed));
    // The user's token is checked before anything of the request body is read.
    let authed = |path| resource(path).wrap(from_fn(authenticate));
    cfg.service(resource("/healthz").get(healthz).head(healthz))
        .service(resource("/readyz").get(readyz).head(readyz))
        .service(resource("/metrics").get(qrlogin_shared::http::metrics))
        .service(authed("/v1/scan").post(routes::scan))
        .service(authed("/v1/confirm").app_data(web::Data::new(Decision::Confirm)).post(routes::decide))
        .service(authed("/v1/deny").app_data(web::Data::new(Decision::Deny)).post(routes::decide))
        .default_service(web::to(not_found));
}
