//! Expression tests: bounds on length, depth, size and work.

use super::robustness::{check_never_panics, Rng};
use super::*;

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
    use super::super::limits::{measure, Oversize, MAX_VALUE_BYTES};
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
    use super::super::builtins::{MANY, SIGNATURES};
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
