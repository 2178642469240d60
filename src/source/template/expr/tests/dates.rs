//! Expression tests: date functions.

use super::*;

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
