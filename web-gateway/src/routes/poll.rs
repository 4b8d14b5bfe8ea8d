use std::sync::Arc;

use actix_web::http::header::ContentType;
use actix_web::{HttpRequest, HttpResponse, web};
use qrlogin_shared::store::{ClaimOutcome, PollOutcome};
use qrlogin_shared::{SessionStore, UserId, unix_now};
use serde::Serialize;

use crate::binding;
use crate::config::SessionPolicy;
use crate::directory::{Profile, UserDirectory};
use crate::error::GatewayError;
use crate::web_token::WebTokenSigner;

#[derive(Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
enum Status {
    Pending,
    Scanned,
    Denied,
    Cancelled,
    Expired,
    Confirmed { token: String, token_type: &'static str, expires_in: u64, user: Profile },
}

/// `GET /v1/qr/{uuid}`: the browser's poll. Answers the state; once confirmed, hands out the web token to the
/// browser holding the binding cookie, one token per login (repeated to that browser during the grace window).
#[tracing::instrument(skip_all, fields(session))]
pub async fn poll(
    req: HttpRequest,
    uuid: web::Path<String>,
    store: web::Data<SessionStore>,
    signer: web::Data<WebTokenSigner>,
    directory: web::Data<Arc<dyn UserDirectory>>,
    policy: web::Data<SessionPolicy>,
) -> Result<HttpResponse, GatewayError> {
    let id = super::session_id(&uuid)?;
    tracing::Span::current().record("session", tracing::field::display(&id));
    let binding = binding::of_request(&req).ok_or(GatewayError::BindingMismatch)?;
    let ip = || super::client_ip(&req, &policy);
    let answer = match store.poll(&id, &binding, policy.enforced_poll_interval).await? {
        PollOutcome::Confirmed(user) => {
            // Issued before the claim, so a directory or signing fault leaves the login confirmed for the
            // next poll instead of losing it.
            let answer = serde_json::to_string(&confirmed(&user, &signer, directory.as_ref().as_ref()).await?)?;
            let claimed = store.claim(&id, &binding, &answer, policy.claim_grace).await?;
            match claimed {
                ClaimOutcome::Won => {
                    tracing::info!(target: "audit", event = "claimed", session = %id, user = %user, ip = ip(), outcome = "ok", "web token issued");
                    answer
                }
                // A concurrent poll of the same browser won: its token is the login's one token.
                ClaimOutcome::AlreadyClaimed(stored) => stored,
                ClaimOutcome::Other(outcome) => render(outcome)?,
            }
        }
        PollOutcome::Expired => {
            tracing::info!(target: "audit", event = "expired", session = %id, ip = ip(), "poll of an expired, unknown or finished session");
            render(PollOutcome::Expired)?
        }
        PollOutcome::SlowDown(wait) => {
            tracing::info!(target: "audit", event = "rate_limited", limit = "poll", session = %id, ip = ip(), outcome = "slow_down", "polling too fast");
            return Err(GatewayError::SlowDown(wait));
        }
        outcome => render(outcome)?,
    };
    Ok(super::no_store(HttpResponse::Ok()).content_type(ContentType::json()).body(answer))
}

/// The JSON answer for every outcome but a fresh confirmation.
fn render(outcome: PollOutcome) -> Result<String, GatewayError> {
    let status = match outcome {
        PollOutcome::Pending => Status::Pending,
        PollOutcome::Scanned => Status::Scanned,
        PollOutcome::Denied => Status::Denied,
        PollOutcome::Cancelled => Status::Cancelled,
        PollOutcome::Expired => Status::Expired,
        PollOutcome::Claimed(stored) => return Ok(stored),
        PollOutcome::Forbidden => return Err(GatewayError::BindingMismatch),
        PollOutcome::SlowDown(wait) => return Err(GatewayError::SlowDown(wait)),
        PollOutcome::Confirmed(_) => return Err(GatewayError::Internal("claim script left the session confirmed")),
    };
    Ok(serde_json::to_string(&status)?)
}

async fn confirmed(
    user: &UserId,
    signer: &WebTokenSigner,
    directory: &dyn UserDirectory,
) -> Result<Status, GatewayError> {
    let mut profile = directory.profile(user).await?.unwrap_or_else(|| {
        tracing::warn!(user = %user, "confirmed user is not in the user directory; issuing a token without profile");
        Profile::new()
    });
    profile.insert("id".into(), user.as_str().into());
    let token = signer.mint(user, unix_now())?;
    Ok(Status::Confirmed { token, token_type: "Bearer", expires_in: signer.ttl().as_secs(), user: profile })
}
