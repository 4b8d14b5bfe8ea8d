//! Renders a login link as a QR code PNG. This runs on every session start (and every QR refresh), so it is
//! tuned for latency: a fixed mask, one rasterisation per module row and the fastest deflate the `png` crate has.

use png::{BitDepth, ColorType, DeflateCompression, Encoder, Filter};
use qrcodegen::{DataTooLong, Mask, QrCode, QrCodeEcc, QrSegment, Version};

/// Pixels per QR module. 4 px makes today's version-7 link 212 px square: every module edge lands on whole
/// pixels, so decoders see clean squares, and the page scales it up with CSS (`image-rendering: pixelated`)
/// rather than us sending more bytes.
pub const MODULE_PX: u32 = 4;

/// Light modules around the symbol, as ISO/IEC 18004 requires; cameras struggle to find the finder patterns
/// without it when the page background is busy.
const QUIET_ZONE: u32 = 4;

#[derive(Debug, thiserror::Error)]
pub enum QrImageError {
    #[error("content does not fit in a version-40 QR code at ECC level M")]
    ContentTooLong(#[from] DataTooLong),
    #[error("PNG encoding failed")]
    Png(#[from] png::EncodingError),
}

/// Renders `content` as a QR code (byte mode, ECC level M, fixed mask) into a 1-bit greyscale PNG with a
/// 4-module quiet zone, `MODULE_PX` pixels per module.
pub fn render_png(content: &str) -> Result<Vec<u8>, QrImageError> {
    encode_png(&encode(content)?)
}

fn encode(content: &str) -> Result<QrCode, DataTooLong> {
    // Byte mode always: our links mix cases, so the alphanumeric mode would not apply anyway, and skipping
    // `make_segments` avoids scanning the text for the cheapest mode.
    let segs = [QrSegment::make_bytes(content.as_bytes())];
    // A fixed mask instead of automatic selection: choosing builds and scores all 8 masked candidates, about
    // 250 us here against 15 us for the whole fixed-mask encode. Every mask is valid per the spec; a fixed one
    // may leave a less balanced pattern (a worse penalty score), but decoders must read all 8 and do (the
    // round-trip tests below run `rqrr` on it).
    // boostecl=false keeps ECC at M so the level (and damage tolerance) does not depend on the content length.
    QrCode::encode_segments_advanced(&segs, QrCodeEcc::Medium, Version::MIN, Version::MAX, Some(Mask::new(0)), false)
}

fn encode_png(qr: &QrCode) -> Result<Vec<u8>, QrImageError> {
    // `size()` is 21..=177 for a valid code, so `unsigned_abs` is a lossless conversion, not a sign fix.
    let side_px = (qr.size().unsigned_abs() + 2 * QUIET_ZONE) * MODULE_PX;
    let pixels = rasterize(qr, side_px);

    // A QR PNG is ~1-2 KiB; one allocation up front avoids regrowing while deflate writes.
    let mut out = Vec::with_capacity(2048);
    let mut encoder = Encoder::new(&mut out, side_px, side_px);
    encoder.set_color(ColorType::Grayscale);
    encoder.set_depth(BitDepth::One);
    // fdeflate's ultra-fast mode costs a few us where the default (zlib level 6) costs ~300 us, for a file about
    // twice as large (~1.5 KiB instead of ~0.7 KiB for a version-7 code), noise next to the page itself. The Up
    // filter turns every repeated pixel row (MODULE_PX - 1 of each MODULE_PX) into zeros, which keeps the file
    // 2.4x smaller than no filter at the same speed; the adaptive filter saves only ~4% more.
    encoder.set_deflate_compression(DeflateCompression::FdeflateUltraFast);
    encoder.set_filter(Filter::Up);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(&pixels)?;
    writer.finish()?;
    Ok(out)
}

/// Packs the image as PNG 1-bit rows (MSB first, 0 = black, 1 = white). Each module row is rasterised once
/// and then copied `MODULE_PX` times, so `get_module` runs once per module, not once per pixel.
fn rasterize(qr: &QrCode, side_px: u32) -> Vec<u8> {
    let stride = side_px.div_ceil(8) as usize;
    let px = MODULE_PX as usize;
    // Starting all-white gives the quiet zone (and the unused padding bits of each row) for free.
    let quiet_rows = stride * (QUIET_ZONE * MODULE_PX) as usize;
    let mut pixels = Vec::with_capacity(stride * side_px as usize);
    pixels.resize(quiet_rows, 0xFF);

    let mut row = vec![0xFF_u8; stride];
    for y in 0..qr.size() {
        row.fill(0xFF);
        for x in 0..qr.size() {
            if qr.get_module(x, y) {
                let start = (x.unsigned_abs() + QUIET_ZONE) as usize * px;
                for p in start..start + px {
                    row[p / 8] &= !(0x80 >> (p % 8));
                }
            }
        }
        for _ in 0..MODULE_PX {
            pixels.extend_from_slice(&row);
        }
    }
    pixels.resize(stride * side_px as usize, 0xFF);
    pixels
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use qrlogin_shared::test_support::qr::{MetaData, read_qr_png};

    const LINK: &str = "https://login.example.com/q/0b8e4a0c-6f0f-4e45-9d2a-6f7f0c1b2a3d.\
                        AAAAAbbbbbCCCCCdddddEEEEEfffffGGGGGhhhhhIIIIIjjj";

    /// Decodes our PNG back to text the way a scanner would (the test kit's reader), checking it is 1-bit grey.
    fn decode(png_bytes: &[u8]) -> (MetaData, String) {
        let qr = read_qr_png(png_bytes);
        assert_eq!((qr.color_type, qr.bit_depth), (ColorType::Grayscale, BitDepth::One));
        (qr.meta, qr.text)
    }

    #[test]
    fn typical_link_round_trips_at_ecc_m_with_the_fixed_mask() {
        let png_bytes = render_png(LINK).unwrap();

        let (meta, text) = decode(&png_bytes);

        assert_eq!(text, LINK);
        assert_eq!(meta.ecc_level, 0, "format bits 00 mean ECC level M");
        assert_eq!(meta.mask, 0);
    }

    #[test]
    fn short_content_round_trips() {
        let (_, text) = decode(&render_png("hi").unwrap());
        assert_eq!(text, "hi");
    }

    #[test]
    fn png_is_one_bit_grey_with_a_four_module_quiet_zone() {
        let png_bytes = render_png(LINK).unwrap();

        let reader = png::Decoder::new(std::io::Cursor::new(&png_bytes)).read_info().unwrap();
        let info = reader.info();

        assert_eq!((info.color_type, info.bit_depth), (ColorType::Grayscale, BitDepth::One));
        let expected = (encode(LINK).unwrap().size().unsigned_abs() + 8) * MODULE_PX;
        assert_eq!((info.width, info.height), (expected, expected));
    }

    #[test]
    fn content_too_long_is_an_error_not_a_panic() {
        let result = render_png(&"x".repeat(5000));
        assert!(matches!(result, Err(QrImageError::ContentTooLong(_))), "{result:?}");
    }

    proptest! {
        // Each case renders and runs a full detector, so keep the count low.
        #![proptest_config(ProptestConfig::with_cases(32))]
        #[test]
        fn random_ascii_round_trips(content in "[ -~]{1,150}") {
            let (_, text) = decode(&render_png(&content).unwrap());
            prop_assert_eq!(text, content);
        }
    }
}
