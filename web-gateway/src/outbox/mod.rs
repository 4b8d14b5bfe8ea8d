//! Delivers what the web team's backend and the app's backend are owed after a login, from the durable queues in
//! Redis (`qrlogin_shared::store::outbox`): OpenID Connect back-channel logouts when a web session ends
//! ([`logout`]) and the signed "new login" webhook when one is claimed ([`webhook`]). Every gateway configured
//! for a kind delivers it; each event goes to one of them and leaves the queue only once its receiver answered
//! 2xx. A failed event is retried with doubling pauses; an attempt cut off by a dying gateway is taken over by
//! another. So a receiver may see an event twice (its answer lost), never not at all within [`MAX_AGE`].

mod logout;
mod webhook;

use std::time::{Duration, Instant, SystemTime};

use actix_web::web;
use futures_util::future::join_all;
use qrlogin_shared::store::{OutboxEvent, OutboxKind, Retry};

use crate::context::GatewayContext;

pub use webhook::{LoginWebhook, signature};

/// Bound on one delivery request, connect to answer.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
/// Retries: after 1 s, doubling up to 5 min; an attempt in flight for longer than any can take (the timeout,
/// with room to spare) belongs to a gateway that died.
pub const RETRY: Retry =
    Retry { base: Duration::from_secs(1), cap: Duration::from_secs(300), in_flight: Duration::from_secs(10) };
/// An event still undelivered this long after it was queued is dropped (and logged as an error).
pub const MAX_AGE: Duration = Duration::from_secs(24 * 3600);
/// How often an idle gateway looks for work; events taken per look.
const TICK: Duration = Duration::from_millis(250);
const BATCH: usize = 16;
/// Gateways that have held nothing and read nothing for an hour are gone: each instance forgets them this often.
const FORGET_EVERY: Duration = Duration::from_secs(600);
const GONE_AFTER: Duration = Duration::from_secs(3600);

/// Where each kind is delivered: none configured, nothing is queued.
#[derive(Clone, Debug, Default)]
pub struct DeliverySettings {
    /// `QRL_BACKCHANNEL_LOGOUT_URL`.
    pub backchannel_logout_url: Option<reqwest::Url>,
    /// `QRL_LOGIN_WEBHOOK_URL` and `_SECRET`.
    pub login_webhook: Option<LoginWebhook>,
}

/// Why an attempt failed: kept short, for the log line (never the URL, which may carry credentials).
#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error("answered {0}")]
    Status(reqwest::StatusCode),
    #[error("no answer: {0}")]
    Unreachable(&'static str),
    /// The event cannot become a request (written by an incompatible version): retrying cannot help.
    #[error("malformed event: {0}")]
    Malformed(&'static str),
}

/// One delivering loop per configured kind, on this instance, until it stops.
pub fn spawn(ctx: &web::Data<GatewayContext>, settings: &DeliverySettings) -> Result<(), reqwest::Error> {
    // No redirects: a receiver's URL is configured, not discovered.
    let http = reqwest::Client::builder().timeout(ATTEMPT_TIMEOUT).redirect(reqwest::redirect::Policy::none());
    let http = http.user_agent(concat!("qrlogin-web-gateway/", env!("CARGO_PKG_VERSION"))).build()?;
    let consumer = consumer_name();
    if let Some(url) = &settings.backchannel_logout_url {
        let receiver = Receiver::Logout(url.clone());
        tokio::spawn(deliver_all(Queue { ctx: ctx.clone(), http: http.clone(), receiver, consumer: consumer.clone() }));
    }
    if let Some(hook) = &settings.login_webhook {
        let receiver = Receiver::Login(hook.clone());
        tokio::spawn(deliver_all(Queue { ctx: ctx.clone(), http, receiver, consumer }));
    }
    Ok(())
}

/// This instance in the consumer group: unique per process, readable in `XINFO CONSUMERS`.
fn consumer_name() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "gateway".into());
    format!("{host}-{}-{}", std::process::id(), &uuid::Uuid::new_v4().simple().to_string()[..8])
}

#[derive(Clone)]
enum Receiver {
    Logout(reqwest::Url),
    Login(LoginWebhook),
}

