//! The ways a plan may spell what the fixtures spell one way: each variant is `clean.json`
//! edited in every place of the plan that carries the value (`planned_values`,
//! `resource_changes[].change`, `configuration`), checked by the binary offline, and judged by
//! its exit code and the rules of its JSON report.

use serde_json::{json, Map, Value};

use super::*;

const CLUSTER: &str = "module.db.azapi_resource.cluster";
const VAULT: &str = "module.cmk.azurerm_key_vault.cmk";
const POLICY: &str = "module.cmk.azurerm_key_vault_access_policy.cluster";
const TENANT: &str = "b6c948ef-f6b5-4384-8354-da3a15eca969";
/// The ID Azure gives `module.cmk.azurerm_user_assigned_identity.cmk`.
const IDENTITY_ID: &str = "/subscriptions/6a1f4c2e-8b3d-4e5f-9a7b-1c2d3e4f5a6b/resourceGroups/rg-citus-prod/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-citus-cmk";

/// What the binary says of a plan: its exit code, the findings (code, unverified, address,
/// message) and how many rules it checked.
#[derive(Debug)]
struct Verdict {
    code: i32,
    findings: Vec<(String, bool, String, String)>,
    checked: u64,
}

impl Verdict {
    fn codes(&self) -> Vec<(&str, bool)> {
        self.findings
            .iter()
            .map(|(code, unverified, _, _)| (code.as_str(), *unverified))
            .collect()
    }

    /// Exit 0, no finding at all (not even an unverified one), every rule checked: the verdict
    /// of `clean.json` itself.
    fn assert_clean(&self, what: &str) {
        assert_eq!(self.code, 0, "{what}: {self:?}");
        assert!(self.findings.is_empty(), "{what}: {self:?}");
        assert!(self.checked > 0, "{what}: {self:?}");
        assert_eq!(self.checked, clean_checked(), "{what}: {self:?}");
    }

    /// Exit 1 with exactly the verified findings `codes`.
    fn assert_fails(&self, what: &str, codes: &[&str]) {
        assert_eq!(self.code, 1, "{what}: {self:?}");
        let expected: Vec<(&str, bool)> = codes.iter().map(|c| (*c, false)).collect();
        assert_eq!(self.codes(), expected, "{what}: {self:?}");
    }
}

fn clean_checked() -> u64 {
    static CHECKED: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *CHECKED.get_or_init(|| {
        let verdict = Variant::clean().check("clean");
        assert_eq!(verdict.code, 0, "{verdict:?}");
        assert!(verdict.findings.is_empty(), "{verdict:?}");
        verdict.checked
    })
}

/// `module.a.module.b.x.y` as its module calls (`a`, `b`) and its local address (`x.y`).
fn split(address: &str) -> (Vec<&str>, String) {
    let mut parts: Vec<&str> = address.split('.').collect();
    let mut calls = Vec::new();
    while parts.len() > 2 && parts[0] == "module" {
        calls.push(parts[1]);
        parts.drain(..2);
    }
    (calls, parts.join("."))
}

fn object(value: &mut Value) -> &mut Map<String, Value> {
    value.as_object_mut().unwrap()
}

/// The resource at `address` of a `planned_values` module, at any depth.
fn planned<'v>(module: &'v mut Value, address: &str) -> Option<&'v mut Value> {
    let here = module["resources"]
        .as_array()
        .is_some_and(|r| r.iter().any(|r| r["address"] == address));
    if here {
        return module["resources"]
            .as_array_mut()?
            .iter_mut()
            .find(|r| r["address"] == address);
    }
    module
        .get_mut("child_modules")?
        .as_array_mut()?
        .iter_mut()
        .find_map(|child| planned(child, address))
}

struct Variant {
    plan: Value,
}

impl Variant {
    fn clean() -> Self {
        let text = std::fs::read_to_string(plans().join("clean.json")).unwrap();
        Self {
            plan: serde_json::from_str(&text).unwrap(),
        }
    }

