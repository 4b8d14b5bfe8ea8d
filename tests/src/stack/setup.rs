//! How a [`super::Stack`] is put together: the services' settings for it, its HTTP clients and requests.

use super::*;

/// [`web_gateway::Settings::for_test`] on `service`, with this harness's web token and claim grace.
pub(super) fn gateway_settings(service: ServiceSettings) -> web_gateway::Settings {
    let mut settings = web_gateway::Settings { service, ..web_gateway::Settings::for_test() };
    settings.claim_grace = Duration::from_secs(CLAIM_GRACE_SECS);
    settings.web_token.issuer = WEB_ISSUER.to_owned();
    settings.web_token.audience = WEB_AUDIENCE.to_owned();
    settings
}

/// [`UserJwtSettings::for_test`] with this harness's identity provider.
pub(super) fn user_jwt_settings() -> UserJwtSettings {
    UserJwtSettings {
        key: UserJwtKey::Secret(SecretString::from(USER_JWT_SECRET)),
        issuer: USER_ISSUER.to_owned(),
        audience: USER_AUDIENCE.to_owned(),
        leeway: Duration::from_secs(USER_LEEWAY_SECS),
        ..UserJwtSettings::for_test()
    }
}

/// `ServiceSettings` is not `Clone` (on purpose: secrets); the second service gets a field-by-field copy.
pub(super) fn copy_of(s: &ServiceSettings) -> ServiceSettings {
    ServiceSettings {
        listen_addr: s.listen_addr,
        redis: s.redis.clone(),
        signing_secret: s.signing_secret.clone(),
        accepted_signing_secrets: s.accepted_signing_secrets.clone(),
        qr_base_url: s.qr_base_url.clone(),
        trusted_proxies: s.trusted_proxies.clone(),
        log_json: s.log_json,
        workers: s.workers,
        shutdown_timeout: s.shutdown_timeout,
        metrics_addr: s.metrics_addr,
    }
}

pub(super) fn client(user_agent: &str) -> reqwest::Client {
    client_from(user_agent, None)
}

/// An HTTP client whose connections leave from `local_ip`, when given.
pub(super) fn client_from(user_agent: &str, local_ip: Option<IpAddr>) -> reqwest::Client {
    reqwest::Client::builder()
        .user_agent(user_agent)
        .local_address(local_ip)
        .timeout(REQUEST_TIMEOUT)
        // Loopback only: an HTTP(S)_PROXY in the environment must not get in between.
        .no_proxy()
        .build()
        .expect("HTTP client builds")
}

pub(super) fn with_cookie(req: reqwest::RequestBuilder, binding: Option<&str>) -> reqwest::RequestBuilder {
    match binding {
        Some(value) => req.header("cookie", format!("qrl_bind={value}")),
        None => req,
    }
}

pub(super) async fn send(req: reqwest::RequestBuilder) -> Reply {
    let started = Instant::now();
    let res = req.send().await.expect("the service answers");
    Reply::read(res, started).await
}
