//! Screenshots of every state a test reaches: always written to `target/browser-screenshots/<test>-<state>.png`
//! (a test's older ones are removed when it starts, so the directory shows the last run), and the README's
//! pictures refreshed in `tests/screenshots/` when `QRL_UPDATE_SCREENSHOTS=1`.

use std::path::{Path, PathBuf};

/// Under the workspace's `target/`, next to the test Redis's files.
const RUN_DIR: &str = "target/browser-screenshots";
/// Committed; the README shows them.
const README_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/screenshots");
const UPDATE_ENV: &str = "QRL_UPDATE_SCREENSHOTS";
/// The window the README pictures are taken in (Chromium's `--window-size`): a phone-sized page.
pub(crate) const PAGE_SIZE: (u32, u32) = (480, 800);

#[derive(Clone, Copy)]
pub(crate) struct Shots {
    test: &'static str,
}

impl Shots {
    /// The screenshots of test `test`; clears the ones an earlier run left.
    pub(crate) fn new(test: &'static str) -> Self {
        std::fs::create_dir_all(Self::dir()).expect("create target/browser-screenshots");
        let prefix = format!("{test}-");
        for entry in std::fs::read_dir(Self::dir()).expect("list target/browser-screenshots").flatten() {
            let name = entry.file_name();
            if name.to_string_lossy().starts_with(&prefix) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        Self { test }
    }

    pub(crate) fn dir() -> PathBuf {
        let tests = Path::new(env!("CARGO_MANIFEST_DIR"));
        tests.parent().unwrap_or(tests).join(RUN_DIR)
    }

    /// Writes `png` as this test's picture of `state`.
    pub(crate) fn save(&self, state: &str, png: &[u8]) -> PathBuf {
        let path = Self::dir().join(format!("{}-{state}.png", self.test));
        std::fs::write(&path, png).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        path
    }

    /// [`Shots::save`], and with `QRL_UPDATE_SCREENSHOTS=1` also the README's picture of `state`. It must show
    /// the whole page at the phone-sized window.
    pub(crate) fn publish(&self, state: &str, png: &[u8]) {
        self.save(state, png);
        assert_eq!(png_size(png), PAGE_SIZE, "a README screenshot shows the whole {PAGE_SIZE:?} page");
        if std::env::var(UPDATE_ENV).is_ok_and(|v| v == "1") {
            std::fs::create_dir_all(README_DIR).expect("create tests/screenshots");
            let path = Path::new(README_DIR).join(format!("{state}.png"));
            std::fs::write(&path, png).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        }
    }

    /// This test's pictures so far, for a failure message.
    pub(crate) fn list(&self) -> Vec<PathBuf> {
        let prefix = format!("{}-", self.test);
        let mut paths: Vec<PathBuf> = std::fs::read_dir(Self::dir())
            .map(|dir| {
                dir.flatten()
                    .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
                    .map(|e| e.path())
                    .collect()
            })
            .unwrap_or_default();
        paths.sort();
        paths
    }
}

fn png_size(png: &[u8]) -> (u32, u32) {
    let reader = png::Decoder::new(std::io::Cursor::new(png)).read_info().expect("a screenshot is a PNG");
    let info = reader.info();
    (info.width, info.height)
}