    /// The values of `address` in `planned_values` and in its change's `after`: the two carry
    /// the same values.
    fn values(&mut self, address: &str, edit: impl Fn(&mut Map<String, Value>)) -> &mut Self {
        let root = self
            .plan
            .pointer_mut("/planned_values/root_module")
            .unwrap();
        let resource = planned(root, address).unwrap_or_else(|| panic!("no {address}"));
        edit(object(&mut resource["values"]));
        edit(object(&mut self.change(address)["after"]));
        self
    }

    fn after_unknown(
        &mut self,
        address: &str,
        edit: impl Fn(&mut Map<String, Value>),
    ) -> &mut Self {
        edit(object(&mut self.change(address)["after_unknown"]));
        self
    }

    /// The `expressions` of `address` in `configuration`, through its module calls.
    fn expressions(&mut self, address: &str, edit: impl Fn(&mut Map<String, Value>)) -> &mut Self {
        let (calls, local) = split(address);
        let mut module = self.plan.pointer_mut("/configuration/root_module").unwrap();
        for call in calls {
            module = &mut module["module_calls"][call]["module"];
        }
        let resource = module["resources"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|r| r["address"] == local.as_str())
            .unwrap_or_else(|| panic!("no configuration of {address}"));
        edit(object(&mut resource["expressions"]));
        self
    }

    fn change(&mut self, address: &str) -> &mut Value {
        let changes = self.plan["resource_changes"].as_array_mut().unwrap();
        let change = changes
            .iter_mut()
            .find(|c| c["address"] == address)
            .unwrap_or_else(|| panic!("no change of {address}"));
        &mut change["change"]
    }

    /// An attribute of `address` set to `value` in the values and as a constant in the
    /// configuration.
    fn set(&mut self, address: &str, attribute: &str, value: Value) -> &mut Self {
        self.values(address, |v| {
            v.insert(attribute.to_string(), value.clone());
        })
        .expressions(address, |e| {
            e.insert(
                attribute.to_string(),
                json!({ "constant_value": value.clone() }),
            );
        })
    }

    /// An attribute of `address` not written: absent from the values and the configuration.
    fn remove(&mut self, address: &str, attribute: &str) -> &mut Self {
        self.values(address, |v| {
            v.remove(attribute);
        })
        .after_unknown(address, |u| {
            u.remove(attribute);
        })
        .expressions(address, |e| {
            e.remove(attribute);
        });
        let root = self
            .plan
            .pointer_mut("/planned_values/root_module")
            .unwrap();
        if let Some(sensitive) = planned(root, address).and_then(|r| r.get_mut("sensitive_values"))
        {
            object(sensitive).remove(attribute);
        }
        if let Some(sensitive) = self.change(address).get_mut("after_sensitive") {
            if let Some(sensitive) = sensitive.as_object_mut() {
                sensitive.remove(attribute);
            }
        }
        self
    }

    /// A resource taken out of the plan: its values, its change and its configuration.
    fn drop_resource(&mut self, address: &str) -> &mut Self {
        fn drop_planned(module: &mut Value, address: &str) {
            if let Some(resources) = module.get_mut("resources").and_then(Value::as_array_mut) {
                resources.retain(|r| r["address"] != address);
            }
            if let Some(children) = module
                .get_mut("child_modules")
                .and_then(Value::as_array_mut)
            {
                for child in children {
                    drop_planned(child, address);
                }
            }
        }
        drop_planned(
            self.plan
                .pointer_mut("/planned_values/root_module")
                .unwrap(),
            address,
        );
        self.plan["resource_changes"]
            .as_array_mut()
            .unwrap()
            .retain(|c| c["address"] != address);
        let (calls, local) = split(address);
        let mut module = self.plan.pointer_mut("/configuration/root_module").unwrap();
        for call in calls {
            module = &mut module["module_calls"][call]["module"];
        }
        module["resources"]
            .as_array_mut()
            .unwrap()
            .retain(|r| r["address"] != local.as_str());
        self
    }

