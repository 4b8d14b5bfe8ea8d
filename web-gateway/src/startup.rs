//! Builds the gateway from its settings: the same code path for the binary and for tests (which bind port 0).

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use qrlogin_shared::http::{access_log, healthz, json_config, not_found, path_error, readyz};
use qrlogin_shared::{SessionStore, Verifier};

use crate::config::{SessionPolicy, Settings};
use crate::directory::{self, DirectoryError, UserDirectory};
use crate::routes;
use crate::web_token::{SigningError, WebTokenSigner};

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
        let store = web::Data::new(SessionStore::new(&settings.service.redis)?);
        let verifier = web::Data::new(Verifier::new(settings.service.signing_secret.clone(), Vec::new())?);
        let signer = web::Data::new(WebTokenSigner::new(&settings.web_token)?);
        let directory: web::Data<Arc<dyn UserDirectory>> = web::Data::new(directory::from_settings(&settings.directory)?);
        let base = web::Data::new(settings.service.qr_base_url.clone());
        let policy = web::Data::new(SessionPolicy::from(&settings));

        let listener = TcpListener::bind(settings.service.listen_addr)?;
        let port = listener.local_addr()?.port();
        let server = HttpServer::new(move || {
            App::new()
                .wrap(from_fn(access_log))
                .app_data(json_config(BODY_LIMIT))
                .app_data(web::PathConfig::default().error_handler(path_error))
                .app_data(store.clone())
                .app_data(verifier.clone())
                .app_data(signer.clone())
                .app_data(directory.clone())
                .app_data(base.clone())
                .app_data(policy.clone())
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
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz))
        .route("/.well-known/jwks.json", web::get().to(routes::jwks))
        .service(
            web::scope("/v1/qr")
                .route("", web::post().to(routes::create))
                .route("/{uuid}", web::get().to(routes::poll))
                .route("/{uuid}", web::delete().to(routes::cancel)),
        )
        .default_service(web::to(not_found));
}

