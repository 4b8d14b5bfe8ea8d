//! The demo login page (`GET /`, built on qrlogin.js) as a user sees it: the QR read off a screenshot of the
//! image element, the status line, the overlay with its "New code" button, the logged-in section. Waits poll the
//! DOM; every wait has a bound and fails with what the page showed instead.

use std::cell::Cell;
use std::time::{Duration, Instant};

use fantoccini::key::Key;
use fantoccini::{Client, Locator};
use qrlogin_phone::decode_qr_image;
use serde_json::{Value, json};

use crate::shots::Shots;

/// How often a wait re-reads the DOM.
const POLL: Duration = Duration::from_millis(100);
/// Bound on a change the page should show "within a few seconds" (a push from the gateway, a page load).
/// What the demo page says once the phone ended its web session (demo.js).
pub(crate) const LOGGED_OUT: &str = "Logged out from your phone";
pub(crate) const SOON: Duration = Duration::from_secs(5);

pub(crate) const IMAGE: &str = "img.qrlogin-image";
pub(crate) const STATUS: &str = ".qrlogin-status";
pub(crate) const OVERLAY: &str = ".qrlogin-overlay";
pub(crate) const NEW_CODE: &str = "button.qrlogin-refresh";

/// A QR the page showed: the text a phone reads off it, and the image's `src` (to tell a new one from it).
pub(crate) struct Code {
    pub(crate) text: String,
    src: String,
}

pub(crate) struct DemoPage {
    client: Client,
    shots: Shots,
    /// Numbers the element screenshots of the QR (`qr-1`, `qr-2`, ...).
    codes_read: Cell<u32>,
}

impl DemoPage {
    pub(crate) fn new(client: Client, shots: Shots) -> Self {
        Self { client, shots, codes_read: Cell::new(0) }
    }

    pub(crate) async fn open(&self, gateway_url: &str) {
        self.client.goto(&format!("{gateway_url}/")).await.expect("the demo page loads");
    }

    pub(crate) async fn eval(&self, script: &str, args: Vec<Value>) -> Value {
        self.client.execute(script, args).await.unwrap_or_else(|e| panic!("script failed ({e}): {script}"))
    }

    /// Runs `script` until it calls its last argument (the WebDriver callback) and returns what it passed.
    pub(crate) async fn eval_async(&self, script: &str, args: Vec<Value>) -> Value {
        self.client.execute_async(script, args).await.unwrap_or_else(|e| panic!("script failed ({e}): {script}"))
    }

