//! Templates at the edges: copy loops past ARM's limit or of unknown length, references nested
//! past cmk-check's bound, values of the wrong shape, and the words of what is not known.

use std::collections::BTreeSet;

use serde_json::json;

use super::*;

const CLUSTER: &str = "Microsoft.DBforPostgreSQL/serverGroupsv2";

/// The message of a refused template and the text its label covers.
fn refused(template: &Value) -> (String, String) {
    let text = template.to_string();
    match template::parse("t.json", text.clone(), None, &Placement::default()) {
        Err(TemplateError::Expression { message, span, .. }) => (
            message,
            text[span.offset()..span.offset() + span.len()].to_string(),
        ),
        Err(other) => panic!("refused for another reason: {other}"),
        Ok(_) => panic!("not refused"),
    }
}

#[test]
fn a_copy_count_outside_0_to_800_is_refused_at_the_count() {
    for (count, shown) in [
        (json!(801), "801"),
        (json!("[sub(0, 1)]"), "\"[sub(0, 1)]\""),
    ] {
        let template = changed(|t| {
            resource(t, CLUSTER)["copy"] = json!({"name": "clusters", "count": count});
        });
        let (message, at) = refused(&template);
        assert!(message.contains("ARM allows 0 to 800"), "{message}");
        assert_eq!(at, shown);
    }
    // A count ARM reads as an integer is one.
    let template = changed(|t| {
        let cluster = resource(t, CLUSTER);
        cluster["copy"] = json!({"name": "clusters", "count": "2"});
        cluster["name"] = json!("[format('citus-{0}', copyIndex())]");
    });
    let parsed = check(&template, &Placement::default()).unwrap();
    assert_eq!(parsed.targets.len(), 2);
}

#[test]
fn a_cluster_in_a_loop_of_unknown_count_is_a_target_that_could_not_be_verified() {
    let template = read("copy-count-unknown.json", None);
    let names: Vec<&str> = template
        .targets
        .iter()
        .map(|t| t.cluster.as_str())
        .collect();
    assert_eq!(
        names,
        ["citus-prod", "[format('citus-replica-{0}', copyIndex())]"]
    );
    let hidden = &template.targets[1].state;
    let gap = hidden.key_uri.as_ref().unwrap_err();
    assert!(
        gap.reason.contains("known only at deployment"),
        "{}",
        gap.reason
    );
    assert!(gap.place.absolute().ends_with("/copy/count"), "{gap:?}");
    let reports = reports(&template);
    assert!(outcome(&reports[..1]).is_empty());
    let found = engine::merge(&reports[1..]);
    assert!(found
        .findings
        .iter()
        .all(|f| f.violation.unverified && f.violation.place.absolute().ends_with("/copy/count")));
    assert!(found
        .findings
        .iter()
        .any(|f| f.severity == cmk_check::lint::Severity::Error));
    cmk()
        .args([
            "check",
            "--template",
            "fixtures/templates/copy-count-unknown.json",
        ])
        .args(["--offline", "--now", NOW])
        .assert()
        .code(1);
}

#[test]
fn references_nested_past_the_bound_are_refused_not_a_crash() {
    let mut variables = serde_json::Map::new();
    variables.insert("v0".to_string(), json!("kv-cmk-prod"));
    for i in 1..2_500 {
        variables.insert(format!("v{i}"), json!(format!("[variables('v{}')]", i - 1)));
    }
    let template = changed(|t| {
        t["variables"] = Value::Object(variables);
        t["variables"]["vaultName"] = json!("[variables('v2499')]");
        t["variables"]["keyName"] = json!("cmk-citus");
    });
    let (message, at) = refused(&template);
    assert!(message.contains("more than 64"), "{message}");
    assert!(at.starts_with("\"[variables('v"), "{at}");

    // Resources that reference each other's properties depend on each other.
    let template = changed(|t| {
        let key = resource(t, "Microsoft.KeyVault/vaults/keys");
        key["properties"]["kty"] =
            json!("[reference(resourceId('Microsoft.KeyVault/vaults', 'kv-cmk-prod')).tenantId]");
        let vault = resource(t, "Microsoft.KeyVault/vaults");
        vault["properties"]["tenantId"] = json!(
            "[reference(resourceId('Microsoft.KeyVault/vaults/keys', 'kv-cmk-prod', 'cmk-citus')).kty]"
        );
    });
    let (message, _) = refused(&template);
    assert!(message.contains("circular"), "{message}");

    // So do nested deployments whose outputs read each other's.
    let deployment = |name: &str, other: &str| {
        json!({
            "type": "Microsoft.Resources/deployments",
            "apiVersion": "2022-09-01",
            "name": name,
            "properties": {
                "mode": "Incremental",
                "expressionEvaluationOptions": {"scope": "inner"},
                "template": {"outputs": {"region": {
                    "type": "string",
                    "value": format!("[reference('{other}').outputs.region.value]"),
                }}},
            },
        })
    };
    let template = changed(|t| {
        resource(t, CLUSTER)["location"] = json!("[reference('a').outputs.region.value]");
        let resources = t["resources"].as_array_mut().unwrap();
        resources.push(deployment("a", "b"));
        resources.push(deployment("b", "a"));
    });
    let (message, _) = refused(&template);
    assert!(message.contains("circular"), "{message}");
}

