//! The module graph has no cycles: dependencies inside `server/src` and
//! `shared/src` point one way, so each module can be read (and changed)
//! knowing only what it uses. Read from the source text: every
//! `crate::a::…` and `super::b::…` path a file names (in `use` trees or
//! inline) is an edge from the file's module to the module named; a
//! parent's `mod` declarations are not uses. A cycle fails with its path.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Modules whose submodules are nodes of their own (the rest of a
/// top-level module's files count as that module).
const SPLIT: &[&str] = &["service", "api", "detect", "http"];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// The module path of a file relative to `src`, e.g. `service/packs.rs` →
/// `["service", "packs"]`, `service/mod.rs` → `["service"]`.
fn module_of(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .iter()
        .map(|c| c.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    if parts
        .last()
        .is_some_and(|l| l == "mod" || l == "lib" || l == "main")
    {
        parts.pop();
    }
    parts
}

/// The graph node of a module path: the top-level module, or
/// `top::sub` for the modules in [`SPLIT`].
fn node(path: &[String]) -> Option<String> {
    let top = path.first()?;
    match path.get(1) {
        Some(sub) if SPLIT.contains(&top.as_str()) => Some(format!("{top}::{sub}")),
        _ => Some(top.clone()),
    }
}

/// The paths a `use` tree names: `a::{b, c::{d, self}}` → `a::b`, `a::c::d`,
/// `a::c`.
fn expand_use(tree: &str) -> Vec<String> {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        let path = tree.split(" as ").next().unwrap_or(tree).trim();
        return vec![path.to_owned()];
    };
    let prefix = &tree[..open];
    let inner = tree[open + 1..].trim_end().trim_end_matches('}');
    let (mut depth, mut from, mut items) = (0, 0, Vec::new());
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&inner[from..i]);
                from = i + 1;
            }
            _ => {}
        }
    }
    items.push(&inner[from..]);
    items
        .into_iter()
        .filter(|i| !i.trim().is_empty())
        .flat_map(|item| match item.trim() {
            "self" => vec![prefix.trim_end_matches("::").to_owned()],
            item => expand_use(item)
                .into_iter()
                .map(|p| format!("{prefix}{p}"))
                .collect(),
        })
        .collect()
}

