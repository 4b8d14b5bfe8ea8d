//! Reading the QR the way a phone does: PNG pixels through a real decoder (the kit's), never the JSON's
//! `qr_content`; and the QR link taken apart.

pub use qrlogin_shared::test_support::qr::decode_qr;

/// Splits a decoded QR link `<base>/q/<uuid>.<verification>` into `(uuid, verification)`, for the test
/// services' QR base.
pub fn split_qr_link(text: &str) -> (String, String) {
    split_qr_link_under(qrlogin_shared::test_support::QR_BASE_URL, text)
}

/// [`split_qr_link`] for services whose QR base is `base`.
pub fn split_qr_link_under(base: &str, text: &str) -> (String, String) {
    let rest = text
        .strip_prefix(base)
        .and_then(|r| r.strip_prefix("/q/"))
        .unwrap_or_else(|| panic!("QR text is not a link under {base}/q/: {text}"));
    let (uuid, verification) = rest.split_once('.').unwrap_or_else(|| panic!("QR link has no verification: {text}"));
    (uuid.to_owned(), verification.to_owned())
}
