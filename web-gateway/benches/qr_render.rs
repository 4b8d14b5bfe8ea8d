//! Content -> PNG bytes for the login QR, the work done on every session start and QR refresh.
//!
//! `optimized` is the production `render_png`; `naive` is what a first version would write (automatic mask
//! selection, one `get_module` call per pixel, default PNG compression), kept here so the README can quote both.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use qrcodegen::{QrCode, QrCodeEcc};
use web_gateway::qr_image::{MODULE_PX, render_png};

/// 95 bytes: a link with a shorter verification code. Encodes as version 6 at ECC M.
const TYPICAL: &str = "https://login.example.com/q/0b8e4a0c-6f0f-4e45-9d2a-6f7f0c1b2a3d.AAAAAbbbbbCCCCCdddddEEEEEfffff";
/// 113 bytes: today's link shape (uuid + 48-char code). Encodes as version 7 at ECC M.
const FULL: &str = "https://login.example.com/q/0b8e4a0c-6f0f-4e45-9d2a-6f7f0c1b2a3d.\
                    AAAAAbbbbbCCCCCdddddEEEEEfffffGGGGGhhhhhIIIIIjjj";

const QUIET_ZONE: i32 = 4;

fn naive_render_png(content: &str) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let qr = QrCode::encode_text(content, QrCodeEcc::Medium)?;
    let px = i32::try_from(MODULE_PX)?;
    let side = (qr.size() + 2 * QUIET_ZONE) * px;
    let stride = usize::try_from(side)?.div_ceil(8);
    let mut pixels = vec![0u8; stride * usize::try_from(side)?];
    for y in 0..side {
        for x in 0..side {
            // get_module is false (light) outside the symbol, which draws the quiet zone.
            if !qr.get_module(x / px - QUIET_ZONE, y / px - QUIET_ZONE) {
                let (x, y) = (usize::try_from(x)?, usize::try_from(y)?);
                pixels[y * stride + x / 8] |= 0x80 >> (x % 8);
            }
        }
    }
    let mut out = Vec::new();
    let side = u32::try_from(side)?;
    let mut encoder = png::Encoder::new(&mut out, side, side);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::One);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(&pixels)?;
    writer.finish()?;
    Ok(out)
}

fn qr_render(c: &mut Criterion) {
    let mut group = c.benchmark_group("qr_render");
    for (name, content) in [("typical_95B", TYPICAL), ("full_113B", FULL)] {
        group.bench_function(format!("optimized/{name}"), |b| b.iter(|| render_png(black_box(content))));
        group.bench_function(format!("naive/{name}"), |b| b.iter(|| naive_render_png(black_box(content))));
    }
    group.finish();
}

criterion_group!(benches, qr_render);
criterion_main!(benches);
