#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests stop at the first failure"
)]

//! A seeded mutation fuzzer over every shipped fixture: deleted keys, swapped types, huge and
//! negative numbers, long strings, deep nesting, unicode and bidi characters, truncation, random
//! ARM expressions, long single lines. Whatever the input: no panic, no signal, exit code 0, 1
//! or 2 only, and exit 2 always names the input; time and memory per input are bounded by the
//! limits the runs are made under. A failing input is written to `target/fuzz-failures/`.

use std::io::Read;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use cmk_check::engine::{self, FailOn, Options};
use cmk_check::render::{self, human::Style, Format};
use cmk_check::source::snapshot;
use serde_json::{json, Value};

const SEED: u64 = 0x00c3_6b2d_5a1f_9e47;
const NOW: &str = "2026-11-27T12:00:00Z";
/// Mutations of each snapshot fixture run in process.
const ROUNDS_PER_FIXTURE: usize = 50;

/// xorshift64*: fixed by definition, so a failure replays from the seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn json_files(dir: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

/// Every pointer of a value, the root included.
fn pointers(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                pointers(
                    v,
                    format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                pointers(v, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
    out.push(at);
}

fn expression(rng: &mut Rng, depth: usize) -> String {
    let leaf = [
        "'a'",
        "1",
        "-2147483648",
        "true",
        "parameters('location')",
        "variables('x')",
        "resourceGroup().location",
        "subscription().subscriptionId",
        "utcNow()",
        "newGuid()",
        "reference('nope').principalId",
        "copyIndex()",
        "null()",
        "'[['",
        "json('{}')",
    ];
    if depth == 0 || rng.below(3) == 0 {
        return rng.pick(&leaf).to_string();
    }
    let function = rng.pick(&[
        "concat",
        "format",
        "toLower",
        "if",
        "equals",
        "resourceId",
        "dateTimeAdd",
        "union",
        "createArray",
        "createObject",
        "split",
        "replace",
        "substring",
        "length",
        "first",
        "last",
        "uniqueString",
        "guid",
        "add",
        "mul",
        "string",
        "int",
        "bool",
        "not",
        "and",
        "or",
        "coalesce",
        "empty",
        "contains",
        "unknownFunction",
    ]);
    let args: Vec<String> = (0..rng.below(4))
        .map(|_| expression(rng, depth - 1))
        .collect();
    let mut text = format!("{function}({})", args.join(", "));
    for _ in 0..rng.below(3) {
        text.push_str(rng.pick::<&str>(&["['x']", ".y", "[0]", ".properties"]));
    }
    text
}

fn scalar(rng: &mut Rng) -> Value {
    match rng.below(16) {
        0 => Value::Null,
        1 => json!(true),
        2 => json!(false),
        3 => json!(0),
        4 => json!(-1),
        5 => json!(i64::MIN),
        6 => json!(u64::MAX),
        7 => json!(1e308),
        8 => json!(""),
        9 => json!("x".repeat(10_000)),
        10 => json!("\u{202e}\u{1b}[31m\u{0}é漢字\u{fffd}"),
        11 => json!("true"),
        12 => json!("90"),
        13 => json!(format!("[{}]", expression(rng, 4))),
        14 => json!({}),
        _ => json!([]),
    }
}

/// One mutation of `value`, somewhere random.
fn mutate(value: &mut Value, rng: &mut Rng) {
    let mut all = Vec::new();
    pointers(value, String::new(), &mut all);
    let at = rng.pick(&all).clone();
    let (parent, last) = match at.rfind('/') {
        Some(cut) => (at[..cut].to_string(), Some(at[cut + 1..].to_string())),
        None => (String::new(), None),
    };
    match rng.below(6) {
        // Delete the member or element.
        0 => match (value.pointer_mut(&parent), &last) {
            (Some(Value::Object(map)), Some(key)) => {
                map.remove(&key.replace("~1", "/").replace("~0", "~"));
            }
            (Some(Value::Array(items)), Some(index)) => {
                if let Ok(i) = index.parse::<usize>() {
                    if i < items.len() {
                        items.remove(i);
                    }
                }
            }
            _ => {}
        },
        // Change the case of a member's name: ARM reads it the same.
        1 => {
            if let (Some(Value::Object(map)), Some(key)) = (value.pointer_mut(&parent), &last) {
                let key = key.replace("~1", "/").replace("~0", "~");
                if let Some(v) = map.remove(&key) {
                    map.insert(key.to_uppercase(), v);
                }
            }
        }
        // Nest deeply.
        2 => {
            if let Some(node) = value.pointer_mut(&at) {
                let mut nested = node.take();
                for _ in 0..(50 + rng.below(400)) {
                    nested = json!([nested]);
                }
                *node = nested;
            }
        }
        // Copy another subtree here.
        3 => {
            let other = rng.pick(&all).clone();
            if let (Some(copy), false) = (value.pointer(&other).cloned(), other.starts_with(&at)) {
                if let Some(node) = value.pointer_mut(&at) {
                    *node = copy;
                }
            }
        }
        // Anything else.
        _ => {
            if let Some(node) = value.pointer_mut(&at) {
                *node = scalar(rng);
            }
        }
    }
}

/// The text of a mutated fixture, with text-level damage now and then.
fn mutated_text(original: &Value, rng: &mut Rng) -> Vec<u8> {
    let mut value = original.clone();
    for _ in 0..=rng.below(3) {
        mutate(&mut value, rng);
    }
    let mut text = if rng.below(3) == 0 {
        serde_json::to_string(&value).unwrap()
    } else {
        serde_json::to_string_pretty(&value).unwrap()
    }
    .into_bytes();
    match rng.below(10) {
        0 => {
            let cut = rng.below(text.len());
            text.truncate(cut);
        }
        1 => {
            let at = rng.below(text.len());
            text.insert(at, *rng.pick(&[b'{', b'"', b'\\', 0xFF, 0x00, b']']));
        }
        2 => {
            let mut with_bom = vec![0xEF, 0xBB, 0xBF];
            with_bom.extend(text);
            text = with_bom;
        }
        _ => {}
    }
    text
}

fn failure(name: &str, input: &[u8]) -> PathBuf {
    let dir = root().join("target/fuzz-failures");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, input).unwrap();
    path
}

/// Thousands of mutated snapshots through the library: no panic anywhere from reading to
/// every renderer; an input error carries the place it is about.
#[test]
fn mutated_snapshots_never_panic_in_process() {
    let mut rng = Rng(SEED);
    let now: DateTime<Utc> = NOW.parse().unwrap();
    let mut files = json_files("fixtures");
    files.extend(json_files("fixtures/fail"));
    files.extend(json_files("tests/inputs"));
    let mut runs = 0;
    for file in &files {
        let Ok(original) = serde_json::from_str::<Value>(&std::fs::read_to_string(file).unwrap())
        else {
            continue;
        };
        for round in 0..ROUNDS_PER_FIXTURE {
            let bytes = mutated_text(&original, &mut rng);
            let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
                let text = match cmk_check::document::read::decode("input.json", bytes.clone()) {
                    Ok(text) => text,
                    Err(_) => return,
                };
                match snapshot::parse("input.json", text) {
                    Err(error) => {
                        let located = miette::Diagnostic::labels(&error)
                            .is_some_and(|mut l| l.next().is_some());
                        assert!(located, "unlocated error: {error}");
                    }
                    Ok(state) => {
                        let report = engine::run(&state, &Options::new(now));
                        let reports = [report.clone()];
                        for format in [
                            Format::Human,
                            Format::Json,
                            Format::Sarif,
                            Format::Github,
                            Format::Junit,
                        ] {
                            render::render(&reports, &report, format, Style::PLAIN, FailOn::Error)
                                .unwrap();
                        }
                    }
                }
            }));
            if outcome.is_err() {
                let name = file.file_name().unwrap().to_string_lossy();
                let saved = failure(&format!("{name}.{round}.json"), &bytes);
                panic!("a mutation of {name} panics: {}", saved.display());
            }
            runs += 1;
        }
    }
    assert!(runs > 2_000, "only {runs} inputs ran");
}

