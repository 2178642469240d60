//! Unit tests of the expression evaluator.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::json;

use super::{
    evaluate_string, evaluate_value, hash, is_expression, Evaluated, ExprError, Scope, Value,
};

const SUB: &str = "00000000-0000-0000-0000-000000000001";
const RG: &str = "rg-citus-prod";
const KNOWN_IDENTITY: &str = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/\
                              rg-citus-prod/providers/Microsoft.ManagedIdentity/\
                              userAssignedIdentities/id-known";

fn unknown_from_scope(reason: &str) -> Evaluated {
    Evaluated::Unknown {
        reason: reason.to_owned(),
        // Scopes may report any span: the evaluator replaces it.
        span: 1000..1001,
    }
}

struct TestScope {
    parameters: HashMap<String, Evaluated>,
    variables: HashMap<String, Evaluated>,
    /// Innermost loop first: (name, index).
    loops: Vec<(&'static str, i64)>,
    deployment_known: bool,
    /// What `utcNow()` gives; `None` outside the default value of a parameter.
    now: Option<DateTime<Utc>>,
}

impl TestScope {
    fn new() -> Self {
        let known = |value: Value| Evaluated::Known(value);
        let parameters = HashMap::from([
            ("location".to_owned(), known(json!("westeurope"))),
            ("vaultname".to_owned(), known(json!("kv-cmk-prod"))),
            (
                "obj".to_owned(),
                known(json!({"inner": {"list": ["x", "y"]}, "Name": "n"})),
            ),
            ("count".to_owned(), known(json!(3))),
            ("nothing".to_owned(), known(Value::Null)),
            (
                "pending".to_owned(),
                unknown_from_scope("the parameter `pending` has no value"),
            ),
        ]);
        let variables = HashMap::from([
            ("keyname".to_owned(), known(json!("cmk"))),
            (
                "later".to_owned(),
                unknown_from_scope("the variable `later` uses reference()"),
            ),
        ]);
        TestScope {
            parameters,
            variables,
            loops: vec![("keys", 2), ("vaults", 5)],
            deployment_known: true,
            now: None,
        }
    }

    /// As in the default value of a parameter, deployed at `now`.
    fn in_default_value(now: &str) -> Self {
        TestScope {
            now: Some(instant(now)),
            ..TestScope::new()
        }
    }

    fn outside_loops() -> Self {
        TestScope {
            loops: Vec::new(),
            ..TestScope::new()
        }
    }

    fn unknown_deployment() -> Self {
        TestScope {
            deployment_known: false,
            ..TestScope::new()
        }
    }
}

impl Scope for TestScope {
    fn parameter(&self, name: &str) -> Option<Evaluated> {
        self.parameters.get(&name.to_lowercase()).cloned()
    }

    fn variable(&self, name: &str) -> Option<Evaluated> {
        self.variables.get(&name.to_lowercase()).cloned()
    }

    fn resource_group(&self) -> Evaluated {
        Evaluated::Known(json!({
            "id": format!("/subscriptions/{SUB}/resourceGroups/{RG}"),
            "name": RG,
            "location": "westeurope",
        }))
    }

    fn subscription(&self) -> Evaluated {
        Evaluated::Known(json!({
            "id": format!("/subscriptions/{SUB}"),
            "subscriptionId": SUB,
            "tenantId": "b6c948ef-f6b5-4384-8354-da3a15eca969",
            "displayName": "Production",
        }))
    }

    fn copy_index(&self, loop_name: Option<&str>) -> Option<i64> {
        match loop_name {
            None => self.loops.first().map(|&(_, index)| index),
            Some(name) => self
                .loops
                .iter()
                .find(|(loop_name, _)| loop_name.eq_ignore_ascii_case(name))
                .map(|&(_, index)| index),
        }
    }

    fn reference(&self, target: &str, full: bool) -> Evaluated {
        if target.eq_ignore_ascii_case(KNOWN_IDENTITY) {
            let properties = json!({"principalId": "p-known", "clientId": "c-known"});
            return Evaluated::Known(if full {
                json!({"properties": properties, "location": "westeurope"})
            } else {
                properties
            });
        }
        unknown_from_scope(&format!("`{target}` is created by this deployment"))
    }

    fn subscription_id(&self) -> Evaluated {
        if self.deployment_known {
            Evaluated::Known(json!(SUB))
        } else {
            unknown_from_scope("the target subscription is not known yet")
        }
    }

    fn resource_group_name(&self) -> Evaluated {
        if self.deployment_known {
            Evaluated::Known(json!(RG))
        } else {
            unknown_from_scope("the target resource group is not known yet")
        }
    }

