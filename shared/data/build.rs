//! Build script (wired in through `build = "data/build.rs"`): turns the
//! reviewable, sorted gazetteer tables into one `fst::Map` so the binary and
//! the browser build carry only the compressed automaton, queried without any
//! start-up parsing. With the `full-gazetteer` feature the server-only table
//! (`gazetteer-extra.tsv`) is merged in, flags OR-ed per key.

use std::collections::BTreeMap;
use std::io::Write;

fn main() {
    println!("cargo::rerun-if-changed=data/gazetteer.tsv");
    println!("cargo::rerun-if-changed=data/gazetteer-extra.tsv");
    println!("cargo::rerun-if-changed=data/build.rs");
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default());
    let mut files = vec!["data/gazetteer.tsv"];
    if std::env::var_os("CARGO_FEATURE_FULL_GAZETTEER").is_some() {
        files.push("data/gazetteer-extra.tsv");
    }
    // A BTreeMap sorts by bytes, as `fst` needs, and merges the two tables;
    // malformed lines from a hand edit are skipped rather than failing the build.
    let mut keys: BTreeMap<String, u64> = BTreeMap::new();
    for file in files {
        let tsv = std::fs::read_to_string(file).unwrap_or_default();
        for line in tsv.lines() {
            let Some((key, flags)) = line.split_once('\t') else {
                continue;
            };
            let Ok(flags) = flags.parse::<u64>() else {
                continue;
            };
            *keys.entry(key.to_owned()).or_default() |= flags;
        }
    }
    let mut builder = fst::MapBuilder::memory();
    for (key, flags) in &keys {
        if let Err(e) = builder.insert(key, *flags) {
            println!("cargo::error=gazetteer key {key:?}: {e}");
            return;
        }
    }
    let bytes = builder.into_inner().unwrap_or_default();
    let mut f = match std::fs::File::create(out.join("gazetteer.fst")) {
        Ok(f) => f,
        Err(e) => {
            println!("cargo::error=cannot write gazetteer.fst: {e}");
            return;
        }
    };
    if let Err(e) = f.write_all(&bytes) {
        println!("cargo::error=cannot write gazetteer.fst: {e}");
    }
}