    /// The plan written to a file of its own and checked offline, as a pipeline checks it.
    fn check(&self, name: &str) -> Verdict {
        let dir = std::env::temp_dir().join(format!("cmk-check-variants-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}.json"));
        std::fs::write(&path, serde_json::to_string_pretty(&self.plan).unwrap()).unwrap();
        let output = cmk()
            .args(["check", "--terraform-plan"])
            .arg(&path)
            .args(["--offline", "--now", NOW, "--format", "json"])
            .output()
            .unwrap();
        let code = output.status.code().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr).to_string();
        let report: Value = serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|e| panic!("{name}: exit {code}, not a JSON report ({e}): {stderr}"));
        let findings = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["code"].as_str().unwrap().to_string(),
                    f["unverified"].as_bool().unwrap(),
                    f["address"].as_str().unwrap_or_default().to_string(),
                    f["message"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        let checked = report["summary"]["rulesChecked"].as_u64().unwrap();
        Verdict {
            code,
            findings,
            checked,
        }
    }
}

/// 1. The cluster's azapi `type` compared without case: still the CMK cluster, checked.
#[test]
fn a_cluster_type_in_another_case_is_still_checked() {
    let kind = "microsoft.dbforpostgresql/SERVERGROUPSV2@2023-03-02-preview";
    let mut variant = Variant::clean();
    variant.set(CLUSTER, "type", json!(kind));
    variant
        .check("type-case")
        .assert_clean("type in another case");
    // Checked, not skipped: a broken vault in the same plan fails.
    variant.set(VAULT, "purge_protection_enabled", json!(false));
    variant
        .check("type-case-no-purge")
        .assert_fails("type in another case, no purge protection", &["CMK004"]);
}

/// A cluster whose identity is in `body.identity` (an ARM body's own), with no `identity` block.
fn identity_in_body(assigned: &str) -> Variant {
    let mut variant = Variant::clean();
    let identity = json!({
        "type": "UserAssigned",
        "userAssignedIdentities": { assigned: {} }
    });
    variant
        .values(CLUSTER, |v| {
            v.insert("identity".to_string(), json!([]));
            v["body"]["identity"] = identity.clone();
        })
        .after_unknown(CLUSTER, |u| {
            u.remove("identity");
        })
        .expressions(CLUSTER, |e| {
            e.remove("identity");
        });
    let root = variant
        .plan
        .pointer_mut("/planned_values/root_module")
        .unwrap();
    let sensitive = &mut planned(root, CLUSTER).unwrap()["sensitive_values"];
    object(sensitive).remove("identity");
    variant
}

/// 2. The cluster's identity given in `body.identity` instead of the `identity` block.
#[test]
fn the_cluster_identity_may_be_given_in_its_body() {
    identity_in_body(IDENTITY_ID)
        .check("body-identity")
        .assert_clean("identity in body.identity");
    // Read, not ignored: another identity there is not the one that reaches the key.
    let other = IDENTITY_ID.replace("id-citus-cmk", "id-other");
    let verdict = identity_in_body(&other).check("body-identity-other");
    verdict.assert_fails("another identity in body.identity", &["CMK019"]);
    assert!(
        verdict.findings[0]
            .3
            .contains("which is not assigned to the cluster"),
        "{verdict:?}"
    );
    // A system-assigned identity there fails as the block's does.
    let mut variant = identity_in_body(IDENTITY_ID);
    variant.values(CLUSTER, |v| {
        v["body"]["identity"] = json!({ "type": "SystemAssigned" });
    });
    let verdict = variant.check("body-identity-system");
    assert_eq!(verdict.code, 1, "{verdict:?}");
    assert!(verdict.codes().contains(&("CMK001", false)), "{verdict:?}");
}

