//! From a picture to the QR text, the way a phone camera app does it: any PNG or JPEG (a screenshot of the
//! whole login page works) -> 8-bit greyscale -> `rqrr`, which finds the code anywhere in the picture.

use std::io::Cursor;
use std::panic::{self, AssertUnwindSafe};

use image::imageops::{self, FilterType};
use image::{GrayImage, ImageError, ImageReader, Limits};

use crate::PhoneError;

/// Larger pictures are refused before decoding: a 10-byte PNG header can claim gigapixels.
const MAX_SIDE: u32 = 8192;
const MAX_ALLOC: u64 = 512 * 1024 * 1024;
/// Up to this size a picture is also tried at twice its size: codes whose modules are only 1-2 px wide (a
/// scaled-down screenshot) are found far more reliably once each module spans several pixels.
const UPSCALE_BELOW: u32 = 2048;

/// The text of the QR code in a PNG or JPEG picture. When several codes decode, a login link (`…/q/…`) wins over
/// other text, else the first one found. A picture that reads on no attempt is [`PhoneError::NoQrCode`].
pub fn decode_qr_image(bytes: &[u8]) -> Result<String, PhoneError> {
    let mut reader = ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(ImageError::IoError)?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_ALLOC);
    reader.limits(limits);
    let luma = reader.decode()?.to_luma8();

    if let Some(text) = read(&luma) {
        return Ok(text);
    }
    // The picture as it is failed; each retry helps a kind of picture the plain pass misses.
    let retries: [fn(&GrayImage) -> Option<GrayImage>; 4] = [
        |img| (img.width().max(img.height()) < UPSCALE_BELOW).then(|| scale(img, 2, 1)),
        |img| (img.width().min(img.height()) >= 400).then(|| scale(img, 1, 2)),
        |img| Some(binarize(img)),
        // A dark-mode page or app may draw the code light on dark; decoders only look for dark modules.
        |img| {
            let mut inverted = img.clone();
            imageops::invert(&mut inverted);
            Some(inverted)
        },
    ];
    for retry in retries {
        if let Some(text) = retry(&luma).and_then(|img| read(&img)) {
            return Ok(text);
        }
    }
    Err(PhoneError::NoQrCode)
}

/// One detection pass. `rqrr` has been seen to panic inside `detect_grids` on some camera photos
/// (WanzenBug/rqrr#54): a picture we cannot read must be an error, not a crash of the app.
fn read(image: &GrayImage) -> Option<String> {
    panic::catch_unwind(AssertUnwindSafe(|| {
        let (w, h) = (image.width() as usize, image.height() as usize);
        let raw = image.as_raw();
        let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| raw[y * w + x]);
        let texts: Vec<String> =
            prepared.detect_grids().iter().filter_map(|grid| grid.decode().ok().map(|(_, text)| text)).collect();
        texts.iter().find(|t| t.contains("/q/")).or(texts.first()).cloned()
    }))
    .ok()
    .flatten()
}

/// `img` resized by `num / den`. Upwards Catmull-Rom rather than nearest-neighbour: a screenshot scaled down
/// to under 2 px per module has blurred edges, and interpolating them reads more codes (measured on
/// 45-66 % scaled screenshots); downwards a smoothing filter averages away JPEG and camera noise.
fn scale(img: &GrayImage, num: u32, den: u32) -> GrayImage {
    let (w, h) = ((img.width() * num / den).max(1), (img.height() * num / den).max(1));
    let filter = if num > den { FilterType::CatmullRom } else { FilterType::Triangle };
    imageops::resize(img, w, h, filter)
}

/// Pure black and white at Otsu's global threshold: for low-contrast pictures (a dim photo of a screen) where
/// `rqrr`'s local threshold picks up noise.
fn binarize(img: &GrayImage) -> GrayImage {
    let threshold = otsu(img);
    let mut out = img.clone();
    for p in out.pixels_mut() {
        p.0[0] = if p.0[0] <= threshold { 0 } else { 255 };
    }
    out
}

/// The grey level that best separates the picture into two classes (maximal between-class variance).
fn otsu(img: &GrayImage) -> u8 {
    let mut histogram = [0u64; 256];
    for p in img.pixels() {
        histogram[usize::from(p.0[0])] += 1;
    }
    let total: u64 = histogram.iter().sum();
    let sum_all: f64 = histogram.iter().enumerate().map(|(v, &n)| v as f64 * n as f64).sum();
    let (mut below, mut sum_below, mut best, mut best_variance) = (0u64, 0f64, 0u8, -1f64);
    for (value, &count) in (0u8..=255).zip(histogram.iter()) {
        below += count;
        sum_below += f64::from(value) * count as f64;
        let above = total - below;
        if below == 0 || above == 0 {
            continue;
        }
        let mean_below = sum_below / below as f64;
        let mean_above = (sum_all - sum_below) / above as f64;
        let variance = below as f64 * above as f64 * (mean_below - mean_above).powi(2);
        if variance > best_variance {
            (best, best_variance) = (value, variance);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use image::Luma;

    use super::*;

    #[test]
    fn otsu_splits_two_grey_levels_between_them() {
        let img = GrayImage::from_fn(10, 10, |x, _| Luma([if x < 5 { 60 } else { 200 }]));

        let t = otsu(&img);

        assert!((60..200).contains(&t), "threshold {t}");
        assert_eq!(binarize(&img).get_pixel(0, 0).0[0], 0);
        assert_eq!(binarize(&img).get_pixel(9, 0).0[0], 255);
    }

    #[test]
    fn garbage_is_an_image_error_and_a_blank_picture_has_no_code() {
        assert!(matches!(decode_qr_image(b"not an image"), Err(PhoneError::Image(_))));

        let mut png = Vec::new();
        GrayImage::from_pixel(64, 64, Luma([255]))
            .write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        assert!(matches!(decode_qr_image(&png), Err(PhoneError::NoQrCode)));
    }
}
