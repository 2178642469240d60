//! Expression tests: lambdas.

use super::*;

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
