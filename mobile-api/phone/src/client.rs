//! mobile-api's phone calls (scan, confirm, deny, and how a scanned login stands), made with the user's bearer token. A refusal comes back as the API's own
//! problem+json, typed ([`ApiProblem`]), so the app can tell "expired" from "scanned by someone else".

use std::fmt;
use std::time::Duration;

use qrlogin_shared::qr_link::QrBaseUrl;
use qrlogin_shared::requester::RequesterDetails;
use qrlogin_shared::session::{Decision, LoginStatus, Risk};
use reqwest::{Response, header};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::{PhoneError, QrLink, split_link};

/// Bound on one call, connection included: a phone on a bad network must get an answer, not a spinner.
const TIMEOUT: Duration = Duration::from_secs(10);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const PROBLEM_TYPE_PREFIX: &str = "urn:qrlogin:problem:";

/// A successful scan: show it to the user ([`crate::describe_requester`]), then confirm or deny.
#[derive(Clone, Debug)]
pub struct ScanResult {
    pub uuid: String,
    /// Where the login comes from: browser, OS and location as the server found them, and whether this browser
    /// logged in as the user before.
    pub requester: RequesterDetails,
    /// The server's verdict: show its level and signals to the user.
    pub risk: Risk,
    /// Seconds left to decide.
    pub expires_in: u64,
    /// The scanned link; its `uuid` and `verification` are what confirm and deny take.
    pub link: QrLink,
    /// Whether `link.site` was checked against the app's own site ([`PhoneClient::with_expected_site`]).
    pub site_checked: bool,
    /// The browser shows a number the user must type to confirm ([`PhoneClient::confirm_with_check_code`]).
    pub check_code_required: bool,
}

#[derive(Deserialize)]
struct ScanAnswer {
    uuid: String,
    requester: RequesterDetails,
    risk: Risk,
    expires_in: u64,
    #[serde(default)]
    check_code_required: bool,
}

#[derive(Deserialize)]
struct DecideAnswer {
    status: String,
}

#[derive(Deserialize)]
struct StatusAnswer {
    uuid: String,
    status: LoginStatus,
}

/// How often [`PhoneClient::await_outcome`] asks.
const STATUS_EVERY: Duration = Duration::from_secs(1);

/// A refusal from mobile-api: its RFC 9457 problem details.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct ApiProblem {
    /// `urn:qrlogin:problem:<name>`; `about:blank` when the answer was not problem+json (e.g. from a proxy).
    #[serde(rename = "type", default = "about_blank")]
    pub type_uri: String,
    #[serde(default)]
    pub title: String,
    /// The HTTP status.
    #[serde(default)]
    pub status: u16,
    #[serde(default)]
    pub detail: Option<String>,
    /// `Retry-After` in seconds (429, 503): when trying again may succeed.
    #[serde(skip)]
    pub retry_after: Option<u64>,
}

impl ApiProblem {
    /// The stable name of the problem (`session-not-found`, `wrong-state`, `invalid-token`…), if it is one of ours.
    pub fn name(&self) -> Option<&str> {
        self.type_uri.strip_prefix(PROBLEM_TYPE_PREFIX)
    }
}

