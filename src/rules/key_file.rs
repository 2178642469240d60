//! What the rules share about key files: the key rules of the cluster that a key file breaks
//! before import (CMK010, CMK011, and the certificate's dates for CMK013 to CMK015), and the
//! finding that a wrapped or backed-up key cannot be measured offline.

use crate::lint::{Check, KeyFileCheck, KeyFileContext, Rule, Violation};
use crate::model::key_file::{byok, BackupKind, Certificate, Contents, KeyStore, BACKUP_FORMAT};

use super::{
    cmk010_key_type_not_rsa as cmk010, cmk011_key_size_unsupported as cmk011,
    cmk013_key_not_yet_active as cmk013, cmk014_key_expired as cmk014,
    cmk015_key_expires_soon as cmk015,
};

/// The cluster's key rules that also check a key file, with their check of one.
static KEY_RULES: [(&Rule, KeyFileCheck); 5] = [
    (&cmk010::RULE, cmk010::key_file),
    (&cmk011::RULE, cmk011::key_file),
    (&cmk013::RULE, cmk013::key_file),
    (&cmk014::RULE, cmk014::key_file),
    (&cmk015::RULE, cmk015::key_file),
];

/// Every rule a key file is checked by, in catalog order.
pub fn key_file_checks() -> Vec<(&'static Rule, KeyFileCheck)> {
    let own = super::ALL.iter().filter_map(|rule| match rule.check {
        Check::KeyFile(check) => Some((*rule, check)),
        _ => None,
    });
    let mut checks: Vec<(&'static Rule, KeyFileCheck)> =
        KEY_RULES.iter().copied().chain(own).collect();
    checks.sort_by_key(|(rule, _)| rule.code);
    checks
}

/// How a message names one of a file's keys: "the private key", or "private key 2 of 3".
pub(super) fn which_key(store: &KeyStore, index: usize) -> String {
    match store.keys.len() {
        1 => "the private key".to_string(),
        n => format!("private key {} of {n}", index + 1),
    }
}

/// The certificate of a PKCS#12 or PEM file. A BYOK file or a backup has none: the key's dates
/// are set when it is imported, or restored with it.
pub(super) fn certificate<'a>(cx: &KeyFileContext<'a>) -> Option<&'a Certificate> {
    match &cx.file.contents {
        Contents::Keys(store) => store.certificate.as_ref(),
        Contents::Byok(_) | Contents::Backup(_) => None,
    }
}

/// The keys and certificate of a PKCS#12 or PEM file; `Ok(None)` for a file whose key is
/// wrapped or backed up (checked by its own rules), `Err` with the finding that `requirement`
/// cannot be known until the key is in Key Vault.
pub(super) fn key_store<'a>(
    cx: &KeyFileContext<'a>,
    requirement: &str,
) -> Result<Option<&'a KeyStore>, Violation> {
    let file = cx.file;
    let vault = file.target.as_ref().map_or("<vault>", |t| t.name.as_str());
    let after = format!(
        "cmk-check check --location <region> --identity <identity-id> --key https://{vault}.vault.azure.net/keys/<key>"
    );
    match &file.contents {
        Contents::Keys(store) => Ok(Some(store)),
        Contents::Byok(_) => Err(Violation::at(cx.at(byok::CIPHERTEXT))
            .unverified()
            .message(format!(
                "could not verify {requirement} of the key in `{}`: it is wrapped for the key-exchange key's HSM",
                file.path
            ))
            .label("known only once imported")
            .help("import it into a Premium vault (BYOK keys are HSM-protected), then check the key")
            .fix(crate::lint::Fix::InPlace(vec![
                format!(
                    "az keyvault key import --vault-name {vault} --name <key> --byok-file {} --kty RSA-HSM --ops wrapKey unwrapKey",
                    file.path
                ),
                after,
            ]))
            .caused_by(format!("the key of `{}` is wrapped", file.path))),
        Contents::Backup(backup) if backup.kind == BackupKind::Key => Err(Violation::at(cx.at(BACKUP_FORMAT))
            .unverified()
            .message(format!(
                "could not verify {requirement} of the key in `{}`: a backup is encrypted for Key Vault's HSMs",
                file.path
            ))
            .label("known only once restored")
            .help("restore it (same subscription and geography as its source), then check the key; a certificate backup carries the same format name and cannot be restored as a key")
            .fix(crate::lint::Fix::InPlace(vec![
                format!("az keyvault key restore --vault-name {vault} --file {}", file.path),
                after,
            ]))
            .caused_by(format!("the key of `{}` is encrypted", file.path))),
        Contents::Backup(_) => Ok(None),
    }
}
