#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests stop at the first failure"
)]

//! The traps of the requirements, one by one: each test changes the clean snapshot in one way
//! and says which rules must (not) fire.

use cmk_check::engine::{self, Finding, Options};
use cmk_check::lint::Severity;
use cmk_check::source::snapshot;
use serde_json::{json, Value};

const PRINCIPAL: &str = "25cc773c-7f05-40fc-a104-32d2300754ad";
const TENANT: &str = "b6c948ef-f6b5-4384-8354-da3a15eca969";

fn findings(change: impl FnOnce(&mut Value)) -> Vec<Finding> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/clean.json");
    let mut snapshot: Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    change(&mut snapshot);
    let text = serde_json::to_string_pretty(&snapshot).unwrap();
    let state = snapshot::parse("changed.json", text).unwrap();
    engine::run(
        &state,
        &Options::new("2026-11-27T12:00:00Z".parse().unwrap()),
    )
    .findings
}

fn codes(change: impl FnOnce(&mut Value)) -> Vec<&'static str> {
    findings(change).iter().map(Finding::code).collect()
}

#[test]
fn all_grants_every_key_permission() {
    assert!(codes(
        |s| s["vault"]["properties"]["accessPolicies"][0]["permissions"]["keys"] = json!(["All"])
    )
    .is_empty());
}

#[test]
fn permission_names_compare_without_case() {
    let c = codes(|s| {
        s["vault"]["properties"]["accessPolicies"][0]["permissions"]["keys"] =
            json!(["GET", "WrapKey", "UNWRAPKEY"])
    });
    assert!(c.is_empty(), "{c:?}");
}

#[test]
fn the_access_policy_fix_keeps_the_permissions_already_granted() {
    // `az keyvault set-policy` replaces an entry's key permissions with the ones it is given.
    let found = findings(|s| {
        s["vault"]["properties"]["accessPolicies"][0]["permissions"]["keys"] =
            json!(["List", "get", "WRAPKEY"])
    });
    assert_eq!(found.len(), 1, "{found:?}");
    let fix = found[0].violation.fix.as_ref().unwrap().lines().join("\n");
    assert!(
        fix.ends_with(&format!(
            "--object-id {PRINCIPAL} --key-permissions List get WRAPKEY unwrapKey"
        )),
        "{fix}"
    );
}

#[test]
fn a_policy_for_another_tenant_does_not_count() {
    let found = findings(|s| {
        s["vault"]["properties"]["accessPolicies"][0]["tenantId"] =
            json!("8d2c4f6a-1b3e-4a5c-9d7f-2e4a6c8b0d1f")
    });
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].code(), "CMK008");
    assert_eq!(found[0].pointer(), "/properties/accessPolicies/0/tenantId");
}

#[test]
fn guids_compare_without_case() {
    let c = codes(|s| {
        let policy = &mut s["vault"]["properties"]["accessPolicies"][0];
        policy["objectId"] = json!(PRINCIPAL.to_uppercase());
        policy["tenantId"] = json!(TENANT.to_uppercase());
    });
    assert!(c.is_empty(), "{c:?}");
}

#[test]
fn an_empty_application_id_is_no_compound_identity() {
    assert!(
        codes(|s| s["vault"]["properties"]["accessPolicies"][0]["applicationId"] = json!(""))
            .is_empty()
    );
    assert!(codes(
        |s| s["vault"]["properties"]["accessPolicies"][0]["applicationId"] = Value::Null
    )
    .is_empty());
}

#[test]
fn vault_defaults_apply_when_properties_are_absent() {
    let c = codes(|s| {
        let props = s["vault"]["properties"].as_object_mut().unwrap();
        for absent in [
            "enableSoftDelete",
            "softDeleteRetentionInDays",
            "enableRbacAuthorization",
            "publicNetworkAccess",
            "networkAcls",
        ] {
            props.remove(absent);
        }
    });
    assert!(
        c.is_empty(),
        "absent soft delete, retention, RBAC, public access and ACLs are Azure's defaults: {c:?}"
    );
    assert_eq!(
        codes(|s| s["vault"]["properties"]["enablePurgeProtection"] = Value::Null),
        ["CMK004"]
    );
}

#[test]
fn public_access_compares_without_case() {
    let c = codes(|s| {
        s["vault"]["properties"]["publicNetworkAccess"] = json!("enabled");
        s["vault"]["properties"]["networkAcls"]["defaultAction"] = json!("allow");
    });
    assert!(c.is_empty(), "{c:?}");
}

