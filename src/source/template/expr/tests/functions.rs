//! Expression tests: the functions of the table.

use super::*;

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
        json!(super::super::unique_string(&[&format!(
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