impl Receiver {
    fn kind(&self) -> OutboxKind {
        match self {
            Self::Logout(_) => OutboxKind::Logout,
            Self::Login(_) => OutboxKind::Login,
        }
    }
}

struct Queue {
    ctx: web::Data<GatewayContext>,
    http: reqwest::Client,
    receiver: Receiver,
    consumer: String,
}

async fn deliver_all(queue: Queue) {
    let kind = queue.receiver.kind();
    tracing::info!(kind = kind.as_str(), consumer = %queue.consumer, "delivering queued events");
    let mut forgot_at = Instant::now();
    while !queue.ctx.shutdown.is_started() {
        if forgot_at.elapsed() >= FORGET_EVERY {
            forgot_at = Instant::now();
            queue.forget_gone_gateways().await;
        }
        let taken = queue.ctx.store.outbox_take(kind, &queue.consumer, BATCH, &RETRY).await;
        // A Redis fault is logged once by the Redis handle's outage tracking; the next tick tries again.
        let busy = match taken {
            Ok(events) => {
                join_all(events.iter().map(|event| queue.deliver(event))).await;
                events.len() == BATCH
            }
            Err(_) => false,
        };
        if !busy {
            tokio::select! {
                () = tokio::time::sleep(TICK) => {}
                () = queue.ctx.shutdown.started() => {}
            }
        }
    }
}

impl Queue {
    async fn forget_gone_gateways(&self) {
        let kind = self.receiver.kind();
        match self.ctx.store.outbox_forget(kind, &self.consumer, GONE_AFTER).await {
            Ok(0) | Err(_) => {}
            Ok(gone) => tracing::info!(kind = kind.as_str(), gone, "forgot gateways gone from the delivery group"),
        }
    }

    async fn deliver(&self, event: &OutboxEvent) {
        let kind = self.receiver.kind();
        let attempt = event.attempts + 1;
        let result = match &self.receiver {
            Receiver::Logout(url) => logout::deliver(&self.http, url, &self.ctx.signer, event).await,
            Receiver::Login(hook) => webhook::deliver(&self.http, hook, event).await,
        };
        let settled = match result {
            Ok(()) => {
                tracing::info!(kind = kind.as_str(), event = %event.id, attempt, "event delivered");
                qrlogin_shared::metrics::outbox_delivery(kind.as_str(), "delivered");
                self.ctx.store.outbox_delivered(kind, &self.consumer, event).await
            }
            Err(failure) if matches!(failure, Failure::Malformed(_)) || too_old(event) => {
                tracing::error!(kind = kind.as_str(), event = %event.id, attempt, %failure, "event dropped undelivered");
                qrlogin_shared::metrics::outbox_delivery(kind.as_str(), "dropped");
                self.ctx.store.outbox_delivered(kind, &self.consumer, event).await
            }
            Err(failure) => {
                let retry_in = RETRY.pause(attempt);
                tracing::warn!(kind = kind.as_str(), event = %event.id, attempt, %failure, ?retry_in, "delivery failed");
                qrlogin_shared::metrics::outbox_delivery(kind.as_str(), "failed");
                self.ctx.store.outbox_failed(kind, &self.consumer, event, &RETRY).await
            }
        };
        // Unsettled, the event is taken over once its attempt looks cut off: delivered again, or retried later.
        if let Err(e) = settled {
            tracing::debug!(error = %qrlogin_shared::ErrorChain(&e), event = %event.id, "could not settle an event");
        }
    }
}

fn too_old(event: &OutboxEvent) -> bool {
    let age = event.queued_at().and_then(|at| SystemTime::now().duration_since(at).ok());
    age.is_some_and(|age| age > MAX_AGE)
}

/// Sends `request`; only a 2xx answer counts as delivered.
async fn send(request: reqwest::RequestBuilder) -> Result<(), Failure> {
    let answer = request.send().await.map_err(|e| Failure::Unreachable(without_url(&e)))?;
    if answer.status().is_success() { Ok(()) } else { Err(Failure::Status(answer.status())) }
}

/// What went wrong, without the URL reqwest's errors quote.
fn without_url(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    }
}