#[test]
fn regions_compare_normalised() {
    assert!(codes(|s| s["vault"]["location"] = json!("West Europe")).is_empty());
    assert_eq!(
        codes(|s| s["vault"]["location"] = json!("North Europe")),
        ["CMK002"]
    );
}

#[test]
fn key_uris_compare_without_port_slash_or_host_case() {
    let c = codes(|s| {
        s["keyUri"] = json!("https://KV-CMK-PROD.vault.azure.net:443/keys/cmk-citus/7f3c2a9be4d14c1f9a0b6d5e8c7f1a2b/")
    });
    assert!(c.is_empty(), "{c:?}");
    assert_eq!(
        codes(|s| s["keyUri"] = json!("https://kv-cmk-prod.vault.azure.net:8443/keys/cmk-citus")),
        ["CMK017"]
    );
}

#[test]
fn a_key_uri_without_version_is_valid() {
    assert!(
        codes(|s| s["keyUri"] = json!("https://kv-cmk-prod.vault.azure.net/keys/cmk-citus"))
            .is_empty()
    );
}

#[test]
fn sovereign_clouds_are_key_vault_hosts() {
    let c = codes(|s| {
        s["keyUri"] = json!("https://kv-cmk-prod.vault.azure.cn/keys/cmk-citus");
        s["vault"]["properties"]["vaultUri"] = json!("https://kv-cmk-prod.vault.azure.cn/");
    });
    assert!(c.is_empty(), "{c:?}");
}

#[test]
fn the_cluster_can_give_the_target() {
    let c = codes(|s| {
        let top = s.as_object_mut().unwrap();
        top.remove("location");
        top.remove("keyUri");
    });
    assert!(
        c.is_empty(),
        "location and key URI come from the cluster body: {c:?}"
    );
}

#[test]
fn rsa_sizes() {
    for ok in [2048, 3072, 4096] {
        assert!(codes(|s| s["key"]["properties"]["keySize"] = json!(ok)).is_empty());
    }
    for bad in [1024, 3071, 8192] {
        assert_eq!(
            codes(|s| s["key"]["properties"]["keySize"] = json!(bad)),
            ["CMK011"]
        );
    }
    assert!(codes(|s| s["key"]["properties"]["kty"] = json!("RSA-HSM")).is_empty());
}

#[test]
fn a_data_plane_key_bundle_is_read_from_its_modulus() {
    let example = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/inputs/GetKey-example.json"
    );
    let example: Value = serde_json::from_str(&std::fs::read_to_string(example).unwrap()).unwrap();
    let c = codes(|s| {
        let mut bundle = example["responses"]["200"]["body"].clone();
        bundle["key"]["kid"] = json!(
            "https://kv-cmk-prod.vault.azure.net/keys/cmk-citus/7f3c2a9be4d14c1f9a0b6d5e8c7f1a2b"
        );
        // The example comes from a vault without purge protection (`Recoverable+Purgeable`),
        // which CMK024 would hold against the clean vault it is paired with here.
        bundle["attributes"]["recoveryLevel"] = json!("Recoverable");
        s["key"] = bundle;
    });
    assert!(
        c.is_empty(),
        "the official example's 2048-bit key passes: {c:?}"
    );
}

#[test]
fn key_without_dates_passes_date_rules() {
    let c = codes(|s| {
        let attributes = s["key"]["properties"]["attributes"]
            .as_object_mut()
            .unwrap();
        attributes.remove("nbf");
        attributes.remove("exp");
    });
    assert!(c.is_empty(), "{c:?}");
}

#[test]
fn a_key_that_lost_enabled_is_unverified_not_passed() {
    let found = findings(|s| {
        s["key"]["properties"]["attributes"]
            .as_object_mut()
            .unwrap()
            .remove("enabled");
    });
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].code(), "CMK012");
    assert!(found[0].violation.unverified);
    assert_eq!(found[0].severity, Severity::Error);
}

#[test]
fn key_versions_are_needed_only_after_a_recent_rotation() {
    // The current version is months old: no rotation is in its grace period.
    let found = findings(|s| {
        s.as_object_mut().unwrap().remove("keyVersions");
    });
    assert!(found.is_empty(), "{found:?}");
    // Created an hour ago: the previous version must still be enabled, which only the versions
    // list can tell.
    let found = findings(|s| {
        s.as_object_mut().unwrap().remove("keyVersions");
        s["key"]["properties"]["attributes"]["created"] = json!(1_795_777_200);
    });
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].code(), "CMK020");
    assert!(found[0].violation.unverified);
}

