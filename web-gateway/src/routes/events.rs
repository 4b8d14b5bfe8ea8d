use std::time::Duration;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, Responder, web};
use actix_web_lab::sse;
use futures_util::stream;
use qrlogin_shared::SessionId;

use crate::binding::Binding;
use crate::context::GatewayContext;
use crate::error::GatewayError;
use crate::push::{Watch, Woken, next_change};
use crate::session_view::{Read, Snapshot, advance};

/// A comment line this often keeps proxies from closing an idle stream.
const HEARTBEAT: Duration = Duration::from_secs(15);
/// Advised reconnection delay, sent first on every stream.
const RETRY: Duration = Duration::from_secs(2);
/// Longest a stream waits without re-reading the state: sessions that simply time out publish nothing.
const REREAD: Duration = Duration::from_secs(15);

/// `GET /v1/qr/{uuid}/events`: Server-Sent Events. Each `status` event carries the poll's JSON body and the
/// session version as its id; the stream ends after the final state (with the token, once confirmed). A
/// reconnect with `Last-Event-ID` resumes: only a newer state is sent, or 204 when nothing more will come.
#[utoipa::path(get, path = "/v1/qr/{uuid}/events", tag = "browser", operation_id = "loginEvents",
    summary = "The login's state as Server-Sent Events, until it ends",
    params(super::SessionParams,
        ("Last-Event-ID" = Option<u64>, Header, description = "the last event's id (the session version): only a \
            newer state is sent")),
    responses(
        (status = 200, description = "An event stream: `retry: 2000`, then one `status` event per state (`id:` the \
            session version, `data:` the same JSON as the poll's answer, `Answer`), comments as heartbeats every \
            15 s; it ends after a final state (confirmed with the token, denied, cancelled, expired). The schema is \
            each event's", content_type = "text/event-stream", body = StatusEvent,
            example = json!("retry: 2000\n\nevent: status\nid: 1\ndata: {\"status\":\"pending\"}\n\n")),
        (status = 204, description = "`Last-Event-ID` names the final state already: nothing more will come")))]
#[tracing::instrument(skip_all, fields(session))]
pub async fn events(
    req: HttpRequest,
    uuid: web::Path<String>,
    ctx: web::Data<GatewayContext>,
) -> Result<HttpResponse, GatewayError> {
    let (id, binding) = super::browser_session(&req, &uuid, &ctx.policy)?;
    let last_seen =
        req.headers().get("last-event-id").and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok());
    let ip = super::client_ip(&req, &ctx.policy);
    let watch = ctx.notifier.watch(id, super::client_subject(&req, &ctx.policy)).map_err(GatewayError::from)?;
    // The first read happens here, so a wrong cookie is a 403 rather than a stream.
    let read = Read { id: &id, binding: &binding, interval: Duration::ZERO, with_qr: true, ip: &ip };
    let first = advance(&ctx, read).await?;
    // Version 0 is a session that is gone: the browser must still be told it expired.
    if first.is_final() && first.version != 0 && last_seen.is_some_and(|seen| seen >= first.version) {
        return Ok(HttpResponse::NoContent().finish());
    }
    let state = Stream { ctx: ctx.into_inner(), watch, id, binding, ip, last_seen, next: Some(first) };
    let events = stream::unfold(Some(state), |state| async move { state?.next_event().await });
    let mut res =
        sse::Sse::from_infallible_stream(events).with_keep_alive(HEARTBEAT).with_retry_duration(RETRY).respond_to(&req);
    // nginx would otherwise buffer the stream and deliver nothing until it ends.
    res.headers_mut()
        .insert(header::HeaderName::from_static("x-accel-buffering"), header::HeaderValue::from_static("no"));
    // The last event carries the web token: no cache may keep any of it.
    res.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    Ok(res)
}

/// One event of the stream, as an SSE parser delivers it.
#[derive(utoipa::ToSchema)]
#[allow(dead_code, reason = "documents the events `Stream` sends")]
pub(crate) struct StatusEvent {
    /// Always `status`.
    #[schema(pattern = "^status$")]
    event: String,
    /// The session version (digits): sent back as `Last-Event-ID`, a reconnect resumes after it.
    #[schema(pattern = "^[0-9]+$")]
    id: String,
    /// The poll's answer (`Answer`) as JSON text.
    #[schema(content_media_type = "application/json")]
    data: String,
}

struct Stream {
    ctx: std::sync::Arc<GatewayContext>,
    watch: Watch,
    id: SessionId,
    binding: Binding,
    ip: String,
    last_seen: Option<u64>,
    /// A snapshot read but not yet considered (the first one).
    next: Option<Snapshot>,
}

impl Stream {
    /// The next event, and the stream state after it (`None`: end after this event).
    async fn next_event(mut self) -> Option<(sse::Event, Option<Self>)> {
        let snapshot = match self.next.take() {
            Some(first) if self.is_news(&first) => first,
            _ => self.wait().await?,
        };
        self.last_seen = Some(snapshot.version);
        let is_final = snapshot.is_final();
        let event = sse::Data::new(snapshot.body).event("status").id(snapshot.version.to_string());
        Some((sse::Event::Data(event), (!is_final).then_some(self)))
    }

    /// Waits for news, re-reading at least every [`REREAD`]: sessions that simply time out publish nothing.
    /// `None` ends the stream: shutting down (the browser reconnects, to another instance, after `retry`), or
    /// Redis or a dependency failed (it reconnects too).
    async fn wait(&self) -> Option<Snapshot> {
        loop {
            let until = tokio::time::Instant::now() + REREAD;
            match next_change(&self.ctx, &self.watch, || self.read(), until, |s| self.is_news(s)).await {
                Ok(Woken::Changed(snapshot)) => return Some(snapshot),
                Ok(Woken::TimedOut(_)) => {}
                Ok(Woken::Stopping(_)) => return None,
                Err(e) => {
                    // A Redis outage is logged once by the Redis handle, not for every stream it ends.
                    if !qrlogin_shared::StoreError::in_chain(&e).is_some_and(qrlogin_shared::StoreError::is_outage) {
                        tracing::warn!(session = %self.id, error = %e, "event stream ended on an error");
                    }
                    qrlogin_shared::metrics::redis_error_in(&e);
                    return None;
                }
            }
        }
    }

    /// A newer version than the browser has, or a re-issued QR (same version when another instance rotated).
    fn is_news(&self, snapshot: &Snapshot) -> bool {
        self.last_seen.is_none_or(|seen| snapshot.version != seen) || snapshot.rotated
    }

    fn read(&self) -> Read<'_> {
        Read { id: &self.id, binding: &self.binding, interval: Duration::ZERO, with_qr: false, ip: &self.ip }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The size of the future `f` returns, without calling it.
    fn future_size<A, F: Future>(_: fn(A) -> F) -> usize {
        size_of::<F>()
    }

    #[test]
    fn a_waiting_stream_holds_a_small_future() {
        // Every waiting browser keeps one for the whole wait: a read inlined into it made it about 16 KB, half
        // of what a waiter cost.
        let size = future_size(Stream::next_event);
        assert!(size < 2048, "{size} bytes");
    }
}
