//! Expression tests: literals, accessors, unknown spans and syntax errors.

use super::*;

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