/// Mutated configs through the library: parsed, or refused at a place in the file.
#[test]
fn mutated_configs_never_panic_in_process() {
    let mut rng = Rng(SEED ^ 1);
    let base = "expiry-warning-days = 45\n[rules]\nCMK015 = \"deny\"\nkey-version-retired-early = \"allow\"\n[[exempt]]\nrule = \"CMK006\"\nresource = \"/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv\"\nreason = \"ticket\"\nexpires = \"2027-03-31\"\n";
    let noise = [
        "\"",
        "[",
        "]]",
        "=",
        "\n",
        "é",
        "\u{1b}",
        "= 99999999999999999999",
        "[[exempt]]\n",
        "rules.x = 1\n",
        "CMK0 = \"error\"\n",
    ];
    for round in 0..600 {
        let mut text = base.to_string();
        for _ in 0..=rng.below(3) {
            let at = rng.below(text.len());
            let at = (0..=at)
                .rev()
                .find(|i| text.is_char_boundary(*i))
                .unwrap_or(0);
            match rng.below(3) {
                0 => text.insert_str(at, rng.pick::<&str>(&noise)),
                1 => text.truncate(at),
                _ => text.insert_str(at, &"x".repeat(rng.below(70_000))),
            }
        }
        let outcome = std::panic::catch_unwind(|| {
            if let Err(error) = cmk_check::config::parse("cmk-check.toml", text.clone()) {
                let located =
                    miette::Diagnostic::labels(&error).is_some_and(|mut l| l.next().is_some());
                assert!(located, "unlocated error: {error}");
                // Render it as the binary does: miette must be able to draw it.
                let mut out = String::new();
                miette::GraphicalReportHandler::new()
                    .render_report(&mut out, &error)
                    .unwrap();
            }
        });
        if outcome.is_err() {
            let saved = failure(&format!("config.{round}.toml"), text.as_bytes());
            panic!("a mutated config panics: {}", saved.display());
        }
    }
}

