//! Request bodies, bounded in time as well as size, so that no framing (a chunked body stalled half-way, a
//! malformed chunk, a body past the limit) can hold a connection open.
//!
//! actix-http reads and discards what a handler left of a dropped chunked body, without a deadline: a client
//! that stops sending keeps the connection for ever. It closes the connection instead (`Connection: close`, then
//! at most the disconnect timeout of lingering) when the answer is written while the body is still unread and
//! still owned. [`hold_body`] keeps it owned until the answer is written, and gives the handler a copy that
//! fails once [`BODY_TIMEOUT`] has passed.

use std::cell::RefCell;
use std::fmt;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::{BodySize, BoxBody, EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::{ConnectionType, Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{Error, FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError, web};
use futures_util::{Stream, StreamExt};

use super::Problem;

/// Longest a request body may take to arrive, counted from its head: the services' bodies are a few hundred
/// bytes, so only a stalled or trickling client needs more.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(5);

/// The body as actix-http feeds it, shared by the handler's reader and the answer.
type Shared = Rc<RefCell<Payload>>;

/// Use with `actix_web::middleware::from_fn(hold_body)`, outermost, so the body outlives every other layer.
pub async fn hold_body(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody, HeldBody>>, Error> {
    let payload = match req.take_payload() {
        Payload::None => return next.call(req).await.map(ServiceResponse::map_into_left_body),
        payload => Rc::new(RefCell::new(payload)),
    };
    let deadline = Box::pin(tokio::time::sleep(BODY_TIMEOUT));
    let mut reading = Reading { payload: Rc::clone(&payload), deadline };
    if takes_no_body(req.method())
        && let Err(problem) = drain(&mut reading).await
    {
        return Err(HeldError { error: problem.into(), payload: Some(payload), close: false }.into());
    }
    req.set_payload(Payload::Stream { payload: Box::pin(reading) });
    match next.call(req).await {
        Ok(res) => Ok(res.map_body(|_, body| HeldBody { body: body.boxed(), _payload: payload }).map_into_right_body()),
        Err(error) => Err(HeldError { error, payload: Some(payload), close: false }.into()),
    }
}

/// Whether no route answers `method` with a use for a body (reads, deletes).
fn takes_no_body(method: &Method) -> bool {
    [Method::GET, Method::HEAD, Method::DELETE, Method::OPTIONS].contains(method)
}

/// Reads a body no handler will read, at most [`crate::server::BODY_LIMIT`] bytes. actix-http takes a malformed
/// chunk for a client gone and drops the connection without a word when the handler is still busy (waiting on
/// Redis) at that moment; read first, the error is answered like any unreadable body.
async fn drain(reading: &mut Reading) -> Result<(), Problem> {
    let mut read = 0;
    while let Some(chunk) = reading.next().await {
        read += chunk.map_err(|e| payload_problem(&e))?.len();
        if read > crate::server::BODY_LIMIT {
            return Err(too_large());
        }
    }
    Ok(())
}

/// The handler's view of the body: the body itself until [`BODY_TIMEOUT`], then a timeout error.
struct Reading {
    payload: Shared,
    deadline: Pin<Box<tokio::time::Sleep>>,
}

impl Stream for Reading {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if let Poll::Ready(item) = Pin::new(&mut *this.payload.borrow_mut()).poll_next(cx) {
            return Poll::Ready(item);
        }
        match this.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(body_timed_out()))),
            Poll::Pending => Poll::Pending,
        }
    }
}

fn body_timed_out() -> PayloadError {
    PayloadError::Io(std::io::Error::new(std::io::ErrorKind::TimedOut, "the request body did not arrive in time"))
}

/// An answer that keeps the request body owned until it is written (see the module comment).
pub struct HeldBody {
    body: BoxBody,
    _payload: Shared,
}

impl MessageBody for HeldBody {
    type Error = <BoxBody as MessageBody>::Error;

    fn size(&self) -> BodySize {
        self.body.size()
    }

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, Self::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_next(cx)
    }
}

/// A middleware's error (a 401, a deadline's 408) whose answer, once rendered, holds the body the same way
/// (`payload`), or closes its connection (`close`: the instance is stopping).
struct HeldError {
    error: Error,
    payload: Option<Shared>,
    close: bool,
}

/// `error`, answered with `Connection: close`.
pub fn close_error(error: Error) -> Error {
    HeldError { error, payload: None, close: true }.into()
}

impl fmt::Debug for HeldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.error, f)
    }
}

impl fmt::Display for HeldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}

impl ResponseError for HeldError {
    fn status_code(&self) -> StatusCode {
        self.error.as_response_error().status_code()
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = self.error.error_response();
        if self.close {
            res.head_mut().set_connection_type(ConnectionType::Close);
        }
        match &self.payload {
            Some(payload) => res.map_body(|_, body| HeldBody { body, _payload: Rc::clone(payload) }.boxed()),
            None => res,
        }
    }
}

/// What a body that could not be read is answered with.
pub(crate) fn payload_problem(err: &PayloadError) -> Problem {
    match err {
        PayloadError::Io(e) if e.kind() == std::io::ErrorKind::TimedOut => request_timeout()
            .with_detail(format!("send the body within {} s of the request head", BODY_TIMEOUT.as_secs())),
        PayloadError::Overflow => too_large(),
        _ => unreadable(),
    }
}

pub(crate) fn unreadable() -> Problem {
    Problem::bad_request("could not read the request body")
}

/// A request (or its body) slower than its bound.
pub(crate) fn request_timeout() -> Problem {
    Problem::new(StatusCode::REQUEST_TIMEOUT, "request-timeout", "Request took too long")
}

pub(crate) fn too_large() -> Problem {
    Problem::new(StatusCode::PAYLOAD_TOO_LARGE, "body-too-large", "Request body too large")
}

/// A body an endpoint takes but has no use for (`POST /v1/qr`): it is still read in full, at most
/// [`crate::server::BODY_LIMIT`] bytes, so a malformed one is a 400 rather than an answer the connection then
/// cannot carry.
pub struct IgnoredBody;

impl FromRequest for IgnoredBody {
    type Error = Error;
    type Future = futures_util::future::LocalBoxFuture<'static, Result<Self, Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let payload = web::Payload::from_request(req, payload).into_inner();
        Box::pin(async move {
            match payload?.to_bytes_limited(crate::server::BODY_LIMIT).await {
                Ok(Ok(_)) => Ok(Self),
                Ok(Err(e)) => Err(e.as_error::<PayloadError>().map_or_else(unreadable, payload_problem).into()),
                Err(_) => Err(too_large().into()),
            }
        })
    }
}
