use std::cell::Cell;
use std::time::Duration;

use actix_web::http::header::ContentType;
use actix_web::{HttpRequest, HttpResponse, web};
use qrlogin_shared::session::Status;
use serde::Deserialize;

use crate::context::GatewayContext;
use crate::error::GatewayError;
use crate::push::next_change;
use crate::session_view::{Read, advance};

/// Longest a long-poll may wait: below the usual 60 s proxy read timeout.
const MAX_WAIT_SECS: u64 = 30;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PollQuery {
    /// Seconds to wait for a change (long-poll), at most 30 (more is taken as 30); absent or 0: answer at once.
    #[param(maximum = 30)]
    wait: Option<u64>,
    /// The status the browser already shows; a long-poll answers as soon as it differs.
    #[param(value_type = Option<Status>)]
    known: Option<String>,
}

/// `GET /v1/qr/{uuid}[?wait=<s>&known=<status>]`: the browser's poll or long-poll. Answers the state; once
/// confirmed, hands out the web token to the browser holding the binding cookie, one token per login
/// (repeated to that browser during the grace window).
#[utoipa::path(get, path = "/v1/qr/{uuid}", tag = "browser", operation_id = "pollLogin",
    summary = "The login's state; once confirmed, the web token (exactly once per login)",
    params(super::SessionParams, PollQuery),
    responses((status = 200, description = "The state; `confirmed` carries the token, repeated to this browser \
        during QRL_CLAIM_GRACE_SECS", body = crate::session_view::Answer)))]
#[tracing::instrument(skip_all, fields(session))]
pub async fn poll(
    req: HttpRequest,
    uuid: web::Path<String>,
    query: web::Query<PollQuery>,
    ctx: web::Data<GatewayContext>,
) -> Result<HttpResponse, GatewayError> {
    let (id, binding) = super::browser_session(&req, &uuid, &ctx.policy)?;
    let ip = super::client_ip(&req, &ctx.policy);
    let wait = Duration::from_secs(query.wait.unwrap_or(0).min(MAX_WAIT_SECS));
    let known = match query.known.as_deref() {
        Some(k) => Some(k.parse::<Status>().map_err(|_| GatewayError::BadQuery("known must be a status"))?),
        None => None,
    };
    let read = |interval| Read { id: &id, binding: &binding, interval, with_qr: false, ip: &ip };
    let paced = ctx.policy.enforced_poll_interval;
    let snapshot = if wait.is_zero() {
        advance(&ctx, read(paced)).await?
    } else {
        // Waits until the status differs from `known`, the QR is re-issued, or `wait` ends (then the unchanged
        // status). Entering a wait is a poll like any other and paced as one: a long-poll that answers at once
        // (`known` already stale) must not become an unpaced loop. The re-reads inside the wait are paced by
        // notifications instead.
        let watch = ctx.notifier.watch(id, super::client_subject(&req, &ctx.policy)).map_err(GatewayError::from)?;
        let until = tokio::time::Instant::now() + wait;
        let changed = |s: &crate::session_view::Snapshot| known != Some(s.status) || s.rotated || s.is_final();
        let entering = Cell::new(true);
        let reread = || read(if entering.replace(false) { paced } else { Duration::ZERO });
        next_change(&ctx, &watch, reread, until, changed).await?.into_snapshot()
    };
    Ok(super::no_store(HttpResponse::Ok()).content_type(ContentType::json()).body(snapshot.body))
}
