//! qrlogin.js where a page does more than show one code: two tabs, a component mounted and torn down at once
//! (React 18 StrictMode), and a browser that lost its session cookie.

use qrlogin_e2e::Stack;
use serde_json::json;

use crate::{in_browser, phone};

/// Mounts a second login into the demo page with `options`, recording its statuses on `window.seen`, and
/// destroys it at once if `destroy`; answers with the uuids it was issued (`window.created`).
const MOUNT: &str = r#"
    const [options, destroy, done] = arguments;
    window.seen = []; window.created = [];
    const realFetch = window.fetch;
    window.realFetch = realFetch;
    window.fetch = async (url, init) => {
      const res = await realFetch(url, init);
      if (init && init.method === "POST") window.created.push((await res.clone().json()).uuid);
      return res;
    };
    import("/static/qrlogin.js").then(({ QrLogin }) => {
      const root = document.createElement("div");
      root.id = "second";
      document.body.append(root);
      const login = QrLogin.mount(root, { ...options, onStatus: (s) => window.seen.push(s) });
      if (destroy) {
        login.destroy();
        window.seen = [];
      }
      done(true);
    });"#;

#[tokio::test]
async fn a_second_tab_does_not_break_the_first_tabs_login() {
    let stack = &Stack::start().await;
    in_browser("two-tabs", |page| async move {
        page.open(&stack.gateway_url).await;
        let first = page.read_code(None).await;
        let first_tab = page.client().window().await.expect("the first tab");
        let second_tab = page.client().new_window(true).await.expect("a second tab").handle;
        page.client().switch_to_window(second_tab).await.expect("to the second tab");
        page.open(&stack.gateway_url).await;
        page.read_code(None).await;
        page.client().switch_to_window(first_tab).await.expect("back to the first tab");

        let alice = phone(stack, "alice");
        let scan = alice.scan(&first.text).await.expect("the phone scans the first tab's code");
        alice.confirm(&scan.link.uuid, &scan.link.verification).await.expect("the phone confirms");

        page.wait_for_login("Alice Liddell", "alice").await;
    })
    .await;
}

#[tokio::test]
async fn a_login_destroyed_while_its_code_is_issued_is_cancelled_and_silent() {
    let stack = &Stack::start().await;
    in_browser("destroyed-early", |page| async move {
        page.open(&stack.gateway_url).await;
        page.read_code(None).await;

        page.eval_async(MOUNT, vec![json!({}), json!(true)]).await;

        let check = r#"
            const done = arguments[0];
            if (window.created.length !== 1) return done(null);
            window.realFetch(`/v1/qr/${window.created[0]}`, { credentials: "include", cache: "no-store" })
              .then((res) => res.json()).then((body) => done(body.status === "cancelled" ? body : null));"#;
        let wait_cancelled = async {
            loop {
                if let Some(body) = Some(page.eval_async(check, vec![]).await).filter(|v| !v.is_null()) {
                    return body;
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        };
        let body = tokio::time::timeout(crate::page::SOON, wait_cancelled).await.expect("the orphan is cancelled");
        assert_eq!(body, json!({ "status": "cancelled" }));
        // Nothing of the destroyed login reaches the page any more, and it left nothing on screen.
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
        let after = page.eval("return [window.seen, document.getElementById('second').childElementCount];", vec![]);
        assert_eq!(after.await, json!([[], 0]));
    })
    .await;
}

#[tokio::test]
async fn a_browser_refused_again_and_again_says_so_and_offers_a_new_code() {
    let stack = &Stack::start().await;
    in_browser("refused", |page| async move {
        page.open(&stack.gateway_url).await;
        page.read_code(None).await;
        page.eval_async(MOUNT, vec![json!({ "transport": "poll" }), json!(false)]).await;
        let pending = "return document.getElementById('second').dataset.status === 'pending';";
        page.wait_for("the second login to be pending", crate::page::SOON, pending, vec![]).await;

        // The browser loses the session's cookie (cleared, or an extension): every poll is now a 403. WebDriver
        // deletes only the cookies of the page it shows, so do it from a tab on the session's own path.
        let uuid = page.eval("return window.created[0];", vec![]).await;
        let login_tab = page.client().window().await.expect("the login tab");
        let other = page.client().new_window(true).await.expect("a second tab").handle;
        page.client().switch_to_window(other).await.expect("to the second tab");
        let session_url = format!("{}/v1/qr/{}", stack.gateway_url, uuid.as_str().expect("an issued uuid"));
        page.client().goto(&session_url).await.expect("the session's path");
        page.client().delete_all_cookies().await.expect("cookies deleted");
        page.client().switch_to_window(login_tab).await.expect("back to the login tab");

        let refused = r#"
            const root = document.getElementById("second");
            const overlay = root.querySelector(".qrlogin-overlay");
            return root.dataset.status === "refused" && !overlay.hidden && overlay.innerText;"#;
        let shown = page.wait_for("the refused state", std::time::Duration::from_secs(10), refused, vec![]).await;
        assert!(shown.as_str().unwrap().contains("This code no longer works in this tab."), "{shown}");
        let seen = page.eval("return window.seen;", vec![]).await;
        assert_eq!(seen.as_array().unwrap().last(), Some(&json!("refused")), "{seen}");
    })
    .await;
}
