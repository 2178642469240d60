//! Expression tests: more string, array and object functions.

use super::*;

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