#[test]
fn could_not_verify_is_reported_at_the_rules_own_level() {
    let found = findings(|s| {
        s.as_object_mut().unwrap().remove("keyVersions");
        s["key"]["properties"]["attributes"]
            .as_object_mut()
            .unwrap()
            .remove("created");
    });
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].code(), "CMK020");
    // A warning rule's violation cannot fail the gate, so neither can its unverified form.
    assert_eq!(found[0].severity, Severity::Warning);
}

#[test]
fn rotating_an_existing_cluster_to_a_new_version_is_allowed() {
    let c = codes(|s| {
        s["cluster"]["properties"]["provisioningState"] = json!("Succeeded");
        // An existing cluster has a health: it is up.
        s["availability"] = json!({"properties": {"availabilityState": "Available"}});
        s["cluster"]["properties"]["dataEncryption"]["primaryKeyUri"] = json!(
            "https://kv-cmk-prod.vault.azure.net/keys/cmk-citus/0b1e7d3c9f2a4e6b8c5d1a7f3e9b2c4d"
        );
    });
    assert!(c.is_empty(), "{c:?}");
}

#[test]
fn an_existing_cluster_cannot_change_identity() {
    let c = codes(|s| {
        s["cluster"]["properties"]["provisioningState"] = json!("Succeeded");
        // An existing cluster has a health: it is up.
        s["availability"] = json!({"properties": {"availabilityState": "Available"}});
        s["identity"]["id"] = json!(
            "/subscriptions/6a1f4c2e-8b3d-4e5f-9a7b-1c2d3e4f5a6b/resourceGroups/rg-citus-prod/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-new"
        );
    });
    assert_eq!(c, ["CMK018"]);
}

#[test]
fn an_old_rotation_may_retire_the_previous_version() {
    assert!(
        codes(|s| s["keyVersions"][0]["properties"]["attributes"]["enabled"] = json!(false))
            .is_empty()
    );
}

#[test]
fn the_expiry_window_is_inclusive_and_configurable() {
    let mut options = Options::new("2098-12-02T00:00:00Z".parse().unwrap());
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/clean.json");
    let state = snapshot::parse("clean.json", std::fs::read_to_string(path).unwrap()).unwrap();
    // The key expires on 2099-01-01T00:00:00Z: exactly 30 days later.
    let codes = |options: &Options| {
        engine::run(&state, options)
            .findings
            .iter()
            .map(Finding::code)
            .collect::<Vec<_>>()
    };
    assert_eq!(codes(&options), ["CMK015"]);
    options.expiry_warning_days = 29;
    assert!(codes(&options).is_empty());
}

#[test]
fn findings_are_sorted_by_code_resource_pointer() {
    let found = findings(|s| {
        s["vault"]["properties"]["publicNetworkAccess"] = json!("Disabled");
        s["vault"]["properties"]["networkAcls"]["defaultAction"] = json!("Deny");
        s["vault"]["properties"]["enablePurgeProtection"] = json!(false);
        s["identity"]["location"] = json!("eastus");
        s["vault"]["location"] = json!("eastus");
    });
    let keys: Vec<(&str, &str, &str)> = found
        .iter()
        .map(|f| (f.code(), f.resource(), f.pointer()))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    assert_eq!(keys.len(), 5);
}

const SUB: &str = "6a1f4c2e-8b3d-4e5f-9a7b-1c2d3e4f5a6b";

fn key_alert(s: &mut Value) -> &mut Value {
    &mut s["activityLogAlerts"][0]
}

#[test]
fn alerts_cover_the_vault_from_its_group_or_subscription() {
    let group = format!("/subscriptions/{SUB}/resourceGroups/rg-citus-prod");
    assert!(codes(|s| key_alert(s)["properties"]["scopes"] = json!([group])).is_empty());
    // ARM writes subscription scopes without the leading slash.
    let c = codes(|s| {
        let alert = key_alert(s);
        alert["properties"]["scopes"] = json!([format!("subscriptions/{SUB}")]);
        alert["properties"]["condition"]["allOf"] = json!([
            {"field": "Category", "equals": "administrative"},
            {"field": "resourceProvider", "containsAny": ["Microsoft.Storage", "microsoft.keyvault"]}
        ]);
        alert["properties"]
            .as_object_mut()
            .unwrap()
            .remove("enabled");
    });
    assert!(c.is_empty(), "{c:?}");
}

