//! Expression tests: more functions, evaluated values and hashes.

use super::*;

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
    assert_eq!(super::super::unique_string(&["aaa"]), "zavj67f3en4hc");
    assert_eq!(super::super::unique_string(&["bbb"]), "w5eragfxe33cy");
    assert_eq!(super::super::unique_string(&["zzz"]), "cryksdzzzawae");
    assert_eq!(
        super::super::unique_string(&["xxx", "yyy", "zzz"]),
        "lghi7k5js7itq"
    );
    // `uniqueString('test')` as computed by Azure.Deployments.Expression itself (a tool built on
    // it, quoted in its README); the same value is in the arm2tf Terraform provider's tests.
    assert_eq!(super::super::unique_string(&["test"]), "rbgf3xv4ufgzg");
    // Azure/terraform-provider-azapi, unique_string_function_test.go: a 7-byte tail.
    assert_eq!(
        super::super::unique_string(&[
            "/subscriptions/00000000-0000-0000-0000-000000000000",
            "resource-id"
        ]),
        "cwvxuqg24sifi"
    );
    // arm2tf provider tests: two full 8-byte blocks.
    assert_eq!(
        super::super::unique_string(&["test", "test2", "test3"]),
        "bqgd334z2uj64"
    );
    // A pure-bash reimplementation that states it was verified against Bicep.
    assert_eq!(
        super::super::unique_string(&["hello", "world"]),
        "a7wkljktk6wne"
    );
    assert_eq!(super::super::unique_string(&["abc"]), "cgtzqvhu4i23s");
    assert_eq!(
        super::super::unique_string(&[
            "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/my-rg"
        ]),
        "bmg7c6xu4tw46"
    );
    assert_eq!(
        super::super::unique_string(&["foo", "bar", "baz"]),
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
        super::super::guid(&["test"]),
        "d6a5baf1-8b9b-542a-8525-2982f1f98a0c"
    );
    // ARM joins the arguments with `-` (the Azure Policy linter's port of ARM's functions);
    // computed with Python's `uuid.uuid5(UUID('11fb06fb-...'), 'test-test2-test3')`.
    assert_eq!(
        super::super::guid(&["test", "test2", "test3"]),
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
