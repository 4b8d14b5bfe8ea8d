//! Builds the gateway from its settings: the same code path for the binary and for tests (which bind port 0).

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use qrlogin_shared::http::{
    access_log, healthz, json_config, method_not_allowed, not_found, path_error, problem_fallback, readyz,
    request_deadline,
};
use qrlogin_shared::rate_limit::RateLimiter;
use qrlogin_shared::{KeySchema, Redis, SessionStore};

use crate::config::{SessionPolicy, Settings};
use crate::directory::{self, DirectoryError, UserDirectory};
use crate::web_token::{SigningError, WebTokenSigner};
use crate::{hardening, routes};

/// Longest wait for a client to send its request head.
const HEAD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Largest request body the gateway reads: its endpoints take none worth more.
const BODY_LIMIT: usize = 4 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot listen on the configured address")]
    Bind(#[from] std::io::Error),
    #[error("invalid Redis settings")]
    Redis(#[from] qrlogin_shared::store::CreatePoolError),
    #[error(transparent)]
    Secret(#[from] qrlogin_shared::verification::WeakSecret),
    #[error(transparent)]
    Signing(#[from] SigningError),
    #[error(transparent)]
    Directory(#[from] DirectoryError),
}

pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        let redis = Redis::connect(&settings.service.redis)?;
        let keys = KeySchema::new(settings.service.redis.key_prefix.clone());
        let store = web::Data::new(SessionStore::new(redis.clone(), keys.clone()));
        let limiter = web::Data::new(RateLimiter::new(redis.clone(), keys));
        let redis = web::Data::new(redis);
        let verifier = web::Data::new(settings.service.verifier()?);
        let signer = web::Data::new(WebTokenSigner::new(&settings.web_token)?);
        tracing::info!(signing_kid = ?signer.kid(), published = signer.jwks().keys.len(), "web token keys loaded");
        let directory: web::Data<Arc<dyn UserDirectory>> =
            web::Data::new(directory::from_settings(&settings.directory)?);
        let base = web::Data::new(settings.service.qr_base_url.clone());
        let policy = web::Data::new(SessionPolicy::from(&settings));
        let cors_origins = settings.cors_origins.clone();

        let listener = TcpListener::bind(settings.service.listen_addr)?;
        let port = listener.local_addr()?.port();
        let server = HttpServer::new(move || {
            App::new()
                .wrap(from_fn(request_deadline))
                .wrap(problem_fallback())
                .wrap(hardening::security_headers())
                .wrap(from_fn(access_log))
                .app_data(json_config(BODY_LIMIT))
                .app_data(web::PathConfig::default().error_handler(path_error))
                .app_data(redis.clone())
                .app_data(store.clone())
                .app_data(limiter.clone())
                .app_data(verifier.clone())
                .app_data(signer.clone())
                .app_data(directory.clone())
                .app_data(base.clone())
                .app_data(policy.clone())
                .configure(|cfg| configure_routes(cfg, &cors_origins))
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

fn configure_routes(cfg: &mut web::ServiceConfig, cors_origins: &[String]) {
    let resource = |path| web::resource(path).default_service(web::to(method_not_allowed));
    cfg.service(resource("/healthz").get(healthz).head(healthz))
        .service(resource("/readyz").get(readyz).head(readyz))
        .service(resource("/.well-known/jwks.json").get(routes::jwks))
        .service(
            web::scope("/v1/qr")
                .wrap(hardening::cors(cors_origins))
                .service(resource("").post(routes::create))
                .service(resource("/{uuid}").get(routes::poll).delete(routes::cancel)),
        )
        .default_service(web::to(not_found));
}
