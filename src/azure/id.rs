//! Comparisons the way Azure makes them: regions by their normalised name, resource IDs and
//! GUIDs without regard to case.

/// `West Europe`, `westeurope` and `WestEurope` are the same region.
pub fn normalize_region(region: &str) -> String {
    region
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

pub fn same_region(a: &str, b: &str) -> bool {
    normalize_region(a) == normalize_region(b)
}

/// ARM IDs are case-insensitive (`resourceGroups` vs `resourcegroups`) and may carry a trailing `/`.
pub fn same_id(a: &str, b: &str) -> bool {
    a.trim_end_matches('/')
        .eq_ignore_ascii_case(b.trim_end_matches('/'))
}

pub fn same_guid(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

/// The last segment of an ARM ID: the resource's name.
pub fn name_from_id(id: &str) -> &str {
    id.trim_end_matches('/').rsplit('/').next().unwrap_or(id)
}

/// `Microsoft.ManagedIdentity/userAssignedIdentities` from `/subscriptions/../providers/Microsoft.ManagedIdentity/userAssignedIdentities/x`.
pub fn type_from_id(id: &str) -> Option<String> {
    let segments: Vec<&str> = id.trim_matches('/').split('/').collect();
    let at = segments
        .iter()
        .rposition(|s| s.eq_ignore_ascii_case("providers"))?;
    let rest = &segments[at + 1..];
    let namespace = rest.first()?;
    // Provider namespace, then alternating type/name pairs.
    let types: Vec<&str> = rest[1..].iter().step_by(2).copied().collect();
    if types.is_empty() || rest.len().is_multiple_of(2) {
        return None;
    }
    Some(format!("{namespace}/{}", types.join("/")))
}

/// The subscription segment of an ARM ID.
pub fn subscription_from_id(id: &str) -> Option<&str> {
    let mut segments = id.trim_matches('/').split('/');
    while let Some(s) = segments.next() {
        if s.eq_ignore_ascii_case("subscriptions") {
            return segments.next().filter(|s| !s.is_empty());
        }
    }
    None
}

/// The resource group segment of an ARM ID.
pub fn resource_group_from_id(id: &str) -> Option<&str> {
    let mut segments = id.trim_matches('/').split('/');
    while let Some(s) = segments.next() {
        if s.eq_ignore_ascii_case("resourceGroups") {
            return segments.next();
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_normalise() {
        assert!(same_region("West Europe", "westeurope"));
        assert!(!same_region("westeurope", "northeurope"));
    }

    #[test]
    fn ids() {
        let id = "/subscriptions/s/resourcegroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/mi";
        assert!(same_id(id, &id.to_uppercase()));
        assert_eq!(name_from_id(id), "mi");
        assert_eq!(resource_group_from_id(id), Some("rg"));
        assert_eq!(
            type_from_id(id).as_deref(),
            Some("Microsoft.ManagedIdentity/userAssignedIdentities")
        );
        assert_eq!(
            type_from_id(
                "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/v/keys/k"
            )
            .as_deref(),
            Some("Microsoft.KeyVault/vaults/keys")
        );
        assert_eq!(
            type_from_id("/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults"),
            None
        );
    }
}
