//! What a key's `recoveryLevel` says about its vault: Key Vault computes it from the vault's
//! soft delete, purge protection and retention, so it is evidence when the vault's own body is
//! not available, and a contradiction when the two disagree.

use crate::lint::Violation;
use crate::model::key::RECOVERY_LEVEL;
use crate::model::Key;
use crate::state::Resource;

/// The vault settings a recovery level implies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Recovery {
    pub soft_delete: bool,
    pub purge_protection: bool,
    /// `Customized`: a retention of 7 to 89 days, not the default 90.
    pub customized_retention: bool,
}

/// `Recoverable+Purgeable`, `CustomizedRecoverable`, `Purgeable`...; `None` for anything else.
pub(super) fn of(key: &Key) -> Option<Recovery> {
    let level = key.recovery_level()?.trim().to_ascii_lowercase();
    let (base, suffix) = match level.split_once('+') {
        Some((base, suffix)) => (base, Some(suffix)),
        None => (level.as_str(), None),
    };
    let purgeable = matches!(suffix, Some("purgeable")) || base == "purgeable";
    if !matches!(
        suffix,
        None | Some("purgeable") | Some("protectedsubscription")
    ) {
        return None;
    }
    match base {
        "purgeable" => Some(Recovery {
            soft_delete: false,
            purge_protection: false,
            customized_retention: false,
        }),
        "recoverable" | "customizedrecoverable" => Some(Recovery {
            soft_delete: true,
            purge_protection: !purgeable,
            customized_retention: base == "customizedrecoverable",
        }),
        _ => None,
    }
}

/// A finding about the vault made from its key's recovery level, at that level.
pub(super) fn finding(key: &Resource<Key>, fact: &str, label: &str) -> Violation {
    let level = key.body.recovery_level().unwrap_or_default();
    Violation::at(key.at(RECOVERY_LEVEL))
        .message(format!(
            "the vault of key `{}` {fact}: the key's recovery level is `{level}`",
            key.name
        ))
        .label(label.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(level: &str) -> Key {
        let body = serde_json::json!({"properties": {"attributes": {"recoveryLevel": level}}});
        crate::document::lenient::read(&body)
            .map(|r| r.value)
            .unwrap_or_default()
    }

    #[test]
    fn levels_say_what_the_vault_does() {
        let r = of(&key("Recoverable+Purgeable")).unwrap();
        assert!(r.soft_delete && !r.purge_protection && !r.customized_retention);
        let r = of(&key("recoverable")).unwrap();
        assert!(r.soft_delete && r.purge_protection);
        let r = of(&key("CustomizedRecoverable+ProtectedSubscription")).unwrap();
        assert!(r.purge_protection && r.customized_retention);
        let r = of(&key("Purgeable")).unwrap();
        assert!(!r.soft_delete && !r.purge_protection);
        assert!(of(&key("Something")).is_none());
    }
}