#[test]
fn an_alert_must_name_the_vault_not_merely_allow_it() {
    let c = codes(|s| {
        key_alert(s)["properties"]["condition"]["allOf"] =
            json!([{"field": "category", "equals": "Administrative"}])
    });
    assert_eq!(c, ["CMK021"]);
    let c = codes(|s| {
        key_alert(s)["properties"]["condition"]["allOf"] = json!([
            {"field": "resourceId", "equals": format!("/SUBSCRIPTIONS/{SUB}/resourceGroups/RG-CITUS-PROD/providers/Microsoft.KeyVault/vaults/KV-CMK-PROD")},
            {"field": "level", "equals": "Error"}
        ])
    });
    assert!(
        c.is_empty(),
        "fields cmk-check cannot decide do not count against an alert: {c:?}"
    );
}

#[test]
fn a_resource_health_alert_needs_its_category_and_may_cover_the_whole_group() {
    let health = |s: &mut Value| -> Value { s["activityLogAlerts"][1].clone() };
    let c = codes(|s| {
        let mut alert = health(s);
        alert["properties"]["condition"]["allOf"] =
            json!([{"field": "category", "equals": "ResourceHealth"}]);
        alert["properties"]["scopes"] = json!([format!("/subscriptions/{SUB}")]);
        s["activityLogAlerts"][1] = alert;
    });
    assert!(c.is_empty(), "{c:?}");
    let c = codes(|s| {
        s["activityLogAlerts"][1]["properties"]["condition"]["allOf"] =
            json!([{"field": "resourceType", "equals": "Microsoft.DBforPostgreSQL/serverGroupsv2"}])
    });
    assert_eq!(c, ["CMK022"]);
    let c = codes(
        |s| s["activityLogAlerts"][1]["properties"]["condition"]["allOf"] = json!([{"field": "category", "equals": "ResourceHealth"}, {"field": "resourceType", "equals": "Microsoft.Sql/servers"}]),
    );
    assert_eq!(c, ["CMK022"]);
}

#[test]
fn without_alert_data_monitoring_is_unverified_at_warning_level() {
    let found = findings(|s| {
        s.as_object_mut().unwrap().remove("activityLogAlerts");
    });
    let summary: Vec<(&str, bool, Severity)> = found
        .iter()
        .map(|f| (f.code(), f.violation.unverified, f.severity))
        .collect();
    assert_eq!(
        summary,
        [
            ("CMK021", true, Severity::Warning),
            ("CMK022", true, Severity::Warning)
        ]
    );
}

#[test]
fn a_planned_cluster_without_an_id_cannot_have_its_health_alert_checked() {
    let found = findings(|s| {
        s["cluster"].as_object_mut().unwrap().remove("id");
    });
    assert_eq!(found.len(), 1);
    assert_eq!(
        (found[0].code(), found[0].violation.unverified),
        ("CMK022", true)
    );
    assert_eq!(found[0].severity, Severity::Warning);
}

/// Every member name of `value`, lower-cased: ARM reads it the same.
fn lowercase_names(value: &mut Value) {
    match value {
        Value::Object(map) => {
            let entries: Vec<(String, Value)> = std::mem::take(map).into_iter().collect();
            for (key, mut member) in entries {
                lowercase_names(&mut member);
                map.insert(key.to_lowercase(), member);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(lowercase_names),
        _ => {}
    }
}

#[test]
fn property_and_section_names_match_in_any_case() {
    assert!(codes(lowercase_names).is_empty());
    let found = findings(|s| {
        lowercase_names(s);
        s["vault"]["properties"]["enablepurgeprotection"] = json!(false);
    });
    assert_eq!(
        found.iter().map(Finding::code).collect::<Vec<_>>(),
        ["CMK004"]
    );
    // The label is on the user's own spelling.
    let place = &found[0].violation.place;
    let anchor = place.doc.anchor(&place.absolute());
    assert!(anchor.exact);
    assert_eq!(
        &place.doc.text()[anchor.offset..anchor.offset + anchor.len],
        "false"
    );
}

#[test]
fn primitives_are_read_as_resource_providers_coerce_them() {
    assert!(codes(|s| {
        let props = &mut s["vault"]["properties"];
        props["enablePurgeProtection"] = json!("True");
        props["softDeleteRetentionInDays"] = json!("90");
        props["enableRbacAuthorization"] = json!("false");
        s["key"]["properties"]["keySize"] = json!("3072");
    })
    .is_empty());
    assert_eq!(
        codes(|s| s["vault"]["properties"]["softDeleteRetentionInDays"] = json!("7")),
        ["CMK005"]
    );
}

#[test]
fn a_wrong_value_spoils_only_the_rules_that_read_it() {
    let found = findings(|s| {
        s["vault"]["properties"]["softDeleteRetentionInDays"] = json!("ninety");
    });
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].code(), "CMK005");
    assert!(found[0].violation.unverified);
    assert_eq!(found[0].pointer(), "/properties/softDeleteRetentionInDays");
    assert!(found[0].violation.message.contains("`ninety`"));
    // A boolean `location` spoils the region rule only.
    let found = findings(|s| s["cluster"]["location"] = json!(true));
    let codes: Vec<&str> = found.iter().map(Finding::code).collect();
    assert!(codes.iter().all(|c| *c == "CMK002"), "{codes:?}");
    assert!(found.iter().all(|f| f.violation.unverified));
}

