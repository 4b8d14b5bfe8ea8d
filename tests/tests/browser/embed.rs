//! `<qr-login>` embedded in another origin's page, as the web team does it: the example page of the package
//! (`web-gateway/js/examples/cross-origin.html`) served from `http://localhost:<port>`, the gateway on another
//! port of `localhost` (same site, another origin) with the page's origin in `QRL_CORS_ORIGINS`, the client
//! loaded from the gateway's versioned URL with its Subresource Integrity hash, under the page's own CSP.

use std::net::TcpListener;

use actix_web::{App, HttpResponse, HttpServer, web};
use qrlogin_e2e::Stack;
use serde_json::json;

use crate::{in_browser, phone};

const EXAMPLE_HTML: &str = include_str!("../../../web-gateway/js/examples/cross-origin.html");
const EXAMPLE_JS: &str = include_str!("../../../web-gateway/js/examples/cross-origin.js");
const EXAMPLE_CSS: &str = include_str!("../../../web-gateway/js/examples/example.css");
/// Where the example expects the gateway (README: `deploy/stack.sh`).
const EXAMPLE_GATEWAY: &str = "http://localhost:8080";

/// The example's origin: a loopback port taken before the gateway starts, since the gateway must list it.
struct ExampleSite {
    listener: TcpListener,
    origin: String,
}

impl ExampleSite {
    fn reserve() -> Self {
        let listener = TcpListener::bind(("127.0.0.1", 0)).expect("a loopback port for the example page");
        let origin = format!("http://localhost:{}", listener.local_addr().expect("its address").port());
        Self { listener, origin }
    }

    /// Serves the example pointed at `stack`'s gateway, as `/cross-origin.html`, and as `/tampered.html` with
    /// an integrity hash that is not the client's.
    fn serve(self, stack: &Stack) -> String {
        let port = stack.gateway_url.rsplit(':').next().expect("the gateway URL has a port");
        let page = EXAMPLE_HTML.replace(EXAMPLE_GATEWAY, &format!("http://localhost:{port}"));
        let (before, after) = page.split_once(r#"integrity="sha384-"#).expect("the example pins the client");
        let tampered = format!(r#"{before}integrity="sha384-{}{}"#, "A".repeat(64), &after[64..]);
        let server = HttpServer::new(move || {
            let page = page.clone();
            let tampered = tampered.clone();
            App::new()
                .route("/cross-origin.html", web::get().to(move || html(page.clone())))
                .route("/tampered.html", web::get().to(move || html(tampered.clone())))
                .route("/cross-origin.js", web::get().to(|| file("text/javascript", EXAMPLE_JS)))
                .route("/example.css", web::get().to(|| file("text/css", EXAMPLE_CSS)))
        })
        .workers(1)
        .disable_signals()
        .listen(self.listener)
        .expect("serve the example page")
        .run();
        tokio::spawn(server);
        self.origin
    }
}

async fn html(body: String) -> HttpResponse {
    HttpResponse::Ok().content_type("text/html; charset=utf-8").body(body)
}

async fn file(content_type: &'static str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok().content_type(content_type).body(body)
}

async fn cross_origin_stack() -> (Stack, String) {
    let site = ExampleSite::reserve();
    let origin = site.origin.clone();
    let stack = Stack::start_with(|settings| settings.cors_origins = vec![origin]).await;
    let origin = site.serve(&stack);
    (stack, origin)
}

#[tokio::test]
async fn the_element_logs_in_from_another_origin_of_the_same_site() {
    let (stack, origin) = &cross_origin_stack().await;
    in_browser("embedded-element", |page| async move {
        page.client().goto(&format!("{origin}/cross-origin.html")).await.expect("the example page loads");
        // The page's own words (its messages attribute), in the element's status line.
        page.wait_for_status("pending", "Scan this code with the shop app to log in.").await;
        let code = page.read_code(None).await;
        page.shoot("embedded-waiting").await;

        let alice = phone(stack, "alice");
        let scan = alice.scan(&code.text).await.expect("the phone scans the embedded code");
        alice.confirm(&scan.link.uuid, &scan.link.verification).await.expect("the phone confirms");

        // The page's `login` listener shows the token's claims; its `status` listener saw the confirmation.
        page.wait_for_login("Alice Liddell", "alice").await;
        let state = page.eval("return document.getElementById('state').textContent;", vec![]).await;
        assert_eq!(state, json!("status: confirmed"));
        page.shoot("embedded-logged-in").await;
    })
    .await;
}

#[tokio::test]
async fn a_client_that_does_not_match_its_integrity_hash_never_runs() {
    let (_stack, origin) = &cross_origin_stack().await;
    in_browser("embedded-tampered", |page| async move {
        page.client().goto(&format!("{origin}/tampered.html")).await.expect("the tampered page loads");
        // The page's own script ran (so the page is up), the client did not: no element, no code, no request.
        let state = "return document.getElementById('state') !== null && document.readyState === 'complete';";
        page.wait_for("the page to load", crate::page::SOON, state, vec![]).await;
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;

        let shown = "return [customElements.get('qr-login') === undefined, \
                     document.getElementById('login').childElementCount];";
        assert_eq!(page.eval(shown, vec![]).await, json!([true, 0]));
    })
    .await;
}
