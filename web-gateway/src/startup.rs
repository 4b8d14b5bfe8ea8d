//! Builds the gateway from its settings: the same code path for the binary and for tests (which bind port 0).

use std::net::TcpListener;
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use qrlogin_shared::http::{
    access_log, healthz, json_config, method_not_allowed, not_found, path_error, problem_fallback, query_error, readyz,
    request_deadline,
};
use qrlogin_shared::metrics::{self, Exporter};
use qrlogin_shared::rate_limit::RateLimiter;
use qrlogin_shared::{KeySchema, Redis, SessionStore};
use tokio::sync::watch;

use crate::config::{SessionPolicy, Settings};
use crate::context::GatewayContext;
use crate::directory::{self, DirectoryError};
use crate::push::{Notifier, listener};
use crate::web_token::{SigningError, WebTokenSigner};
use crate::{hardening, routes};

/// Longest wait for a client to send its request head.
const HEAD_TIMEOUT: Duration = Duration::from_secs(5);
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
    metrics_port: Option<u16>,
    server: Server,
    stopper: Stopper,
}

/// Stops an instance gracefully: waiting browsers are answered and event streams end (with the retry advice
/// they got first, so browsers reconnect elsewhere), then in-flight requests finish.
#[derive(Clone)]
pub struct Stopper {
    shutdown: std::sync::Arc<watch::Sender<bool>>,
    server: ServerHandle,
}

impl Stopper {
    pub async fn stop(&self) {
        self.shutdown.send_replace(true);
        self.server.stop(true).await;
    }
}

impl Application {
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        let redis_settings = &settings.service.redis;
        let redis = Redis::connect(redis_settings)?;
        let keys = KeySchema::new(redis_settings.key_prefix.clone());
        let signer = WebTokenSigner::new(&settings.web_token)?;
        tracing::info!(signing_kid = ?signer.kid(), published = signer.jwks().keys.len(), "web token keys loaded");
        let notifier = Notifier::new(settings.waiters);
        listener::spawn(notifier.clone(), redis_settings, keys.events_channel());
        let (shutdown, shutdown_rx) = watch::channel(false);
        let ctx = web::Data::new(GatewayContext {
            store: SessionStore::new(redis.clone(), keys.clone()),
            verifier: settings.service.verifier()?,
            base: settings.service.qr_base_url.clone(),
            signer,
            directory: directory::from_settings(&settings.directory)?,
            policy: SessionPolicy::from(&settings),
            limiter: RateLimiter::new(redis.clone(), keys),
            notifier,
            shutdown: shutdown_rx,
        });
        // `/metrics` on a listener of its own when configured: the public port then never answers it.
        let metrics_listener = settings.service.metrics_addr.map(TcpListener::bind).transpose()?;
        let metrics_addr = metrics_listener.as_ref().map(TcpListener::local_addr).transpose()?;
        let notifier = ctx.notifier.clone();
        let exporter = web::Data::new(
            Exporter::new(redis.clone(), metrics_addr).sample(move || metrics::waiting_browsers(notifier.waiting())),
        );
        let redis = web::Data::new(redis);
        let cors_origins = settings.cors_origins.clone();

        let listener = TcpListener::bind(settings.service.listen_addr)?;
        let port = listener.local_addr()?.port();
        let server = HttpServer::new(move || {
            App::new()
                .wrap(problem_fallback())
                .wrap(hardening::security_headers())
                .wrap(from_fn(access_log))
                .app_data(json_config(BODY_LIMIT))
                .app_data(web::PathConfig::default().error_handler(path_error))
                .app_data(web::QueryConfig::default().error_handler(query_error))
                .app_data(redis.clone())
                .app_data(ctx.clone())
                .app_data(exporter.clone())
                .configure(|cfg| configure_routes(cfg, &cors_origins))
        })
        .client_request_timeout(HEAD_TIMEOUT)
        // Waiting browsers are answered at once on shutdown, so this only bounds ordinary requests.
        .shutdown_timeout(settings.service.shutdown_timeout.as_secs())
        .disable_signals()
        .workers(settings.service.workers)
        .listen(listener)?;
        let server = match metrics_listener {
            Some(metrics) => server.listen(metrics)?,
            None => server,
        }
        .run();
        let stopper = Stopper { shutdown: std::sync::Arc::new(shutdown), server: server.handle() };
        Ok(Self { port, metrics_port: metrics_addr.map(|a| a.port()), server, stopper })
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

    pub fn stopper(&self) -> Stopper {
        self.stopper.clone()
    }

    /// Runs until SIGTERM or Ctrl-C, then stops gracefully (see [`Stopper`]).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let stopper = self.stopper.clone();
        tokio::spawn(async move {
            qrlogin_shared::telemetry::terminated().await;
            tracing::info!("shutting down: answering waiting browsers, finishing requests");
            stopper.stop().await;
        });
        self.server.await
    }
}

fn configure_routes(cfg: &mut web::ServiceConfig, cors_origins: &[String]) {
    let resource = |path| web::resource(path).default_service(web::to(method_not_allowed));
    cfg.service(resource("/").get(routes::index))
        .service(resource("/q/{code}").get(routes::landing))
        .service(resource("/static/{file}").get(routes::asset))
        .service(resource("/v1/me").get(routes::me))
        .service(resource("/healthz").get(healthz).head(healthz))
        .service(resource("/readyz").get(readyz).head(readyz))
        .service(resource("/metrics").get(qrlogin_shared::http::metrics))
        .service(resource("/.well-known/jwks.json").get(routes::jwks))
        .service(
            web::scope("/v1/qr")
                .wrap(hardening::cors(cors_origins))
                // Only create reads a body; waits and streams are long by design and end on their own.
                .service(resource("").wrap(from_fn(request_deadline)).post(routes::create))
                .service(resource("/{uuid}").get(routes::poll).delete(routes::cancel))
                .service(resource("/{uuid}/events").get(routes::events)),
        )
        .default_service(web::to(not_found));
}
