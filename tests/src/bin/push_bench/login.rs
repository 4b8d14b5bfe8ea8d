//! Both sides of a login over HTTP: the browser creates a session (keeping its binding cookie), the phone
//! scans and confirms with a development user token.

use std::time::Duration;

use qrlogin_phone::dev_token::DevTokenSettings;
use reqwest::header::{HeaderValue, SET_COOKIE};
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::Result;

/// Bound on one request of the setup and the phone; waiting browsers have their own bounds.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
pub(crate) const BROWSER_USER_AGENT: &str = "Mozilla/5.0 (X11; Linux x86_64) qrlogin-push-bench/1.0";

/// One login as the browser started it.
pub(crate) struct Session {
    pub(crate) uuid: String,
    pub(crate) verification: String,
    pub(crate) qr_content: String,
    /// `qrl_bind=<value>`, ready for a `Cookie` header.
    pub(crate) cookie: HeaderValue,
}

/// A user token mobile-api accepts, minted as `qrlogin-phone dev-token` mints it (by the same code): HS256 with
/// the development identity provider's secret from `deploy/dev.env`, valid for an hour.
pub(crate) fn dev_user_token(env: &[(String, String)], user: &str) -> Result<String> {
    let lookup = |name: &str| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let minter = DevTokenSettings::from_lookup(lookup).map_err(|e| format!("deploy/dev.env: {e}"))?;
    Ok(minter.mint(user, Duration::from_secs(3600))?)
}

/// `POST /v1/qr`.
pub(crate) async fn create(client: &reqwest::Client, gateway: &str) -> Result<Session> {
    let res = client.post(format!("{gateway}/v1/qr")).timeout(REQUEST_TIMEOUT).send().await?;
    if res.status() != reqwest::StatusCode::CREATED {
        return Err(format!("create answered {}", res.status()).into());
    }
    let cookie = res
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.split(';').next().filter(|c| c.starts_with("qrl_bind=")))
        .ok_or("no qrl_bind cookie")?;
    let cookie = HeaderValue::from_str(cookie)?;
    let body: Value = res.json().await?;
    let qr_content = body["qr_content"].as_str().ok_or("no qr_content")?.to_owned();
    let (_, code) = qr_content.rsplit_once("/q/").ok_or("qr_content is not a QR link")?;
    let (uuid, verification) = code.split_once('.').ok_or("QR link without a verification string")?;
    Ok(Session { uuid: uuid.to_owned(), verification: verification.to_owned(), qr_content: qr_content.clone(), cookie })
}

/// The phone's side: a user token and the mobile-api base URL.
pub(crate) struct Phone {
    pub(crate) client: reqwest::Client,
    pub(crate) base: String,
    pub(crate) token: String,
}

impl Phone {
    /// `POST /v1/scan`.
    pub(crate) async fn scan(&self, session: &Session) -> Result<()> {
        self.post("/v1/scan", &json!({ "qr_content": session.qr_content })).await.map(drop)
    }

    /// `POST /v1/confirm`; returns when the request was sent and when its answer arrived.
    pub(crate) async fn confirm(&self, session: &Session) -> Result<(Instant, Instant)> {
        let body = json!({ "uuid": session.uuid, "verification": session.verification });
        let sent = Instant::now();
        let acked = self.post("/v1/confirm", &body).await?;
        Ok((sent, acked))
    }

    /// Posts `body` and returns the instant the (successful) answer's head arrived.
    async fn post(&self, path: &str, body: &Value) -> Result<Instant> {
        let req = self.client.post(format!("{}{path}", self.base)).bearer_auth(&self.token).json(body);
        let res = req.timeout(REQUEST_TIMEOUT).send().await?;
        let at = Instant::now();
        let status = res.status();
        // Read to the end either way, so the connection goes back to the pool.
        let text = res.text().await?;
        if !status.is_success() {
            return Err(format!("{path} answered {status}: {text}").into());
        }
        Ok(at)
    }
}
