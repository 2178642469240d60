//! Key Vault backup blobs (`az keyvault key backup`): one byte of length, a format name such as
//! `AzureKeyVaultKeyBackupV1.microsoft.com`, then a JWE in compact serialization that only Key
//! Vault's HSMs of the same geography can open. Key and certificate backups share the key
//! format name; secrets have their own.

use std::sync::Arc;

use super::account;
use crate::document::SourceDoc;
use crate::model::key_file::{Backup, BackupKind, Contents};

const KEY: &str = "AzureKeyVaultKeyBackupV1.microsoft.com";
const SECRET: &str = "AzureKeyVaultSecretBackupV1.microsoft.com";

/// The format name of a backup blob, when `bytes` is one.
pub fn recognise(bytes: &[u8]) -> Option<&str> {
    let (&length, rest) = bytes.split_first()?;
    let name = std::str::from_utf8(rest.get(..usize::from(length))?).ok()?;
    let after = &rest[usize::from(length)..];
    // The JWE's protected header is base64url JSON: `{"` is `eyJ`.
    (name.starts_with("AzureKeyVault")
        && name.ends_with(".microsoft.com")
        && after.starts_with(b"eyJ"))
    .then_some(name)
}

pub fn read(path: &str, format_name: &str) -> (Arc<SourceDoc>, Contents) {
    let kind = match format_name {
        KEY => BackupKind::Key,
        SECRET => BackupKind::Secret,
        _ => BackupKind::Other,
    };
    let backup = Backup {
        format_name: format_name.to_string(),
        kind,
    };
    (account::backup(path, &backup), Contents::Backup(backup))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_named_blob_with_a_jwe_is_a_backup() {
        let blob = |name: &str, rest: &str| {
            let mut bytes = vec![u8::try_from(name.len()).unwrap_or(0)];
            bytes.extend_from_slice(name.as_bytes());
            bytes.extend_from_slice(rest.as_bytes());
            bytes
        };
        assert_eq!(recognise(&blob(KEY, "eyJraWQiOiJ4In0.a.b.c.d")), Some(KEY));
        assert_eq!(recognise(&blob(SECRET, "eyJ")), Some(SECRET));
        assert_eq!(recognise(&blob(KEY, "not a jwe")), None);
        assert_eq!(recognise(&blob("SomethingElse", "eyJ")), None);
        assert_eq!(recognise(b""), None);
    }
}
