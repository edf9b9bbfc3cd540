//! The host crate's layers, as ARCHITECTURE.md draws them: every module
//! imports only from its own layer or those below, and no modules import
//! each other around a circle. Read from the source, so a change that
//! breaks either fails here with the import named.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers of `runtime/src`, bottom first.
const LAYERS: [&str; 7] = [
    "storage", "engine", "pipeline", "lake", "config", "sources", "tools",
];

fn source_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every library module (by path, `lake::routing`; the crate root is ``)
/// and its code without comments or unit tests. The command line (`main.rs`,
/// `commands/`, `bin/`) sits above every layer and is left out.
fn modules() -> BTreeMap<String, String> {
    let root = source_root();
    let mut found = BTreeMap::new();
    let mut folders = vec![root.clone()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).expect("read the source folder") {
            let path = entry.expect("a folder entry").path();
            let relative = path.strip_prefix(&root).expect("inside").to_path_buf();
            let first = relative.components().next().expect("a component");
            let first = first.as_os_str().to_string_lossy();
            if first == "main.rs" || first == "commands" || first == "bin" {
                continue;
            }
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                let mut parts: Vec<String> = relative
                    .with_extension("")
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
                    parts.pop();
                }
                let code = std::fs::read_to_string(&path).expect("read a source file");
                found.insert(parts.join("::"), code_only(&code));
            }
        }
    }
    found
}

