use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, web};
use qrlogin_shared::store::PollOutcome;
use qrlogin_shared::{SessionId, SessionStore, UserId, unix_now};
use serde::Serialize;

use crate::binding;
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

/// `GET /v1/qr/{uuid}`: the browser's poll. Answers the state; once confirmed, claims the login and returns
/// the web token, exactly once and only to the browser holding the binding cookie.
#[tracing::instrument(skip_all, fields(session = %uuid))]
pub async fn poll(
    req: HttpRequest,
    uuid: web::Path<String>,
    store: web::Data<SessionStore>,
    signer: web::Data<WebTokenSigner>,
    directory: web::Data<Arc<dyn UserDirectory>>,
) -> Result<HttpResponse, GatewayError> {
    let id = super::session_id(&uuid)?;
    let binding = binding::of_request(&req).ok_or(GatewayError::BindingMismatch)?;
    let status = match store.poll(&id, &binding).await? {
        PollOutcome::Pending => Status::Pending,
        PollOutcome::Scanned => Status::Scanned,
        PollOutcome::Denied => Status::Denied,
        PollOutcome::Cancelled => Status::Cancelled,
        PollOutcome::Expired => Status::Expired,
        PollOutcome::Forbidden => return Err(GatewayError::BindingMismatch),
        PollOutcome::Claimed(user) => match issue_token(&id, &user, &signer, directory.as_ref().as_ref()).await {
            Ok(confirmed) => confirmed,
            Err(e) => {
                // The user confirmed; a fault on our side must not lose that. Hand the claim back so the
                // browser's next poll tries again.
                store.unclaim(&id).await?;
                return Err(e);
            }
        },
    };
    Ok(super::no_store(HttpResponse::Ok()).json(status))
}

async fn issue_token(
    id: &SessionId,
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
    tracing::info!(target: "audit", event = "claimed", session = %id, user = %user, "web token issued");
    Ok(Status::Confirmed { token, token_type: "Bearer", expires_in: signer.ttl().as_secs(), user: profile })
}
