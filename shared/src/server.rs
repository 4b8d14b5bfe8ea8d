//! The one service bootstrap: both binaries (and the tests, which bind port 0) start through [`Bootstrap`]. It
//! binds the public and the metrics listener, sets the timeouts, the security headers, the access log, the
//! problem+json error shape and the health and metrics endpoints; each service adds only its routes and data.
//! Stopping goes through one [`Shutdown`]: waiters are answered first, then in-flight requests finish.
//!
//! Every connection is bounded: a request head within [`HEAD_TIMEOUT`], its body within
//! [`crate::http::BODY_TIMEOUT`] (`http/body.rs`), an answer that leaves a body unread closes the connection
//! after at most [`LINGER`], an idle keep-alive connection closes after [`KEEP_ALIVE`].

use crate::openapi::{Published, openapi_json};
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{ServerHandle, ServiceRequest, ServiceResponse};
use actix_web::http::{ConnectionType, header};
use actix_web::middleware::{DefaultHeaders, Next, from_fn};
use actix_web::{App, HttpServer, web};
use tokio::sync::watch;

use crate::config::{ConfigErrors, ServiceSettings};
use crate::http::{
    access_log, close_error, form_config, healthz, hold_body, json_config, method_not_allowed, not_found, path_error,
    problem_fallback, query_error, readyz,
};
use crate::metrics::Exporter;
use crate::redis_conn::{CreatePoolError, Redis};

