//! Authentication runs as middleware in front of the phone endpoints, so a request with a missing or invalid
//! token is answered 401 before its body is read: an unauthenticated caller learns nothing about how we parse
//! bodies, even while the check waits for the identity provider's keys. Handlers then take the already
//! authenticated [`AuthenticatedUser`].

use std::future::{Ready, ready};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{Error, FromRequest, HttpMessage, HttpRequest, ResponseError, web};
use qrlogin_shared::UserId;
use qrlogin_shared::http::bearer_token;

use crate::error::MobileError;
use crate::user_token::{TokenError, UserTokenValidator};

/// The app user behind the request, as established by [`authenticate`].
#[derive(Clone)]
pub struct AuthenticatedUser(pub UserId);

/// Use with `actix_web::middleware::from_fn(authenticate)` on the routes that need a user.
pub async fn authenticate(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    // A CORS preflight never carries credentials: it is not a login attempt, and validating whatever token it
    // does carry would be work the invalid-token limit never counts. It goes on to be refused as a method the
    // route does not serve.
    if req.method() == Method::OPTIONS {
        return next.call(req).await.map(ServiceResponse::map_into_left_body);
    }
    match user_of(req.request()).await {
        Ok(user) => {
            req.extensions_mut().insert(AuthenticatedUser(user));
            next.call(req).await.map(ServiceResponse::map_into_left_body)
        }
        Err(e) => Ok(req.into_response(e.error_response()).map_into_right_body()),
    }
}

async fn user_of(req: &HttpRequest) -> Result<UserId, MobileError> {
    let validator = req
        .app_data::<web::Data<UserTokenValidator>>()
        .ok_or(MobileError::Internal("user token validator not configured"))?;
    let token = bearer_token(req).ok_or(TokenError::Missing)?;
    Ok(validator.validate(token).await?)
}

impl FromRequest for AuthenticatedUser {
    type Error = MobileError;
    type Future = Ready<Result<Self, MobileError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        // Only missing when a route was registered without the middleware: a bug, not a client error.
        ready(req.extensions().get::<Self>().cloned().ok_or(MobileError::Internal("route is not authenticated")))
    }
}