#[test]
fn resources_nested_past_the_bound_are_refused() {
    let mut child = json!({"type": "Microsoft.Storage/storageAccounts", "name": "deep"});
    for _ in 0..40 {
        child = json!({"type": "child", "name": "c", "resources": [child]});
    }
    let template = changed(|t| t["resources"].as_array_mut().unwrap().push(child));
    let (message, _) = refused(&template);
    assert!(message.contains("more than 32 levels"), "{message}");
}

#[test]
fn values_of_the_wrong_shape_are_unverified_not_a_panic() {
    // `reference(key).keyUriWithVersion` of a key whose `properties` is a string.
    let found = clean_with(|t| {
        resource(t, "Microsoft.KeyVault/vaults/keys")["properties"] =
            json!("[parameters('clusterName')]");
    });
    assert!(found.contains(&("CMK016".to_string(), true)), "{found:?}");
    assert!(found.iter().all(|(_, unverified)| *unverified), "{found:?}");
    let found = clean_with(|t| {
        resource(t, "Microsoft.KeyVault/vaults")["properties"] = json!("vault");
    });
    assert!(found.contains(&("CMK004".to_string(), true)), "{found:?}");
}

#[test]
fn what_is_not_known_is_said_once_per_cause_in_plain_words() {
    let text = std::fs::read_to_string(templates().join("existing-resources.json")).unwrap();
    let parsed = template::parse("t.json", text, None, &Placement::default()).unwrap();
    let report = engine::merge(&reports(&parsed));
    let causes: BTreeSet<String> = report
        .findings
        .iter()
        .filter_map(|f| f.violation.cause.clone())
        .collect();
    let expected: BTreeSet<String> = [
        "parameter `identityId` has no value: give it with `--parameters`",
        "parameter `keyUri` has no value: give it with `--parameters`",
        "the template declares no activity-log alert",
    ]
    .into_iter()
    .map(str::to_string)
    .collect();
    assert_eq!(causes, expected);
    let shown = human::render(&report, Style::PLAIN);
    for garbled in [
        "is `[",
        "` is not known",
        "declares no the",
        "is needed here",
    ] {
        assert!(!shown.contains(garbled), "{garbled}: {shown}");
    }
    // One diagnostic where the key URI is written, for every rule it keeps from running.
    assert_eq!(
        shown.matches("parameter `keyUri` has no value").count(),
        1,
        "{shown}"
    );

    let found = clean_with(|t| {
        resource(t, CLUSTER)["properties"]["dataEncryption"]
            .as_object_mut()
            .unwrap()
            .remove("primaryKeyUri");
    });
    assert!(found.contains(&("CMK017".to_string(), true)), "{found:?}");
    let template = changed(|t| {
        resource(t, CLUSTER)["properties"]["dataEncryption"]
            .as_object_mut()
            .unwrap()
            .remove("primaryKeyUri");
    });
    let parsed = check(&template, &Placement::default()).unwrap();
    let gap = parsed.targets[0].state.key_uri.as_ref().unwrap_err();
    assert_eq!(
        gap.reason,
        "cluster `citus-prod` declares no key URI (`properties.dataEncryption.primaryKeyUri`)"
    );
}
