//! The account of a binary file, or of one that holds key material: a JSON text of what was
//! read from it, which the findings label. The file's own bytes are never shown.

use std::sync::Arc;

use serde_json::{json, Value};

use crate::document::SourceDoc;
use crate::model::key_file::{Backup, KeyKind, KeyStore};
use crate::model::time::format_unix;

/// The account of a PKCS#12 or PEM file: its keys and its key's certificate.
pub fn key_store(path: &str, store: &KeyStore) -> Arc<SourceDoc> {
    let keys: Vec<Value> = store
        .keys
        .iter()
        .map(|key| match &key.kind {
            KeyKind::Rsa { bits } => json!({ "type": "RSA", "size": bits }),
            KeyKind::Ec { curve } => json!({ "type": "EC", "curve": curve }),
            KeyKind::Other { algorithm } => json!({ "type": algorithm }),
        })
        .collect();
    let mut account = json!({ "format": store.format.as_str(), "privateKeys": keys });
    if let Some(cert) = &store.certificate {
        account["certificate"] = json!({
            "subject": cert.subject,
            "notBefore": format_unix(cert.not_before),
            "notAfter": format_unix(cert.not_after),
        });
    }
    write(path, &account)
}

/// The account of a backup blob: its format name.
pub fn backup(path: &str, backup: &Backup) -> Arc<SourceDoc> {
    write(
        path,
        &json!({ "format": "Key Vault backup", "formatName": backup.format_name }),
    )
}

fn write(path: &str, account: &Value) -> Arc<SourceDoc> {
    let mut text = serde_json::to_string_pretty(account).unwrap_or_default();
    text.push('\n');
    SourceDoc::fetched(&format!("{path} (as read)"), text)
}
