//! Login CSRF: the endpoints that start or end a login (`POST /v1/qr`, `DELETE /v1/qr/{uuid}`) refuse browsers
//! sent by other sites. A page elsewhere could otherwise start a login in the victim's browser (which then holds
//! the binding cookie of a session the attacker's phone approves) or cancel the victim's login.
//!
//! A browser names the page that sent a request in `Origin` (every POST and DELETE, same-origin ones too) and
//! says where it came from in `Sec-Fetch-Site`; neither can be set by a page's script. Allowed: the gateway's
//! public origin (from `QRL_QR_BASE_URL`), the `QRL_CORS_ORIGINS`, and the origin the request was addressed to
//! (`Host`: the gateway's own pages, under whatever name it is reached). Requests with neither header come from
//! no browser page (curl, servers) and pass: they carry no victim's cookies.

use actix_web::HttpRequest;
use actix_web::http::header;

use crate::error::GatewayError;

#[derive(Debug, Clone)]
pub struct AllowedOrigins(Vec<String>);

impl AllowedOrigins {
    /// `public` is the gateway's public base URL; its scheme, host and port make its origin.
    pub fn new(public: &str, cors: &[String]) -> Self {
        let own = reqwest::Url::parse(public).ok().map(|url| url.origin().ascii_serialization());
        Self(own.into_iter().chain(cors.iter().cloned()).collect())
    }

    /// Refuses a request a browser sent from a page of another site.
    pub fn admit(&self, req: &HttpRequest) -> Result<(), GatewayError> {
        let headers = req.headers();
        match headers.get(header::ORIGIN).map(|v| v.to_str().unwrap_or("null")) {
            Some(origin) if self.allows(origin) || same_origin(origin, req) => Ok(()),
            Some(_) => Err(GatewayError::CrossOrigin),
            // Older browsers leave out `Origin` on some requests; `Sec-Fetch-Site` still tells.
            None if headers.get("sec-fetch-site").is_some_and(|v| v.as_bytes() == b"cross-site") => {
                Err(GatewayError::CrossOrigin)
            }
            None => Ok(()),
        }
    }

    fn allows(&self, origin: &str) -> bool {
        self.0.iter().any(|allowed| allowed.eq_ignore_ascii_case(origin))
    }
}

/// The page's origin is the one the request was sent to: its host and port are the `Host` header (which a page
/// cannot set). `null` (sandboxed frames, some redirects) never matches.
fn same_origin(origin: &str, req: &HttpRequest) -> bool {
    let authority = origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://"));
    let host = req.headers().get(header::HOST).and_then(|v| v.to_str().ok());
    matches!((authority, host), (Some(a), Some(h)) if !a.is_empty() && a.eq_ignore_ascii_case(h))
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn allowed() -> AllowedOrigins {
        AllowedOrigins::new("https://login.example.com:443/base", &["https://www.example.com".to_owned()])
    }

    fn admitted(headers: &[(&str, &str)]) -> bool {
        let mut req = TestRequest::post().uri("/v1/qr").insert_header(("host", "gw.internal:8080"));
        for (name, value) in headers {
            req = req.insert_header((*name, *value));
        }
        allowed().admit(&req.to_http_request()).is_ok()
    }

    #[test]
    fn own_configured_and_addressed_origins_pass_other_sites_do_not() {
        assert!(admitted(&[("origin", "https://login.example.com")]), "default port dropped, as browsers do");
        assert!(admitted(&[("origin", "https://www.example.com"), ("sec-fetch-site", "same-site")]));
        assert!(admitted(&[("origin", "http://gw.internal:8080"), ("sec-fetch-site", "same-origin")]));
        assert!(admitted(&[]), "no browser page: curl, a server");
        assert!(admitted(&[("sec-fetch-site", "same-origin")]));
        assert!(!admitted(&[("origin", "https://evil.example")]));
        assert!(!admitted(&[("origin", "null")]));
        assert!(!admitted(&[("origin", "https://login.example.com.evil.example")]));
        assert!(!admitted(&[("sec-fetch-site", "cross-site")]));
    }
}
