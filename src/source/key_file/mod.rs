//! Reads a key file before it is imported or restored: PKCS#12, PEM private keys, Key Vault BYOK
//! files and Key Vault backup blobs, recognised by their content. What is read is a
//! [`KeyFile`]: the facts the key-file rules check, never the key material.

mod account;
mod backup;
mod byok;
mod der;
mod pem;
mod pkcs12;
mod target;

use miette::Diagnostic;
use thiserror::Error;

use crate::model::key_file::KeyFile;

pub use self::target::parse_target;

/// Every format `cmk-check key-file` reads, for the messages that name them.
pub const SUPPORTED: &str = "PKCS#12 (.pfx, .p12), a PEM private key (PKCS#8, PKCS#1 `RSA PRIVATE KEY`, SEC1 `EC PRIVATE KEY`, encrypted PKCS#8), a Key Vault BYOK file (.byok) or a Key Vault key backup (.backup)";

/// Why a key file could not be checked. None of them quotes the file's content.
#[derive(Debug, Error, Diagnostic)]
pub enum KeyFileError {
    #[error("`{path}` is not a key file cmk-check reads: {found}")]
    #[diagnostic(code(cmk_check::key_file::unsupported), help("give {SUPPORTED}"))]
    Unsupported { path: String, found: String },
    #[error("`{path}` is protected by a password")]
    #[diagnostic(
        code(cmk_check::key_file::password),
        help("name the environment variable that holds it: `--password-env VAR` (or run on a terminal to be asked)")
    )]
    NeedsPassword { path: String },
    #[error("could not get the password of `{path}`: {reason}")]
    #[diagnostic(code(cmk_check::key_file::password))]
    PasswordUnavailable { path: String, reason: String },
    #[error("wrong password for `{path}`")]
    #[diagnostic(code(cmk_check::key_file::wrong_password), help("{check}"))]
    WrongPassword { path: String, check: &'static str },
    #[error("`{path}` cannot be read as {format}: {reason}")]
    #[diagnostic(code(cmk_check::key_file::malformed))]
    Malformed {
        path: String,
        format: &'static str,
        reason: String,
        #[help]
        help: Option<String>,
    },
    #[error("`{given}` is not a Key Vault: {reason}")]
    #[diagnostic(
        code(cmk_check::key_file::vault),
        help("give the vault's resource ID (`/subscriptions/<sub>/resourceGroups/<group>/providers/Microsoft.KeyVault/vaults/<name>`) or its URI (`https://<name>.vault.azure.net/`)")
    )]
    Vault { given: String, reason: String },
}

/// Where the password of a protected file comes from; asked only once the file turns out to
/// need one, so that an unprotected file never prompts.
pub trait Password {
    /// `None`: no password can be had (no `--password-env`, and no terminal to ask on).
    fn get(&mut self) -> Result<Option<String>, KeyFileError>;
}

/// Reads the key file at `path` whose bytes are `bytes`, for the vault of `target`.
pub fn read(
    path: &str,
    bytes: &[u8],
    password: &mut dyn Password,
    target: Option<&str>,
) -> Result<KeyFile, KeyFileError> {
    let target = target.map(parse_target).transpose()?;
    let extension = std::path::Path::new(path)
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let (doc, contents) = if let Some(blob) = backup::recognise(bytes) {
        backup::read(path, blob)
    } else if byok::looks_like(bytes, &extension) {
        byok::read(path, bytes)?
    } else if pem::looks_like(bytes) {
        pem::read(path, bytes, password)?
    } else if pkcs12::looks_like(bytes, &extension) {
        pkcs12::read(path, bytes, password)?
    } else {
        return Err(KeyFileError::Unsupported {
            path: path.to_string(),
            found: describe(bytes, &extension),
        });
    };
    Ok(KeyFile {
        path: path.to_string(),
        doc,
        contents,
        target,
    })
}

/// What the file looks like, for the message that refuses it.
fn describe(bytes: &[u8], extension: &str) -> String {
    if bytes.is_empty() {
        return "it is empty".to_string();
    }
    let kind = if std::str::from_utf8(bytes).is_ok() {
        "text"
    } else {
        "binary data"
    };
    match extension {
        "" => format!("its content is {kind} in none of these formats"),
        ext => format!("its content is {kind} in none of these formats (whatever `.{ext}` says)"),
    }
}
