//! A safety net: any error response that is not already problem+json (framework errors such as a refused CORS
//! preflight) is rewritten into one, so clients meet a single error shape everywhere.

use actix_web::ResponseError;
use actix_web::body::MessageBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers};

use super::problem::{CONTENT_TYPE as PROBLEM, Problem};

pub fn problem_fallback<B: MessageBody + 'static>() -> ErrorHandlers<B> {
    ErrorHandlers::new().default_handler(|res: ServiceResponse<B>| {
        let is_problem = res.headers().get(CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(PROBLEM.as_bytes()));
        if is_problem {
            return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
        }
        let status = res.status();
        let title = status.canonical_reason().unwrap_or("Error");
        let slug = title.to_ascii_lowercase().replace(' ', "-");
        let (req, _) = res.into_parts();
        let body = Problem::new(status, &slug, title).error_response();
        Ok(ErrorHandlerResponse::Response(ServiceResponse::new(req, body).map_into_right_body()))
    })
}
