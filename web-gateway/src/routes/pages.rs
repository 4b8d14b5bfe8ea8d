//! The demo login page, the browser client, and the page a QR link opens in a plain camera app. All embedded
//! in the binary.

use std::sync::LazyLock;

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
/// Every earlier client version, served unchanged under its versioned name for ever (pages pin them with
/// Subresource Integrity): on a version bump, the previous build joins this list (web-gateway/js/README.md).
const RELEASED: [(&str, &str); 1] = [("qrlogin-1.0.0.js", include_str!("../../static/released/qrlogin-1.0.0.js"))];

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

/// Files whose name may change under the same URL are cached briefly; a versioned client never changes.
const SHORT_CACHE: &str = "public, max-age=300";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// `GET /static/{file}`: the browser client (loadable cross-origin as a module), also under its versioned name
/// `qrlogin-<version>.js` for pages that pin it with Subresource Integrity, and the demo's own files.
#[utoipa::path(get, path = "/static/{file}", tag = "pages", operation_id = "staticFile",
    params(("file" = inline(StaticFile), Path, description = "`qrlogin.js` (the browser client, loadable cross-origin; also as \
        `qrlogin-<version>.js`, cached for ever), `demo.js` or `demo.css`")),
    responses((status = 200, description = "The file", content(
            (String = "text/javascript; charset=utf-8"), (String = "text/css; charset=utf-8"))),
        (status = 404, description = "No such file", content_type = "application/problem+json",
            body = qrlogin_shared::http::Problem)))]
pub async fn asset(file: web::Path<String>) -> HttpResponse {
    let (body, content_type, cache) = match file.as_str() {
        "qrlogin.js" => (QRLOGIN_JS, "text/javascript; charset=utf-8", SHORT_CACHE),
        name if Some(name) == VERSIONED_CLIENT.as_deref() => (QRLOGIN_JS, "text/javascript; charset=utf-8", IMMUTABLE),
        "demo.js" => (DEMO_JS, "text/javascript; charset=utf-8", SHORT_CACHE),
        "demo.css" => (DEMO_CSS, "text/css; charset=utf-8", SHORT_CACHE),
        name => match RELEASED.iter().find(|(released, _)| *released == name) {
            Some((_, js)) => (*js, "text/javascript; charset=utf-8", IMMUTABLE),
            None => return HttpResponse::NotFound().finish(),
        },
    };
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, cache))
        // The web team may load qrlogin.js from the gateway's origin into their own page.
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .insert_header(("cross-origin-resource-policy", "cross-origin"))
        .body(body)
}

/// The files `asset` serves, the versioned client's name included.
struct StaticFile;

impl utoipa::PartialSchema for StaticFile {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        let names = ["qrlogin.js", "demo.js", "demo.css"].into_iter().map(str::to_owned);
        let names = names.chain(VERSIONED_CLIENT.clone()).chain(RELEASED.iter().map(|(name, _)| (*name).to_owned()));
        ObjectBuilder::new().schema_type(Type::String).enum_values(Some(names)).into()
    }
}

impl utoipa::ToSchema for StaticFile {}

/// `qrlogin-<version>.js`, the version read from the built client's `export const VERSION = "…"` line (written
/// by `npm run build` in web-gateway/js from package.json), so the served name and the package cannot disagree.
static VERSIONED_CLIENT: LazyLock<Option<String>> = LazyLock::new(|| versioned_name(QRLOGIN_JS));

fn versioned_name(client: &str) -> Option<String> {
    let (_, rest) = client.split_once("export const VERSION = \"")?;
    let (version, _) = rest.split_once('"')?;
    Some(format!("qrlogin-{version}.js"))
}

fn html_attr(s: &str) -> String {
    s.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;").replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each earlier version in the changelog is still served, under the name its own `VERSION` gives it.
    #[test]
    fn every_earlier_version_is_still_served_under_its_own_name() {
        for (name, js) in RELEASED {
            assert_eq!(versioned_name(js).as_deref(), Some(name), "released/{name} is that version's build");
        }
        let changelog = include_str!("../../js/CHANGELOG.md");
        let versions = changelog.lines().filter_map(|l| l.strip_prefix("## ")).map(|v| format!("qrlogin-{v}.js"));
        for name in versions.filter(|name| Some(name) != VERSIONED_CLIENT.as_ref()) {
            assert!(RELEASED.iter().any(|(n, _)| *n == name), "{name} is in the changelog but no longer served");
        }
    }
}
