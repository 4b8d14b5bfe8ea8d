//! The demo login page, the browser client, and the page a QR link opens in a plain camera app. All embedded
//! in the binary.

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use crate::context::GatewayContext;

/// Pages load their scripts, styles and data only from here; QR images are data URLs.
const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                        connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const INDEX: &str = include_str!("../../static/index.html");
const LANDING: &str = include_str!("../../static/landing.html");
const QRLOGIN_JS: &str = include_str!("../../static/qrlogin.js");
const DEMO_JS: &str = include_str!("../../static/demo.js");
const DEMO_CSS: &str = include_str!("../../static/demo.css");

fn page(html: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CONTENT_SECURITY_POLICY, PAGE_CSP))
        .body(html)
}

/// `GET /`: the demo login page, built only on qrlogin.js.
#[utoipa::path(get, path = "/", tag = "pages", operation_id = "demoPage",
    responses((status = 200, description = "The demo login page", content_type = "text/html; charset=utf-8", body = String)))]
pub async fn index() -> HttpResponse {
    page(INDEX.to_owned())
}

/// `GET /q/{code}`: what a camera app opens. Explains how to log in with the app; the same page for every
/// code, valid or not, so it logs no one in and tells nothing about any session.
#[utoipa::path(get, path = "/q/{code}", tag = "pages", operation_id = "qrLanding",
    params(("code" = String, Path, description = "whatever follows /q/ in a QR link")),
    responses((status = 200, description = "The same explanation for every code: open the app to log in",
        content_type = "text/html; charset=utf-8", body = String)))]
pub async fn landing(ctx: web::Data<GatewayContext>) -> HttpResponse {
    page(LANDING.replace("APP_LINK", &html_attr(&ctx.policy.app_link)))
}

/// `GET /static/{file}`: the browser client (loadable cross-origin as a module) and the demo's own files.
#[utoipa::path(get, path = "/static/{file}", tag = "pages", operation_id = "staticFile",
    params(("file" = inline(StaticFile), Path, description = "`qrlogin.js` (the browser client, loadable cross-origin), \
        `demo.js` or `demo.css`")),
    responses((status = 200, description = "The file", content(
            (String = "text/javascript; charset=utf-8"), (String = "text/css; charset=utf-8"))),
        (status = 404, description = "No such file", content_type = "application/problem+json",
            body = qrlogin_shared::http::Problem)))]
pub async fn asset(file: web::Path<String>) -> HttpResponse {
    let (body, content_type) = match file.as_str() {
        "qrlogin.js" => (QRLOGIN_JS, "text/javascript; charset=utf-8"),
        "demo.js" => (DEMO_JS, "text/javascript; charset=utf-8"),
        "demo.css" => (DEMO_CSS, "text/css; charset=utf-8"),
        _ => return HttpResponse::NotFound().finish(),
    };
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        // The web team may load qrlogin.js from the gateway's origin into their own page.
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .insert_header(("cross-origin-resource-policy", "cross-origin"))
        .body(body)
}

/// The files `asset` serves.
#[derive(utoipa::ToSchema)]
#[allow(dead_code, reason = "documents the names `asset` matches")]
enum StaticFile {
    #[schema(rename = "qrlogin.js")]
    QrloginJs,
    #[schema(rename = "demo.js")]
    DemoJs,
    #[schema(rename = "demo.css")]
    DemoCss,
}

fn html_attr(s: &str) -> String {
    s.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;").replace('>', "&gt;")
}
