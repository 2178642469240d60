//! Templates read as ARM reads them: names in any case, primitives coerced, a cluster skipped
//! only when it is known not to use a customer-managed key, vault URIs in the key's cloud, and
//! every resource of the template declared.

use cmk_check::azure::cloud::CloudName;
use cmk_check::source::complete;
use cmk_check::state::Declared;
use serde_json::json;

use super::*;

const CLUSTER: &str = "Microsoft.DBforPostgreSQL/serverGroupsv2";
const VAULT: &str = "Microsoft.KeyVault/vaults";
const KEY: &str = "Microsoft.KeyVault/vaults/keys";

#[test]
fn the_how_to_spelling_dataencryption_is_checked() {
    let template = read("lowercase-properties.json", None);
    assert_eq!(template.targets.len(), 1, "{:?}", template.notes);
    let state = &template.targets[0].state;
    // Read through other spellings, and coerced from strings.
    let key = state.key.as_ref().unwrap();
    assert_eq!(key.body.size(), Some(3072));
    let vault = state.vault.as_ref().unwrap().body.props().unwrap();
    assert_eq!(vault.soft_delete_retention_in_days, Some(90));
    assert_eq!(vault.enable_rbac_authorization, Some(false));
    assert_eq!(
        state.key_uri.as_ref().unwrap().value,
        "https://kv-cmk-prod.vault.azure.net/keys/cmk-citus"
    );
    assert!(outcome(&reports(&template)).is_empty());
}

#[test]
fn names_in_any_case_and_strings_reach_the_rules() {
    // `"False"` in another spelling is purge protection off, not absent.
    let found = clean_with(|t| {
        let properties = resource(t, VAULT)["properties"].as_object_mut().unwrap();
        properties.remove("enablePurgeProtection");
        properties.insert("EnablePurgeProtection".into(), json!("False"));
        properties.insert("softDeleteRetentionInDays".into(), json!("90"));
    });
    assert_eq!(found, [("CMK004".to_string(), false)]);
    // The key's own spelling wins over Key Vault's default.
    let found = clean_with(|t| {
        let properties = resource(t, KEY)["properties"].as_object_mut().unwrap();
        properties.remove("keySize");
        properties.insert("KeySize".into(), json!("1024"));
    });
    assert_eq!(found, [("CMK011".to_string(), false)]);
    // And the vault's spelling of its permission model wins over the API version's default.
    let found = clean_with(|t| {
        let vault = resource(t, VAULT);
        vault["apiVersion"] = json!("2026-02-01");
        let properties = vault["properties"].as_object_mut().unwrap();
        properties.remove("enableRbacAuthorization");
        properties.insert("EnableRbacAuthorization".into(), json!("false"));
    });
    assert!(found.is_empty(), "{found:?}");
}

/// The cluster's `properties.dataEncryption`, replaced by `encryption`.
fn with_encryption(encryption: Option<Value>) -> Template {
    let template = changed(|t| {
        let properties = resource(t, CLUSTER)["properties"].as_object_mut().unwrap();
        properties.remove("dataEncryption");
        if let Some(encryption) = encryption {
            properties.insert("DataEncryption".into(), encryption);
        }
    });
    check(&template, &Placement::default()).unwrap()
}

#[test]
fn a_cluster_is_skipped_only_when_its_keys_are_known_to_be_service_managed() {
    for skipped in [None, Some(json!({"type": "SystemManaged"}))] {
        let template = with_encryption(skipped.clone());
        assert!(template.targets.is_empty(), "{skipped:?}");
        assert!(
            template.notes[0].contains("does not use a customer-managed key"),
            "{:?}",
            template.notes
        );
    }
    for unread in [
        json!("AzureKeyVault"),
        json!({"type": 5}),
        json!({"primaryKeyUri": "https://kv-cmk-prod.vault.azure.net/keys/cmk-citus"}),
        json!({"type": "[parameters('encryption')]"}),
    ] {
        let template = with_encryption(Some(unread.clone()));
        assert_eq!(template.targets.len(), 1, "{unread}: {:?}", template.notes);
        let found = outcome(&reports(&template));
        assert!(
            found.iter().any(|(_, unverified)| *unverified),
            "{unread}: {found:?}"
        );
    }
    // A property name known only at deployment may be `dataEncryption`.
    let template = changed(|t| {
        t["parameters"]["encryptionProperty"] = json!({"type": "string"});
        let properties = resource(t, CLUSTER)["properties"].as_object_mut().unwrap();
        let encryption = properties.remove("dataEncryption").unwrap();
        properties.insert("[parameters('encryptionProperty')]".into(), encryption);
    });
    let parsed = check(&template, &Placement::default()).unwrap();
    assert_eq!(parsed.targets.len(), 1, "{:?}", parsed.notes);
}