/// Longest wait for a client to send its request head.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(5);
/// After an answer that left the request body unread (or a malformed one), how long the connection may linger
/// for the client to read the answer before it is closed.
pub const LINGER: Duration = Duration::from_secs(1);
/// How long an idle keep-alive connection stays open.
pub const KEEP_ALIVE: Duration = Duration::from_secs(5);
/// After SIGTERM, how long an instance still reads requests on the connections it holds (answering each with
/// `Connection: close`) before it closes the idle ones: a request sent just as the stop began is answered, not
/// cut off.
pub const STOP_GRACE: Duration = Duration::from_secs(1);
/// Largest request body either service reads: a QR link or a uuid and verification string fit many times over.
pub const BODY_LIMIT: usize = 4 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// Settings that cannot work: the binaries exit 2 listing every problem, as `check-config` does.
    #[error(transparent)]
    Config(#[from] ConfigErrors),
    #[error("cannot listen on {addr}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("cannot start the HTTP server")]
    Io(#[from] std::io::Error),
    #[error("invalid Redis settings")]
    Redis(#[from] CreatePoolError),
    #[error(transparent)]
    Secret(#[from] crate::verification::WeakSecret),
    /// What only one service needs at start-up (its signing key, its user directory, its token keys).
    #[error(transparent)]
    Service(Box<dyn std::error::Error + Send + Sync>),
}

impl StartupError {
    pub fn service(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Service(Box::new(e))
    }
}

/// Turns true once the instance is stopping. Waiting browsers are answered at once, event streams end.
#[derive(Clone, Debug)]
pub struct Shutdown(Arc<watch::Sender<bool>>);

impl Default for Shutdown {
    fn default() -> Self {
        Self(Arc::new(watch::channel(false).0))
    }
}

impl Shutdown {
    pub fn is_started(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves once stopping has begun (at once if it already has).
    pub async fn started(&self) {
        let mut rx = self.0.subscribe();
        // The sender lives as long as `self`: the wait cannot fail.
        let _ = rx.wait_for(|stopping| *stopping).await;
    }

    fn start(&self) {
        self.0.send_replace(true);
    }
}

/// Stops an instance gracefully: [`Shutdown`] first (waiters answered, streams ended with the retry advice they
/// got first, so browsers reconnect elsewhere), then in-flight requests finish within the shutdown timeout.
#[derive(Clone)]
pub struct Stopper {
    shutdown: Shutdown,
    server: ServerHandle,
}

impl Stopper {
    pub async fn stop(&self) {
        self.shutdown.start();
        tokio::time::sleep(STOP_GRACE).await;
        self.server.stop(true).await;
    }
}

/// What a service adds to the common app: its data and routes (a `web::ServiceConfig` callback, run per worker).
pub struct Bootstrap<'a> {
    settings: &'a ServiceSettings,
    redis: Redis,
    shutdown: Shutdown,
    sample: Option<Arc<dyn Fn() + Send + Sync>>,
    headers: Vec<(header::HeaderName, header::HeaderValue)>,
    openapi: Option<web::Data<Published>>,
}

impl<'a> Bootstrap<'a> {
    pub fn new(settings: &'a ServiceSettings, redis: Redis, shutdown: Shutdown) -> Self {
        Self { settings, redis, shutdown, sample: None, headers: Vec::new(), openapi: None }
    }

    /// The service's OpenAPI document, served at `GET /openapi.json`.
    pub fn openapi(mut self, doc: Published) -> Self {
        self.openapi = Some(web::Data::new(doc));
        self
    }

    /// A header every answer carries besides the security headers (the gateway's HSTS, when configured).
    pub fn header(mut self, name: header::HeaderName, value: header::HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    /// A gauge of the service's own, read at each scrape of `/metrics`.
    pub fn sample(self, sampler: impl Fn() + Send + Sync + 'static) -> Self {
        Self { sample: Some(Arc::new(sampler)), ..self }
    }

    /// Binds, starts the workers and returns the running server.
    pub fn serve<R>(self, routes: R) -> Result<Server, StartupError>
    where
        R: Fn(&mut web::ServiceConfig) + Send + Clone + 'static,
    {
        let settings = self.settings;
        // `/metrics` on a listener of its own when configured: the public port then never answers it.
        let metrics_listener = settings.metrics_addr.map(bind).transpose()?;
        let metrics_addr = metrics_listener.as_ref().map(TcpListener::local_addr).transpose()?;
        let mut exporter = Exporter::new(self.redis.clone(), metrics_addr);
        crate::audit::export_counters();
        if let Some(sample) = self.sample {
            exporter = exporter.sample(move || sample());
        }
        let exporter = web::Data::new(exporter);
        let redis = web::Data::new(self.redis);
        // The access log's: whose `traceparent` a request span may adopt.
        let proxies = web::Data::new(settings.trusted_proxies.clone());
        let listener = bind(settings.listen_addr)?;
        let port = listener.local_addr()?.port();
        let headers = self.headers;
        let stopping = web::Data::new(self.shutdown.clone());
        let openapi = self.openapi;
        let server = HttpServer::new(move || {
            App::new()
                .wrap(problem_fallback())
                .wrap(security_headers(&headers))
                .wrap(from_fn(access_log))
                .wrap(from_fn(close_when_stopping))
                .wrap(from_fn(hold_body))
                .app_data(stopping.clone())
                .app_data(json_config(BODY_LIMIT))
                .app_data(form_config(BODY_LIMIT))
                .app_data(web::PathConfig::default().error_handler(path_error))
                .app_data(web::QueryConfig::default().error_handler(query_error))
                .app_data(redis.clone())
                .app_data(exporter.clone())
                .app_data(proxies.clone())
                .configure(health_routes)
                .configure(|cfg| {
                    if let Some(doc) = &openapi {
                        cfg.app_data(doc.clone()).service(resource("/openapi.json").get(openapi_json));
                    }
                })
                .configure(routes.clone())
                .default_service(web::to(not_found))
        })
        .client_request_timeout(HEAD_TIMEOUT)
        .client_disconnect_timeout(LINGER)
        .keep_alive(KEEP_ALIVE)
        // Waiters are answered at once on shutdown, so this only bounds ordinary requests.
        .shutdown_timeout(settings.shutdown_timeout.as_secs())
        // SIGTERM is handled by `run_until_stopped`, through the same Stopper the tests use.
        .disable_signals()
        .workers(settings.workers)
        .listen(listener)?;
        let server = match metrics_listener {
            Some(metrics) => server.listen(metrics)?,
            None => server,
        }
        .run();
        let stopper = Stopper { shutdown: self.shutdown, server: server.handle() };
        Ok(Server { port, metrics_port: metrics_addr.map(|a| a.port()), server, stopper })
    }
}

/// Once stopping has begun every answer closes its connection, so no client sends another request on it.
async fn close_when_stopping(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let shutdown = req.app_data::<web::Data<Shutdown>>().cloned();
    let stopping = move || shutdown.as_ref().is_some_and(|s| s.is_started());
    match next.call(req).await {
        Ok(mut res) => {
            if stopping() {
                res.response_mut().head_mut().set_connection_type(ConnectionType::Close);
            }
            Ok(res)
        }
        Err(e) if stopping() => Err(close_error(e)),
        Err(e) => Err(e),
    }
}

/// The error names the address, so an operator sees which setting holds a port already taken.
fn bind(addr: SocketAddr) -> Result<TcpListener, StartupError> {
    TcpListener::bind(addr).map_err(|source| StartupError::Bind { addr, source })
}

/// A resource answering only the methods its routes name; any other method is a 405 problem.
pub fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(method_not_allowed))
}

fn health_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/healthz").get(healthz).head(healthz))
        .service(resource("/readyz").get(readyz).head(readyz))
        .service(resource("/metrics").get(crate::http::metrics));
}

/// Added to every response that does not set its own (a page its CSP, the JWKS its `Cache-Control`). Answers
/// are data, never documents: nothing may run, load, sniff or frame them, and no cache may keep one-time
/// material.
fn security_headers(extra: &[(header::HeaderName, header::HeaderValue)]) -> DefaultHeaders {
    let headers = DefaultHeaders::new()
        .add((header::CONTENT_SECURITY_POLICY, "default-src 'none'; frame-ancestors 'none'"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::REFERRER_POLICY, "no-referrer"))
        .add((header::CACHE_CONTROL, "no-store"));
    extra.iter().cloned().fold(headers, DefaultHeaders::add)
}

/// A running service instance.
pub struct Server {
    port: u16,
    metrics_port: Option<u16>,
    server: actix_web::dev::Server,
    stopper: Stopper,
}

impl Server {
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port of `QRL_METRICS_ADDR`, when set (tests bind port 0 and read it back).
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics_port
    }

    /// The server alone, without answering waiters first; tests use it to end an instance abruptly.
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
            crate::telemetry::terminated().await;
            tracing::info!("shutting down: answering waiting clients, finishing requests");
            stopper.stop().await;
        });
        self.server.await
    }
}
