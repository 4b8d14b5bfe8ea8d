//! Browser tests: the demo page served by a real web-gateway, in headless Chromium driven over WebDriver
//! (chromedriver + fantoccini), and a phone that reads the QR off a screenshot of the page and scans, confirms or
//! denies with the reference phone client (`qrlogin_phone`). Needs Debian's `chromium` and
//! `chromium-driver` (deploy/test.sh installs them) and the test Redis.
//!
//! Every state a test reaches is saved as a screenshot in `target/browser-screenshots/`, and kept when the test
//! fails; `QRL_UPDATE_SCREENSHOTS=1` also refreshes the README's pictures in `tests/screenshots/`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests: a failed expectation should fail the test loudly"
)]

mod client;
mod driver;
mod embed;
mod flows;
mod page;
mod shots;

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

use futures_util::FutureExt;
use qrlogin_e2e::Stack;
use qrlogin_phone::PhoneClient;
use qrlogin_shared::qr_link::QrBaseUrl;
use qrlogin_shared::test_support;

use crate::driver::Browser;
use crate::page::DemoPage;
use crate::shots::Shots;

/// Bound on one test's browser part: a hung driver or page fails the test (with its screenshots).
const TEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs `body` on the demo page in a fresh headless Chromium, then closes it. If `body` fails (or hangs), the
/// page is saved as `<test>-failure.png` and the failure names every screenshot of the run.
async fn in_browser<F, Fut>(test: &'static str, body: F)
where
    F: FnOnce(DemoPage) -> Fut,
    Fut: Future<Output = ()>,
{
    let shots = Shots::new(test);
    let browser = Browser::launch().await;
    let run = AssertUnwindSafe(body(DemoPage::new(browser.client.clone(), shots))).catch_unwind();
    let failure = match tokio::time::timeout(TEST_TIMEOUT, run).await {
        Ok(Ok(())) => None,
        Ok(Err(panic)) => Some(panic),
        Err(_) => Some(Box::new(format!("the browser test did not finish within {TEST_TIMEOUT:?}")) as _),
    };
    if let Some(panic) = failure {
        let page = DemoPage::new(browser.client.clone(), shots);
        if let Ok(Ok(png)) = tokio::time::timeout(Duration::from_secs(10), browser.client.screenshot()).await {
            shots.save("failure", &png);
        }
        let seen = tokio::time::timeout(Duration::from_secs(10), page.describe()).await.unwrap_or_default();
        let files: Vec<String> = shots.list().iter().map(|p| p.display().to_string()).collect();
        eprintln!(
            "browser test {test} failed; the page showed {seen}\nits screenshots (kept in {}):\n  {}",
            Shots::dir().display(),
            files.join("\n  ")
        );
        browser.quit().await;
        std::panic::resume_unwind(panic);
    }
    browser.quit().await;
}

/// The app on `user`'s phone, knowing its own site: a QR for any other site would be refused before any call.
fn phone(stack: &Stack, user: &str) -> PhoneClient {
    let site = QrBaseUrl::parse(test_support::QR_BASE_URL).expect("the test QR base is valid");
    PhoneClient::new(&stack.mobile_url, stack.user_token(user)).expect("mobile-api URL").with_expected_site(site)
}
