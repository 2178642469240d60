//! Stamps the git commit into `--version` when the crate is built from its own checkout. A
//! published crate (no repository of its own) or a machine without git gets the bare version.

use std::path::{Path, PathBuf};
use std::process::Command;

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    let text = text.trim();
    (output.status.success() && !text.is_empty()).then(|| text.to_string())
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    // A crate unpacked inside another repository (`cargo package`'s verify build, a vendored
    // copy) is not that repository's commit.
    let own_checkout = git(&manifest, &["rev-parse", "--show-toplevel"])
        .is_some_and(|top| Path::new(&top).canonicalize().ok() == manifest.canonicalize().ok());
    let commit = own_checkout
        .then(|| git(&manifest, &["rev-parse", "--short", "HEAD"]))
        .flatten()
        .filter(|c| c.chars().all(|ch| ch.is_ascii_hexdigit()));
    if own_checkout {
        // A worktree keeps HEAD in its own git dir, the branches in the common one.
        for (flag, files) in [
            ("--git-dir", &["HEAD"][..]),
            ("--git-common-dir", &["refs/heads", "packed-refs"][..]),
        ] {
            if let Some(dir) = git(&manifest, &["rev-parse", flag]) {
                let dir = manifest.join(dir);
                for file in files {
                    let path = dir.join(file);
                    if path.exists() {
                        println!("cargo:rerun-if-changed={}", path.display());
                    }
                }
            }
        }
    }
    let shown = match commit {
        Some(commit) => format!("{version} ({commit})"),
        None => version,
    };
    println!("cargo:rustc-env=CMK_CHECK_VERSION={shown}");
}
