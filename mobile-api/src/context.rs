//! What the phone endpoints need, built once at start-up and shared by all workers.

use qrlogin_shared::http::TrustedProxies;
use qrlogin_shared::qr_link::QrBaseUrl;
use qrlogin_shared::rate_limit::RateLimiter;
use qrlogin_shared::session::CheckCodeMode;
use qrlogin_shared::{SessionStore, Verifier};

use crate::config::MobileLimits;
use crate::middleware::BlockedClients;
use crate::risk::RiskJudge;

pub struct PhoneContext {
    pub store: SessionStore,
    pub verifier: Verifier,
    pub base: QrBaseUrl,
    /// Counts refused tokens (the steps' own limits travel with their scripts).
    pub limiter: RateLimiter,
    pub limits: MobileLimits,
    pub blocked: BlockedClients,
    pub trusted_proxies: TrustedProxies,
    pub check_code: CheckCodeMode,
    pub risk: RiskJudge,
    /// `QRL_RISK_BLOCK`: confirming a login whose scan was judged this risky or worse is refused.
    pub risk_block: Option<qrlogin_shared::session::RiskLevel>,
}