    fn deployment_time(&self) -> Option<DateTime<Utc>> {
        self.now
    }
}

#[track_caller]
fn instant(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .with_timezone(&Utc)
}

fn eval_in(raw: &str, scope: &TestScope) -> Result<Evaluated, ExprError> {
    evaluate_string(raw, scope)
}

#[track_caller]
fn known(raw: &str) -> Value {
    match eval_in(raw, &TestScope::new()) {
        Ok(Evaluated::Known(value)) => value,
        other => panic!("{raw}: expected a known value, got {other:?}"),
    }
}

/// The reason and the spanned text of an Unknown.
#[track_caller]
fn unknown_in(raw: &str, scope: &TestScope) -> (String, String) {
    match eval_in(raw, scope) {
        Ok(Evaluated::Unknown { reason, span }) => {
            let spanned = raw
                .get(span.clone())
                .unwrap_or_else(|| panic!("{raw}: span {span:?} is not in the string"));
            (reason, spanned.to_owned())
        }
        other => panic!("{raw}: expected an Unknown, got {other:?}"),
    }
}

#[track_caller]
fn unknown(raw: &str) -> (String, String) {
    unknown_in(raw, &TestScope::new())
}

/// The message and the spanned text of an error.
#[track_caller]
fn error_in(raw: &str, scope: &TestScope) -> (String, String) {
    match eval_in(raw, scope) {
        Err(ExprError { message, span }) => {
            let spanned = raw
                .get(span.clone())
                .unwrap_or_else(|| panic!("{raw}: span {span:?} is not in the string"));
            (message, spanned.to_owned())
        }
        other => panic!("{raw}: expected an error, got {other:?}"),
    }
}

#[track_caller]
fn error(raw: &str) -> (String, String) {
    error_in(raw, &TestScope::new())
}

/// The whole expression between the brackets.
fn inner(raw: &str) -> String {
    raw.get(1..raw.len() - 1).unwrap_or_default().to_owned()
}

// --- literals and the `[[` escape ---------------------------------------------------------------

#[test]
fn plain_strings_and_the_escape() {
    assert_eq!(known("abc"), json!("abc"));
    assert_eq!(known(""), json!(""));
    assert_eq!(known("[[abc]"), json!("[abc]"));
    assert_eq!(known("[[concat('a')]"), json!("[concat('a')]"));
    assert_eq!(known("[[]"), json!("[]"));
    // Not expressions for ARM (no closing `]`): kept as written, the `[[` too.
    assert_eq!(known("[[abc"), json!("[[abc"));
    assert_eq!(known("[abc"), json!("[abc"));
    assert_eq!(known("abc]"), json!("abc]"));
    assert_eq!(known("["), json!("["));
    assert_eq!(known(" [concat('a')]"), json!(" [concat('a')]"));

    assert!(is_expression("[concat('a')]"));
    assert!(is_expression("[]"));
    assert!(!is_expression("[[concat('a')]"));
    assert!(!is_expression("[concat('a')"));
    assert!(!is_expression("plain"));
    assert!(!is_expression("["));
}

#[test]
fn literals_inside_expressions() {
    assert_eq!(known("['abc']"), json!("abc"));
    assert_eq!(known("['it''s']"), json!("it's"));
    assert_eq!(known("['']"), json!(""));
    assert_eq!(known("['''']"), json!("'"));
    assert_eq!(known("['[x]']"), json!("[x]"));
    assert_eq!(known("[42]"), json!(42));
    assert_eq!(known("[-7]"), json!(-7));
    assert_eq!(known("[+3]"), json!(3));
    assert_eq!(known("[2147483647]"), json!(2_147_483_647));
    assert_eq!(known("[-2147483648]"), json!(-2_147_483_648_i64));
    assert_eq!(known("[ 'a' ]"), json!("a"));
    assert_eq!(known("[\n\tconcat( 'a' ,'b' )\n]"), json!("ab"));
    assert_eq!(known("[true]"), json!(true));
    assert_eq!(known("[false]"), json!(false));
    assert_eq!(known("[true()]"), json!(true));
    assert_eq!(known("[FALSE()]"), json!(false));
    assert_eq!(known("[null()]"), Value::Null);
    assert_eq!(known("[if(true, 'y', 'n')]"), json!("y"));
}

#[test]
fn nested_calls() {
    assert_eq!(
        known("[toUpper(concat('a', toLower('B'), string(add(1, mul(2, 3)))))]"),
        json!("AB7")
    );
    assert_eq!(
        known("[concat(parameters('vaultName'), '-', variables('keyName'))]"),
        json!("kv-cmk-prod-cmk")
    );
}

// --- accessors ----------------------------------------------------------------------------------

#[test]
fn property_and_index_chains() {
    assert_eq!(known("[resourceGroup().location]"), json!("westeurope"));
    assert_eq!(known("[resourceGroup()['name']]"), json!(RG));
    assert_eq!(known("[parameters('obj').inner.list[1]]"), json!("y"));
    assert_eq!(known("[parameters('obj')['inner']['list'][0]]"), json!("x"));
    // Parameter names and property names without regard to case.
    assert_eq!(known("[parameters('OBJ').name]"), json!("n"));
    assert_eq!(known("[split('a/b/c', '/')[2]]"), json!("c"));
    assert_eq!(known("[split('a/b/c', '/')[add(0, 1)]]"), json!("b"));
    assert_eq!(known("[createObject('a', 1).A]"), json!(1));
    assert_eq!(known("[createObject('a', 1, 'A', 2).A]"), json!(2));
    assert_eq!(known(r#"[json('{"k": [10, 20]}').k[1]]"#), json!(20));
    assert_eq!(
        known("[subscription().subscriptionId]"),
        json!("00000000-0000-0000-0000-000000000001")
    );
}

#[test]
fn accessors_on_template_values_fail_like_arm() {
    let (message, spanned) = error("[createObject('a', 1).b]");
    assert!(message.contains("`.b`"), "{message}");
    assert_eq!(spanned, "createObject('a', 1).b");

    let (message, spanned) = error("[createArray(1, 2)[2]]");
    assert!(message.contains("2 element"), "{message}");
    assert_eq!(spanned, "createArray(1, 2)[2]");

    let (_, spanned) = error("[createArray(1)['x']]");
    assert_eq!(spanned, "createArray(1)['x']");
    let (_, spanned) = error("[createObject('a', 1)[0]]");
    assert_eq!(spanned, "createObject('a', 1)[0]");
    let (message, spanned) = error("[concat('a', 'b').length]");
    assert!(message.contains("a string"), "{message}");
    assert_eq!(spanned, "concat('a', 'b').length");
    let (_, spanned) = error("[createArray(1)[-1]]");
    assert_eq!(spanned, "createArray(1)[-1]");
}

#[test]
fn accessors_on_scope_values_are_unknown_when_missing() {
    // The scope may know only part of a resource group or a parameter object.
    let (reason, spanned) = unknown("[resourceGroup().tags.env]");
    assert!(reason.contains("`.tags`"), "{reason}");
    assert_eq!(spanned, "resourceGroup().tags.env");
    let (_, spanned) = unknown("[toLower(parameters('obj').missing)]");
    assert_eq!(spanned, "parameters('obj').missing");
}

// --- Unknown spans ------------------------------------------------------------------------------

#[test]
fn unknown_spans_point_at_the_cause() {
    let raw = "[reference('mi').principalId]";
    let (reason, spanned) = unknown(raw);
    assert_eq!(reason, "`mi` is created by this deployment");
    assert_eq!(spanned, "reference('mi').principalId");

    let (_, spanned) = unknown("[concat('x-', reference('mi').principalId, '-y')]");
    assert_eq!(spanned, "reference('mi').principalId");

    let (reason, spanned) = unknown("[concat('a', foo(1))]");
    assert_eq!(reason, "function `foo` is not supported by cmk-check");
    assert_eq!(spanned, "foo(1)");

    let (_, spanned) = unknown("[reference('mi').outputs.keys[0]]");
    assert_eq!(spanned, "reference('mi').outputs.keys[0]");

    // An Unknown index keeps its own span.
    let (_, spanned) = unknown("[parameters('obj')[reference('mi').key]]");
    assert_eq!(spanned, "reference('mi').key");

    // A scope's Unknown is reported at the call that asked for it.
    let (reason, spanned) = unknown("[toLower(parameters('pending'))]");
    assert_eq!(reason, "the parameter `pending` has no value");
    assert_eq!(spanned, "parameters('pending')");
    let (_, spanned) = unknown("[variables('later')]");
    assert_eq!(spanned, "variables('later')");

    let raw = "[listKeys(resourceId('Microsoft.Storage/storageAccounts', 'sa'), '2023-01-01').keys[0].value]";
    let (reason, spanned) = unknown(raw);
    assert_eq!(
        reason,
        "`listKeys()` reads the resource's keys or settings at deployment"
    );
    assert_eq!(spanned, inner(raw));

    // User-defined functions (what Bicep emits for `func`).
    let (reason, spanned) = unknown("[__bicep.keyUri('kv')]");
    assert_eq!(
        reason,
        "function `__bicep.keyUri` is not supported by cmk-check"
    );
    assert_eq!(spanned, "__bicep.keyUri('kv')");
}

#[test]
fn functions_that_depend_on_the_deployment() {
    let (reason, spanned) = unknown("[tenant().tenantId]");
    assert_eq!(reason, "the tenant is known only at deployment");
    assert_eq!(spanned, "tenant().tenantId");
    let (reason, _) = unknown("[environment().suffixes.keyvaultDns]");
    assert!(reason.contains("known only at deployment"), "{reason}");
    let (reason, _) = unknown("[deployment().name]");
    assert!(reason.contains("known only at deployment"), "{reason}");
    let (reason, spanned) = unknown("[managementGroup().id]");
    assert_eq!(reason, "the management group is known only at deployment");
    assert_eq!(spanned, "managementGroup().id");
    let (reason, _) = unknown("[deployer().objectId]");
    assert!(reason.contains("known only at deployment"), "{reason}");
    let (reason, spanned) =
        unknown("[pickZones('Microsoft.Compute', 'virtualMachines', 'westus2')]");
    assert!(reason.contains("zones"), "{reason}");
    assert_eq!(
        spanned,
        "pickZones('Microsoft.Compute', 'virtualMachines', 'westus2')"
    );
    let (reason, _) = unknown("[providers('Microsoft.KeyVault', 'vaults').apiVersions[0]]");
    assert!(reason.contains("registration"), "{reason}");
    let (reason, _) =
        unknown("[listSecrets(resourceId('Microsoft.Web/sites', 'app'), '2022-03-01')]");
    assert!(reason.contains("at deployment"), "{reason}");
    // ARM checks their arity whatever else is unknown.
    let (message, spanned) = error("[tenant('x')]");
    assert_eq!(message, "`tenant()` takes 0 arguments, got 1");
    assert_eq!(spanned, "tenant('x')");
    error("[pickZones('Microsoft.Compute', 'virtualMachines')]");
    error_in(
        "[newGuid(1)]",
        &TestScope::in_default_value("2024-01-01T00:00:00Z"),
    );
}

#[test]
fn errors_in_arguments_win_over_unknowns() {
    let (message, spanned) = error("[foo(parameters('missing'))]");
    assert_eq!(message, "the template has no parameter `missing`");
    assert_eq!(spanned, "parameters('missing')");
    let (_, spanned) = error("[concat(reference('mi').x, toLower(1))]");
    assert_eq!(spanned, "toLower(1)");
}

// --- syntax errors ------------------------------------------------------------------------------

#[test]
fn syntax_errors_have_spans() {
    let (message, spanned) = error("[concat('abc)]");
    assert!(message.contains("unterminated"), "{message}");
    assert_eq!(spanned, "'abc)");

    let (message, spanned) = error("[concat('a', 'b']");
    assert!(message.contains("`)`"), "{message}");
    assert_eq!(spanned, "]");

    let (message, spanned) = error("[concat('a') 'b']");
    assert!(message.contains("after the end"), "{message}");
    assert_eq!(spanned, "'b'");

    let (_, spanned) = error("[concat('a'))]");
    assert_eq!(spanned, ")");

    let (message, spanned) = error("[]");
    assert!(message.contains("empty"), "{message}");
    assert_eq!(spanned, "[]");
    let (_, spanned) = error("[  ]");
    assert_eq!(spanned, "[  ]");

    let (_, spanned) = error("[concat('a';)]");
    assert_eq!(spanned, ";");
    let (message, spanned) = error("[add(1.5, 1)]");
    assert!(message.contains("fraction"), "{message}");
    assert_eq!(spanned, "1.5");
    let (message, spanned) = error("[add(2147483648, 1)]");
    assert!(message.contains("32-bit"), "{message}");
    assert_eq!(spanned, "2147483648");
    let (_, spanned) = error("[add(-, 1)]");
    assert_eq!(spanned, "-");
    let (_, spanned) = error("[1abc]");
    assert_eq!(spanned, "a");
    let (message, spanned) = error("[concat]");
    assert!(message.contains("`(`"), "{message}");
    assert_eq!(spanned, "]");
    let (_, spanned) = error("[foo bar]");
    assert_eq!(spanned, "bar");
    let (_, spanned) = error("[resourceGroup().]");
    assert_eq!(spanned, "]");
    let (_, spanned) = error("[split('a', '/')[0]");
    assert_eq!(spanned, "]");
    let (_, spanned) = error("[a.b.c()]");
    assert_eq!(spanned, ".");
    let (_, spanned) = error("['abc'.length]");
    assert_eq!(spanned, ".");
    let (_, spanned) = error("[concat(,)]");
    assert_eq!(spanned, ",");
    let (_, spanned) = error("[concat('é', €)]");
    assert_eq!(spanned, "€");
    // Letters outside ASCII are identifier characters for ARM too.
    let (message, spanned) = error("[concat('é', ü)]");
    assert!(message.contains("`ü`"), "{message}");
    assert_eq!(spanned, ")");
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let raw = format!("[{}'a'{}]", "concat(".repeat(500), ")".repeat(500));
    let (message, _) = error(&raw);
    assert!(message.contains("nested"), "{message}");
    let raw = format!("[{}'a'{}]", "toLower(".repeat(90), ")".repeat(90));
    assert_eq!(known(&raw), json!("a"));
}

// --- functions ----------------------------------------------------------------------------------

#[test]
fn parameters_and_variables() {
    assert_eq!(known("[parameters('location')]"), json!("westeurope"));
    assert_eq!(known("[parameters('nothing')]"), Value::Null);
    assert_eq!(known("[variables('keyName')]"), json!("cmk"));
    let (message, spanned) = error("[toLower(parameters('missing'))]");
    assert_eq!(message, "the template has no parameter `missing`");
    assert_eq!(spanned, "parameters('missing')");
    let (message, _) = error("[variables('nope')]");
    assert_eq!(message, "the template has no variable `nope`");
    let (message, spanned) = error("[parameters(1)]");
    assert!(message.contains("expects a string"), "{message}");
    assert_eq!(spanned, "parameters(1)");
    let (message, _) = error("[parameters()]");
    assert!(message.contains("takes 1 argument"), "{message}");
}

#[test]
fn concat_of_strings_and_arrays() {
    assert_eq!(known("[concat('a', 'b', 1, true())]"), json!("ab1True"));
    assert_eq!(known("[concat('only')]"), json!("only"));
    assert_eq!(
        known("[concat(createArray(1, 2), createArray(), createArray(3))]"),
        json!([1, 2, 3])
    );
    let (message, spanned) = error("[concat('a', createObject())]");
    assert!(message.contains("an object"), "{message}");
    assert_eq!(spanned, "concat('a', createObject())");
    let (_, spanned) = error("[concat(createArray(1), 'a')]");
    assert_eq!(spanned, "concat(createArray(1), 'a')");
    let (message, _) = error("[concat()]");
    assert!(message.contains("at least 1 argument"), "{message}");
    unknown("[concat('a', null())]");
}

#[test]
fn format_like_dotnet() {
    assert_eq!(known("[format('{0}-{1}', 'a', 2)]"), json!("a-2"));
    assert_eq!(known("[format('{{{0}}}', 'x')]"), json!("{x}"));
    assert_eq!(
        known("[format('{0,5}|{0,-5}|', 'ab')]"),
        json!("   ab|ab   |")
    );
    assert_eq!(known("[format('{0, 4}', 7)]"), json!("   7"));
    assert_eq!(known("[format('{0:D3}', 7)]"), json!("007"));
    assert_eq!(known("[format('{0:D3}', -7)]"), json!("-007"));
    assert_eq!(known("[format('{0:x}{0:X4}', 255)]"), json!("ff00FF"));
    assert_eq!(known("[format('{0}', true())]"), json!("True"));
    assert_eq!(known("[format('[{0}]', null())]"), json!("[]"));
    assert_eq!(known("[format('no items')]"), json!("no items"));
    // Strings take no format specifier in .NET: it is ignored.
    assert_eq!(known("[format('{0:N2}', 'abc')]"), json!("abc"));
    assert_eq!(
        known("[format('https://{0}.vault.azure.net/keys/{1}', parameters('vaultName'), 'cmk')]"),
        json!("https://kv-cmk-prod.vault.azure.net/keys/cmk")
    );

    let (reason, spanned) = unknown("[format('{0:N2}', 5)]");
    assert!(reason.contains("`N2`"), "{reason}");
    assert_eq!(spanned, "format('{0:N2}', 5)");
    unknown("[format('{0}', createArray(1))]");
    unknown("[format('{0,999999}', 'a')]");

    let (message, spanned) = error("[format('{1}', 'a')]");
    assert!(message.contains("{1}"), "{message}");
    assert_eq!(spanned, "format('{1}', 'a')");
    error("[format('{x}', 'a')]");
    error("[format('{ 0}', 'a')]");
    error("[format('{0', 'a')]");
    error("[format('a}b')]");
    error("[format(1)]");
}

#[test]
fn resource_ids() {
    let sub = SUB;
    assert_eq!(
        known("[resourceId('Microsoft.KeyVault/vaults/keys', 'kv', 'k')]"),
        json!(format!(
            "/subscriptions/{sub}/resourceGroups/rg-citus-prod/providers/Microsoft.KeyVault/vaults/kv/keys/k"
        ))
    );
    assert_eq!(
        known("[resourceId('rg-other', 'Microsoft.KeyVault/vaults', parameters('vaultName'))]"),
        json!(format!(
            "/subscriptions/{sub}/resourceGroups/rg-other/providers/Microsoft.KeyVault/vaults/kv-cmk-prod"
        ))
    );
    assert_eq!(
        known(
            "[resourceId('11111111-1111-1111-1111-111111111111', 'rg-other', \
             'Microsoft.ManagedIdentity/userAssignedIdentities', 'id-cmk')]"
        ),
        json!(
            "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-other/providers/\
             Microsoft.ManagedIdentity/userAssignedIdentities/id-cmk"
        )
    );
    assert_eq!(
        known(
            "[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', \
             'e147488a-f6f5-4113-8e2d-b22465e65bf6')]"
        ),
        json!(format!(
            "/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/\
             e147488a-f6f5-4113-8e2d-b22465e65bf6"
        ))
    );
    assert_eq!(
        known("[subscriptionResourceId('22222222-2222-2222-2222-222222222222', 'Microsoft.Resources/resourceGroups', 'rg')]"),
        json!("/subscriptions/22222222-2222-2222-2222-222222222222/providers/Microsoft.Resources/resourceGroups/rg")
    );

    let (message, spanned) = error("[resourceId('Microsoft.KeyVault/vaults/keys', 'kv')]");
    assert!(message.contains("needs 2"), "{message}");
    assert_eq!(
        spanned,
        "resourceId('Microsoft.KeyVault/vaults/keys', 'kv')"
    );
    let (message, _) = error("[resourceId('a', 'b', 'c', 'd')]");
    assert!(message.contains("resource type"), "{message}");
    error("[subscriptionResourceId('s', 'rg', 'Microsoft.Resources/x', 'n')]");
    error("[resourceId('Microsoft.KeyVault/vaults')]");
    error("[resourceId(createArray(), 'Microsoft.KeyVault/vaults', 'kv')]");
    unknown("[resourceId('Microsoft.KeyVault/vaults/keys', 'kv/k')]");

    let scope = TestScope::unknown_deployment();
    let (reason, spanned) = unknown_in("[resourceId('Microsoft.KeyVault/vaults', 'kv')]", &scope);
    assert_eq!(reason, "the target subscription is not known yet");
    assert_eq!(spanned, "resourceId('Microsoft.KeyVault/vaults', 'kv')");
    // Given explicitly, the subscription and the group need no scope.
    assert_eq!(
        eval_in(
            "[resourceId('s', 'g', 'Microsoft.KeyVault/vaults', 'kv')]",
            &scope
        ),
        Ok(Evaluated::Known(json!(
            "/subscriptions/s/resourceGroups/g/providers/Microsoft.KeyVault/vaults/kv"
        )))
    );
}

#[test]
fn subscription_and_resource_group() {
    assert_eq!(known("[resourceGroup().name]"), json!(RG));
    assert_eq!(known("[subscription().displayName]"), json!("Production"));
    let (message, spanned) = error("[subscription('x')]");
    assert!(message.contains("takes 0 arguments"), "{message}");
    assert_eq!(spanned, "subscription('x')");
}

#[test]
fn reference_delegates_to_the_scope() {
    let id = "resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', 'id-known')";
    assert_eq!(
        known(&format!("[reference({id}).principalId]")),
        json!("p-known")
    );
    assert_eq!(
        known(&format!("[reference({id}, '2023-01-31').clientId]")),
        json!("c-known")
    );
    assert_eq!(
        known(&format!(
            "[reference({id}, '2023-01-31', 'Full').properties.principalId]"
        )),
        json!("p-known")
    );
    assert_eq!(
        known(&format!("[reference({id}, '2023-01-31', 'full').location]")),
        json!("westeurope")
    );
    unknown(&format!("[reference({id}, '2023-01-31', 'Other')]"));
    error("[reference(1)]");
    error("[reference()]");
}

#[test]
fn case_functions() {
    assert_eq!(known("[toLower('AbC-1')]"), json!("abc-1"));
    assert_eq!(known("[toUpper('AbC-1')]"), json!("ABC-1"));
    assert_eq!(known("[toLower('日本')]"), json!("日本"));
    let (reason, spanned) = unknown("[toUpper('straße')]");
    assert!(reason.contains("ASCII"), "{reason}");
    assert_eq!(spanned, "toUpper('straße')");
    let (message, spanned) = error("[toLower(1)]");
    assert_eq!(message, "`toLower()` expects a string, got an integer");
    assert_eq!(spanned, "toLower(1)");
    error("[toUpper('a', 'b')]");
}

#[test]
fn if_takes_only_its_branch() {
    assert_eq!(
        known("[if(equals(1, 1), 'yes', reference('mi').principalId)]"),
        json!("yes")
    );
    assert_eq!(known("[if(false(), reference('mi').x, 'no')]"), json!("no"));
    // The branch not taken is not evaluated: its errors do not count.
    assert_eq!(
        known("[if(true(), 'a', parameters('missing'))]"),
        json!("a")
    );
    let (_, spanned) = unknown("[if(reference('mi').enabled, 'a', 'b')]");
    assert_eq!(spanned, "reference('mi').enabled");
    let (_, spanned) = unknown("[if(true(), reference('mi').id, 'b')]");
    assert_eq!(spanned, "reference('mi').id");
    let (message, spanned) = error("[if('x', 1, 2)]");
    assert!(message.contains("boolean"), "{message}");
    assert_eq!(spanned, "if('x', 1, 2)");
    error("[if(true(), 1)]");
}

#[test]
fn equality_and_logic() {
    assert_eq!(known("[equals('a', 'A')]"), json!(false));
    assert_eq!(known("[equals('a', 'a')]"), json!(true));
    assert_eq!(known("[equals(1, '1')]"), json!(false));
    assert_eq!(
        known(
            r#"[equals(createObject('b', 2, 'a', createArray(1, 2)), json('{"a": [1, 2], "b": 2}'))]"#
        ),
        json!(true)
    );
    assert_eq!(
        known("[equals(createArray(1, 2), createArray(2, 1))]"),
        json!(false)
    );
    unknown("[equals(1, json('1.0'))]");
    error("[equals(1)]");

    assert_eq!(known("[not(false())]"), json!(true));
    error("[not(1)]");

    assert_eq!(known("[and(true(), false())]"), json!(false));
    assert_eq!(known("[and(true, true, true)]"), json!(true));
    assert_eq!(known("[or(false(), true())]"), json!(true));
    assert_eq!(known("[or(false(), false())]"), json!(false));
    // A known deciding argument decides, whatever the unknown ones are.
    assert_eq!(known("[and(false(), reference('mi').x)]"), json!(false));
    assert_eq!(known("[and(reference('mi').x, false())]"), json!(false));
    assert_eq!(known("[or(true(), reference('mi').x)]"), json!(true));
    let (_, spanned) = unknown("[and(reference('mi').x, true())]");
    assert_eq!(spanned, "reference('mi').x");
    let (_, spanned) = unknown("[or(false(), reference('mi').x)]");
    assert_eq!(spanned, "reference('mi').x");
    let (message, _) = error("[and(true(), 1)]");
    assert!(message.contains("boolean"), "{message}");
    error("[and(true())]");
    // Whether ARM would still evaluate a failing argument after a deciding one is not confirmed.
    unknown("[and(false(), parameters('missing'))]");
    unknown("[or(true(), 'x')]");
    // Before any deciding argument an error is an error.
    error("[or(false(), parameters('missing'))]");
}

#[test]
fn conversions() {
    assert_eq!(known("[string(5)]"), json!("5"));
    assert_eq!(known("[string(true())]"), json!("True"));
    assert_eq!(known("[string('x')]"), json!("x"));
    assert_eq!(
        known("[string(createArray(1, 'a\"b', null(), createArray()))]"),
        json!(r#"[1,"a\"b",null,[]]"#)
    );
    assert_eq!(known("[string(createObject('a', 1))]"), json!(r#"{"a":1}"#));
    // serde_json sorts keys unless `preserve_order` is on; ARM keeps the template's order.
    match eval_in("[string(createObject('b', 1, 'a', 2))]", &TestScope::new()) {
        Ok(Evaluated::Unknown { .. }) => {}
        Ok(Evaluated::Known(value)) => assert_eq!(value, json!(r#"{"b":1,"a":2}"#)),
        Err(error) => panic!("{error:?}"),
    }
    unknown("[string(null())]");

    assert_eq!(known("[int('42')]"), json!(42));
    assert_eq!(known("[int(' -5 ')]"), json!(-5));
    assert_eq!(known("[int('+12')]"), json!(12));
    assert_eq!(known("[int(7)]"), json!(7));
    assert_eq!(known("[int('9223372036854775807')]"), json!(i64::MAX));
    let (message, _) = error("[int('4.2')]");
    assert!(message.contains("`4.2`"), "{message}");
    error("[int('9223372036854775808')]");
    error("[int('')]");
    error("[int(true())]");

    assert_eq!(known("[bool('TRUE')]"), json!(true));
    assert_eq!(known("[bool(' false ')]"), json!(false));
    assert_eq!(known("[bool(0)]"), json!(false));
    assert_eq!(known("[bool(2)]"), json!(true));
    assert_eq!(known("[bool(false())]"), json!(false));
    error("[bool('yes')]");
    error("[bool(createArray())]");

    assert_eq!(known("[array('a')]"), json!(["a"]));
    assert_eq!(known("[array(createArray(1))]"), json!([1]));
    assert_eq!(known("[array(createObject('a', 1))]"), json!([{"a": 1}]));

    assert_eq!(
        known(r#"[json('{"a": [1, true, null], "b": "x"}')]"#),
        json!({"a": [1, true, null], "b": "x"})
    );
    assert_eq!(known("[json('null')]"), Value::Null);
    assert_eq!(known("[json('3')]"), json!(3));
    unknown("[json('{a: 1}')]");
    error("[json(1)]");
}

#[test]
fn hashes() {
    assert_eq!(known("[uniqueString('aaa')]"), json!("zavj67f3en4hc"));
    assert_eq!(
        known("[uniqueString('xxx', 'yyy', 'zzz')]"),
        json!("lghi7k5js7itq")
    );
    assert_eq!(
        known("[uniqueString(resourceGroup().id)]"),
        json!(super::unique_string(&[&format!(
            "/subscriptions/{SUB}/resourceGroups/{RG}"
        )]))
    );
    error("[uniqueString()]");
    error("[uniqueString(1)]");
    let too_long = format!("[uniqueString('{}')]", "a".repeat(131_073));
    error(&too_long);

    assert_eq!(
        known("[guid('test')]"),
        json!("d6a5baf1-8b9b-542a-8525-2982f1f98a0c")
    );
    assert_eq!(
        known("[guid('test', 'test2', 'test3')]"),
        json!("43ca56fb-e844-5667-aabf-b316c27c09cc")
    );
    error("[guid()]");
    error("[guid(createObject())]");
}

#[test]
fn first_and_last() {
    assert_eq!(known("[last(split('a/b/c', '/'))]"), json!("c"));
    assert_eq!(known("[first(createArray(1, 2))]"), json!(1));
    assert_eq!(known("[last('abc')]"), json!("c"));
    assert_eq!(known("[first('abc')]"), json!("a"));
    assert_eq!(known("[first('é!')]"), json!("é"));
    // Documented: `first()` of an empty array is null, of an empty string an empty string.
    assert_eq!(known("[first(createArray())]"), Value::Null);
    assert_eq!(known("[first('')]"), json!(""));
    unknown("[last(createArray())]");
    unknown("[last('')]");
    unknown("[last('a😀')]");
    let (message, spanned) = error("[last(1)]");
    assert!(message.contains("an array or a string"), "{message}");
    assert_eq!(spanned, "last(1)");
}

#[test]
fn split_like_dotnet() {
    assert_eq!(
        known("[split('a,b;c', createArray(',', ';'))]"),
        json!(["a", "b", "c"])
    );
    assert_eq!(known("[split('a--b', '-')]"), json!(["a", "", "b"]));
    assert_eq!(known("[split('-a-', '-')]"), json!(["", "a", ""]));
    assert_eq!(known("[split('abc', '')]"), json!(["abc"]));
    assert_eq!(known("[split('', '/')]"), json!([""]));
    // At each position the first delimiter in the array's order wins.
    assert_eq!(
        known("[split('ab', createArray('a', 'ab'))]"),
        json!(["", "b"])
    );
    assert_eq!(
        known("[split('xaby', createArray('ab', 'a'))]"),
        json!(["x", "y"])
    );
    assert_eq!(known("[split('é/ü', '/')]"), json!(["é", "ü"]));
    unknown("[split('a b', createArray())]");
    error("[split('a', 1)]");
    error("[split(1, '/')]");
    error("[split('a', createArray(1))]");
}

#[test]
fn replace_where_case_does_not_matter() {
    assert_eq!(known("[replace('a-b-c', '-', '')]"), json!("abc"));
    assert_eq!(known("[replace('abcabc', 'b', 'B')]"), json!("aBcaBc"));
    assert_eq!(
        known("[replace('kv-prod', 'prod', 'test')]"),
        json!("kv-test")
    );
    // Whether ARM's `replace` ignores case is not confirmed; here it would matter.
    let (_, spanned) = unknown("[replace('kv-Prod', 'prod', 'test')]");
    assert_eq!(spanned, "replace('kv-Prod', 'prod', 'test')");
    unknown("[replace('é-é', '-', '')]");
    error("[replace('a', '', 'x')]");
    error("[replace('a', 'b')]");
}

#[test]
fn empty_length_contains() {
    assert_eq!(known("[empty('')]"), json!(true));
    assert_eq!(known("[empty(createArray())]"), json!(true));
    assert_eq!(known("[empty(createObject())]"), json!(true));
    assert_eq!(known("[empty(null())]"), json!(true));
    assert_eq!(known("[empty('a')]"), json!(false));
    assert_eq!(known("[empty(createArray(1))]"), json!(false));
    error("[empty(1)]");

    assert_eq!(known("[length('abc')]"), json!(3));
    // .NET counts UTF-16 code units.
    assert_eq!(known("[length('é😀')]"), json!(3));
    assert_eq!(known("[length(createArray(1, 2))]"), json!(2));
    assert_eq!(known("[length(createObject('a', 1))]"), json!(1));
    error("[length(1)]");

    assert_eq!(known("[contains('OneTwo', 'Two')]"), json!(true));
    assert_eq!(known("[contains('OneTwo', 'two')]"), json!(false));
    assert_eq!(
        known("[contains(createObject('Key', 1), 'key')]"),
        json!(true)
    );
    assert_eq!(
        known("[contains(createObject('Key', 1), 'other')]"),
        json!(false)
    );
    assert_eq!(known("[contains(createArray('a', 'b'), 'b')]"), json!(true));
    assert_eq!(known("[contains(createArray(1), '1')]"), json!(false));
    assert_eq!(
        known("[contains(createArray(createObject('a', 1)), createObject('a', 1))]"),
        json!(true)
    );
    unknown("[contains('a1', 1)]");
    error("[contains(1, 1)]");
    error("[contains('a', createArray())]");
}

#[test]
fn coalesce_takes_the_first_non_null() {
    assert_eq!(known("[coalesce(null(), null(), 'c', 'd')]"), json!("c"));
    assert_eq!(
        known("[coalesce(parameters('nothing'), parameters('location'))]"),
        json!("westeurope")
    );
    assert_eq!(known("[coalesce(null())]"), Value::Null);
    assert_eq!(known("[coalesce('a', reference('mi').x)]"), json!("a"));
    let (_, spanned) = unknown("[coalesce(null(), reference('mi').x, 'c')]");
    assert_eq!(spanned, "reference('mi').x");
    // Whether ARM evaluates arguments after the chosen one is not confirmed.
    unknown("[coalesce('a', parameters('missing'))]");
    error("[coalesce(parameters('missing'), 'a')]");
    error("[coalesce()]");
}

#[test]
fn union_of_objects_and_arrays() {
    assert_eq!(
        known(
            "[union(createObject('a', 1, 'b', createObject('x', 1, 'l', createArray(1))), \
             createObject('b', createObject('y', 2, 'l', createArray(2)), 'c', 3))]"
        ),
        json!({"a": 1, "b": {"x": 1, "y": 2, "l": [2]}, "c": 3})
    );
    assert_eq!(
        known("[union(createObject('a', 1), createObject('a', 2), createObject('a', 3))]"),
        json!({"a": 3})
    );
    assert_eq!(
        known("[union(createObject('a', createObject('x', 1)), createObject('a', 'flat'))]"),
        json!({"a": "flat"})
    );
    assert_eq!(
        known("[union(createArray(1, 2, 2), createArray(2, 3), createArray(createArray(1)))]"),
        json!([1, 2, 3, [1]])
    );
    unknown("[union(createObject('a', 1), createObject('A', 2))]");
    let (message, spanned) = error("[union(createObject(), createArray())]");
    assert!(message.contains("only objects or only arrays"), "{message}");
    assert_eq!(spanned, "union(createObject(), createArray())");
    error("[union(createArray())]");
}

#[test]
fn try_get_is_a_safe_accessor() {
    assert_eq!(known("[tryGet(createObject('a', 1), 'a')]"), json!(1));
    assert_eq!(known("[tryGet(createObject('a', 1), 'A')]"), json!(1));
    assert_eq!(known("[tryGet(createObject('a', 1), 'b')]"), Value::Null);
    assert_eq!(
        known("[tryGet(createObject('a', createArray(1, 2)), 'a', 1)]"),
        json!(2)
    );
    assert_eq!(
        known("[tryGet(createObject('a', createArray(1, 2)), 'a', 5)]"),
        Value::Null
    );
    assert_eq!(
        known("[tryGet(createObject('a', createArray(1, 2)), 'a', -1)]"),
        Value::Null
    );
    assert_eq!(
        known("[tryGet(createObject('a', 1), 'a', 'b')]"),
        Value::Null
    );
    assert_eq!(known("[tryGet(null(), 'a', 'b')]"), Value::Null);
    assert_eq!(
        known("[tryGet(parameters('obj'), 'inner', 'list', 1)]"),
        json!("y")
    );
    assert_eq!(
        known("[coalesce(tryGet(createObject(), 'x'), 'fallback')]"),
        json!("fallback")
    );
    // The scope may know only part of an object: a missing property is not known to be null.
    let (_, spanned) = unknown("[tryGet(parameters('obj'), 'missing')]");
    assert_eq!(spanned, "tryGet(parameters('obj'), 'missing')");
    error("[tryGet(createObject('a', 1), createArray())]");
    error("[tryGet(createObject('a', 1))]");
}

#[test]
fn arity_errors_win_over_unknown_arguments() {
    let (message, spanned) = error("[toLower(reference('mi').x, 'b')]");
    assert_eq!(message, "`toLower()` takes 1 argument, got 2");
    assert_eq!(spanned, "toLower(reference('mi').x, 'b')");
    let (message, _) = error("[substring(reference('mi').x)]");
    assert_eq!(message, "`substring()` takes 2 to 3 arguments, got 1");
    let (message, _) = error("[union(reference('mi').x)]");
    assert_eq!(message, "`union()` takes at least 2 arguments, got 1");
    // An unsupported function stays Unknown whatever its arguments.
    let (reason, spanned) = unknown("[foo(reference('mi').x)]");
    assert_eq!(reason, "function `foo` is not supported by cmk-check");
    assert_eq!(spanned, "foo(reference('mi').x)");
}

#[test]
fn create_object_and_array() {
    assert_eq!(
        known("[createObject('a', 1, 'b', createArray(), 'c', null())]"),
        json!({"a": 1, "b": [], "c": null})
    );
    assert_eq!(known("[createObject()]"), json!({}));
    assert_eq!(known("[createArray()]"), json!([]));
    assert_eq!(known("[createArray('a', 1, true)]"), json!(["a", 1, true]));
    error("[createObject('a')]");
    error("[createObject(1, 2)]");
    let (message, _) = error("[createObject('a', 1, 'a', 2)]");
    assert!(message.contains("twice"), "{message}");
}

#[test]
fn copy_index_in_loops() {
    assert_eq!(known("[copyIndex()]"), json!(2));
    assert_eq!(known("[copyIndex(1)]"), json!(3));
    assert_eq!(known("[copyIndex('vaults')]"), json!(5));
    assert_eq!(known("[copyIndex('vaults', 10)]"), json!(15));
    assert_eq!(known("[copyIndex('keys', -2)]"), json!(0));
    assert_eq!(
        known("[concat('key-', string(copyIndex(1)))]"),
        json!("key-3")
    );
    let (message, spanned) = error("[copyIndex('nope')]");
    assert!(message.contains("`nope`"), "{message}");
    assert_eq!(spanned, "copyIndex('nope')");
    error("[copyIndex('keys', 'x')]");
    error("[copyIndex(true())]");

    let outside = TestScope::outside_loops();
    let (message, spanned) = error_in("[concat('k', string(copyIndex()))]", &outside);
    assert!(message.contains("outside of a copy loop"), "{message}");
    assert_eq!(spanned, "copyIndex()");
}

#[test]
fn substring_and_affixes() {
    assert_eq!(known("[substring('abcdef', 2)]"), json!("cdef"));
    assert_eq!(known("[substring('abcdef', 1, 3)]"), json!("bcd"));
    assert_eq!(known("[substring('abc', 3)]"), json!(""));
    assert_eq!(known("[substring('a😀b', 1, 2)]"), json!("😀"));
    unknown("[substring('a😀b', 2)]");
    error("[substring('abc', 4)]");
    error("[substring('abc', -1)]");
    error("[substring('abc', 1, 5)]");
    error("[substring('abc', 1, -1)]");
    error("[substring('abc')]");

    assert_eq!(
        known("[startsWith('Microsoft.KeyVault', 'microsoft')]"),
        json!(true)
    );
    assert_eq!(known("[endsWith('abc', 'BC')]"), json!(true));
    assert_eq!(known("[endsWith('abc', 'x')]"), json!(false));
    assert_eq!(known("[startsWith('ab', 'abc')]"), json!(false));
    assert_eq!(known("[startsWith('é', '')]"), json!(true));
    unknown("[startsWith('Édith', 'é')]");
    error("[endsWith('a', 1)]");

    assert_eq!(known("[trim('  a b \t')]"), json!("a b"));
    error("[trim(1)]");
}

#[test]
fn arithmetic_and_comparisons() {
    assert_eq!(known("[add(1, 2)]"), json!(3));
    assert_eq!(known("[sub(1, 2)]"), json!(-1));
    assert_eq!(known("[mul(3, 4)]"), json!(12));
    assert_eq!(known("[div(7, 2)]"), json!(3));
    assert_eq!(known("[div(-7, 2)]"), json!(-3));
    assert_eq!(known("[mod(-7, 2)]"), json!(-1));
    assert_eq!(known("[add(2147483647, 1)]"), json!(2_147_483_648_i64));
    error("[div(1, 0)]");
    error("[mod(1, 0)]");
    let (message, _) = error("[mul(mul(2147483647, 2147483647), 4)]");
    assert!(message.contains("overflows"), "{message}");
    error("[add('1', 2)]");

    assert_eq!(known("[less(1, 2)]"), json!(true));
    assert_eq!(known("[greaterOrEquals(2, 2)]"), json!(true));
    assert_eq!(known("[lessOrEquals(3, 2)]"), json!(false));
    assert_eq!(known("[greater('b', 'a')]"), json!(true));
    assert_eq!(known("[less('abc', 'abd')]"), json!(true));
    // Ordinal and culture-aware orders disagree here.
    unknown("[less('a', 'B')]");
    unknown("[less('a-b', 'ab')]");
    error("[less(1, 'a')]");
}

// --- evaluate_value -----------------------------------------------------------------------------

#[test]
fn values_evaluate_recursively() {
    let scope = TestScope::new();
    let value = json!({
        "name": "[parameters('vaultName')]",
        "properties": {
            "keyUri": "[concat('https://', parameters('vaultName'), '.vault.azure.net/keys/', variables('keyName'))]",
            "list": ["[[x]", 1, true, null, "plain"],
        },
    });
    assert_eq!(
        evaluate_value(&value, &scope),
        Ok((
            Evaluated::Known(json!({
                "name": "kv-cmk-prod",
                "properties": {
                    "keyUri": "https://kv-cmk-prod.vault.azure.net/keys/cmk",
                    "list": ["[x]", 1, true, null, "plain"],
                },
            })),
            None
        ))
    );
}

#[test]
fn values_report_the_first_unknown_with_its_pointer() {
    let scope = TestScope::new();
    let principal = "[reference('mi').principalId]";
    let value = json!({
        "a": "x",
        "b": ["ok", principal],
        "c": "[reference('mi').clientId]",
    });
    let (evaluated, pointer) = evaluate_value(&value, &scope).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(pointer.as_deref(), Some("/b/1"));
    let Evaluated::Unknown { reason, span } = evaluated else {
        panic!("expected an Unknown, got {evaluated:?}");
    };
    assert_eq!(reason, "`mi` is created by this deployment");
    assert_eq!(principal.get(span), Some("reference('mi').principalId"));
}

#[test]
fn values_report_errors_over_unknowns() {
    let scope = TestScope::new();
    let value = json!({"a": "[reference('mi').x]", "b": {"c/d~e": "[toLower(1)]"}});
    let Err((error, pointer)) = evaluate_value(&value, &scope) else {
        panic!("expected an error");
    };
    assert_eq!(pointer, "/b/c~1d~0e");
    assert_eq!(error.span, 1..11);

    let key = "[concat('k')]";
    let value = json!({ key: 1 });
    let (evaluated, pointer) = evaluate_value(&value, &scope).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(pointer.as_deref(), Some("/[concat('k')]"));
    assert!(matches!(evaluated, Evaluated::Unknown { span, .. } if span == (0..key.len())));

    assert_eq!(
        evaluate_value(&json!(["a", 2]), &scope),
        Ok((Evaluated::Known(json!(["a", 2])), None))
    );
    assert_eq!(
        evaluate_value(&json!("[toUpper('a')]"), &scope),
        Ok((Evaluated::Known(json!("A")), None))
    );
}

// --- hashes -------------------------------------------------------------------------------------

#[test]
fn unique_string_matches_arm() {
    // Outputs of real deployments, quoted in KingslandConsulting/Kingsland.ArmLinter
    // (src/Kingsland.ArmLinter/Functions/ArmFunctions_UniqueString.cs).
    assert_eq!(super::unique_string(&["aaa"]), "zavj67f3en4hc");
    assert_eq!(super::unique_string(&["bbb"]), "w5eragfxe33cy");
    assert_eq!(super::unique_string(&["zzz"]), "cryksdzzzawae");
    assert_eq!(
        super::unique_string(&["xxx", "yyy", "zzz"]),
        "lghi7k5js7itq"
    );
    // `uniqueString('test')` as computed by Azure.Deployments.Expression itself (a tool built on
    // it, quoted in its README); the same value is in the arm2tf Terraform provider's tests.
    assert_eq!(super::unique_string(&["test"]), "rbgf3xv4ufgzg");
    // Azure/terraform-provider-azapi, unique_string_function_test.go: a 7-byte tail.
    assert_eq!(
        super::unique_string(&[
            "/subscriptions/00000000-0000-0000-0000-000000000000",
            "resource-id"
        ]),
        "cwvxuqg24sifi"
    );
    // arm2tf provider tests: two full 8-byte blocks.
    assert_eq!(
        super::unique_string(&["test", "test2", "test3"]),
        "bqgd334z2uj64"
    );
    // A pure-bash reimplementation that states it was verified against Bicep.
    assert_eq!(super::unique_string(&["hello", "world"]), "a7wkljktk6wne");
    assert_eq!(super::unique_string(&["abc"]), "cgtzqvhu4i23s");
    assert_eq!(
        super::unique_string(&[
            "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/my-rg"
        ]),
        "bmg7c6xu4tw46"
    );
    assert_eq!(
        super::unique_string(&["foo", "bar", "baz"]),
        "xzi4ioaxtmth4"
    );
}

#[test]
fn unique_string_tails() {
    // Regression values for every tail length (5 and 6 have no independent vector).
    assert_eq!(hash::unique_string(""), "aaaaaaaaaaaaa");
    assert_eq!(hash::unique_string("abcde"), "5a3qs7ylzrs64");
    assert_eq!(hash::unique_string("abcdef"), "rmkkamh3kazwq");
    assert_eq!(hash::unique_string("abcdefg"), "logmp4qgzfm46");
    assert_eq!(hash::unique_string("abcdefghijklm"), "drrqz7xt5wi54");
}

#[test]
fn guid_matches_arm() {
    // arm2tf provider tests (`guid('test')`); a UUID v5 in ARM's namespace.
    assert_eq!(
        super::guid(&["test"]),
        "d6a5baf1-8b9b-542a-8525-2982f1f98a0c"
    );
    // ARM joins the arguments with `-` (the Azure Policy linter's port of ARM's functions);
    // computed with Python's `uuid.uuid5(UUID('11fb06fb-...'), 'test-test2-test3')`.
    assert_eq!(
        super::guid(&["test", "test2", "test3"]),
        "43ca56fb-e844-5667-aabf-b316c27c09cc"
    );
}

#[test]
fn uuid_v5_and_sha1_vectors() {
    const DNS: [u8; 16] = [
        0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30,
        0xc8,
    ];
    // RFC 9562, appendix A.4.
    assert_eq!(
        hash::uuid_v5(&DNS, b"www.example.com"),
        "2ed6657d-e927-568b-95e1-2665a8aea6a2"
    );
    // Python's documentation of `uuid.uuid5`.
    assert_eq!(
        hash::uuid_v5(&DNS, b"python.org"),
        "886313e1-3b8a-5372-9b90-0c9aee199e5d"
    );

    let hex = |digest: [u8; 20]| {
        digest
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    // FIPS 180 examples.
    assert_eq!(
        hex(hash::sha1(b"")),
        "da39a3ee5e6b4b0d3255bfef95601890afd80709"
    );
    assert_eq!(
        hex(hash::sha1(b"abc")),
        "a9993e364706816aba3e25717850c26c9cd0d89d"
    );
    assert_eq!(
        hex(hash::sha1(
            b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
        )),
        "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
    );
    assert_eq!(
        hex(hash::sha1(&vec![b'a'; 1_000_000])),
        "34aa973cd4c4daa4f61eeb2bdbad27316534016f"
    );
}

// --- robustness ---------------------------------------------------------------------------------

/// xorshift64: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[track_caller]
fn check_never_panics(raw: &str, scope: &TestScope) {
    let span = match evaluate_string(raw, scope) {
        Ok(Evaluated::Known(_)) => return,
        Ok(Evaluated::Unknown { span, .. }) | Err(ExprError { span, .. }) => span,
    };
    assert!(
        raw.get(span.clone()).is_some(),
        "{raw:?}: span {span:?} is not a range of the string"
    );
}

#[test]
fn random_printable_expressions_never_panic() {
    let scope = TestScope::new();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let extra = ['é', 'ü', '😀', '\t', '\n', '日'];
    for _ in 0..20_000 {
        let length = rng.below(24);
        let body: String = (0..length)
            .map(|_| {
                if rng.below(10) == 0 {
                    extra[rng.below(extra.len())]
                } else {
                    char::from(b' ' + rng.below(95) as u8)
                }
            })
            .collect();
        check_never_panics(&format!("[{body}]"), &scope);
    }
}

#[test]
fn random_token_soup_never_panics() {
    const PIECES: &[&str] = &[
        "concat(",
        "format(",
        "'{0}'",
        "'{0:D3}'",
        "'{0,-5}'",
        "'{{'",
        "'a''b'",
        ",",
        ")",
        "(",
        "[",
        "]",
        ".",
        "x",
        "1",
        "-1",
        "+",
        "2147483648",
        "1.5",
        "'",
        " ",
        "parameters('obj')",
        "parameters('pending')",
        "variables('later')",
        "reference('mi')",
        "split('a/b', '/')",
        "[0]",
        "[-1]",
        "['inner']",
        ".inner",
        "createObject('a', 1)",
        "createArray(1, 2)",
        "if(",
        "and(",
        "or(",
        "not(",
        "coalesce(",
        "true",
        "false()",
        "null()",
        "substring('a😀b', ",
        "union(",
        "json('{}')",
        "json('[1.5]')",
        "copyIndex(",
        "resourceId(",
        "'Microsoft.X/y'",
        "subscriptionResourceId(",
        "uniqueString(",
        "guid(",
        "toLower(",
        "toUpper(",
        "length(",
        "first(",
        "last(",
        "equals(",
        "less(",
        "add(",
        "div(",
        "mod(",
        "int(",
        "bool(",
        "string(",
        "replace(",
        "'é'",
        "'😀'",
        "{",
        "}",
        "99999999",
        "format('{0,99999999}', 'a')",
        "resourceGroup()",
        "subscription()",
        "tenant()",
        "foo(",
        "ns.fn(",
        "utcNow(",
        "'u'",
        "'yyyy-MM-ddTHH:mm:ssZ'",
        "dateTimeAdd(",
        "'2024-01-31T12:00:00Z'",
        "'P1Y'",
        "'-PT1.5S'",
        "dateTimeToEpoch(",
        "dateTimeFromEpoch(",
        "base64(",
        "base64ToString(",
        "base64ToJson(",
        "dataUri(",
        "dataUriToString(",
        "uri(",
        "uriComponent(",
        "uriComponentToString(",
        "'%C3%A9'",
        "indexOf(",
        "lastIndexOf(",
        "padLeft(",
        "skip(",
        "take(",
        "join(",
        "flatten(",
        "intersection(",
        "items(",
        "objectKeys(",
        "shallowMerge(",
        "min(",
        "max(",
        "range(",
        "range(0, 50)",
        "indexFromEnd(",
        "tryIndexFromEnd(",
        "float(",
        "extensionResourceId(",
        "tenantResourceId(",
        "managementGroupResourceId(",
        "filter(",
        "map(",
        "reduce(",
        "sort(",
        "toObject(",
        "groupBy(",
        "mapValues(",
        "lambda('x', ",
        "lambda('a', 'b', ",
        "lambdaVariables('x')",
        "lambdaVariables('a')",
        "lambdaVariables(",
        "less(lambdaVariables('a'), lambdaVariables('b'))",
    ];
    let scope = TestScope::new();
    let outside = TestScope::in_default_value("2024-02-29T23:59:59.9999999Z");
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    for round in 0..20_000 {
        let count = 1 + rng.below(14);
        let body: String = (0..count)
            .map(|_| PIECES[rng.below(PIECES.len())])
            .collect();
        let raw = format!("[{body}]");
        check_never_panics(&raw, if round % 2 == 0 { &scope } else { &outside });
        // A well-formed variant: close every open parenthesis.
        let open = body
            .matches('(')
            .count()
            .saturating_sub(body.matches(')').count());
        check_never_panics(&format!("[{body}{}]", ")".repeat(open)), &scope);
    }
}

// --- a template's scope -------------------------------------------------------------------------

/// Parameter defaults and variables evaluated lazily, as the deployment does, with `utcNow()`
/// allowed only while a default is evaluated.
struct TemplateScope {
    defaults: serde_json::Map<String, Value>,
    variables: serde_json::Map<String, Value>,
    now: DateTime<Utc>,
    in_default: Cell<bool>,
    cache: RefCell<HashMap<String, Evaluated>>,
}

impl TemplateScope {
    fn new(defaults: Value, variables: Value, now: &str) -> Self {
        let map = |value: Value| match value {
            Value::Object(members) => members,
            _ => serde_json::Map::new(),
        };
        TemplateScope {
            defaults: map(defaults),
            variables: map(variables),
            now: instant(now),
            in_default: Cell::new(false),
            cache: RefCell::new(HashMap::new()),
        }
    }

    fn lazily(&self, key: String, raw: &Value, in_default: bool) -> Evaluated {
        if let Some(done) = self.cache.borrow().get(&key) {
            return done.clone();
        }
        let outer = self.in_default.replace(in_default);
        let value = match evaluate_value(raw, self) {
            Ok((value, _)) => value,
            Err((error, _)) => unknown_from_scope(&format!("{key} does not evaluate: {error}")),
        };
        self.in_default.set(outer);
        self.cache.borrow_mut().insert(key, value.clone());
        value
    }
}

impl Scope for TemplateScope {
    fn parameter(&self, name: &str) -> Option<Evaluated> {
        let raw = self.defaults.get(name)?;
        Some(self.lazily(format!("parameter {name}"), raw, true))
    }

    fn variable(&self, name: &str) -> Option<Evaluated> {
        let raw = self.variables.get(name)?;
        Some(self.lazily(format!("variable {name}"), raw, false))
    }

    fn resource_group(&self) -> Evaluated {
        Evaluated::Known(json!({"id": format!("/subscriptions/{SUB}/resourceGroups/{RG}")}))
    }

    fn subscription(&self) -> Evaluated {
        Evaluated::Known(json!({"subscriptionId": SUB}))
    }

    fn copy_index(&self, _: Option<&str>) -> Option<i64> {
        None
    }

    fn reference(&self, target: &str, _: bool) -> Evaluated {
        unknown_from_scope(&format!("`{target}` is created by this deployment"))
    }

    fn subscription_id(&self) -> Evaluated {
        Evaluated::Known(json!(SUB))
    }

    fn resource_group_name(&self) -> Evaluated {
        Evaluated::Known(json!(RG))
    }

    fn deployment_time(&self) -> Option<DateTime<Utc>> {
        self.in_default.get().then_some(self.now)
    }
}

// --- dates --------------------------------------------------------------------------------------

#[track_caller]
fn known_at(raw: &str, now: &str) -> Value {
    match eval_in(raw, &TestScope::in_default_value(now)) {
        Ok(Evaluated::Known(value)) => value,
        other => panic!("{raw}: expected a known value, got {other:?}"),
    }
}

#[test]
fn utc_now_in_parameter_defaults() {
    let now = "2019-03-05T17:53:18Z";
    // Documented outputs.
    assert_eq!(known_at("[utcNow()]", now), json!("20190305T175318Z"));
    assert_eq!(known_at("[utcNow('d')]", now), json!("03/05/2019"));
    assert_eq!(known_at("[utcNow('M d')]", now), json!("3 5"));
    // .NET standard formats, invariant culture.
    assert_eq!(
        known_at("[utcNow('u')]", now),
        json!("2019-03-05 17:53:18Z")
    );
    assert_eq!(known_at("[utcNow('s')]", now), json!("2019-03-05T17:53:18"));
    assert_eq!(
        known_at("[utcNow('o')]", "2019-03-05T17:53:18.1234567Z"),
        json!("2019-03-05T17:53:18.1234567Z")
    );
    assert_eq!(
        known_at("[utcNow('O')]", now),
        json!("2019-03-05T17:53:18.0000000Z")
    );
    assert_eq!(
        known_at("[utcNow('R')]", now),
        json!("Tue, 05 Mar 2019 17:53:18 GMT")
    );
    assert_eq!(
        known_at("[utcNow('D')]", now),
        json!("Tuesday, 05 March 2019")
    );
    assert_eq!(
        known_at("[utcNow('F')]", now),
        json!("Tuesday, 05 March 2019 17:53:18")
    );
    assert_eq!(known_at("[utcNow('g')]", now), json!("03/05/2019 17:53"));
    assert_eq!(known_at("[utcNow('t')]", now), json!("17:53"));
    assert_eq!(known_at("[utcNow('Y')]", now), json!("2019 March"));
    assert_eq!(known_at("[utcNow('m')]", now), json!("March 05"));
    // Custom formats.
    assert_eq!(known_at("[utcNow('yyyy-MM-dd')]", now), json!("2019-03-05"));
    assert_eq!(
        known_at("[utcNow('yyyy-MM-ddTHH:mm:ssZ')]", now),
        json!("2019-03-05T17:53:18Z")
    );
    assert_eq!(
        known_at("[utcNow('dddd, MMMM d')]", now),
        json!("Tuesday, March 5")
    );
    assert_eq!(known_at("[utcNow('ddd MMM')]", now), json!("Tue Mar"));
    assert_eq!(
        known_at("[utcNow('hh:mm tt, h t')]", now),
        json!("05:53 PM, 5 P")
    );
    assert_eq!(
        known_at("[utcNow('y yy yyyyy')]", now),
        json!("19 19 02019")
    );
    assert_eq!(known_at("[utcNow('%d')]", now), json!("5"));
    assert_eq!(
        known_at(r#"[utcNow('''year'' yyyy, "day" \d')]"#, now),
        json!("year 2019, day d")
    );
    assert_eq!(known_at("[utcNow('K yyyy')]", now), json!("Z 2019"));
    assert_eq!(
        known_at("[utcNow('HH:mm:ss.fff')]", "2019-03-05T17:53:18.25Z"),
        json!("17:53:18.250")
    );

    // Formats cmk-check is not sure of are Unknown, never guessed.
    let scope = TestScope::in_default_value(now);
    for format in [
        "FF",
        "zzz",
        "x",
        "",
        "fffffffff",
        "gg",
        "HHH",
        "ddddd",
        "'open",
    ] {
        let raw = format!("[utcNow('{}')]", format.replace('\'', "''"));
        let (reason, spanned) = unknown_in(&raw, &scope);
        assert!(reason.starts_with("`utcNow()`"), "{raw}: {reason}");
        assert_eq!(spanned, inner(&raw));
    }
    error_in("[utcNow(1)]", &scope);
    error_in("[utcNow('u', 'x')]", &scope);
}

#[test]
fn utc_now_outside_parameter_defaults_is_an_error() {
    let (message, spanned) = error("[concat('x', utcNow('u'))]");
    assert_eq!(
        message,
        "`utcNow()` is only allowed in the default value of a parameter"
    );
    assert_eq!(spanned, "utcNow('u')");
    // Documented: `newGuid()` too is allowed only there, where it changes every deployment.
    let (message, spanned) = error("[uniqueString(newGuid())]");
    assert_eq!(
        message,
        "`newGuid()` is only allowed in the default value of a parameter"
    );
    assert_eq!(spanned, "newGuid()");
    let scope = TestScope::in_default_value("2024-01-01T00:00:00Z");
    let (reason, _) = unknown_in("[newGuid()]", &scope);
    assert_eq!(reason, "`newGuid()` changes every deployment");
}

#[test]
fn date_time_add_like_arm() {
    // Documented: a year is 365 days and a month 30, leap years or not.
    assert_eq!(
        known("[dateTimeAdd('2023-01-01 00:00:00Z', 'P1Y')]"),
        json!("2024-01-01T00:00:00Z")
    );
    assert_eq!(
        known("[dateTimeAdd('2024-01-01 00:00:00Z', 'P1Y')]"),
        json!("2024-12-31T00:00:00Z")
    );
    assert_eq!(
        known("[dateTimeAdd('2023-02-01 00:00:00Z', 'P1M')]"),
        json!("2023-03-03T00:00:00Z")
    );
    assert_eq!(
        known("[dateTimeAdd('2024-02-01 00:00:00Z', 'P1M')]"),
        json!("2024-03-02T00:00:00Z")
    );
    // Documented: a base time of 2020-04-07 14:53:14Z.
    let base = "2020-04-07 14:53:14Z";
    assert_eq!(
        known(&format!("[dateTimeAdd('{base}', 'P3Y')]")),
        json!("2023-04-07T14:53:14Z")
    );
    assert_eq!(
        known(&format!("[dateTimeAdd('{base}', '-P9D')]")),
        json!("2020-03-29T14:53:14Z")
    );
    assert_eq!(
        known(&format!("[dateTimeAdd('{base}', 'PT1H')]")),
        json!("2020-04-07T15:53:14Z")
    );
    assert_eq!(
        known(&format!("[dateTimeAdd('{base}', 'PT1H', 'u')]")),
        json!("2020-04-07 15:53:14Z")
    );
    assert_eq!(
        known("[dateTimeAdd('2020-01-01T00:00:00Z', 'P1DT2H3M4S')]"),
        json!("2020-01-02T02:03:04Z")
    );
    assert_eq!(
        known("[dateTimeAdd('2020-01-01T00:00:00Z', 'P1Y2M3DT4H5M6S', 'yyyy-MM-dd HH:mm:ss')]"),
        json!("2021-03-04 04:05:06")
    );
    assert_eq!(
        known("[dateTimeAdd('2020-01-01T00:00Z', '-PT90M')]"),
        json!("2019-12-31T22:30:00Z")
    );
    assert_eq!(
        known("[dateTimeAdd('2020-01-01T00:00:00.5Z', 'PT1.5S', 'HH:mm:ss.fff')]"),
        json!("00:00:02.000")
    );
    // utcNow()'s default form is read too.
    assert_eq!(
        known("[dateTimeAdd('20190305T175318Z', 'P1D')]"),
        json!("2019-03-06T17:53:18Z")
    );

    // Never guessed: fractions without a format, offsets, other forms.
    unknown("[dateTimeAdd('2020-01-01T00:00:00Z', 'PT1.5S')]");
    let (reason, spanned) = unknown("[dateTimeAdd('2023-01-01T02:00:00+02:00', 'P1D')]");
    assert!(reason.contains("not in UTC"), "{reason}");
    assert_eq!(spanned, "dateTimeAdd('2023-01-01T02:00:00+02:00', 'P1D')");
    unknown("[dateTimeAdd('2023-01-01T02:00:00+02:00', 'P1D', 'u')]");
    for base in [
        "2023-01-01T00:00:00",
        "2023-01-01",
        "next tuesday",
        "2023-1-1T00:00:00Z",
        "2023-01-01T00:00:00z",
    ] {
        let (reason, _) = unknown(&format!("[dateTimeAdd('{base}', 'P1D')]"));
        assert!(reason.contains(base), "{base}: {reason}");
    }
    for duration in [
        "P1W",
        "p1d",
        "P",
        "PT",
        "1D",
        "P1.5D",
        "PT1H2H",
        "P1D1Y",
        "P1DT",
        "+P1D",
        "P-1D",
        "P1234567890123456789D",
    ] {
        let (reason, _) = unknown(&format!(
            "[dateTimeAdd('2020-01-01T00:00:00Z', '{duration}')]"
        ));
        assert!(reason.contains(duration), "{duration}: {reason}");
    }
    unknown("[dateTimeAdd('9999-12-31T00:00:00Z', 'P1D')]");
    unknown("[dateTimeAdd('0001-01-01T00:00:00Z', '-P1D')]");
    unknown("[dateTimeAdd('2020-01-01T00:00:00Z', 'P999999999999999999Y')]");

    // Impossible dates and times are errors, as for ARM.
    let (message, spanned) = error("[dateTimeAdd('2023-02-30T00:00:00Z', 'P1D')]");
    assert!(message.contains("not a valid date"), "{message}");
    assert_eq!(spanned, "dateTimeAdd('2023-02-30T00:00:00Z', 'P1D')");
    error("[dateTimeAdd('2023-01-01T25:00:00Z', 'P1D')]");
    error("[dateTimeAdd('0000-01-01T00:00:00Z', 'P1D')]");
    error("[dateTimeAdd(1, 'P1D')]");
    error("[dateTimeAdd('2023-01-01T00:00:00Z')]");
}

#[test]
fn epoch_conversions() {
    // Documented pair.
    assert_eq!(
        known("[dateTimeToEpoch('2023-05-02T15:16:13Z')]"),
        json!(1_683_040_573)
    );
    assert_eq!(
        known("[dateTimeFromEpoch(1683040573)]"),
        json!("2023-05-02T15:16:13Z")
    );
    assert_eq!(known("[dateTimeToEpoch('1970-01-01 00:00:00Z')]"), json!(0));
    assert_eq!(
        known("[dateTimeToEpoch('2023-01-01T02:00:00+02:00')]"),
        json!(1_672_531_200)
    );
    assert_eq!(
        known("[dateTimeToEpoch('20230101T000000Z')]"),
        json!(1_672_531_200)
    );
    assert_eq!(
        known("[dateTimeFromEpoch(-1)]"),
        json!("1969-12-31T23:59:59Z")
    );
    assert_eq!(
        known("[dateTimeFromEpoch(dateTimeToEpoch('2030-12-31T23:59:59Z'))]"),
        json!("2030-12-31T23:59:59Z")
    );
    unknown("[dateTimeToEpoch('2023-05-02T15:16:13.5Z')]");
    unknown("[dateTimeToEpoch('2023-05-02T15:16:13')]");
    unknown("[dateTimeFromEpoch(mul(253402301, 1000))]");
    error("[dateTimeToEpoch(5)]");
    error("[dateTimeFromEpoch('5')]");
    error("[dateTimeToEpoch('2023-13-01T00:00:00Z')]");
}

#[test]
fn key_expiry_one_year_after_the_deployment() {
    let template = TemplateScope::new(
        json!({
            "baseTime": "[utcNow('u')]",
            "keyExpiration": "[dateTimeToEpoch(dateTimeAdd(utcNow(), 'P1Y'))]",
        }),
        json!({"notAllowed": "[utcNow()]"}),
        "2024-06-01T12:00:00Z",
    );
    // The Bicep pattern: `param baseTime string = utcNow('u')`, then the key's `exp`.
    let exp = evaluate_string(
        "[dateTimeToEpoch(dateTimeAdd(parameters('baseTime'), 'P1Y'))]",
        &template,
    );
    // 2024-06-01T12:00:00Z + 365 days.
    assert_eq!(exp, Ok(Evaluated::Known(json!(1_748_779_200))));
    // The quickstart's form, in a default value itself.
    assert_eq!(
        evaluate_string("[parameters('keyExpiration')]", &template),
        Ok(Evaluated::Known(json!(1_748_779_200)))
    );
    // Outside a default value, ARM rejects `utcNow()`.
    assert!(matches!(
        evaluate_string("[utcNow()]", &template),
        Err(ExprError { .. })
    ));
    let (reason, _) = match evaluate_string("[variables('notAllowed')]", &template) {
        Ok(Evaluated::Unknown { reason, span }) => (reason, span),
        other => panic!("expected an Unknown, got {other:?}"),
    };
    assert!(
        reason.contains("only allowed in the default value"),
        "{reason}"
    );
}

// --- more string functions ----------------------------------------------------------------------

#[test]
fn base64_and_data_uris() {
    // Documented.
    assert_eq!(
        known("[base64('one, two, three')]"),
        json!("b25lLCB0d28sIHRocmVl")
    );
    assert_eq!(
        known("[base64ToString('b25lLCB0d28sIHRocmVl')]"),
        json!("one, two, three")
    );
    assert_eq!(
        known("[base64ToJson('eyJvbmUiOiAiYSIsICJ0d28iOiAiYiJ9')]"),
        json!({"one": "a", "two": "b"})
    );
    assert_eq!(
        known("[dataUri('Hello')]"),
        json!("data:text/plain;charset=utf8;base64,SGVsbG8=")
    );
    assert_eq!(
        known("[dataUriToString('data:;base64,SGVsbG8sIFdvcmxkIQ==')]"),
        json!("Hello, World!")
    );
    // UTF-8 throughout; .NET ignores white space in base64.
    assert_eq!(known("[base64('é😀')]"), json!("w6nwn5iA"));
    assert_eq!(known("[base64ToString('w6nw n5iA')]"), json!("é😀"));
    assert_eq!(known("[base64ToString(base64(''))]"), json!(""));
    assert_eq!(known("[base64ToJson('e30=')]"), json!({}));
    assert_eq!(known("[dataUriToString(dataUri('é'))]"), json!("é"));

    for raw in [
        "[base64ToString('YQ')]",
        "[base64ToString('YR==')]",
        "[base64ToString('!!!!')]",
        "[base64ToString('/w==')]",
        "[base64ToJson('e2E6MX0=')]",
        "[dataUriToString('data:text/plain,Hello')]",
        "[dataUriToString('data:application/json;base64,e30=')]",
        "[dataUriToString('data:;base64,w6k=')]",
        "[dataUriToString('Hello')]",
    ] {
        let (_, spanned) = unknown(raw);
        assert_eq!(spanned, inner(raw));
    }
    error("[base64(1)]");
    error("[dataUri(createArray())]");
    error("[base64ToString()]");
}

#[test]
fn uri_functions() {
    let url = "http://contoso.com/resources/nested/azuredeploy.json";
    let encoded = "http%3A%2F%2Fcontoso.com%2Fresources%2Fnested%2Fazuredeploy.json";
    // Documented.
    assert_eq!(
        known("[uri('http://contoso.com/resources/', 'nested/azuredeploy.json')]"),
        json!(url)
    );
    assert_eq!(known(&format!("[uriComponent('{url}')]")), json!(encoded));
    assert_eq!(
        known(&format!("[uriComponentToString('{encoded}')]")),
        json!(url)
    );
    for (base, relative, result) in [
        (
            "http://contoso.org/firstpath",
            "myscript.sh",
            "http://contoso.org/myscript.sh",
        ),
        (
            "http://contoso.org/firstpath/",
            "myscript.sh",
            "http://contoso.org/firstpath/myscript.sh",
        ),
        (
            "http://contoso.org/firstpath/azuredeploy.json",
            "myscript.sh",
            "http://contoso.org/firstpath/myscript.sh",
        ),
        (
            "http://contoso.org/firstpath/azuredeploy.json/",
            "myscript.sh",
            "http://contoso.org/firstpath/azuredeploy.json/myscript.sh",
        ),
    ] {
        assert_eq!(
            known(&format!("[uri('{base}', '{relative}')]")),
            json!(result)
        );
    }
    assert_eq!(known("[uriComponent('é/ü')]"), json!("%C3%A9%2F%C3%BC"));
    assert_eq!(known("[uriComponentToString('%c3%a9')]"), json!("é"));
    assert_eq!(known("[uriComponent('a-b_c.d')]"), json!("a-b_c.d"));

    for raw in [
        // The documentation and RFC 3986 disagree on a leading `/`.
        "[uri('http://contoso.org/firstpath/', '/myscript.sh')]",
        "[uri('http://contoso.org', 'a.sh')]",
        "[uri('HTTP://contoso.org/', 'a.sh')]",
        "[uri('http://Contoso.org/', 'a.sh')]",
        "[uri('http://contoso.org:8080/', 'a.sh')]",
        "[uri('http://contoso.org/a?b=c', 'a.sh')]",
        "[uri('http://contoso.org/', '../a.sh')]",
        "[uri('http://contoso.org/', 'https://other.org/a.sh')]",
        "[uri('ftp://contoso.org/', 'a.sh')]",
        "[uri('http://contoso.org/', '')]",
        "[uriComponent('a b')]",
        "[uriComponent('a~b')]",
        "[uriComponent('(a)')]",
        "[uriComponentToString('a+b')]",
        "[uriComponentToString('%zz')]",
        "[uriComponentToString('%')]",
        "[uriComponentToString('%FF')]",
    ] {
        let (_, spanned) = unknown(raw);
        assert_eq!(spanned, inner(raw));
    }
    error("[uri('http://contoso.org/')]");
    error("[uriComponent(1)]");
}

#[test]
fn index_of_and_last_index_of() {
    // Documented: without regard to case.
    assert_eq!(known("[indexOf('test', 't')]"), json!(0));
    assert_eq!(known("[lastIndexOf('test', 't')]"), json!(3));
    assert_eq!(known("[indexOf('abcdef', 'CD')]"), json!(2));
    assert_eq!(known("[lastIndexOf('abcdef', 'AB')]"), json!(0));
    assert_eq!(known("[indexOf('abcdef', 'z')]"), json!(-1));
    // UTF-16 indexes; letters without case are safe.
    assert_eq!(known("[indexOf('日本語abc', 'B')]"), json!(4));
    assert_eq!(known("[indexOf('😀ab', 'b')]"), json!(3));
    assert_eq!(known("[indexOf('abc', '')]"), json!(0));
    assert_eq!(
        known("[indexOf(createArray('a', 'b', 'b'), 'b')]"),
        json!(1)
    );
    assert_eq!(
        known("[lastIndexOf(createArray('a', 'b', 'b'), 'b')]"),
        json!(2)
    );
    assert_eq!(known("[indexOf(createArray(1, 2), 3)]"), json!(-1));
    assert_eq!(
        known("[indexOf(createArray(createObject('a', 1)), createObject('a', 1))]"),
        json!(0)
    );
    unknown("[lastIndexOf('abc', '')]");
    unknown("[indexOf('Éa', 'a')]");
    unknown("[indexOf(createArray('A'), 'a')]");
    unknown("[indexOf(createArray(1), json('1.0'))]");
    error("[indexOf(1, 'a')]");
    error("[indexOf('a', 1)]");
}

#[test]
fn pad_skip_take_join() {
    // Documented.
    assert_eq!(known("[padLeft('123', 10, '0')]"), json!("0000000123"));
    assert_eq!(known("[padLeft(7, 3, '0')]"), json!("007"));
    assert_eq!(known("[padLeft('abc', 2)]"), json!("abc"));
    assert_eq!(known("[padLeft('ab', 4)]"), json!("  ab"));
    assert_eq!(known("[padLeft('😀', 3, '-')]"), json!("-😀"));
    unknown("[padLeft('a', 3, 'ab')]");
    unknown("[padLeft('a', 3, '')]");
    unknown("[padLeft('a', -1)]");
    error("[padLeft(true(), 3)]");
    error("[padLeft('a', 'b')]");
    let (message, spanned) = error("[length(padLeft('a', 2000000000, '0'))]");
    assert!(message.contains("1048576 bytes"), "{message}");
    assert_eq!(spanned, "padLeft('a', 2000000000, '0')");

    // Documented.
    let three = "createArray('one', 'two', 'three')";
    assert_eq!(known(&format!("[skip({three}, 2)]")), json!(["three"]));
    assert_eq!(known("[skip('one two three', 4)]"), json!("two three"));
    assert_eq!(known(&format!("[take({three}, 2)]")), json!(["one", "two"]));
    assert_eq!(known("[take('one two three', 2)]"), json!("on"));
    assert_eq!(known("[skip('abc', -5)]"), json!("abc"));
    assert_eq!(known("[take('abc', -1)]"), json!(""));
    assert_eq!(known("[skip('abc', 10)]"), json!(""));
    assert_eq!(
        known(&format!("[take({three}, 10)]")),
        json!(["one", "two", "three"])
    );
    assert_eq!(known("[take('a😀b', 3)]"), json!("a😀"));
    unknown("[take('a😀b', 2)]");
    unknown("[skip('abc', mul(100000, 100000))]");
    error("[skip(1, 1)]");
    error("[take('a', 'b')]");

    // Documented.
    assert_eq!(
        known(&format!("[join({three}, ',')]")),
        json!("one,two,three")
    );
    assert_eq!(known("[join(createArray(), ',')]"), json!(""));
    unknown("[join(createArray('a', 1), ',')]");
    error("[join('a', ',')]");
    error("[join(createArray('a'), 1)]");
}

#[test]
fn float_only_where_exact() {
    assert_eq!(known("[float(3)]"), json!(3.0));
    assert_eq!(known("[float('3.0')]"), json!(3.0));
    assert_eq!(known("[float('1.5')]"), json!(1.5));
    assert_eq!(known("[float('-0.25')]"), json!(-0.25));
    assert_eq!(known("[float('0')]"), json!(0.0));
    for text in [
        "0.1",
        "1e3",
        " 1",
        "-0",
        "1.",
        ".5",
        "9007199254740993",
        "abc",
    ] {
        unknown(&format!("[float('{text}')]"));
    }
    error("[float(true())]");
}

// --- more array and object functions ------------------------------------------------------------

#[test]
fn flatten_intersection_shallow_merge() {
    assert_eq!(
        known(
            "[flatten(createArray(createArray(1, 2), createArray(), createArray(createArray(3))))]"
        ),
        json!([1, 2, [3]])
    );
    unknown("[flatten(createArray(1))]");
    error("[flatten('a')]");

    // Documented.
    assert_eq!(
        known(
            "[intersection(createObject('one', 'a', 'two', 'b', 'three', 'c'), \
             createObject('one', 'a', 'two', 'z', 'three', 'c'))]"
        ),
        json!({"one": "a", "three": "c"})
    );
    assert_eq!(
        known("[intersection(createArray('one', 'two', 'three'), createArray('two', 'three'))]"),
        json!(["two", "three"])
    );
    assert_eq!(
        known("[intersection(createArray(1, 2, 3), createArray(3, 2), createArray(2))]"),
        json!([2])
    );
    unknown("[intersection(createArray('a', 'a'), createArray('a'))]");
    unknown("[intersection(createObject('a', 1), createObject('A', 1))]");
    let (message, _) = error("[intersection(createArray(), createObject())]");
    assert!(message.contains("only objects or only arrays"), "{message}");

    assert_eq!(
        known(
            "[shallowMerge(createArray(createObject('a', 1, 'n', createObject('x', 1)), \
             createObject('n', createObject('y', 2))))]"
        ),
        json!({"a": 1, "n": {"y": 2}})
    );
    assert_eq!(known("[shallowMerge(createArray())]"), json!({}));
    unknown("[shallowMerge(createArray(createObject('a', 1), createObject('A', 2)))]");
    unknown("[shallowMerge(createArray(1))]");
    error("[shallowMerge(createObject())]");
}

#[test]
fn items_and_object_keys() {
    // Documented: sorted by key.
    let entities = r#"json('{"item002": {"enabled": false, "number": 200}, "item001": {"enabled": true, "number": 300}}')"#;
    assert_eq!(
        known(&format!("[items({entities})]")),
        json!([
            {"key": "item001", "value": {"enabled": true, "number": 300}},
            {"key": "item002", "value": {"enabled": false, "number": 200}},
        ])
    );
    assert_eq!(
        known(&format!("[items({entities})[0].key]")),
        json!("item001")
    );
    assert_eq!(known("[items(createObject())]"), json!([]));
    // Which order ARM's "alphabetical" sort gives these is not confirmed.
    unknown("[items(createObject('b-1', 1, 'a', 2))]");
    unknown("[items(createObject('a', 1, 'B', 2))]");
    error("[items(createArray())]");

    assert_eq!(
        known("[objectKeys(createObject('a', 1, 'b', 2))]"),
        json!(["a", "b"])
    );
    assert_eq!(
        known("[objectKeys(createObject('only', 1))]"),
        json!(["only"])
    );
    unknown("[objectKeys(createObject('b', 1, 'a', 2))]");
    error("[objectKeys('a')]");
}

#[test]
fn min_max_range_index_from_end() {
    // Documented.
    assert_eq!(known("[max(createArray(0, 3, 2, 5, 4))]"), json!(5));
    assert_eq!(known("[max(0, 3, 2, 5, 4)]"), json!(5));
    assert_eq!(known("[min(createArray(0, 3, 2, 5, 4))]"), json!(0));
    assert_eq!(known("[min(0, 3, 2, 5, 4)]"), json!(0));
    assert_eq!(known("[max(-1)]"), json!(-1));
    unknown("[max(createArray())]");
    unknown("[max(createArray(1), 2)]");
    unknown("[min(createArray(1, json('1.5')))]");
    error("[max('a')]");
    error("[min(createArray('a'))]");
    error("[min()]");

    // Documented: `count` from 0 to 10,000, the sum at most 2,147,483,647.
    assert_eq!(known("[range(5, 3)]"), json!([5, 6, 7]));
    assert_eq!(known("[range(0, 0)]"), json!([]));
    assert_eq!(known("[range(-2, 2)]"), json!([-2, -1]));
    assert_eq!(known("[range(2147483646, 1)]"), json!([2_147_483_646]));
    assert_eq!(known("[length(range(0, 10000))]"), json!(10_000));
    let (message, spanned) = error("[range(0, 10001)]");
    assert!(message.contains("10000"), "{message}");
    assert_eq!(spanned, "range(0, 10001)");
    error("[range(0, -1)]");
    error("[range(2147483647, 1)]");
    error("[range('0', 1)]");

    assert_eq!(known("[indexFromEnd(createArray(1, 2, 3), 1)]"), json!(3));
    assert_eq!(known("[indexFromEnd(createArray(1, 2, 3), 3)]"), json!(1));
    assert_eq!(
        known("[tryIndexFromEnd(createArray(1, 2, 3), 2)]"),
        json!(2)
    );
    unknown("[indexFromEnd(createArray(1), 2)]");
    unknown("[tryIndexFromEnd(createArray(1), 0)]");
    unknown("[tryIndexFromEnd('abc', 1)]");
    error("[indexFromEnd(createArray(1), 'a')]");
}

#[test]
fn coalesce_and_equals_across_types() {
    assert_eq!(known("[equals(1, '1')]"), json!(false));
    assert_eq!(known("[equals(null(), null())]"), json!(true));
    assert_eq!(
        known("[equals(createArray(), createObject())]"),
        json!(false)
    );
    assert_eq!(known("[equals(true(), 'True')]"), json!(false));
    assert_eq!(
        known("[equals(createObject('a', null()), createObject('a', null()))]"),
        json!(true)
    );
    assert_eq!(known("[coalesce(null(), createArray())]"), json!([]));
    assert_eq!(known("[coalesce(null(), false())]"), json!(false));
    assert_eq!(known("[coalesce(null(), '')]"), json!(""));
}

#[test]
fn resource_ids_of_other_scopes() {
    assert_eq!(
        known(
            "[extensionResourceId(resourceId('Microsoft.KeyVault/vaults', 'kv'), \
             'Microsoft.Authorization/roleAssignments', 'ra')]"
        ),
        json!(format!(
            "/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.KeyVault/vaults/kv/\
             providers/Microsoft.Authorization/roleAssignments/ra"
        ))
    );
    assert_eq!(
        known(
            "[extensionResourceId('/subscriptions/s', 'Microsoft.Authorization/policyAssignments', \
             'pa')]"
        ),
        json!("/subscriptions/s/providers/Microsoft.Authorization/policyAssignments/pa")
    );
    assert_eq!(
        known("[tenantResourceId('Microsoft.Authorization/policyDefinitions', 'p')]"),
        json!("/providers/Microsoft.Authorization/policyDefinitions/p")
    );
    assert_eq!(
        known(
            "[managementGroupResourceId('mg1', 'Microsoft.Authorization/policyDefinitions', 'p')]"
        ),
        json!(
            "/providers/Microsoft.Management/managementGroups/mg1/providers/\
             Microsoft.Authorization/policyDefinitions/p"
        )
    );
    let (reason, _) =
        unknown("[managementGroupResourceId('Microsoft.Authorization/policyDefinitions', 'p')]");
    assert!(reason.contains("management group"), "{reason}");
    unknown("[extensionResourceId('/x/', 'Microsoft.A/b', 'n')]");
    unknown("[tenantResourceId('Microsoft.A/b', 'n/m')]");
    unknown("[tenantResourceId('Microsoft.A/b', 1)]");
    error("[extensionResourceId('/x', 'Microsoft.A/b')]");
    error("[extensionResourceId('/x', 'Microsoft.A/b/c', 'n')]");
    error("[tenantResourceId('x', 'Microsoft.A/b', 'n')]");
    error("[tenantResourceId(createArray(), 'n')]");
}

// --- lambdas ------------------------------------------------------------------------------------

/// The documentation's dogs, as a parameter.
fn dogs_scope() -> TestScope {
    let mut scope = TestScope::new();
    scope.parameters.insert(
        "dogs".to_owned(),
        Evaluated::Known(json!([
            {"name": "Evie", "age": 5, "interests": ["Ball", "Frisbee"]},
            {"name": "Casper", "age": 3, "interests": ["Other dogs"]},
            {"name": "Indy", "age": 2, "interests": ["Butter"]},
            {"name": "Kira", "age": 8, "interests": ["Rubs"]},
        ])),
    );
    scope
}

#[track_caller]
fn known_dogs(raw: &str) -> Value {
    match eval_in(raw, &dogs_scope()) {
        Ok(Evaluated::Known(value)) => value,
        other => panic!("{raw}: expected a known value, got {other:?}"),
    }
}

#[test]
fn lambda_functions_as_documented() {
    let names = |value: Value| -> Vec<Value> {
        value
            .as_array()
            .map(|dogs| dogs.iter().map(|dog| dog["name"].clone()).collect())
            .unwrap_or_default()
    };
    let old = known_dogs(
        "[filter(parameters('dogs'), lambda('dog', greaterOrEquals(lambdaVariables('dog').age, 5)))]",
    );
    assert_eq!(names(old), vec![json!("Evie"), json!("Kira")]);
    assert_eq!(
        known("[filter(range(0, 10), lambda('i', equals(0, mod(lambdaVariables('i'), 2))))]"),
        json!([0, 2, 4, 6, 8])
    );
    assert_eq!(
        known_dogs("[map(parameters('dogs'), lambda('dog', lambdaVariables('dog').name))]"),
        json!(["Evie", "Casper", "Indy", "Kira"])
    );
    assert_eq!(
        known_dogs(
            "[map(parameters('dogs'), lambda('dog', format('Hello {0}!', lambdaVariables('dog').name)))]"
        ),
        json!(["Hello Evie!", "Hello Casper!", "Hello Indy!", "Hello Kira!"])
    );
    assert_eq!(
        known_dogs(
            "[map(range(0, length(parameters('dogs'))), lambda('i', createObject('i', \
             lambdaVariables('i'), 'dog', parameters('dogs')[lambdaVariables('i')].name)))]"
        ),
        json!([
            {"i": 0, "dog": "Evie"},
            {"i": 1, "dog": "Casper"},
            {"i": 2, "dog": "Indy"},
            {"i": 3, "dog": "Kira"},
        ])
    );
    let ages = "map(parameters('dogs'), lambda('dog', lambdaVariables('dog').age))";
    let sum = "lambda('cur', 'next', add(lambdaVariables('cur'), lambdaVariables('next')))";
    assert_eq!(
        known_dogs(&format!("[reduce({ages}, 0, {sum})]")),
        json!(18)
    );
    assert_eq!(
        known_dogs(&format!("[reduce({ages}, 1, {sum})]")),
        json!(19)
    );
    assert_eq!(
        known(
            "[reduce(createArray(createObject('foo', 123), createObject('bar', 456), \
             createObject('baz', 789)), createObject(), lambda('cur', 'next', \
             union(lambdaVariables('cur'), lambdaVariables('next'))))]"
        ),
        json!({"foo": 123, "bar": 456, "baz": 789})
    );
    let by_age = known_dogs(
        "[sort(parameters('dogs'), lambda('a', 'b', less(lambdaVariables('a').age, \
         lambdaVariables('b').age)))]",
    );
    assert_eq!(
        names(by_age),
        vec![json!("Indy"), json!("Casper"), json!("Evie"), json!("Kira")]
    );
    let keyed = known_dogs(
        "[toObject(parameters('dogs'), lambda('entry', lambdaVariables('entry').name))]",
    );
    assert_eq!(keyed["Kira"]["age"], json!(8));
    assert_eq!(keyed.as_object().map(|members| members.len()), Some(4));
    assert_eq!(
        known_dogs(
            "[toObject(parameters('dogs'), lambda('entry', lambdaVariables('entry').name), \
             lambda('entry', lambdaVariables('entry').age))]"
        ),
        json!({"Evie": 5, "Casper": 3, "Indy": 2, "Kira": 8})
    );
}

#[test]
fn more_lambda_functions() {
    assert_eq!(
        known(
            "[groupBy(createArray('apple', 'avocado', 'banana'), lambda('x', \
             substring(lambdaVariables('x'), 0, 1)))]"
        ),
        json!({"a": ["apple", "avocado"], "b": ["banana"]})
    );
    assert_eq!(
        known(
            "[mapValues(createObject('a', 1, 'b', 2), lambda('v', mul(lambdaVariables('v'), 10)))]"
        ),
        json!({"a": 10, "b": 20})
    );
    // Bicep's `(x, i) => ...`: the index as a second variable.
    assert_eq!(
        known(
            "[map(createArray('a', 'b'), lambda('x', 'i', concat(lambdaVariables('x'), \
             string(lambdaVariables('i')))))]"
        ),
        json!(["a0", "b1"])
    );
    assert_eq!(
        known("[filter(createArray('a', 'b', 'c'), lambda('x', 'i', not(equals(lambdaVariables('i'), 1))))]"),
        json!(["a", "c"])
    );
    assert_eq!(
        known(
            "[reduce(createArray(10, 20), 0, lambda('cur', 'next', 'i', add(lambdaVariables('cur'), \
             lambdaVariables('i'))))]"
        ),
        json!(1)
    );
    // Nested lambdas see the variables of the enclosing ones; the innermost wins.
    assert_eq!(
        known(
            "[map(createArray(1, 2), lambda('x', map(createArray(10, 20), lambda('y', \
             add(lambdaVariables('x'), lambdaVariables('y'))))))]"
        ),
        json!([[11, 21], [12, 22]])
    );
    assert_eq!(
        known("[map(createArray(1), lambda('x', map(createArray(2), lambda('x', lambdaVariables('x')))))]"),
        json!([[2]])
    );
    // Over an empty array the body is never evaluated.
    assert_eq!(
        known("[map(createArray(), lambda('x', toLower(1)))]"),
        json!([])
    );
    assert_eq!(
        known("[sort(createArray(), lambda('a', 'b', true()))]"),
        json!([])
    );
    assert_eq!(
        known("[sort(createArray(3, 1, 2), lambda('a', 'b', less(lambdaVariables('a'), lambdaVariables('b'))))]"),
        json!([1, 2, 3])
    );
}

#[test]
fn lambdas_where_arm_rejects_the_template() {
    let (message, spanned) = error("[lambdaVariables('x')]");
    assert!(message.contains("outside of a lambda"), "{message}");
    assert_eq!(spanned, "lambdaVariables('x')");
    let (message, spanned) = error("[concat('a', lambda('x', 'b'))]");
    assert!(message.contains("can only be an argument"), "{message}");
    assert_eq!(spanned, "lambda('x', 'b')");
    let (message, spanned) = error("[map(createArray(1), 'notALambda')]");
    assert!(message.contains("expects a lambda"), "{message}");
    assert_eq!(spanned, "'notALambda'");
    let (message, _) = error("[map(createArray(1), lambda('x', lambdaVariables('y')))]");
    assert!(message.contains("`y`"), "{message}");
    let (message, spanned) = error("[map(createArray(1), lambda('x', toLower(1)))]");
    assert_eq!(message, "`toLower()` expects a string, got an integer");
    assert_eq!(spanned, "toLower(1)");
    let (message, _) = error("[map('a', lambda('x', 1))]");
    assert!(message.contains("expects an array"), "{message}");
    error("[map(createArray(1))]");
    error("[reduce(createArray(1), lambda('a', 'b', 1))]");
    error("[map(createArray(1), lambda('x'))]");
    error("[mapValues(createArray(), lambda('x', 1))]");
}

#[test]
fn lambdas_that_cannot_be_known() {
    let (_, spanned) = unknown("[map(reference('mi').list, lambda('x', 1))]");
    assert_eq!(spanned, "reference('mi').list");
    let (_, spanned) = unknown("[map(createArray(1), lambda('x', reference('mi').x))]");
    assert_eq!(spanned, "reference('mi').x");
    // ARM's order for elements the comparison does not tell apart is not confirmed.
    let raw = "[sort(createArray(1, 1), lambda('a', 'b', less(lambdaVariables('a'), lambdaVariables('b'))))]";
    let (reason, spanned) = unknown(raw);
    assert!(reason.contains("does not tell"), "{reason}");
    assert_eq!(spanned, inner(raw));
    unknown("[sort(createArray(1, 2), lambda('a', 'b', true()))]");
    unknown("[sort(createArray(1, 2), lambda('a', 'b', 'yes'))]");
    unknown("[filter(createArray(1), lambda('x', 1))]");
    unknown("[map(createArray(1), lambda('x', 'y', 'z', 1))]");
    unknown("[map(createArray(1), lambda(concat('x'), 1))]");
    unknown("[toObject(createArray('a', 'A'), lambda('x', lambdaVariables('x')))]");
    unknown("[toObject(createArray(1), lambda('x', lambdaVariables('x')))]");
    unknown("[groupBy(createArray('a', 'A'), lambda('x', lambdaVariables('x')))]");
    unknown("[map(null(), lambda('x', 1))]");
    // The scope may know only part of an array's elements: missing properties stay Unknown.
    let (_, spanned) =
        unknown("[map(createArray(parameters('obj')), lambda('x', lambdaVariables('x').missing))]");
    assert_eq!(spanned, "lambdaVariables('x').missing");
    // Known ones are known.
    assert_eq!(
        known("[map(createArray(parameters('obj')), lambda('x', lambdaVariables('x').name))]"),
        json!(["n"])
    );
}

// --- bounds -------------------------------------------------------------------------------------

/// Runs `check` on a thread with a small stack, so that deep recursion fails the test instead of
/// passing on a large main stack; and in a bounded time.
fn on_small_stack(check: impl FnOnce() + Send + 'static) {
    let started = Instant::now();
    let thread = std::thread::Builder::new()
        .stack_size(4 << 20)
        .spawn(check)
        .unwrap_or_else(|e| panic!("{e}"));
    if let Err(panic) = thread.join() {
        std::panic::resume_unwind(panic);
    }
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn twenty_thousand_indexers_fail_fast_without_overflow() {
    on_small_stack(|| {
        let raw = format!("[parameters('obj'){}]", "['x']".repeat(20_000));
        let (message, spanned) = error(&raw);
        assert!(
            message.contains("longer than 24576 characters"),
            "{message}"
        );
        // From the first character beyond the limit to the end of the expression.
        assert_eq!(spanned.len(), raw.len() - 1 - 1 - 24_576);

        // Within the length limit, the depth limit stops the chain at its 127th accessor.
        let head = "[parameters('obj')";
        let raw = format!("{head}{}]", "['x']".repeat(4_000));
        let Err(ExprError { message, span }) = eval_in(&raw, &TestScope::new()) else {
            panic!("expected an error");
        };
        assert!(message.contains("nested more than 128 levels"), "{message}");
        assert_eq!(span.start, head.len() + 126 * 5);
        assert_eq!(raw.get(span), Some("["));
        let raw = format!("{head}{}]", ".x".repeat(12_000));
        let (message, spanned) = error(&raw);
        assert!(message.contains("nested more than 128 levels"), "{message}");
        assert_eq!(spanned, ".");
        // An index that is itself a deep chain counts too.
        let raw = format!(
            "[parameters('obj')[parameters('obj'){}]]",
            "['x']".repeat(127)
        );
        error(&raw);
    });
}

#[test]
fn nesting_is_bounded_at_128_levels() {
    on_small_stack(|| {
        // 127 calls around a literal: 128 levels, the most allowed, evaluated on a small stack.
        let raw = format!("[{}'A'{}]", "toLower(".repeat(127), ")".repeat(127));
        assert_eq!(known(&raw), json!("a"));
        let raw = format!("[{}'A'{}]", "toLower(".repeat(128), ")".repeat(128));
        let (message, spanned) = error(&raw);
        assert!(message.contains("nested more than 128 levels"), "{message}");
        assert_eq!(spanned, "'A'");
        let raw = format!("[parameters('obj'){}]", "['x']".repeat(126));
        assert!(eval_in(&raw, &TestScope::new()).is_ok());
        let raw = format!("[{}'a'{}]", "concat(".repeat(3_000), ")".repeat(3_000));
        let (message, _) = error(&raw);
        assert!(message.contains("nested"), "{message}");
        // Lambdas nest within the same bound.
        let mut raw = "lambdaVariables('x')".to_owned();
        for _ in 0..40 {
            raw = format!("first(map(createArray(1), lambda('x', {raw})))");
        }
        assert_eq!(known(&format!("[{raw}]")), json!(1));
    });
}

#[test]
fn expression_length_is_arm_s() {
    let literal = |len: usize| format!("['{}']", "a".repeat(len));
    // 24,576 characters with the brackets.
    assert_eq!(known(&literal(24_572)).as_str().map(str::len), Some(24_572));
    // Beyond with the brackets only: whether ARM counts them is not confirmed.
    let raw = literal(24_573);
    let (reason, spanned) = unknown(&raw);
    assert!(reason.contains("brackets"), "{reason}");
    assert_eq!(spanned, raw);
    unknown(&literal(24_574));
    let (message, spanned) = error(&literal(24_575));
    assert!(message.contains("longer than 24576"), "{message}");
    assert_eq!(spanned, "'");
    // .NET counts UTF-16 code units.
    let raw = format!("['{}']", "😀".repeat(12_288));
    let Err(ExprError { span, .. }) = eval_in(&raw, &TestScope::new()) else {
        panic!("expected an error");
    };
    assert_eq!(span.start, 2 + 12_287 * 4);
    // Literal strings, not being expressions, have no such limit.
    assert_eq!(
        known(&"a".repeat(100_000)).as_str().map(str::len),
        Some(100_000)
    );
}

fn doubling_variables(count: usize, args: usize) -> Value {
    let mut variables = serde_json::Map::new();
    variables.insert("v0".to_owned(), json!("ab"));
    for i in 1..=count {
        let previous = format!("variables('v{}')", i - 1);
        let call = format!("[concat({})]", vec![previous; args].join(", "));
        variables.insert(format!("v{i}"), Value::String(call));
    }
    Value::Object(variables)
}

#[test]
fn doubling_concat_fails_fast_with_bounded_memory() {
    on_small_stack(|| {
        // 26 variables, each `concat(prev, prev)`: 2^27 bytes at the end without a bound.
        let scope =
            TemplateScope::new(json!({}), doubling_variables(26, 2), "2024-01-01T00:00:00Z");
        // v18 is 2^19 bytes; twice that is beyond 1 MiB with its quotes.
        let raw = "[length(concat(variables('v18'), variables('v18')))]";
        match evaluate_string(raw, &scope) {
            Err(ExprError { message, span }) => {
                assert!(message.contains("would exceed 1048576 bytes"), "{message}");
                assert_eq!(
                    raw.get(span),
                    Some("concat(variables('v18'), variables('v18'))")
                );
            }
            other => panic!("expected an error, got {other:?}"),
        }
        assert_eq!(
            evaluate_string("[length(variables('v18'))]", &scope),
            Ok(Evaluated::Known(json!(1 << 19)))
        );
        // The variables past the bound do not evaluate; ARM's deployment would fail on them.
        match evaluate_string("[variables('v26')]", &scope) {
            Ok(Evaluated::Unknown { reason, .. }) => {
                assert!(reason.contains("would exceed"), "{reason}");
            }
            other => panic!("expected an Unknown, got {other:?}"),
        }

        // A few hundred variables, each 20 copies of the one before, evaluated in order so that
        // each one is computed from the one before (20^5 * 2 bytes is beyond the bound).
        let scope = TemplateScope::new(
            json!({}),
            doubling_variables(300, 20),
            "2024-01-01T00:00:00Z",
        );
        for i in 0..300 {
            let _ = evaluate_string(&format!("[variables('v{i}')]"), &scope);
        }
        assert_eq!(
            evaluate_string("[length(variables('v4'))]", &scope),
            Ok(Evaluated::Known(json!(2 * 20_i64.pow(4))))
        );
        match evaluate_string("[variables('v300')]", &scope) {
            Ok(Evaluated::Unknown { reason, .. }) => {
                assert!(reason.contains("would exceed"), "{reason}");
            }
            other => panic!("expected an Unknown, got {other:?}"),
        }
        // The values of several expressions in one template value are bounded together.
        let scope =
            TemplateScope::new(json!({}), doubling_variables(18, 2), "2024-01-01T00:00:00Z");
        let value = json!({"a": "[variables('v18')]", "b": ["[variables('v18')]"]});
        match evaluate_value(&value, &scope) {
            Err((error, pointer)) => {
                assert!(error.message.contains("would exceed"), "{}", error.message);
                assert_eq!(pointer, "/b/0");
            }
            other => panic!("expected an error, got {other:?}"),
        }
    });
}

#[test]
fn functions_that_would_build_huge_values_fail_at_the_call() {
    on_small_stack(|| {
        let thousand = "padLeft('', 1000, 'a')";
        let strings = "map(range(0, 10000), lambda('i', 'a'))";
        let quotes = "padLeft('', 200000, '\"')";
        for spanned in [
            format!("replace({thousand}, 'a', padLeft('', 2000, 'b'))"),
            format!("format('{}', 'a')", "{0,100000}".repeat(11)),
            "split(padLeft('', 500000, ','), ',')".to_owned(),
            format!("join({strings}, padLeft('', 200, '-'))"),
            "concat(padLeft('', 600000, 'a'), padLeft('', 600000, 'b'))".to_owned(),
            // Each `"` is escaped once in the array's text, and again in the string's.
            format!("string(createArray({quotes}, {quotes}))"),
            "uriComponent(padLeft('', 400000, '/'))".to_owned(),
            // 25 arrays of 48,890 bytes each.
            format!("createArray({})", ["range(0, 10000)"; 25].join(", ")),
        ] {
            let raw = format!("[length({spanned})]");
            match eval_in(&raw, &TestScope::new()) {
                Err(ExprError { message, span }) => {
                    assert!(message.contains("would exceed"), "{raw}: {message}");
                    assert_eq!(raw.get(span), Some(spanned.as_str()));
                }
                other => panic!("{raw}: expected an error, got {other:?}"),
            }
        }
    });
}

#[test]
fn too_much_work_is_unknown_and_fast() {
    on_small_stack(|| {
        let raw = "[length(map(range(0, 10000), lambda('i', map(range(0, 10000), lambda('j', \
                   lambdaVariables('j'))))))]";
        let (reason, _) = unknown(raw);
        assert!(
            reason.contains("more work than cmk-check allows"),
            "{reason}"
        );
        let (reason, _) = unknown("[length(union(range(0, 10000), range(1, 10000)))]");
        assert!(reason.contains("more work"), "{reason}");
        let raw = "[sort(range(0, 5000), lambda('a', 'b', less(lambdaVariables('a'), lambdaVariables('b'))))]";
        let (reason, _) = unknown(raw);
        assert!(reason.contains("more work"), "{reason}");
    });
}

#[test]
fn values_are_bounded_in_depth() {
    on_small_stack(|| {
        let nest = |inner: &str, levels: usize| {
            format!(
                "{}{inner}{}",
                "createArray(".repeat(levels),
                ")".repeat(levels)
            )
        };
        let mut variables = serde_json::Map::new();
        variables.insert(
            "d0".to_owned(),
            Value::String(format!("[json('{}{}')]", "[".repeat(120), "]".repeat(120))),
        );
        variables.insert(
            "d1".to_owned(),
            Value::String(format!("[{}]", nest("variables('d0')", 120))),
        );
        let scope = TemplateScope::new(json!({}), Value::Object(variables), "2024-01-01T00:00:00Z");
        assert!(matches!(
            evaluate_string("[length(variables('d1'))]", &scope),
            Ok(Evaluated::Known(_))
        ));
        let raw = format!("[length({})]", nest("variables('d1')", 20));
        match evaluate_string(&raw, &scope) {
            Err(ExprError { message, .. }) => {
                assert!(message.contains("nested more than 256 levels"), "{message}");
            }
            other => panic!("expected an error, got {other:?}"),
        }
    });
}

#[test]
fn oversized_scope_values_are_unknown() {
    let mut scope = TestScope::new();
    scope.parameters.insert(
        "huge".to_owned(),
        Evaluated::Known(json!("a".repeat(2 << 20))),
    );
    let (reason, spanned) = unknown_in("[length(parameters('huge'))]", &scope);
    assert!(reason.contains("exceeds 1048576 bytes"), "{reason}");
    assert_eq!(spanned, "parameters('huge')");
}

#[test]
fn long_chains_of_variables_are_unknown_not_a_stack_overflow() {
    on_small_stack(|| {
        let chain = |count: usize| {
            TemplateScope::new(
                json!({}),
                doubling_variables(count, 1),
                "2024-01-01T00:00:00Z",
            )
        };
        // Each level is `concat(variables(...))`: two nodes being evaluated.
        assert_eq!(
            evaluate_string("[variables('v100')]", &chain(100)),
            Ok(Evaluated::Known(json!("ab")))
        );
        match evaluate_string("[variables('v1000')]", &chain(1000)) {
            Ok(Evaluated::Unknown { reason, .. }) => {
                assert!(reason.contains("nest more than 256 levels"), "{reason}");
            }
            other => panic!("expected an Unknown, got {other:?}"),
        }
        // Once the inner ones are evaluated, the outer ones are known too.
        let scope = chain(1000);
        for i in (0..=1000).step_by(50) {
            let _ = evaluate_string(&format!("[variables('v{i}')]"), &scope);
        }
        assert_eq!(
            evaluate_string("[variables('v1000')]", &scope),
            Ok(Evaluated::Known(json!("ab")))
        );
    });
}

/// Valid expressions of every kind, which `mutated_expressions_never_panic` breaks at random.
const CORPUS: &[&str] = &[
    "[concat(parameters('vaultName'), '-', variables('keyName'))]",
    "[format('https://{0}.vault.azure.net/keys/{1}', parameters('vaultName'), 'cmk')]",
    "[resourceId('Microsoft.KeyVault/vaults/keys', parameters('vaultName'), 'cmk')]",
    "[dateTimeToEpoch(dateTimeAdd(utcNow('u'), 'P1Y'))]",
    "[dateTimeAdd('2020-04-07 14:53:14Z', '-P9DT1H30M15.5S', 'dddd, dd MMMM yyyy hh:mm:ss.fff tt')]",
    "[dateTimeFromEpoch(add(dateTimeToEpoch('20190305T175318Z'), 86400))]",
    "[utcNow('yyyy''-''MM-dd\\THH:mm:ss%K')]",
    "[map(range(0, 20), lambda('i', padLeft(string(lambdaVariables('i')), 3, '0')))]",
    "[filter(parameters('obj').inner.list, lambda('x', 'i', contains(lambdaVariables('x'), 'x')))]",
    "[reduce(range(1, 10), 1, lambda('a', 'b', mul(lambdaVariables('a'), lambdaVariables('b'))))]",
    "[sort(split('c,a,b', ','), lambda('a', 'b', less(lambdaVariables('a'), lambdaVariables('b'))))]",
    "[toObject(items(createObject('a', 1, 'b', 2)), lambda('e', lambdaVariables('e').key), lambda('e', lambdaVariables('e').value))]",
    "[groupBy(createArray('ab', 'ac', 'bd'), lambda('s', first(lambdaVariables('s'))))]",
    "[mapValues(shallowMerge(createArray(createObject('a', 1), createObject('b', 2))), lambda('v', add(lambdaVariables('v'), 1)))]",
    "[uri('https://contoso.org/a/b.json', uriComponentToString(uriComponent('c/d.sh')))]",
    "[base64ToJson(base64(string(createObject('k', createArray(1, true, null())))))]",
    "[dataUriToString(dataUri(join(createArray('x', 'y'), string(lastIndexOf('abcabc', 'C')))))]",
    "[intersection(range(0, 5), flatten(createArray(range(3, 5), createArray(1))))]",
    "[indexFromEnd(take(skip(range(0, 100), 10), 20), max(1, min(createArray(3, 4))))]",
    "[extensionResourceId(tenantResourceId('Microsoft.A/b', 'n'), 'Microsoft.C/d', 'm')]",
    "[if(equals(float('1.5'), json('1.5')), tryIndexFromEnd(objectKeys(createObject('a', 1)), 1), coalesce(null(), 'z'))]",
    "[substring(replace(toUpper(trim('  a-b  ')), '-', '_'), 1, 2)]",
];

#[test]
fn mutated_expressions_never_panic() {
    const PIECES: &[&str] = &[
        "(",
        ")",
        "[",
        "]",
        ",",
        ".",
        "'",
        "''",
        " ",
        "0",
        "-1",
        "2147483647",
        "9",
        "é",
        "😀",
        "\\",
        "{0}",
        "%",
        "P",
        "T",
        "Z",
        "lambda('x', ",
        "lambdaVariables('x')",
        "utcNow()",
        "range(0, 10000)",
        "padLeft('', 100000, 'a')",
        "concat(",
        "x",
    ];
    let scopes = [
        TestScope::new(),
        TestScope::in_default_value("2024-06-01T12:00:00Z"),
        TestScope::outside_loops(),
    ];
    let mut rng = Rng(0x853c_49e6_748f_ea9b);
    for round in 0..6_000 {
        let source = CORPUS[rng.below(CORPUS.len())];
        let mut chars: Vec<char> = source.chars().collect();
        for _ in 0..1 + rng.below(3) {
            let at = 1 + rng.below(chars.len().saturating_sub(1).max(1));
            match rng.below(4) {
                0 => {
                    let end = (at + 1 + rng.below(8)).min(chars.len().saturating_sub(1));
                    if at < end {
                        chars.drain(at..end);
                    }
                }
                1 => {
                    let piece = PIECES[rng.below(PIECES.len())];
                    let at = at.min(chars.len());
                    chars.splice(at..at, piece.chars());
                }
                2 => {
                    let end = (at + 1 + rng.below(12)).min(chars.len());
                    let copy: Vec<char> =
                        chars.get(at..end).map(<[char]>::to_vec).unwrap_or_default();
                    chars.splice(at..at, copy);
                }
                _ => {
                    let other = rng.below(chars.len().max(1));
                    if at < chars.len() && other < chars.len() {
                        chars.swap(at, other);
                    }
                }
            }
        }
        let raw: String = chars.into_iter().collect();
        check_never_panics(&raw, &scopes[round % scopes.len()]);
    }
    // Unbroken, every expression of the corpus has a known value.
    let scope = TestScope::in_default_value("2024-06-01T12:00:00Z");
    for raw in CORPUS {
        let result = evaluate_string(raw, &scope);
        assert!(
            matches!(result, Ok(Evaluated::Known(_))),
            "{raw}: {result:?}"
        );
    }
}

#[test]
fn measured_sizes_are_compact_json_lengths() {
    use super::limits::{measure, Oversize, MAX_VALUE_BYTES};
    let samples = [
        json!(null),
        json!(true),
        json!(false),
        json!(0),
        json!(-17),
        json!(u64::MAX),
        json!(i64::MIN),
        json!(1.5),
        json!(""),
        json!("a\"b\\c\nd\te\u{1}f\u{1f}é😀"),
        json!([]),
        json!({}),
        json!([1, [2, [3, {}]], {"k": [null, "v"]}]),
        json!({"a": 1, "b\n": {"c": [true, false]}, "": ""}),
    ];
    for value in samples {
        let text = serde_json::to_string(&value).unwrap_or_default();
        assert_eq!(
            measure(&value).map(|size| size.bytes),
            Ok(text.len() as u64),
            "{text}"
        );
    }
    let big = Value::Array(vec![json!("a"); 400_000]);
    assert!(serde_json::to_string(&big).unwrap_or_default().len() as u64 > MAX_VALUE_BYTES);
    assert_eq!(measure(&big), Err(Oversize::Bytes));
    let mut deep = json!(1);
    for _ in 0..300 {
        deep = json!([deep]);
    }
    assert_eq!(measure(&deep), Err(Oversize::Depth));
}

#[test]
fn quadratic_key_comparisons_are_paid_for() {
    on_small_stack(|| {
        // 10,000 keys, each compared with those before it.
        let keys = "map(range(0, 10000), lambda('i', concat('k', string(lambdaVariables('i')))))";
        let started = Instant::now();
        let raw = format!("[length(toObject({keys}, lambda('k', lambdaVariables('k'))))]");
        let result = eval_in(&raw, &TestScope::new());
        assert!(
            matches!(&result, Ok(Evaluated::Unknown { reason, .. }) if reason.contains("more work")),
            "{result:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(10));
        let small = "map(range(0, 300), lambda('i', concat('k', string(lambdaVariables('i')))))";
        let raw = format!(
            "[length(union(toObject({small}, lambda('k', lambdaVariables('k'))), createObject('x', 1)))]"
        );
        assert_eq!(known(&raw), json!(301));
    });
}

#[test]
fn every_function_of_the_table_is_implemented_with_its_arity() {
    use super::builtins::{MANY, SIGNATURES};
    let scope = TestScope::in_default_value("2024-01-01T00:00:00Z");
    let call = |name: &str, count: usize| {
        let args = vec!["'x'"; count].join(", ");
        format!("[{name}({args})]")
    };
    for &(name, min, max) in SIGNATURES {
        let raw = call(name, min);
        match eval_in(&raw, &scope) {
            Ok(Evaluated::Unknown { reason, .. }) => {
                assert!(!reason.contains("not supported"), "{raw}: {reason}");
            }
            Ok(Evaluated::Known(_)) => {}
            Err(ExprError { message, .. }) => {
                assert!(!message.contains(" takes "), "{raw}: {message}");
            }
        }
        // `lambda()` out of place is an error whatever its arguments.
        if name == "lambda" {
            continue;
        }
        let too_many = if max == MANY { None } else { Some(max + 1) };
        for count in min.checked_sub(1).into_iter().chain(too_many) {
            let raw = call(name, count);
            match eval_in(&raw, &scope) {
                Err(ExprError { message, .. }) => {
                    assert!(message.contains(" takes "), "{raw}: {message}");
                }
                other => panic!("{raw}: expected an arity error, got {other:?}"),
            }
        }
    }
}