impl fmt::Display for ApiProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "mobile-api refused: {} {}", self.status, self.title)?;
        if let Some(detail) = &self.detail {
            write!(f, " ({detail})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiProblem {}

fn about_blank() -> String {
    "about:blank".to_owned()
}

/// The app's connection to mobile-api, acting as one user (the token's subject).
#[derive(Debug)]
pub struct PhoneClient {
    http: reqwest::Client,
    /// mobile-api's base URL without a trailing slash.
    api: String,
    token: SecretString,
    site: Option<QrBaseUrl>,
}

impl PhoneClient {
    /// `api_base` is mobile-api's base URL (`http://127.0.0.1:8081`); `token` the user's bearer token.
    pub fn new(api_base: &str, token: impl Into<String>) -> Result<Self, PhoneError> {
        let api = api_base.trim().trim_end_matches('/');
        let valid = reqwest::Url::parse(api)
            .is_ok_and(|url| matches!(url.scheme(), "http" | "https") && url.has_host() && url.query().is_none());
        if !valid {
            return Err(PhoneError::BadApiUrl(api_base.to_owned()));
        }
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(concat!("qrlogin-phone/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { http, api: api.to_owned(), token: SecretString::from(token.into()), site: None })
    }

    /// The app's own site (`QRL_QR_BASE_URL`): links for any other site are then refused before any call, as
    /// [`PhoneError::ForeignSite`]. Without it every `<site>/q/<uuid>.<verification>` is sent to mobile-api.
    pub fn with_expected_site(mut self, site: QrBaseUrl) -> Self {
        self.site = Some(site);
        self
    }

    /// `POST /v1/scan`: claims the login for this user and learns where it comes from. Decide nothing yet.
    pub async fn scan(&self, qr_content: &str) -> Result<ScanResult, PhoneError> {
        let link = split_link(qr_content, self.site.as_ref())?;
        let answer: ScanAnswer = self.post("/v1/scan", &json!({ "qr_content": qr_content.trim() })).await?;
        if answer.uuid != link.uuid {
            return Err(PhoneError::UnexpectedAnswer(format!(
                "scanned {} but the QR is for {}",
                answer.uuid, link.uuid
            )));
        }
        Ok(ScanResult {
            uuid: answer.uuid,
            requester: answer.requester,
            risk: answer.risk,
            expires_in: answer.expires_in,
            link,
            site_checked: self.site.is_some(),
            check_code_required: answer.check_code_required,
        })
    }

    /// `POST /v1/confirm`: the user approves; the browser's next poll receives its web token.
    pub async fn confirm(&self, uuid: &str, verification: &str) -> Result<(), PhoneError> {
        self.decide(Decision::Confirm, uuid, verification, None).await
    }

    /// `POST /v1/confirm` with the number the browser shows, typed by the user: needed when the scan said
    /// `check_code_required`. A wrong one is refused (`wrong-check-code`); the third denies the login.
    pub async fn confirm_with_check_code(&self, uuid: &str, verification: &str, code: &str) -> Result<(), PhoneError> {
        self.decide(Decision::Confirm, uuid, verification, Some(code)).await
    }

    /// `POST /v1/deny`: the user refuses; the browser learns it was denied.
    pub async fn deny(&self, uuid: &str, verification: &str) -> Result<(), PhoneError> {
        self.decide(Decision::Deny, uuid, verification, None).await
    }

    /// `POST /v1/confirm` or `/v1/deny`; mobile-api answers with the state the session moved to.
    pub async fn decide(
        &self,
        decision: Decision,
        uuid: &str,
        verification: &str,
        check_code: Option<&str>,
    ) -> Result<(), PhoneError> {
        let path = match decision {
            Decision::Confirm => "/v1/confirm",
            Decision::Deny => "/v1/deny",
        };
        let expected = decision.state().as_str();
        let mut body = json!({ "uuid": uuid, "verification": verification });
        if let Some(code) = check_code {
            body["check_code"] = json!(code);
        }
        let answer: DecideAnswer = self.post(path, &body).await?;
        if answer.status == expected {
            Ok(())
        } else {
            Err(PhoneError::UnexpectedAnswer(format!("status {:?} instead of {expected:?}", answer.status)))
        }
    }

    /// `GET /v1/logins/{uuid}`: how a login this user scanned stands. After a confirm, ask until it
    /// [`is_final`](LoginStatus::is_final): the confirm's `200` does not mean the browser got in (it may cancel
    /// first). A `session-not-found` problem: unknown, another user's, or ended more than five minutes ago.
    pub async fn status(&self, uuid: &str) -> Result<LoginStatus, PhoneError> {
        let path = format!("/v1/logins/{uuid}");
        let answer: StatusAnswer = self.send(self.http.get(format!("{}{path}", self.api)), &path).await?;
        if answer.uuid != uuid {
            return Err(PhoneError::UnexpectedAnswer(format!("status of {} for {uuid}", answer.uuid)));
        }
        Ok(answer.status)
    }

    /// Asks [`PhoneClient::status`] about once a second until the login's outcome is final or `patience` has
    /// passed (then the last status, `confirmed` while the browser has not collected the login yet).
    pub async fn await_outcome(&self, uuid: &str, patience: Duration) -> Result<LoginStatus, PhoneError> {
        let until = tokio::time::Instant::now() + patience;
        loop {
            let status = self.status(uuid).await?;
            if status.is_final() || tokio::time::Instant::now() + STATUS_EVERY > until {
                return Ok(status);
            }
            tokio::time::sleep(STATUS_EVERY).await;
        }
    }

    /// `GET /v1/sessions`: where the user is logged in (their live web sessions), newest first.
    pub async fn sessions(&self) -> Result<Vec<WebSessionInfo>, PhoneError> {
        let path = "/v1/sessions";
        let answer: SessionsAnswer = self.send(self.http.get(format!("{}{path}", self.api)), path).await?;
        Ok(answer.sessions)
    }

    /// `DELETE /v1/sessions/{sid}`, or `DELETE /v1/sessions` with `None`: logs out one browser, or all.
    pub async fn end_sessions(&self, sid: Option<&str>) -> Result<(), PhoneError> {
        let path = sid.map_or_else(|| "/v1/sessions".to_owned(), |sid| format!("/v1/sessions/{sid}"));
        let res =
            self.http.delete(format!("{}{path}", self.api)).bearer_auth(self.token.expose_secret()).send().await?;
        if !res.status().is_success() {
            return Err(PhoneError::Api(problem(res).await?));
        }
        Ok(())
    }

    async fn post<T: DeserializeOwned>(&self, path: &str, body: &Value) -> Result<T, PhoneError> {
        self.send(self.http.post(format!("{}{path}", self.api)).json(body), path).await
    }

    async fn send<T: DeserializeOwned>(&self, req: reqwest::RequestBuilder, path: &str) -> Result<T, PhoneError> {
        let res = req.bearer_auth(self.token.expose_secret()).send().await?;
        if !res.status().is_success() {
            return Err(PhoneError::Api(problem(res).await?));
        }
        let bytes = res.bytes().await?;
        serde_json::from_slice(&bytes).map_err(|e| PhoneError::UnexpectedAnswer(format!("{path}: {e}")))
    }
}

/// The refusal as problem+json, or (from something in front of mobile-api) a problem built from the status.
async fn problem(res: Response) -> Result<ApiProblem, PhoneError> {
    let status = res.status();
    let retry_after =
        res.headers().get(header::RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse().ok());
    let bytes = res.bytes().await?;
    let mut problem = serde_json::from_slice::<ApiProblem>(&bytes).unwrap_or_else(|_| {
        let text = String::from_utf8_lossy(&bytes);
        ApiProblem {
            type_uri: about_blank(),
            title: String::new(),
            status: 0,
            detail: Some(text.trim().chars().take(200).collect()).filter(|d: &String| !d.is_empty()),
            retry_after: None,
        }
    });
    problem.status = status.as_u16();
    if problem.title.is_empty() {
        problem.title = status.canonical_reason().unwrap_or("Error").to_owned();
    }
    problem.retry_after = retry_after;
    Ok(problem)
}

/// One web session of the user, as `GET /v1/sessions` lists it.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct WebSessionInfo {
    pub sid: String,
    pub browser: String,
    pub os: String,
    pub location: Option<qrlogin_shared::requester::Location>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub last_seen: String,
    /// The session of the user's latest login.
    pub current_login: bool,
}

#[derive(serde::Deserialize)]
struct SessionsAnswer {
    sessions: Vec<WebSessionInfo>,
}