/// `clean.json` with its `azurerm_key_vault_access_policy` written as an inline `access_policy`
/// block of the vault, granting `permissions` to the identity's principal.
fn inline_policy(permissions: &[&str]) -> Variant {
    let mut variant = Variant::clean();
    variant.drop_resource(POLICY);
    let permissions = json!(permissions);
    let unknown_permissions = json!(vec![false; permissions.as_array().unwrap().len()]);
    variant
        .values(VAULT, |v| {
            v.insert(
                "access_policy".to_string(),
                json!([{
                    "application_id": "",
                    "certificate_permissions": [],
                    "key_permissions": permissions.clone(),
                    "object_id": null,
                    "secret_permissions": [],
                    "storage_permissions": [],
                    "tenant_id": TENANT
                }]),
            );
        })
        .after_unknown(VAULT, |u| {
            u.insert(
                "access_policy".to_string(),
                json!([{
                    "certificate_permissions": [],
                    "key_permissions": unknown_permissions.clone(),
                    "object_id": true,
                    "secret_permissions": [],
                    "storage_permissions": []
                }]),
            );
        })
        .expressions(VAULT, |e| {
            e.insert(
                "access_policy".to_string(),
                json!([{
                    "key_permissions": { "constant_value": permissions.clone() },
                    "object_id": {
                        "references": [
                            "azurerm_user_assigned_identity.cmk.principal_id",
                            "azurerm_user_assigned_identity.cmk"
                        ]
                    },
                    "tenant_id": { "references": ["var.tenant_id"] }
                }]),
            );
        });
    variant
}

/// 3. An inline `access_policy` block on `azurerm_key_vault` grants as the resource does.
#[test]
fn an_inline_access_policy_grants_the_identity() {
    inline_policy(&["Get", "WrapKey", "UnwrapKey"])
        .check("inline-policy")
        .assert_clean("inline access_policy with Get, WrapKey, UnwrapKey");
    let verdict = inline_policy(&["Get", "WrapKey"]).check("inline-policy-no-unwrap");
    verdict.assert_fails("inline access_policy without UnwrapKey", &["CMK008"]);
    let (_, _, address, message) = &verdict.findings[0];
    assert_eq!(address, VAULT, "{verdict:?}");
    assert!(
        message.contains("the key permission `unwrapKey`") && !message.contains("`get`"),
        "{verdict:?}"
    );
    // The permissions in another case grant too.
    inline_policy(&["get", "WRAPKEY", "unwrapkey"])
        .check("inline-policy-case")
        .assert_clean("inline access_policy in lower and upper case");
}

/// 4. The provider's defaults where an attribute is absent (not written, or `null`).
#[test]
fn absent_vault_attributes_take_the_providers_defaults() {
    // (attributes, the rule its default passes)
    let cases: [(&[&str], &str); 4] = [
        (&["soft_delete_retention_days"], "CMK005"),
        (&["public_network_access_enabled"], "CMK006"),
        (&["network_acls"], "CMK006"),
        (&["enable_rbac_authorization"], "CMK007"),
    ];
    for (attributes, rule) in cases {
        let mut absent = Variant::clean();
        let mut null = Variant::clean();
        for attribute in attributes {
            absent.remove(VAULT, attribute);
            null.remove(VAULT, attribute).values(VAULT, |v| {
                v.insert((*attribute).to_string(), Value::Null);
            });
        }
        let what = format!("{attributes:?} absent ({rule})");
        absent.check(&format!("absent-{rule}")).assert_clean(&what);
        null.check(&format!("null-{rule}"))
            .assert_clean(&format!("{what}, null"));
    }
    // All of them at once.
    let mut variant = Variant::clean();
    for attribute in [
        "soft_delete_retention_days",
        "public_network_access_enabled",
        "network_acls",
        "enable_rbac_authorization",
    ] {
        variant.remove(VAULT, attribute);
    }
    variant
        .check("absent-all")
        .assert_clean("every default at once");
    // The defaults are the provider's, not a pass whatever the value: written, they are read.
    let written: [(&str, Value, &str); 3] = [
        ("soft_delete_retention_days", json!(7), "CMK005"),
        ("public_network_access_enabled", json!(false), "CMK006"),
        ("enable_rbac_authorization", json!(true), "CMK007"),
    ];
    for (attribute, value, rule) in written {
        let mut variant = Variant::clean();
        variant.set(VAULT, attribute, value.clone());
        let verdict = variant.check(&format!("written-{rule}"));
        assert_eq!(verdict.code, 1, "{attribute} = {value}: {verdict:?}");
        assert!(
            verdict.codes().contains(&(rule, false)),
            "{attribute} = {value}: {verdict:?}"
        );
    }
}