    /// The WebDriver session: for tabs and cookies.
    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    /// Re-runs `script` until it returns something other than `null` or `false`, and returns that.
    pub(crate) async fn wait_for(&self, what: &str, within: Duration, script: &str, args: Vec<Value>) -> Value {
        let started = Instant::now();
        loop {
            let value = self.eval(script, args.clone()).await;
            if !matches!(value, Value::Null | Value::Bool(false)) {
                return value;
            }
            if started.elapsed() > within {
                panic!("waited {within:?} for {what}; the page shows {}", self.describe().await);
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits until no CSS transition runs (the QR fades in and out), so a screenshot shows the settled state.
    pub(crate) async fn settle(&self) {
        self.wait_for("transitions to end", SOON, "return document.getAnimations().length === 0;", vec![]).await;
    }

    /// Waits for a pending, fully visible QR other than `previous`, and reads it the way a phone camera does:
    /// a screenshot of the image element through the phone client's decoder.
    pub(crate) async fn read_code(&self, previous: Option<&Code>) -> Code {
        let ready = r#"
            const img = document.querySelector("img.qrlogin-image");
            const root = img && img.closest(".qrlogin");
            if (!img || img.hidden || !img.complete || img.naturalWidth === 0) return null;
            if (root.dataset.status !== "pending" || document.getAnimations().length > 0) return null;
            const src = img.getAttribute("src");
            return src && src !== arguments[0] ? src : null;"#;
        let previous_src = previous.map_or(Value::Null, |code| json!(code.src));
        let src = self.wait_for("a new QR code", SOON, ready, vec![previous_src]).await;
        let image = self.client.find(Locator::Css(IMAGE)).await.expect("the QR image");
        assert!(image.is_displayed().await.expect("visibility"), "the QR image is not visible");
        let png = image.screenshot().await.expect("a screenshot of the QR image");
        self.codes_read.set(self.codes_read.get() + 1);
        let path = self.shots.save(&format!("qr-{}", self.codes_read.get()), &png);
        let text = decode_qr_image(&png).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        Code { text, src: src.as_str().expect("src is a string").to_owned() }
    }

    /// Waits until qrlogin.js is in `status` and its status line (the live region) reads `message`.
    pub(crate) async fn wait_for_status(&self, status: &str, message: &str) {
        let script = r#"
            const root = document.querySelector(".qrlogin");
            const line = document.querySelector(".qrlogin-status");
            return root && line && root.dataset.status === arguments[0] && line.textContent === arguments[1];"#;
        let what = format!("status {status:?} saying {message:?}");
        self.wait_for(&what, SOON, script, vec![json!(status), json!(message)]).await;
    }

    /// The check code the page shows under the QR once the phone has scanned, as a user reads it off the screen.
    pub(crate) async fn shown_check_code(&self) -> String {
        let script = r#"
            const code = document.querySelector(".qrlogin-check-code");
            return code && !code.hidden && /^[0-9]{2}$/.test(code.innerText) ? code.innerText : null;"#;
        let code = self.wait_for("a check code on screen", SOON, script, vec![]).await;
        code.as_str().expect("the check code is text").to_owned()
    }

    /// The overlay over the QR: its message, and whether its "New code" button is visible. `None` if hidden.
    pub(crate) async fn overlay(&self) -> Option<(String, bool)> {
        let overlay = self.client.find(Locator::Css(OVERLAY)).await.expect("the overlay element");
        if !overlay.is_displayed().await.expect("visibility") {
            return None;
        }
        let message = overlay.find(Locator::Css("p")).await.expect("the overlay message");
        let message = message.text().await.expect("the overlay message text");
        let button = self.client.find(Locator::Css(NEW_CODE)).await.expect("the New code button");
        let shown =
            button.is_displayed().await.expect("visibility") && button.text().await.expect("text") == "New code";
        Some((message, shown))
    }

    /// Asks for a new code the way a keyboard user does: the button must have the focus (the page moves it there
    /// when a code ends), and Enter presses it.
    pub(crate) async fn new_code_by_keyboard(&self) {
        let focused = self.client.active_element().await.expect("the focused element");
        let class = focused.attr("class").await.expect("class attribute");
        assert_eq!(class.as_deref(), Some("qrlogin-refresh"), "the New code button should have the keyboard focus");
        focused.send_keys(&Key::Enter.to_string()).await.expect("Enter");
    }

    /// Waits for the logged-in section: the welcome line names `name`, and the claims verified by `/v1/me` are
    /// shown with `sub` = `user`. Returns the claims.
    pub(crate) async fn wait_for_login(&self, name: &str, user: &str) -> Value {
        let script = r#"
            const done = document.getElementById("done");
            const welcome = document.getElementById("welcome").textContent;
            return !done.hidden && welcome === arguments[0] ? document.getElementById("claims").textContent : null;"#;
        let what = format!("the page to say it is logged in as {name}");
        let claims = self.wait_for(&what, SOON, script, vec![json!(format!("Logged in as {name}"))]).await;
        let claims = claims.as_str().expect("claims text");
        assert!(claims.contains(&format!(r#""sub": "{user}""#)), "claims shown: {claims}");
        serde_json::from_str(claims).unwrap_or_else(|e| panic!("the claims shown are not JSON ({e}): {claims}"))
    }

    /// Waits until the logged-in page says the phone ended its web session.
    pub(crate) async fn wait_for_logout(&self) {
        let script = r#"return document.getElementById("welcome").textContent === arguments[0] ? true : null;"#;
        let said = self.wait_for("the page to say it was logged out", SOON * 3, script, vec![json!(LOGGED_OUT)]).await;
        assert_eq!(said, json!(true));
    }

    /// Saves a full-page screenshot of the settled page as `state`.
    pub(crate) async fn shoot(&self, state: &str) {
        self.settle().await;
        let png = self.client.screenshot().await.expect("a page screenshot");
        self.shots.save(state, &png);
    }

    /// [`DemoPage::shoot`] for one of the README's pictures.
    pub(crate) async fn publish(&self, state: &str) {
        self.settle().await;
        let png = self.client.screenshot().await.expect("a page screenshot");
        self.shots.publish(state, &png);
    }

    /// What the page shows, in one line, for failure messages. Never panics.
    pub(crate) async fn describe(&self) -> String {
        let script = r##"
            const shown = (sel) => { const e = document.querySelector(sel); return e && !e.hidden ? e.innerText : null; };
            const root = document.querySelector(".qrlogin");
            return JSON.stringify({
                url: location.href,
                status: root ? root.dataset.status : null,
                message: shown(".qrlogin-status"),
                overlay: shown(".qrlogin-overlay"),
                done: shown("#done"),
            });"##;
        match self.client.execute(script, vec![]).await {
            Ok(Value::String(s)) => s,
            Ok(other) => other.to_string(),
            Err(e) => format!("(unreadable: {e})"),
        }
    }
}
