use std::time::Duration;

use actix_web::http::header::ContentType;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use crate::binding;
use crate::context::GatewayContext;
use crate::error::GatewayError;
use crate::push::Watch;
use crate::session_view::{Read, Snapshot, observe};

/// Longest a long-poll may wait: below the usual 60 s proxy read timeout.
const MAX_WAIT_SECS: u64 = 30;
const STATUSES: [&str; 6] = ["pending", "scanned", "denied", "cancelled", "expired", "confirmed"];

#[derive(Deserialize)]
pub struct PollQuery {
    /// Seconds to wait for a change (long-poll), at most 30; absent or 0: answer at once.
    wait: Option<u64>,
    /// The status the browser already shows; a long-poll answers as soon as it differs.
    known: Option<String>,
}

/// `GET /v1/qr/{uuid}[?wait=<s>&known=<status>]`: the browser's poll or long-poll. Answers the state; once
/// confirmed, hands out the web token to the browser holding the binding cookie, one token per login
/// (repeated to that browser during the grace window).
#[tracing::instrument(skip_all, fields(session))]
pub async fn poll(
    req: HttpRequest,
    uuid: web::Path<String>,
    query: web::Query<PollQuery>,
    ctx: web::Data<GatewayContext>,
) -> Result<HttpResponse, GatewayError> {
    let id = super::session_id(&uuid)?;
    tracing::Span::current().record("session", tracing::field::display(&id));
    let binding = binding::of_request(&req).ok_or(GatewayError::BindingMismatch)?;
    let ip = super::client_ip(&req, &ctx.policy);
    let wait = Duration::from_secs(query.wait.unwrap_or(0).min(MAX_WAIT_SECS));
    let known = match query.known.as_deref() {
        Some(k) if !STATUSES.contains(&k) => return Err(GatewayError::BadQuery("known must be a status")),
        k => k,
    };
    let read = |interval| Read { id: &id, binding: &binding, interval, with_qr: false, ip: &ip };
    let snapshot = if wait.is_zero() {
        observe(&ctx, read(ctx.policy.enforced_poll_interval)).await?
    } else {
        let watch = ctx.notifier.watch(id).map_err(GatewayError::from)?;
        long_poll(&ctx, &watch, || read(Duration::ZERO), known, wait).await?
    };
    Ok(super::no_store(HttpResponse::Ok()).content_type(ContentType::json()).body(snapshot.body))
}

/// Waits until the status differs from `known`, the QR is re-issued, or `wait` ends (then the unchanged
/// status). Every wake-up re-reads Redis, the source of truth.
async fn long_poll<'a>(
    ctx: &GatewayContext,
    watch: &Watch,
    read: impl Fn() -> Read<'a>,
    known: Option<&str>,
    wait: Duration,
) -> Result<Snapshot, GatewayError> {
    let deadline = tokio::time::Instant::now() + wait;
    let mut shutdown = ctx.shutdown.clone();
    loop {
        let notify = watch.notify();
        let notified = notify.notified();
        tokio::pin!(notified);
        // Enabled before the read: a transition published during the read still wakes us.
        notified.as_mut().enable();
        let snapshot = observe(ctx, read()).await?;
        let changed = known != Some(snapshot.status) || snapshot.rotated || snapshot.is_final();
        if changed || tokio::time::Instant::now() >= deadline || *shutdown.borrow() {
            return Ok(snapshot);
        }
        let wake_at = snapshot.wake_in.map_or(deadline, |due| deadline.min(tokio::time::Instant::now() + due));
        tokio::select! {
            () = &mut notified => {}
            () = tokio::time::sleep_until(wake_at) => {}
            _ = shutdown.changed() => {}
        }
    }
}