/// Runs the binary on `input`, with bounded time and memory; returns its exit code and stderr.
fn run_bounded(kind: &str, input: &Path) -> (Option<i32>, String) {
    let binary = assert_cmd::cargo::cargo_bin("cmk-check");
    let flag = match kind {
        "template" => "--template",
        _ => "--snapshot",
    };
    // 2 GiB of address space: an input that needs more is a bug, and ends in a signal here.
    let script =
        format!("ulimit -v 2097152; exec \"$0\" check {flag} \"$1\" --now {NOW} --offline_marker")
            .replace(
                " --offline_marker",
                if kind == "template" { " --offline" } else { "" },
            );
    let mut child = Command::new("sh")
        .args(["-c", &script])
        .arg(&binary)
        .arg(input)
        .current_dir(root())
        .env_remove("CMK_CHECK_ARM_ENDPOINT")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        // A hang guard, not a speed target: real inputs take milliseconds.
        if started.elapsed() > Duration::from_secs(20) {
            child.kill().unwrap();
            panic!("{} hangs", input.display());
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    (status.code(), reader.join().unwrap())
}

/// Mutated snapshots and templates through the binary: exit 0, 1 or 2 only, never a signal, and
/// an exit 2 names the input.
#[test]
fn mutated_inputs_exit_0_1_or_2_with_a_located_message() {
    let mut rng = Rng(SEED ^ 2);
    let mut cases: Vec<(&str, PathBuf)> = Vec::new();
    for file in json_files("fixtures/fail").into_iter().step_by(3) {
        cases.push(("snapshot", file));
    }
    for file in json_files("fixtures/templates")
        .into_iter()
        .chain(json_files("fixtures/templates/fail"))
        .filter(|f| !f.to_string_lossy().ends_with(".parameters.json"))
    {
        cases.push(("template", file));
    }
    let dir = root().join("target/fuzz-inputs");
    std::fs::create_dir_all(&dir).unwrap();
    let mut runs = 0;
    for (kind, file) in &cases {
        let original: Value =
            serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
        for round in 0..8 {
            let bytes = mutated_text(&original, &mut rng);
            let name = format!(
                "{}.{round}.json",
                file.file_stem().unwrap().to_string_lossy()
            );
            let input = dir.join(&name);
            std::fs::write(&input, &bytes).unwrap();
            let (code, stderr) = run_bounded(kind, &input);
            let saved = || failure(&name, &bytes).display().to_string();
            match code {
                Some(0 | 1) => {}
                Some(2) => assert!(
                    stderr.contains(&name),
                    "exit 2 without naming the input ({}): {stderr}",
                    saved()
                ),
                other => panic!("{kind} {} ended with {other:?}: {stderr}", saved()),
            }
            assert!(!stderr.contains("panicked"), "{}: {stderr}", saved());
            runs += 1;
        }
    }
    assert!(runs > 200, "only {runs} inputs ran");
}