/// The vault with its RBAC attribute named `name` (and not the other) set to `value`.
fn rbac(name: &str, value: Value) -> Variant {
    let mut variant = Variant::clean();
    variant.remove(VAULT, "enable_rbac_authorization");
    variant.set(VAULT, name, value);
    variant
}

/// 5. `rbac_authorization_enabled` (azurerm 4.42+) is read as `enable_rbac_authorization` is.
#[test]
fn both_names_of_the_rbac_attribute_are_read() {
    for name in ["enable_rbac_authorization", "rbac_authorization_enabled"] {
        rbac(name, json!(true))
            .check(&format!("rbac-{name}"))
            .assert_fails(&format!("{name} = true"), &["CMK007"]);
        rbac(name, json!(false))
            .check(&format!("rbac-off-{name}"))
            .assert_clean(&format!("{name} = false"));
    }
    // azurerm 4.42+ plans carry both: the one written, and the other computed (unknown).
    for (written, computed) in [
        ("rbac_authorization_enabled", "enable_rbac_authorization"),
        ("enable_rbac_authorization", "rbac_authorization_enabled"),
    ] {
        let mut variant = rbac(written, json!(true));
        variant
            .values(VAULT, |v| {
                v.insert(computed.to_string(), Value::Null);
            })
            .after_unknown(VAULT, |u| {
                u.insert(computed.to_string(), json!(true));
            });
        variant.check(&format!("rbac-both-{written}")).assert_fails(
            &format!("{written} = true, {computed} computed"),
            &["CMK007"],
        );
    }
}

/// 6. Key permissions in another case (`get`, `WRAPKEY`, `unwrapkey`) still grant.
#[test]
fn key_permissions_are_compared_without_case() {
    let permissions = json!(["get", "WRAPKEY", "unwrapkey"]);
    let mut variant = Variant::clean();
    variant.set(POLICY, "key_permissions", permissions);
    variant
        .check("permissions-case")
        .assert_clean("key_permissions in another case");
    // Still read: without `unwrapkey` the grant is short.
    let mut variant = Variant::clean();
    variant.set(POLICY, "key_permissions", json!(["get", "WRAPKEY"]));
    variant
        .after_unknown(POLICY, |u| {
            u.insert("key_permissions".to_string(), json!([false, false]));
        })
        .values(POLICY, |_| {});
    let root = variant
        .plan
        .pointer_mut("/planned_values/root_module")
        .unwrap();
    planned(root, POLICY).unwrap()["sensitive_values"]["key_permissions"] = json!([false, false]);
    variant
        .check("permissions-case-no-unwrap")
        .assert_fails("get, WRAPKEY", &["CMK008"]);
}