/// The code of a file: comment lines and the unit-test module dropped.
fn code_only(source: &str) -> String {
    let end = source
        .find("#[cfg(test)]\nmod tests")
        .unwrap_or(source.len());
    source[..end]
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The paths a piece of code names from `crate::` or `super::`, as module
/// segments (`super` resolved against `module`), braces expanded.
fn referenced_paths(module: &str, code: &str) -> Vec<Vec<String>> {
    let here: Vec<String> = if module.is_empty() {
        Vec::new()
    } else {
        module.split("::").map(str::to_string).collect()
    };
    let mut paths = Vec::new();
    for start in ["crate::", "super::"] {
        for from in path_starts(code, start) {
            let mut base = if start == "crate::" {
                Vec::new()
            } else {
                here[..here.len().saturating_sub(1)].to_vec()
            };
            let mut rest = &code[from..];
            while let Some(after) = rest.strip_prefix("super::") {
                base.pop();
                rest = after;
            }
            for tail in expand(rest) {
                let mut path = base.clone();
                path.extend(tail);
                paths.push(path);
            }
        }
    }
    // Paths that start at a child module the file declares (`use
    // event::KinesisEvent;` beside `mod event;`).
    let children: Vec<&str> = code
        .lines()
        .filter_map(|line| {
            let line = line.trim();
            let line = line.strip_prefix("pub ").unwrap_or(line);
            let line = line.strip_prefix("pub(crate) ").unwrap_or(line);
            line.strip_prefix("mod ")?.strip_suffix(';')
        })
        .collect();
    for child in children {
        for from in path_starts(code, &format!("{child}::")) {
            for tail in expand(&code[from..]) {
                let mut path = here.clone();
                path.push(child.to_string());
                path.extend(tail);
                paths.push(path);
            }
        }
    }
    paths
}

/// Where the rest of a path begins after each `needle` (`crate::`,
/// `event::`) in `code` that starts a path, not one inside another name or
/// path.
fn path_starts(code: &str, needle: &str) -> Vec<usize> {
    let bytes = code.as_bytes();
    code.match_indices(needle)
        .filter(|(at, _)| {
            *at == 0
                || !(bytes[at - 1].is_ascii_alphanumeric() || matches!(bytes[at - 1], b'_' | b':'))
        })
        .map(|(at, _)| at + needle.len())
        .collect()
}

/// The identifier paths at the start of `text`: `a::b::C` gives one,
/// `{a::B, c}` one per item (one level of braces).
fn expand(text: &str) -> Vec<Vec<String>> {
    if let Some(group) = text.strip_prefix('{') {
        let end = group.find('}').unwrap_or(group.len());
        return group[..end]
            .split(',')
            .map(|item| leading_path(item.trim()))
            .filter(|path| !path.is_empty())
            .collect();
    }
    let path = leading_path(text);
    let after: usize = path.iter().map(|s| s.len() + 2).sum();
    if let Some(group) = text.get(after..).filter(|rest| rest.starts_with('{')) {
        return expand(group)
            .into_iter()
            .map(|tail| path.iter().cloned().chain(tail).collect())
            .collect();
    }
    vec![path]
}

fn leading_path(text: &str) -> Vec<String> {
    let mut path = Vec::new();
    let mut rest = text;
    loop {
        let len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if len == 0 {
            break;
        }
        path.push(rest[..len].to_string());
        match rest[len..].strip_prefix("::") {
            Some(after) => rest = after,
            None => break,
        }
    }
    path
}

/// Which module each module imports from: the longest known module prefix
/// of every path it names, itself excluded.
fn import_graph() -> BTreeMap<String, BTreeSet<String>> {
    let modules = modules();
    let mut graph = BTreeMap::new();
    for (module, code) in &modules {
        let mut targets = BTreeSet::new();
        for path in referenced_paths(module, code) {
            let target = (0..=path.len())
                .rev()
                .map(|k| path[..k].join("::"))
                .find(|candidate| modules.contains_key(candidate))
                .expect("the crate root is a module");
            if target != *module {
                targets.insert(target);
            }
        }
        graph.insert(module.clone(), targets);
    }
    graph
}

fn layer(module: &str) -> Option<usize> {
    let top = module.split("::").next().unwrap_or_default();
    LAYERS.iter().position(|layer| *layer == top)
}

#[test]
fn every_top_level_module_is_a_layer() {
    let lib = std::fs::read_to_string(source_root().join("lib.rs")).expect("read lib.rs");
    let declared: BTreeSet<&str> = lib
        .lines()
        .filter_map(|line| line.strip_prefix("pub mod "))
        .map(|name| name.trim_end_matches(';'))
        .collect();
    assert_eq!(
        declared,
        LAYERS.into_iter().collect(),
        "lib.rs declares other top-level modules than the layers"
    );
    let architecture =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../ARCHITECTURE.md"))
            .expect("ARCHITECTURE.md at the repository's root");
    for layer in LAYERS {
        assert!(
            architecture.contains(&format!("runtime/src/{layer}")),
            "ARCHITECTURE.md does not describe the layer {layer}"
        );
    }
}

#[test]
fn no_module_imports_from_a_layer_above_its_own() {
    let graph = import_graph();
    assert!(
        graph.len() > 40,
        "the modules were not found: {:?}",
        graph.keys()
    );
    let mut upward = Vec::new();
    for (module, targets) in &graph {
        for target in targets {
            if let (Some(from), Some(to)) = (layer(module), layer(target))
                && to > from
            {
                upward.push(format!(
                    "{module} (layer {from}) imports {target} (layer {to})"
                ));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports from a layer above:\n{}",
        upward.join("\n")
    );
}

/// The edge between siblings that an import from `from` to `to` makes:
/// the children of their nearest common module that hold each. An import
/// between a module and one of its own descendants stays inside one idea
/// (a parent re-exporting its parts, a part using its parent's types) and
/// makes none.
fn sibling_edge(from: &str, to: &str) -> Option<(String, String)> {
    let a: Vec<&str> = from.split("::").filter(|s| !s.is_empty()).collect();
    let b: Vec<&str> = to.split("::").filter(|s| !s.is_empty()).collect();
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    if common == a.len() || common == b.len() {
        return None;
    }
    Some((a[..=common].join("::"), b[..=common].join("::")))
}

#[test]
fn no_modules_import_each_other_around_a_circle() {
    let mut siblings: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, targets) in import_graph() {
        for target in targets {
            if let Some((from, to)) = sibling_edge(&module, &target) {
                siblings.entry(from).or_default().insert(to);
            }
        }
    }
    let mut circles = Vec::new();
    for start in siblings.keys() {
        // Every sibling reachable from `start`; a circle when it comes back.
        let mut seen = BTreeSet::new();
        let mut stack: Vec<&String> = siblings[start].iter().collect();
        while let Some(module) = stack.pop() {
            if module == start {
                circles.push(start.clone());
                break;
            }
            if seen.insert(module.clone()) {
                stack.extend(siblings.get(module).into_iter().flatten());
            }
        }
    }
    assert!(
        circles.is_empty(),
        "modules on an import circle: {circles:?}"
    );
}

#[test]
fn the_checker_sees_imports_in_every_form() {
    let paths = referenced_paths(
        "lake::routing",
        "mod naming;\nuse crate::pipeline::{batch::Batch, decode};\nlet x = super::files::Held;\nuse crate::lake::{self};\nuse naming::file_tag;",
    );
    let joined: Vec<String> = paths.iter().map(|p| p.join("::")).collect();
    assert!(
        joined.contains(&"pipeline::batch::Batch".to_string()),
        "{joined:?}"
    );
    assert!(
        joined.contains(&"pipeline::decode".to_string()),
        "{joined:?}"
    );
    assert!(
        joined.contains(&"lake::files::Held".to_string()),
        "{joined:?}"
    );
    // An upward import in a made-up module is caught.
    assert_eq!(layer("engine::state"), Some(1));
    assert_eq!(layer("sources::run"), Some(5));
    assert_eq!(
        sibling_edge("lake::routing", "lake::columns::convert"),
        Some(("lake::routing".to_string(), "lake::columns".to_string()))
    );
    assert_eq!(sibling_edge("lake::commit", "lake"), None);
    assert_eq!(sibling_edge("storage", "storage::s3"), None);
}
