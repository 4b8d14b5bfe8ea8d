//! What the gateway's handlers need, built once at start-up and shared by all workers.

use crate::introspection::IntrospectionClients;
use std::sync::Arc;

use qrlogin_shared::qr_link::QrBaseUrl;
use qrlogin_shared::server::Shutdown;
use qrlogin_shared::{SessionId, SessionStore, Verifier};

use crate::config::SessionPolicy;
use crate::directory::UserDirectory;
use crate::origin::AllowedOrigins;
use crate::push::Notifier;
use crate::qr_image::{QrImageError, render_png};
use crate::web_token::WebTokenSigner;

pub struct GatewayContext {
    pub store: SessionStore,
    pub verifier: Verifier,
    pub base: QrBaseUrl,
    pub signer: WebTokenSigner,
    pub directory: Arc<dyn UserDirectory>,
    pub policy: SessionPolicy,
    /// Who may start and cancel logins (login CSRF).
    pub origins: AllowedOrigins,
    /// Who may introspect tokens.
    pub introspection: IntrospectionClients,
    pub notifier: Arc<Notifier>,
    /// Started when the instance is shutting down: waiting browsers are answered now, streams end.
    pub shutdown: Shutdown,
}

/// A QR as the browser shows it: the link and its PNG as a data URL, under the names of the create answer.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct QrCode {
    pub qr_content: String,
    pub qr_image: String,
}

impl GatewayContext {
    /// The QR of `id`'s code expiring at `expires_at`. Codes are deterministic (an HMAC), so any instance can
    /// draw the current one again from the expiry kept in Redis.
    pub fn qr(&self, id: &SessionId, expires_at: u32) -> Result<QrCode, QrImageError> {
        use base64::Engine;
        let qr_content = self.base.link(id, &self.verifier.issue(id, expires_at));
        let png = render_png(&qr_content)?;
        let qr_image = format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(png));
        Ok(QrCode { qr_content, qr_image })
    }
}