/// `clean.json` with `module.cmk` moved into a module of a module: `module.a.module.b`, its
/// variables passed down through `module.a` and its outputs passed up.
fn nested() -> Variant {
    const FROM: &str = "module.cmk.";
    const TO: &str = "module.a.module.b.";
    let mut variant = Variant::clean();
    let plan = &mut variant.plan;
    // planned_values: module.cmk becomes module.a holding module.a.module.b.
    let children = plan["planned_values"]["root_module"]["child_modules"]
        .as_array_mut()
        .unwrap();
    let at = children
        .iter()
        .position(|c| c["address"] == "module.cmk")
        .unwrap();
    let mut inner = children.remove(at);
    inner["address"] = json!("module.a.module.b");
    for resource in inner["resources"].as_array_mut().unwrap() {
        let address = resource["address"].as_str().unwrap().replace(FROM, TO);
        resource["address"] = json!(address);
    }
    children.insert(
        at,
        json!({ "address": "module.a", "resources": [], "child_modules": [inner] }),
    );
    // prior_state names the (empty) module instances too.
    if let Some(children) = plan
        .pointer_mut("/prior_state/values/root_module/child_modules")
        .and_then(Value::as_array_mut)
    {
        for child in children.iter_mut() {
            if child["address"] == "module.cmk" {
                *child = json!({
                    "address": "module.a",
                    "resources": [],
                    "child_modules": [{ "address": "module.a.module.b", "resources": [] }]
                });
            }
        }
    }
    // resource_changes.
    for change in plan["resource_changes"].as_array_mut().unwrap() {
        if change["module_address"] == "module.cmk" {
            let address = change["address"].as_str().unwrap().replace(FROM, TO);
            change["address"] = json!(address);
            change["module_address"] = json!("module.a.module.b");
        }
    }
    // configuration: the call of `cmk` becomes `b` inside `a`, which passes each variable on
    // and each output up.
    let calls = object(&mut plan["configuration"]["root_module"]["module_calls"]);
    let cmk = calls.remove("cmk").unwrap();
    let passed: Map<String, Value> = cmk["expressions"]
        .as_object()
        .unwrap()
        .keys()
        .map(|name| {
            (
                name.clone(),
                json!({ "references": [format!("var.{name}")] }),
            )
        })
        .collect();
    let outputs: Map<String, Value> = cmk["module"]["outputs"]
        .as_object()
        .unwrap()
        .keys()
        .map(|name| {
            (
                name.clone(),
                json!({ "expression": { "references": [format!("module.b.{name}"), "module.b"] } }),
            )
        })
        .collect();
    let variables: Map<String, Value> = passed.keys().map(|k| (k.clone(), json!({}))).collect();
    let b = json!({
        "source": "../cmk",
        "expressions": passed,
        "module": cmk["module"].clone()
    });
    calls.insert(
        "a".to_string(),
        json!({
            "source": "./modules/a",
            "expressions": cmk["expressions"].clone(),
            "module": {
                "outputs": outputs,
                "module_calls": { "b": b },
                "variables": variables
            }
        }),
    );
    // The cluster's module reads the outputs of `a`.
    for expression in object(&mut calls["db"]["expressions"]).values_mut() {
        if let Some(references) = expression
            .get_mut("references")
            .and_then(Value::as_array_mut)
        {
            for reference in references {
                let text = reference.as_str().unwrap();
                if text == "module.cmk" || text.starts_with(FROM) {
                    *reference = json!(text.replacen("module.cmk", "module.a", 1));
                }
            }
        }
    }
    assert!(
        !serde_json::to_string(&variant.plan)
            .unwrap()
            .contains("module.cmk"),
        "module.cmk is still named"
    );
    variant
}

/// 7. A module of a child module (`child_modules` two levels deep, `module_calls` nested) is read.
#[test]
fn a_module_inside_a_child_module_is_read() {
    nested().check("nested").assert_clean("module.a.module.b");
    let vault = "module.a.module.b.azurerm_key_vault.cmk";
    let mut variant = nested();
    variant.set(vault, "purge_protection_enabled", json!(false));
    let verdict = variant.check("nested-no-purge");
    verdict.assert_fails("module.a.module.b without purge protection", &["CMK004"]);
    assert_eq!(verdict.findings[0].2, vault, "{verdict:?}");
    // What reaches the cluster through two levels of variables and outputs is resolved: an
    // inline policy naming the identity's principal grants it.
    let mut variant = nested();
    variant.set(
        "module.a.module.b.azurerm_key_vault_access_policy.cluster",
        "key_permissions",
        json!(["Get", "WrapKey"]),
    );
    variant.after_unknown(
        "module.a.module.b.azurerm_key_vault_access_policy.cluster",
        |u| {
            u.insert("key_permissions".to_string(), json!([false, false]));
        },
    );
    let verdict = variant.check("nested-no-unwrap");
    verdict.assert_fails("module.a.module.b without UnwrapKey", &["CMK008"]);
    assert_eq!(verdict.findings[0].2, vault, "{verdict:?}");
}
