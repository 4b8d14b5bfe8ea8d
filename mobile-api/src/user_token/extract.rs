//! The [`AuthenticatedUser`] extractor. As the first handler argument it decides before the body is read, so an
//! unauthenticated caller learns nothing about how we parse bodies.
//!
//! actix polls all of a handler's extractors together, so while this one waits for the identity provider's keys
//! the body extractor after it would already be reading and parsing. In that case the body is handed on behind a
//! gate that opens only once the token is accepted; if it is refused, not a byte of the body is read.

use std::future::{Future, ready};
use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{FromRequest, HttpRequest, web};
use futures_core::Stream;
use qrlogin_shared::UserId;
use tokio::sync::oneshot;

use super::{Checked, TokenError, UserTokenValidator};
use crate::error::MobileError;

/// The app user behind the request.
pub struct AuthenticatedUser(pub UserId);

impl FromRequest for AuthenticatedUser {
    type Error = MobileError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, MobileError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let Some(validator) = req.app_data::<web::Data<UserTokenValidator>>() else {
            return Box::pin(ready(Err(MobileError::Internal("user token validator not configured"))));
        };
        let Some(token) = bearer(req) else {
            return Box::pin(ready(Err(TokenError::Missing.into())));
        };
        let pending = match validator.check_now(token) {
            Checked::Done(user) => return Box::pin(ready(user.map(AuthenticatedUser).map_err(MobileError::from))),
            Checked::NeedsKeys(pending) => pending,
        };
        let (open, gate) = oneshot::channel();
        *payload = Payload::from(Box::pin(GatedBody { gate: Some(gate), body: payload.take() })
            as Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>>);
        let validator = validator.clone();
        Box::pin(async move {
            let user = validator.finish(pending).await?;
            // Accepted: the body extractor may read now. It has gone only if the request was dropped.
            let _ = open.send(());
            Ok(AuthenticatedUser(user))
        })
    }
}

fn bearer(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The request body, held back until the token is accepted.
struct GatedBody {
    /// `None` once open.
    gate: Option<oneshot::Receiver<()>>,
    body: Payload,
}

impl Stream for GatedBody {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Some(gate) = self.gate.as_mut() {
            match Pin::new(gate).poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok(())) => self.gate = None,
                // Refused: the request fails with the token error, and the body stays unread.
                Poll::Ready(Err(_)) => return Poll::Ready(None),
            }
        }
        Pin::new(&mut self.body).poll_next(cx)
    }
}
