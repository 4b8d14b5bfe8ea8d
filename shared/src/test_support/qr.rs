//! Reading a login QR the way a phone does: PNG pixels through a real decoder (`rqrr`), never the JSON's
//! `qr_content`. The one QR reader of every test suite.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use png::{BitDepth, ColorType, Transformations};
pub use rqrr::MetaData;

const DATA_URL_PREFIX: &str = "data:image/png;base64,";

/// What a scanner reads off one PNG, with the PNG's format as the gateway wrote it (before any expansion).
#[derive(Debug)]
pub struct ReadQr {
    pub text: String,
    /// ECC level and mask, as the symbol's format bits say.
    pub meta: MetaData,
    pub color_type: ColorType,
    pub bit_depth: BitDepth,
}

/// The text of the one QR code in a `data:image/png;base64,...` URL (the create answer's `qr_image`).
pub fn decode_qr(png_data_url: &str) -> String {
    let b64 = png_data_url
        .strip_prefix(DATA_URL_PREFIX)
        .unwrap_or_else(|| panic!("qr_image is not a base64 PNG data URL: {png_data_url:.40}..."));
    let png_bytes = STANDARD.decode(b64).expect("qr_image is valid base64");
    read_qr_png(&png_bytes).text
}

/// Reads the one QR code in a PNG: PNG -> 8-bit greyscale -> rqrr. Fails the test unless there is exactly one.
pub fn read_qr_png(png_bytes: &[u8]) -> ReadQr {
    let (width, height, luma, (color_type, bit_depth)) = greyscale(png_bytes);
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| luma[y * width + x]);
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1, "expected exactly one QR code in the image, found {}", grids.len());
    let (meta, text) = grids[0].decode().expect("the QR code decodes");
    ReadQr { text, meta, color_type, bit_depth }
}

/// Any PNG the gateway might send (1-bit grey today; palette, RGB or alpha tomorrow) as one luma byte per pixel,
/// with the format it was stored in.
fn greyscale(png_bytes: &[u8]) -> (usize, usize, Vec<u8>, (ColorType, BitDepth)) {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    // Expands low bit depths and palettes to 8 bits per channel and strips 16-bit down to 8.
    decoder.set_transformations(Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().expect("qr_image is a PNG");
    let stored = (reader.info().color_type, reader.info().bit_depth);
    let mut buf = vec![0; reader.output_buffer_size().expect("PNG size fits in memory")];
    let frame = reader.next_frame(&mut buf).expect("PNG frame decodes");
    let (width, height) = (frame.width as usize, frame.height as usize);
    let channels = match frame.color_type {
        ColorType::Grayscale => 1,
        ColorType::GrayscaleAlpha => 2,
        ColorType::Rgb => 3,
        ColorType::Rgba => 4,
        ColorType::Indexed => panic!("palette left unexpanded"),
    };
    let mut luma = Vec::with_capacity(width * height);
    for y in 0..height {
        let row = &buf[y * frame.line_size..][..width * channels];
        for px in row.chunks_exact(channels) {
            let value = match px {
                [g] | [g, _] => *g,
                // ITU-R BT.601 luma, integer form.
                [r, g, b, ..] => ((299 * u32::from(*r) + 587 * u32::from(*g) + 114 * u32::from(*b)) / 1000) as u8,
                [] => 255,
            };
            luma.push(value);
        }
    }
    (width, height, luma, stored)
}
