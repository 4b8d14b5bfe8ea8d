//! One file per endpoint.

mod decide;
mod scan;

pub use decide::decide;
pub use scan::scan;

use qrlogin_shared::verification::VerificationCode;
use qrlogin_shared::{SessionId, Verifier, unix_now};

use crate::error::MobileError;

/// The stateless check that runs before any Redis call: a forged, foreign-keyed or stale code costs us nothing.
fn verify(verifier: &Verifier, id: &SessionId, code: &VerificationCode) -> Result<(), MobileError> {
    verifier.verify(id, code, unix_now()).map_err(|_| MobileError::NotFound)
}
