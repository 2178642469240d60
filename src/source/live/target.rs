//! What to read, from the command line: resource IDs and a key URI, parsed strictly so that a
//! typo is pointed at before any request is sent.

use miette::{Diagnostic, NamedSource, SourceSpan};
use thiserror::Error;

use crate::azure::cloud::CloudName;
use crate::azure::keyuri::KeyUri;
use crate::azure::{CLUSTER_TYPE, VAULT_TYPE};

/// A command-line value that does not parse: the edge renders it with the bad part labelled.
#[derive(Debug, Error, Diagnostic)]
#[error("{flag} is not {expected}")]
#[diagnostic(code(cmk_check::bad_argument))]
pub struct ArgumentError {
    pub flag: &'static str,
    pub expected: &'static str,
    #[source_code]
    pub src: NamedSource<String>,
    #[label("{reason}")]
    pub span: SourceSpan,
    pub reason: String,
    #[help]
    pub help: Option<String>,
}

/// A parsed ARM resource ID of a top-level resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceId {
    pub id: String,
    pub subscription: String,
    pub resource_group: String,
    pub name: String,
}

impl ResourceId {
    /// `/subscriptions/{s}/resourceGroups/{rg}/providers/{namespace}/{type}/{name}` where
    /// `{namespace}/{type}` is `expected_type` (any case).
    pub fn parse(
        flag: &'static str,
        value: &str,
        expected_type: &str,
    ) -> Result<Self, ArgumentError> {
        Self::parse_typed(flag, value, Some(expected_type))
    }

    /// A resource ID of any type: for the identity, whose wrong type is a finding (CMK001) rather
    /// than a typo.
    pub fn parse_any(flag: &'static str, value: &str) -> Result<Self, ArgumentError> {
        Self::parse_typed(flag, value, None)
    }

    fn parse_typed(
        flag: &'static str,
        value: &str,
        expected_type: Option<&str>,
    ) -> Result<Self, ArgumentError> {
        let shown_type = expected_type.unwrap_or("<namespace>/<type>");
        let fail = |reason: String, span: std::ops::Range<usize>| {
            ArgumentError {
            flag,
            expected: "a resource ID",
            src: NamedSource::new(flag, value.to_string()),
            span: (span.start, span.len()).into(),
            reason,
            help: Some(format!(
                "expected /subscriptions/<subscription>/resourceGroups/<group>/providers/{shown_type}/<name>"
            )),
        }
        };
        // Segment texts with their byte ranges in `value`.
        let mut segments = Vec::new();
        let mut start = 0;
        for part in value.split('/') {
            segments.push((part, start..start + part.len()));
            start += part.len() + 1;
        }
        if segments.first().is_none_or(|(s, _)| !s.is_empty()) {
            return Err(fail(
                "must start with `/subscriptions/`".to_string(),
                0..value.len().min(14),
            ));
        }
        let segments: Vec<_> = segments
            .into_iter()
            .skip(1)
            .filter(|(s, _)| !s.is_empty())
            .collect();
        let expect = |index: usize, word: &str| -> Result<(), ArgumentError> {
            match segments.get(index) {
                Some((s, _)) if s.eq_ignore_ascii_case(word) => Ok(()),
                Some((s, r)) => Err(fail(
                    format!("expected `{word}` here, found `{s}`"),
                    r.clone(),
                )),
                None => Err(fail(
                    format!("`{word}` is missing"),
                    value.len()..value.len(),
                )),
            }
        };
        expect(0, "subscriptions")?;
        let subscription = segments.get(1).ok_or_else(|| {
            fail(
                "the subscription is missing".to_string(),
                value.len()..value.len(),
            )
        })?;
        if uuid_like(subscription.0).is_none() {
            return Err(fail(
                "a subscription ID is a GUID".to_string(),
                subscription.1.clone(),
            ));
        }
        expect(2, "resourceGroups")?;
        let group = segments.get(3).ok_or_else(|| {
            fail(
                "the resource group is missing".to_string(),
                value.len()..value.len(),
            )
        })?;
        expect(4, "providers")?;
        if let Some(expected) = expected_type {
            let (namespace, kind) = expected.split_once('/').unwrap_or((expected, ""));
            expect(5, namespace)?;
            expect(6, kind)?;
        }
        let name = segments.get(7).ok_or_else(|| {
            fail(
                "the resource name is missing".to_string(),
                value.len()..value.len(),
            )
        })?;
        if let (Some(_), Some((_, extra))) = (expected_type, segments.get(8)) {
            return Err(fail(
                "this names a child resource; give the resource itself".to_string(),
                extra.start..value.len(),
            ));
        }
        Ok(Self {
            id: value.trim_end_matches('/').to_string(),
            subscription: subscription.0.to_string(),
            resource_group: group.0.to_string(),
            name: name.0.to_string(),
        })
    }
}

/// GUIDs are 36 characters of hex and dashes in the 8-4-4-4-12 layout.
fn uuid_like(s: &str) -> Option<()> {
    let groups: Vec<&str> = s.split('-').collect();
    let lengths = [8, 4, 4, 4, 12];
    (groups.len() == 5
        && groups
            .iter()
            .zip(lengths)
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit())))
    .then_some(())
}

