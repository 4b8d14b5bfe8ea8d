//! Builds mobile-api from its settings: the same code path for the binary and for tests (which bind port 0).

use std::net::TcpListener;

use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use qrlogin_shared::http::{access_log, healthz, json_config, not_found, path_error, readyz};
use qrlogin_shared::store::{CreatePoolError, Decision};
use qrlogin_shared::verification::WeakSecret;
use qrlogin_shared::{SessionStore, Verifier};

use crate::config::Settings;
use crate::routes;
use crate::user_token::{BadKey, UserTokenValidator};

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
        let store = web::Data::new(SessionStore::new(&settings.service.redis)?);
        let verifier = web::Data::new(Verifier::new(settings.service.signing_secret.clone(), Vec::new())?);
        let tokens = web::Data::new(UserTokenValidator::new(&settings.user_jwt)?);
        let base = web::Data::new(settings.service.qr_base_url.clone());

        let listener = TcpListener::bind(settings.service.listen_addr)?;
        let port = listener.local_addr()?.port();
        let server = HttpServer::new(move || {
            App::new()
                .wrap(from_fn(access_log))
                .app_data(json_config(BODY_LIMIT))
                .app_data(web::PathConfig::default().error_handler(path_error))
                .app_data(store.clone())
                .app_data(verifier.clone())
                .app_data(tokens.clone())
                .app_data(base.clone())
                .configure(configure_routes)
        })
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
    let decide = |path, d: Decision| {
        web::resource(path).app_data(web::Data::new(d)).route(web::post().to(routes::decide))
    };
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz))
        .route("/v1/scan", web::post().to(routes::scan))
        .service(decide("/v1/confirm", Decision::Confirm))
        .service(decide("/v1/deny", Decision::Deny))
        .default_service(web::to(not_found));
}
