//! Builds the gateway from its settings: the same code path for the binary and for tests (which bind port 0).
//! Listeners, timeouts, headers and shutdown are the shared bootstrap's; this adds the gateway's state and
//! routes.

use std::sync::Arc;

use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::from_fn;
use actix_web::web;
use qrlogin_shared::config::{ConfigError, ConfigErrors};
use qrlogin_shared::http::request_deadline;
use qrlogin_shared::metrics;
use qrlogin_shared::openapi::Published;
use qrlogin_shared::server::{Bootstrap, Server, Shutdown, resource};
use qrlogin_shared::{KeySchema, Redis, SessionStore};

pub use qrlogin_shared::server::{StartupError, Stopper};

use crate::config::{SessionPolicy, Settings};
use crate::context::GatewayContext;
use crate::directory::UserDirectory;
use crate::origin::AllowedOrigins;
use crate::push::{Notifier, listener};
use crate::web_token::WebTokenSigner;
use crate::{cors, directory, openapi, outbox, routes};

/// The gateway, started by [`Application::build`].
pub struct Application;

impl Application {
    /// What `check-config` adds to reading the settings: loads what they name (the web token keys, the user
    /// directory) and reports every problem, touching neither Redis nor a port. Every start does the same first.
    pub fn check(settings: &Settings) -> Result<(), ConfigErrors> {
        Loaded::new(settings).map(drop)
    }

    pub async fn build(settings: Settings) -> Result<Server, StartupError> {
        let Loaded { signer, directory } = Loaded::new(&settings)?;
        let redis = Redis::connect(&settings.service.redis)?;
        let keys = KeySchema::new(settings.service.redis.key_prefix.clone());
        tracing::info!(signing_kid = ?signer.kid(), published = signer.jwks().keys.len(), "web token keys loaded");
        let notifier = Notifier::new(settings.waiters);
        listener::spawn(notifier.clone(), redis.clone(), keys.clone());
        let shutdown = Shutdown::default();
        let ctx = web::Data::new(GatewayContext {
            store: SessionStore::new(redis.clone(), keys),
            verifier: settings.service.verifier()?,
            base: settings.service.qr_base_url.clone(),
            signer,
            directory,
            policy: SessionPolicy::from(&settings),
            origins: AllowedOrigins::new(settings.service.qr_base_url.as_str(), &settings.cors_origins),
            introspection: settings.introspection_clients.clone(),
            notifier: notifier.clone(),
            shutdown: shutdown.clone(),
        });
        outbox::spawn(&ctx, &settings.deliveries).map_err(StartupError::service)?;
        let cors_origins = settings.cors_origins.clone();
        let doc = openapi::document().map_err(StartupError::service)?;
        let doc = Published::new(&doc).map_err(StartupError::service)?;
        let mut bootstrap = Bootstrap::new(&settings.service, redis, shutdown).openapi(doc);
        if let Some(max_age) = settings.hsts {
            let value =
                HeaderValue::try_from(format!("max-age={}", max_age.as_secs())).map_err(StartupError::service)?;
            bootstrap = bootstrap.header(header::STRICT_TRANSPORT_SECURITY, value);
        }
        let sample = move || {
            metrics::waiting_browsers(notifier.waiting());
            metrics::push_events(notifier.received());
        };
        bootstrap.sample(sample).serve(move |cfg| {
            cfg.app_data(ctx.clone());
            configure_routes(cfg, &cors_origins);
        })
    }
}

/// What the settings name and the gateway loads before it connects to anything.
struct Loaded {
    signer: WebTokenSigner,
    directory: Arc<dyn UserDirectory>,
}

impl Loaded {
    fn new(settings: &Settings) -> Result<Self, ConfigErrors> {
        let signer = WebTokenSigner::new(&settings.web_token).map_err(|e| ConfigError::unusable(&e));
        let directory = directory::from_settings(&settings.directory).map_err(|e| ConfigError::unusable(&e));
        let (signer, directory) = ConfigErrors::both(signer, directory)?;
        Ok(Self { signer, directory })
    }
}

fn configure_routes(cfg: &mut web::ServiceConfig, cors_origins: &[String]) {
    cfg.service(resource("/").get(routes::index))
        .service(resource("/q/{code}").get(routes::landing))
        .service(resource("/static/{file}").get(routes::asset))
        .service(resource("/v1/me").get(routes::me))
        .service(resource("/v1/introspect").post(routes::introspect::introspect))
        .service(resource("/.well-known/jwks.json").get(routes::jwks))
        .service(
            web::scope("/v1/qr")
                .wrap(cors::cors(cors_origins))
                // Only create reads a body; waits and streams are long by design and end on their own.
                .service(resource("").wrap(from_fn(request_deadline)).post(routes::create))
                .service(resource("/{uuid}").get(routes::poll).delete(routes::cancel))
                .service(resource("/{uuid}/events").get(routes::events)),
        );
}