/// Every `crate::…` / `super::…` path a file names: in its `use`
/// statements (expanded) and inline in code. Comments are ignored.
fn named_paths(text: &str) -> Vec<String> {
    // An inline test module's `super` is the file itself, and what tests
    // use is not layering: stop at it.
    let text = text
        .find("#[cfg(test)]\nmod tests {")
        .map_or(text, |i| &text[..i]);
    let code: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join(" ");
    let mut paths = Vec::new();
    let mut rest = code.as_str();
    let mut inline = String::new();
    // `use` statements, joined across lines, then the rest of the code.
    while let Some(i) = rest.find("use ") {
        let before = rest[..i].chars().last();
        inline.push_str(&rest[..i]);
        let after = &rest[i + 4..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            inline.push_str("use ");
            rest = after;
            continue;
        }
        let end = after.find(';').unwrap_or(after.len());
        paths.extend(expand_use(&after[..end]));
        rest = &after[end..];
    }
    inline.push_str(rest);
    for prefix in ["crate::", "super::"] {
        let mut rest = inline.as_str();
        while let Some(i) = rest.find(prefix) {
            let before = rest[..i].chars().last();
            rest = &rest[i + prefix.len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let len = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .unwrap_or(rest.len());
            paths.push(format!("{prefix}{}", &rest[..len]));
        }
    }
    paths
}

/// Resolves a `crate::` / `super::` path named in module `me` to a module
/// path (segments), or None for other paths (`std::…`, `shared::…`).
fn resolve(me: &[String], path: &str) -> Option<Vec<String>> {
    let mut segs: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
    let mut base: Vec<String> = match segs.first() {
        Some(&"crate") => Vec::new(),
        Some(&"super") => me[..me.len().saturating_sub(1)].to_vec(),
        _ => return None,
    };
    segs.remove(0);
    while segs.first() == Some(&"super") {
        base.pop();
        segs.remove(0);
    }
    base.extend(segs.iter().map(|s| s.to_string()));
    Some(base)
}

/// Items a module defines at its top level (`pub struct X`, `pub fn x`…),
/// for resolving glob re-exports.
fn defined_items(text: &str) -> Vec<String> {
    let kinds = [
        "struct ", "enum ", "fn ", "const ", "static ", "type ", "trait ",
    ];
    text.lines()
        .filter_map(|l| l.strip_prefix("pub "))
        .filter_map(|l| {
            let l = l.strip_prefix("async ").unwrap_or(l);
            kinds.iter().find_map(|k| l.strip_prefix(k))
        })
        .filter_map(|rest| {
            rest.split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .next()
                .map(str::to_owned)
        })
        .collect()
}

/// `(module, item)` → the child module that defines an item the module
/// re-exports (`pub use child::{Item}` / `pub use child::*` in a `mod.rs`),
/// so a path through the re-export counts as a use of the child.
fn reexports(
    src: &Path,
    files: &[PathBuf],
    modules: &BTreeSet<Vec<String>>,
) -> BTreeMap<(Vec<String>, String), Vec<String>> {
    let file_of: BTreeMap<Vec<String>, &PathBuf> = files
        .iter()
        .map(|f| (module_of(f.strip_prefix(src).unwrap()), f))
        .collect();
    let mut out = BTreeMap::new();
    for (m, f) in &file_of {
        let text = std::fs::read_to_string(f).unwrap();
        let code: String = text.lines().collect::<Vec<_>>().join(" ");
        for stmt in code.split("pub use ").skip(1) {
            let tree = stmt.split(';').next().unwrap_or("");
            for path in expand_use(tree) {
                let mut segs = path.split("::");
                let (Some(child), Some(item)) = (segs.next(), segs.next()) else {
                    continue;
                };
                let mut child_mod = m.clone();
                child_mod.push(child.to_owned());
                if !modules.contains(&child_mod) {
                    continue;
                }
                let items = if path.ends_with("::*") || item == "*" {
                    let child_text = std::fs::read_to_string(file_of[&child_mod]).unwrap();
                    defined_items(&child_text)
                } else {
                    vec![item.to_owned()]
                };
                for i in items {
                    out.insert((m.clone(), i), child_mod.clone());
                }
            }
        }
    }
    out
}

fn graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let modules: BTreeSet<Vec<String>> = files
        .iter()
        .map(|f| module_of(f.strip_prefix(src).unwrap()))
        .collect();
    let reexported = reexports(src, &files, &modules);
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in &files {
        let me = module_of(f.strip_prefix(src).unwrap());
        let Some(from) = node(&me) else { continue };
        let text = std::fs::read_to_string(f).unwrap();
        for path in named_paths(&text) {
            let Some(t) = resolve(&me, &path) else {
                continue;
            };
            // The longest prefix of the path that is a module.
            let Some(mut m) = (1..=t.len())
                .rev()
                .map(|n| t[..n].to_vec())
                .find(|p| modules.contains(p))
            else {
                continue;
            };
            if let Some(item) = t.get(m.len())
                && let Some(child) = reexported.get(&(m.clone(), item.clone()))
            {
                m = child.clone();
            }
            if let Some(to) = node(&m)
                && to != from
            {
                edges.entry(from.clone()).or_default().insert(to);
            }
        }
        edges.entry(from).or_default();
    }
    edges
}

/// A cycle in `g`, as the list of nodes around it, if there is one.
fn find_cycle(g: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        g: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = stack.iter().position(|s| s == n) {
            let mut cycle = stack[i..].to_vec();
            cycle.push(n.to_owned());
            return Some(cycle);
        }
        if done.contains(n) {
            return None;
        }
        stack.push(n.to_owned());
        for m in g.get(n).into_iter().flatten() {
            if let Some(c) = visit(m, g, stack, done) {
                return Some(c);
            }
        }
        stack.pop();
        done.insert(n.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    g.keys()
        .find_map(|n| visit(n, g, &mut Vec::new(), &mut done))
}

fn assert_acyclic(crate_dir: &str) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(crate_dir)
        .join("src");
    let g = graph(&src);
    assert!(g.len() > 3, "read the module graph of {}", src.display());
    if let Some(cycle) = find_cycle(&g) {
        panic!(
            "module cycle in {crate_dir}/src: {}\n(each arrow is a `crate::`/`super::` path \
             the first module's files name)",
            cycle.join(" → ")
        );
    }
}

#[test]
fn server_modules_have_no_cycles() {
    assert_acyclic("../server");
}

#[test]
fn shared_modules_have_no_cycles() {
    assert_acyclic("../shared");
}

#[test]
fn the_checker_sees_a_cycle() {
    let g: BTreeMap<String, BTreeSet<String>> = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec![]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.into_iter().map(str::to_owned).collect()))
    .collect();
    let c = find_cycle(&g).unwrap();
    assert_eq!(c.first(), c.last());
    assert_eq!(c.len(), 4);
}
