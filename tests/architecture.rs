#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests stop at the first failure"
)]

//! The shape of the house: the layers of `src/` import downward only, no module of the library
//! imports another in a cycle, the binary stays thin, and no file grows past what a reader can
//! hold.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Each top-level module of the library and its layer: a module imports only lower layers.
/// `azure` and `document` are the ground; `source` reads input into `state` and knows nothing
/// of rules; the engine runs rules; renderers and the config sit on top.
const LAYERS: &[(&str, u8)] = &[
    ("azure", 0),
    ("document", 0),
    ("model", 1),
    ("state", 2),
    ("lint", 3),
    ("source", 3),
    ("rules", 4),
    ("engine", 5),
    ("config", 6),
    ("render", 6),
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `crate::a::b` of a file: its module path below the crate, two levels deep.
fn module_of(path: &Path) -> Vec<String> {
    let relative = path.strip_prefix(src()).unwrap();
    let mut parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts.truncate(2);
    parts
}

/// The `crate::x::y` paths a file names, two levels deep, outside comments.
fn imports(text: &str) -> BTreeSet<Vec<String>> {
    let mut found = BTreeSet::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or_default();
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            let path: Vec<String> = rest
                .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .next()
                .unwrap_or_default()
                .split("::")
                .filter(|s| !s.is_empty())
                .take(2)
                .map(str::to_string)
                .collect();
            if !path.is_empty() {
                found.insert(path);
            }
        }
        // `use crate::{a, b}` and `use super::x` are resolved by the module path above.
        if let Some(group) = code.trim().strip_prefix("use crate::{") {
            for name in group
                .split([',', '}'])
                .map(str::trim)
                .filter(|n| !n.is_empty())
            {
                found.insert(vec![name.split("::").next().unwrap().to_string()]);
            }
        }
    }
    found
}

fn library_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    // The binary's own modules are not the library's.
    files.retain(|f| !f.starts_with(src().join("cli")) && !f.ends_with("main.rs"));
    files
}

#[test]
fn layers_import_downward_only() {
    let layer: BTreeMap<&str, u8> = LAYERS.iter().copied().collect();
    let mut violations = Vec::new();
    for file in library_files() {
        let module = module_of(&file);
        let Some(top) = module.first() else { continue };
        if top == "lib" {
            continue;
        }
        let own = *layer
            .get(top.as_str())
            .unwrap_or_else(|| panic!("`{top}` has no layer in LAYERS"));
        for import in imports(&std::fs::read_to_string(&file).unwrap()) {
            let target = &import[0];
            if target == top {
                continue;
            }
            let Some(&theirs) = layer.get(target.as_str()) else {
                continue;
            };
            if theirs >= own {
                violations.push(format!(
                    "{} (layer {own}) imports crate::{} (layer {theirs})",
                    file.display(),
                    import.join("::")
                ));
            }
        }
    }
    assert!(violations.is_empty(), "{violations:#?}");
}

/// Second-level modules (`source::live`, `render::human`) form no cycle either.
#[test]
fn no_import_cycles_between_modules() {
    let mut graph: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for file in library_files() {
        let module = module_of(&file);
        let text = std::fs::read_to_string(&file).unwrap();
        let edges = graph.entry(module.clone()).or_default();
        for import in imports(&text) {
            // A module importing its own parent (`super`) or its children is one unit.
            if import.first() == module.first() && (import.len() < 2 || module.len() < 2) {
                continue;
            }
            if import != module {
                edges.insert(import);
            }
        }
    }
    let nodes: Vec<Vec<String>> = graph.keys().cloned().collect();
    // Depth-first search for a back edge.
    fn visit(
        node: &Vec<String>,
        graph: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        state: &mut BTreeMap<Vec<String>, u8>,
        path: &mut Vec<Vec<String>>,
    ) -> Option<Vec<Vec<String>>> {
        match state.get(node) {
            Some(1) => {
                let start = path.iter().position(|n| n == node).unwrap_or(0);
                let mut cycle = path[start..].to_vec();
                cycle.push(node.clone());
                return Some(cycle);
            }
            Some(2) => return None,
            _ => {}
        }
        state.insert(node.clone(), 1);
        path.push(node.clone());
        for next in graph.get(node).into_iter().flatten() {
            // Imports of a top-level module mean its root file.
            let next = if graph.contains_key(next) {
                next.clone()
            } else {
                next[..1].to_vec()
            };
            if let Some(cycle) = visit(&next, graph, state, path) {
                return Some(cycle);
            }
        }
        path.pop();
        state.insert(node.clone(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for node in &nodes {
        if let Some(cycle) = visit(node, &graph, &mut state, &mut Vec::new()) {
            let shown: Vec<String> = cycle.iter().map(|m| m.join("::")).collect();
            panic!("import cycle: {}", shown.join(" -> "));
        }
    }
}

#[test]
fn the_library_knows_nothing_of_clap() {
    for file in library_files() {
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(!text.contains("clap::"), "{} uses clap", file.display());
    }
}

#[test]
fn the_binary_is_thin_and_files_stay_small() {
    let main = std::fs::read_to_string(src().join("main.rs")).unwrap();
    assert!(
        main.lines().count() <= 250,
        "main.rs has {} lines",
        main.lines().count()
    );
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    for file in files {
        // The table of the template functions is the one file allowed to be long.
        if file.ends_with("expr/builtins.rs") {
            continue;
        }
        let lines = std::fs::read_to_string(&file).unwrap().lines().count();
        assert!(lines <= 600, "{} has {lines} lines", file.display());
    }
}