#[test]
fn the_azure_cli_shapes_are_read_as_arm_shapes() {
    let found = findings(|s| {
        // `az identity show`: the principal, client and tenant at the top level.
        let props = s["identity"]
            .as_object_mut()
            .unwrap()
            .remove("properties")
            .unwrap();
        for (k, v) in props.as_object().unwrap() {
            s["identity"][k] = v.clone();
        }
        // `az keyvault key show`: the data-plane shape with camelCase and dates as text.
        let key = s["key"]["properties"].clone();
        s["key"] = json!({
            "attributes": {
                "enabled": true,
                "notBefore": "2026-01-10T00:00:00+00:00",
                "expires": "2099-01-01T00:00:00+00:00",
                "created": "2026-01-10T00:00:00+00:00",
                "recoveryLevel": "Recoverable"
            },
            "key": {
                "kid": key["keyUriWithVersion"],
                "kty": "RSA",
                "keyOps": ["wrapKey", "unwrapKey"],
                "n": base64_modulus(3072)
            },
            "name": "cmk-citus"
        });
        // `az monitor activity-log alert list`: properties at the top level.
        for alert in s["activityLogAlerts"].as_array_mut().unwrap() {
            let props = alert.as_object_mut().unwrap().remove("properties").unwrap();
            for (k, v) in props.as_object().unwrap() {
                alert[k] = v.clone();
            }
        }
    });
    assert!(found.is_empty(), "{found:?}");
    // Labels on a moved part point where the user wrote it.
    let found = findings(|s| {
        let props = s["identity"]
            .as_object_mut()
            .unwrap()
            .remove("properties")
            .unwrap();
        for (k, v) in props.as_object().unwrap() {
            s["identity"][k] = v.clone();
        }
        s["identity"]["tenantId"] = json!("00000000-0000-0000-0000-000000000000");
    });
    let tenant = found.iter().find(|f| f.code() == "CMK008").unwrap();
    assert!(!tenant.violation.unverified);
}

fn base64_modulus(bits: usize) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(vec![0x80u8; bits / 8])
}

#[test]
fn a_rotation_with_a_malformed_version_is_still_a_rotation() {
    let found = findings(|s| {
        s["cluster"]["properties"]["provisioningState"] = json!("Succeeded");
        // An existing cluster has a health: it is up.
        s["availability"] = json!({"properties": {"availabilityState": "Available"}});
        s["cluster"]["properties"]["dataEncryption"]["primaryKeyUri"] =
            json!("https://kv-cmk-prod.vault.azure.net/keys/cmk-citus/not-a-version");
    });
    assert!(found.iter().all(|f| f.code() != "CMK018"), "{found:?}");
}

#[test]
fn an_any_of_group_naming_resources_selects_the_vault() {
    let with = |members: Value| {
        codes(move |s| {
            let alert = key_alert(s);
            alert["properties"]["condition"]["allOf"][1] = json!({ "anyOf": members });
        })
    };
    // One member matches, all name resources: the vault is selected.
    assert!(with(json!([
        {"field": "resourceType", "equals": "Microsoft.Storage/storageAccounts"},
        {"field": "resourceProvider", "equals": "microsoft.keyvault"}
    ]))
    .is_empty());
    // A member that does not name a resource makes the group no selection of it.
    assert_eq!(
        with(json!([
            {"field": "resourceType", "equals": "Microsoft.KeyVault/vaults"},
            {"field": "level", "equals": "Error"}
        ])),
        ["CMK021"]
    );
}
