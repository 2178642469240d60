//! A key file read before `az keyvault key import` or `restore`: what the key-file rules see.
//! Only facts about the key are kept (its type, size, dates); never the key material itself.

use std::sync::Arc;

use serde_json::Value;

use crate::azure::cloud::CloudName;
use crate::azure::keyuri::{KeyUri, KeyUriError};
use crate::document::SourceDoc;

/// One key file and where its findings are labelled.
#[derive(Debug, Clone)]
pub struct KeyFile {
    /// The path as given, which reports name.
    pub path: String,
    /// The file itself for a BYOK file (its JSON, the ciphertext masked); for the other formats,
    /// which are binary or hold key material, a JSON account of what was read.
    pub doc: Arc<SourceDoc>,
    pub contents: Contents,
    /// `--vault`: where the key will be imported or restored.
    pub target: Option<TargetVault>,
}

/// The vault of `--vault`, from a resource ID or a vault URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetVault {
    /// Lower-cased vault (or Managed HSM) name.
    pub name: String,
    /// Known from a URI's DNS suffix; a resource ID does not say.
    pub cloud: Option<CloudName>,
    pub managed_hsm: bool,
}

#[derive(Debug, Clone)]
pub enum Contents {
    /// A PKCS#12 or PEM file holding private keys and certificates.
    Keys(KeyStore),
    /// A Key Vault BYOK file: a key wrapped for a key-exchange key in an HSM.
    Byok(Box<Byok>),
    /// A Key Vault backup blob.
    Backup(Backup),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreFormat {
    Pkcs12,
    Pem,
}

impl StoreFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pkcs12 => "PKCS#12",
            Self::Pem => "PEM",
        }
    }
}

#[derive(Debug, Clone)]
pub struct KeyStore {
    pub format: StoreFormat,
    pub keys: Vec<PrivateKey>,
    /// The certificate of the key (the first key's, when there are several): its dates become
    /// the key's when the file is imported as a certificate.
    pub certificate: Option<Certificate>,
}

/// Pointers of the account of a key store (`doc`).
pub const KEYS: &str = "/privateKeys";
pub const CERTIFICATE: &str = "/certificate";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyKind {
    Rsa {
        bits: u32,
    },
    Ec {
        curve: String,
    },
    /// Another algorithm, by name or OID.
    Other {
        algorithm: String,
    },
}

impl KeyKind {
    /// How Key Vault names the type (`kty`).
    pub fn kty(&self) -> &str {
        match self {
            Self::Rsa { .. } => "RSA",
            Self::Ec { .. } => "EC",
            Self::Other { algorithm } => algorithm,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivateKey {
    pub kind: KeyKind,
    /// Where the account of the file describes it (`/privateKeys/0`).
    pub pointer: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    pub subject: String,
    /// Unix seconds.
    pub not_before: i64,
    pub not_after: i64,
}

/// The fields of a BYOK file, each as written (`None`: absent).
#[derive(Debug, Clone)]
pub struct Byok {
    pub schema_version: Option<Value>,
    /// `None` when `header` is absent; `Some(Value::Null)`-like values are kept as written.
    pub header: Option<Value>,
    pub kid: Option<Value>,
    pub kek: Option<Kek>,
    pub alg: Option<Value>,
    pub enc: Option<Value>,
    pub ciphertext: Ciphertext,
    pub generator: Option<Value>,
}

/// Pointers of a BYOK file's fields.
pub mod byok {
    pub const SCHEMA_VERSION: &str = "/schema_version";
    pub const HEADER: &str = "/header";
    pub const KID: &str = "/header/kid";
    pub const ALG: &str = "/header/alg";
    pub const ENC: &str = "/header/enc";
    pub const CIPHERTEXT: &str = "/ciphertext";
    pub const GENERATOR: &str = "/generator";
}

/// Where the key-exchange key of `header.kid` lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kek {
    Vault(KeyUri),
    /// A Managed HSM key (`https://<hsm>.managedhsm.azure.net/keys/...`).
    ManagedHsm {
        name: String,
    },
    Invalid(KeyUriError),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ciphertext {
    Missing,
    NotAString,
    Empty,
    /// A character outside base64url's alphabet, at a byte offset of the string.
    NotBase64Url {
        at: usize,
        found: char,
    },
    Valid,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backup {
    /// The format name the blob starts with (`AzureKeyVaultKeyBackupV1.microsoft.com`).
    pub format_name: String,
    pub kind: BackupKind,
}

/// Pointer of the backup's format name in its account.
pub const BACKUP_FORMAT: &str = "/formatName";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackupKind {
    /// A key, or a certificate: Key Vault writes both under the key backup's format name.
    Key,
    Secret,
    Other,
}