pub fn parse_key_uri(value: &str) -> Result<KeyUri, ArgumentError> {
    KeyUri::parse(value).map_err(|e| ArgumentError {
        flag: "--key",
        expected: "a Key Vault key URI",
        src: NamedSource::new("--key", value.to_string()),
        span: (e.span.start, e.span.len()).into(),
        reason: e.reason,
        help: Some("expected https://<vault>.vault.azure.net/keys/<name>[/<version>]: `az keyvault key show --vault-name <vault> --name <key> --query key.kid -o tsv`".to_string()),
    })
}

/// What a live check reads.
#[derive(Debug, Clone, Default)]
pub struct Target {
    pub location: Option<String>,
    pub identity: Option<ResourceId>,
    pub key: Option<(String, KeyUri)>,
    pub vault: Option<ResourceId>,
    pub cluster: Option<ResourceId>,
    pub subscription: Option<String>,
    /// A subscription whose alerts count although no cluster of it is read (a planned cluster).
    pub alerts_subscription: Option<String>,
}

/// The live inputs as the command line gives them.
#[derive(Debug, Clone, Default)]
pub struct Flags {
    pub location: Option<String>,
    pub identity: Option<String>,
    pub key: Option<String>,
    pub vault: Option<String>,
    pub cluster: Option<String>,
    pub subscription: Option<String>,
}

#[derive(Debug, Error, Diagnostic)]
pub enum TargetError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Argument(#[from] ArgumentError),
    #[error("nothing to check")]
    #[diagnostic(
        code(cmk_check::no_target),
        help("give `--snapshot FILE`, or `--location`, `--identity` and `--key` for a planned cluster, or `--cluster` for an existing one, or `--template FILE`")
    )]
    Nothing,
}

impl Target {
    /// The target the flags name, each ID and the key URI parsed strictly, the key on a vault of
    /// `cloud`.
    pub fn from_flags(flags: &Flags, cloud: CloudName) -> Result<Self, TargetError> {
        let id = |flag, value: &Option<String>, kind| {
            value
                .as_deref()
                .map(|v| ResourceId::parse(flag, v, kind))
                .transpose()
        };
        let target = Target {
            location: flags.location.clone(),
            identity: flags
                .identity
                .as_deref()
                .map(|v| ResourceId::parse_any("--identity", v))
                .transpose()?,
            key: flags
                .key
                .as_deref()
                .map(|raw| parse_key_uri(raw).map(|k| (raw.to_string(), k)))
                .transpose()?,
            vault: id("--vault", &flags.vault, VAULT_TYPE)?,
            cluster: id("--cluster", &flags.cluster, CLUSTER_TYPE)?,
            subscription: flags.subscription.clone(),
            alerts_subscription: None,
        };
        let planned =
            target.location.is_some() && target.identity.is_some() && target.key.is_some();
        if target.cluster.is_none() && !planned {
            return Err(TargetError::Nothing);
        }
        if let Some((raw, key)) = &target.key {
            if key.cloud() != Some(cloud) {
                let suffix = cloud.vault_suffix();
                return Err(ArgumentError {
                    flag: "--key",
                    expected: "a key in the chosen cloud",
                    src: NamedSource::new("--key", raw.clone()),
                    span: (key.host_span.start, key.host_span.len()).into(),
                    reason: format!("vaults of the `{}` cloud end in `{suffix}`", cloud.as_str()),
                    help: Some(
                        "choose the key's cloud with `--cloud public|china|usgovernment`"
                            .to_string(),
                    ),
                }
                .into());
            }
        }
        Ok(target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "/subscriptions/6a1f4c2e-8b3d-4e5f-9a7b-1c2d3e4f5a6b/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv";

    #[test]
    fn parses_any_case() {
        let id = ResourceId::parse("--vault", &ID.to_lowercase(), VAULT_TYPE).unwrap();
        assert_eq!(id.name, "kv");
        assert_eq!(id.resource_group, "rg");
    }

    #[test]
    fn points_at_the_wrong_segment() {
        let wrong = ID.replace("vaults", "managedHSMs");
        let e = ResourceId::parse("--vault", &wrong, VAULT_TYPE).unwrap_err();
        let span = e.span.offset()..e.span.offset() + e.span.len();
        assert_eq!(&wrong[span], "managedHSMs");
        let e = ResourceId::parse("--vault", "subscriptions/x", VAULT_TYPE).unwrap_err();
        assert!(e.reason.contains("/subscriptions/"));
        let bad_sub = ID.replace("6a1f4c2e-8b3d-4e5f-9a7b-1c2d3e4f5a6b", "my-sub");
        let e = ResourceId::parse("--vault", &bad_sub, VAULT_TYPE).unwrap_err();
        assert_eq!(
            &bad_sub[e.span.offset()..e.span.offset() + e.span.len()],
            "my-sub"
        );
        let child = format!("{ID}/keys/k");
        let e = ResourceId::parse("--vault", &child, VAULT_TYPE).unwrap_err();
        assert_eq!(&child[e.span.offset()..], "keys/k");
    }
}
