//! One complete login over HTTP, as a browser and its phone do it: create, pending poll, scan, confirm,
//! claiming poll (and, should the scan ask for the number the browser shows, one poll more to read it).

use std::net::Ipv4Addr;
use std::time::Duration;

use qrlogin_e2e::decode_qr;
use reqwest::StatusCode;
use reqwest::header::{COOKIE, SET_COOKIE};
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::Result;

/// Chrome 131 on Windows, 111 bytes: the User-Agent of issue 12's memory goal.
pub(crate) const BROWSER_USER_AGENT: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like \
                                              Gecko) Chrome/131.0.0.0 Safari/537.36";
pub(crate) const PHONE_USER_AGENT: &str = "qrlogin-login-bench-phone/1.0";
/// Bound on one request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The timed steps of a login, in order; `login` is the whole.
pub(crate) const STEPS: [&str; 6] = ["create", "poll_pending", "scan", "confirm", "claim", "login"];

/// What every login shares: one HTTP client per side (keep-alive connections, as the peer bench's driver has),
/// the two services, and a user token per app user.
pub(crate) struct Driver {
    pub(crate) browser: reqwest::Client,
    pub(crate) phone: reqwest::Client,
    pub(crate) gateway: String,
    pub(crate) mobile: String,
    pub(crate) tokens: Vec<String>,
    pub(crate) decode_qr: bool,
}

/// The address a simulated client `n` comes from: distinct for every `n` below 2^24, in 127.0.0.0/8.
pub(crate) fn client_address(n: usize) -> String {
    let n = u32::try_from(n % (1 << 24)).unwrap_or(0);
    Ipv4Addr::from(0x7f00_0000 | n).to_string()
}

pub(crate) fn client(concurrency: usize, user_agent: &str) -> Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .no_proxy()
        .user_agent(user_agent)
        .timeout(REQUEST_TIMEOUT)
        .pool_max_idle_per_host(concurrency)
        .build()?)
}

/// A browser's session: its cookies (binding, device) and the QR link.
pub(crate) struct Created {
    pub(crate) uuid: String,
    pub(crate) cookies: String,
    qr_link: String,
}

impl Driver {
    /// `POST /v1/qr` from `ip`.
    pub(crate) async fn create(&self, ip: &str) -> Result<Created> {
        let url = format!("{}/v1/qr", self.gateway);
        let res = self.browser.post(url).header("x-forwarded-for", ip).send().await?;
        let status = res.status();
        let cookies: Vec<&str> =
            res.headers().get_all(SET_COOKIE).iter().filter_map(|v| v.to_str().ok()?.split(';').next()).collect();
        let cookies = cookies.join("; ");
        let body: Value = res.json().await?;
        if status != StatusCode::CREATED {
            return Err(format!("create answered {status}: {body}").into());
        }
        let uuid = body["uuid"].as_str().ok_or("no uuid")?.to_owned();
        let qr_link = if self.decode_qr {
            decode_qr(body["qr_image"].as_str().ok_or("no qr_image")?)
        } else {
            body["qr_content"].as_str().ok_or("no qr_content")?.to_owned()
        };
        Ok(Created { uuid, cookies, qr_link })
    }

    /// `GET /v1/qr/{uuid}`: the status, and the whole answer.
    pub(crate) async fn poll(&self, ip: &str, session: &Created) -> Result<(String, Value)> {
        let url = format!("{}/v1/qr/{}", self.gateway, session.uuid);
        let req = self.browser.get(url).header(COOKIE, &session.cookies).header("x-forwarded-for", ip);
        let res = req.send().await?;
        let status = res.status();
        let body: Value = res.json().await?;
        if status != StatusCode::OK {
            return Err(format!("poll answered {status}: {body}").into());
        }
        Ok((body["status"].as_str().unwrap_or_default().to_owned(), body))
    }

    /// The phone's `POST` to mobile-api as app user `user`, from the browser's network.
    async fn phone_post(&self, path: &str, user: usize, ip: &str, body: &Value) -> Result<Value> {
        let token = self.tokens.get(user % self.tokens.len().max(1)).ok_or("no user tokens")?;
        let req = self.phone.post(format!("{}{path}", self.mobile)).bearer_auth(token).header("x-forwarded-for", ip);
        let res = req.json(body).send().await?;
        let status = res.status();
        let body: Value = res.json().await?;
        if !status.is_success() {
            return Err(format!("{path} answered {status}: {body}").into());
        }
        Ok(body)
    }

    /// One whole login by browser `n` and app user `user`, each step's time in `times` (in [`STEPS`] order).
    pub(crate) async fn login(&self, n: usize, user: usize) -> Result<[Duration; 6]> {
        let ip = client_address(n);
        let t0 = Instant::now();
        let session = self.create(&ip).await?;
        let t1 = Instant::now();
        let (status, _) = self.poll(&ip, &session).await?;
        if status != "pending" {
            return Err(format!("pending poll answered {status}").into());
        }
        let t2 = Instant::now();
        let scanned = self.phone_post("/v1/scan", user, &ip, &json!({ "qr_content": session.qr_link })).await?;
        let t3 = Instant::now();
        let (_, code) = session.qr_link.rsplit_once("/q/").ok_or("the QR is not a login link")?;
        let (uuid, verification) = code.split_once('.').ok_or("QR link without a verification string")?;
        let mut confirm = json!({ "uuid": uuid, "verification": verification });
        if scanned["check_code_required"].as_bool() == Some(true) {
            // Number matching: the user reads the code off the browser's page.
            let (_, shown) = self.poll(&ip, &session).await?;
            confirm["check_code"] = shown["check_code"].clone();
        }
        self.phone_post("/v1/confirm", user, &ip, &confirm).await?;
        let t4 = Instant::now();
        let (status, body) = self.poll(&ip, &session).await?;
        if status != "confirmed" || body["token"].as_str().is_none_or(str::is_empty) {
            return Err(format!("claiming poll answered {status} without a token").into());
        }
        let t5 = Instant::now();
        Ok([t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t5 - t0])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_user_agent_is_111_bytes_and_every_client_has_its_own_address() {
        assert_eq!(BROWSER_USER_AGENT.len(), 111);
        assert_eq!(client_address(0), "127.0.0.0");
        assert_eq!(client_address(258), "127.0.1.2");
        assert_ne!(client_address(1), client_address(1 << 16));
    }
}
