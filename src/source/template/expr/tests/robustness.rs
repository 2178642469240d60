//! Expression tests: never a panic.

use super::*;

// --- robustness ---------------------------------------------------------------------------------

/// xorshift64: deterministic, no dependency.
pub(super) struct Rng(pub(super) u64);

impl Rng {
    pub(super) fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub(super) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[track_caller]
pub(super) fn check_never_panics(raw: &str, scope: &TestScope) {
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