#[test]
fn a_wrong_typed_location_is_a_target_whose_region_says_why() {
    let template = check(
        &changed(|t| resource(t, CLUSTER)["location"] = json!(true)),
        &Placement::default(),
    )
    .unwrap();
    assert_eq!(template.targets.len(), 1, "{:?}", template.notes);
    let gap = template.targets[0].state.location.as_ref().unwrap_err();
    assert!(
        gap.reason
            .contains("expected a string, found the boolean `true`"),
        "{}",
        gap.reason
    );
    assert!(gap.place.absolute().ends_with("/location"), "{gap:?}");
    let found = outcome(&reports(&template));
    assert_eq!(found, [("CMK002".to_string(), true)]);
    let report = engine::merge(&reports(&template));
    assert_eq!(
        report.findings[0].severity,
        cmk_check::lint::Severity::Error
    );
}

#[test]
fn a_declared_vault_is_named_in_the_cloud_of_its_key() {
    let china = "https://kv-cmk-prod.vault.azure.cn/keys/cmk-citus";
    let template = changed(|t| {
        resource(t, CLUSTER)["properties"]["dataEncryption"]["primaryKeyUri"] = json!(china);
    });
    let parsed = check(&template, &Placement::default()).unwrap();
    let vault = parsed.targets[0].state.vault.as_ref().unwrap();
    assert_eq!(
        vault.body.props().unwrap().vault_uri.as_deref(),
        Some("https://kv-cmk-prod.vault.azure.cn/")
    );
    let found = outcome(&reports(&parsed));
    assert!(found.is_empty(), "{found:?}");
    // A key URI from `reference()` is in the cloud deployed to.
    let placement = Placement {
        cloud: CloudName::China,
        ..Placement::default()
    };
    let parsed = check(&changed(|_| {}), &placement).unwrap();
    assert_eq!(
        parsed.targets[0].state.key_uri.as_ref().unwrap().value,
        "https://kv-cmk-prod.vault.azure.cn/keys/cmk-citus"
    );
    let found = outcome(&reports(&parsed));
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn every_resource_the_template_declares_is_fixed_by_an_edit() {
    let template = read("clean.json", Some("clean.parameters.json"));
    let state = &template.targets[0].state;
    let declared = Some(Declared::Template);
    assert_eq!(state.identity.as_ref().unwrap().declared, declared);
    assert_eq!(state.vault.as_ref().unwrap().declared, declared);
    assert_eq!(state.key.as_ref().unwrap().declared, declared);
    let cluster = state.cluster.as_ref().unwrap().as_ref().unwrap();
    assert_eq!(cluster.declared, declared);
    for alert in state.alerts.as_ref().unwrap() {
        assert_eq!(alert.declared, declared);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn what_is_read_from_azure_is_not_declared() {
    let snapshot = load("fixtures/clean.json");
    let server = MockServer::start().await;
    serve(&server, &snapshot).await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(ok(&json!({"data": [{"id": id(&snapshot["vault"])}]})))
        .mount(&server)
        .await;
    let text =
        std::fs::read_to_string(templates().join("existing-resources.parameters.json")).unwrap();
    let given = Parameters::parse("existing-resources.parameters.json", text).unwrap();
    let placement = Placement {
        subscription: Some("6a1f4c2e-8b3d-4e5f-9a7b-1c2d3e4f5a6b".to_string()),
        resource_group: Some("rg-citus-prod".to_string()),
        ..Placement::default()
    };
    let text = std::fs::read_to_string(templates().join("existing-resources.json")).unwrap();
    let mut planned = template::parse("existing-resources.json", text, Some(&given), &placement)
        .unwrap()
        .targets;
    complete::complete(
        &mut planned,
        &azure(&server, std::time::Duration::from_secs(5)),
    )
    .await;
    let state = &planned[0].state;
    assert!(state.identity.as_ref().unwrap().declared.is_none());
    assert!(state.vault.as_ref().unwrap().declared.is_none());
    assert!(state.key.as_ref().unwrap().declared.is_none());
    let cluster = state.cluster.as_ref().unwrap().as_ref().unwrap();
    assert!(matches!(cluster.declared, Some(Declared::Template)));
}

#[test]
fn the_deployment_time_is_never_known_outside_a_parameters_default() {
    // ARM allows `utcNow()` only in a parameter's default value: anywhere else it is no verdict.
    let found = clean_with(|t| {
        resource(t, KEY)["properties"]["attributes"]["exp"] =
            json!("[dateTimeToEpoch(dateTimeAdd(utcNow(), 'P1Y'))]");
    });
    assert!(found.contains(&("CMK014".to_string(), true)), "{found:?}");
    let found = clean_with(|t| {
        t["variables"]["stamp"] = json!("[utcNow()]");
        resource(t, KEY)["properties"]["attributes"]["exp"] =
            json!("[dateTimeToEpoch(dateTimeAdd(variables('stamp'), 'P1Y'))]");
    });
    assert!(found.contains(&("CMK014".to_string(), true)), "{found:?}");
}
