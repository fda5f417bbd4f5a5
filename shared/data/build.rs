//! Build script (wired in through `build = "data/build.rs"`): turns the
//! reviewable, sorted gazetteer table into an `fst::Map` so the binary and the
//! browser build carry only the compressed automaton, queried without any
//! start-up parsing.

use std::io::Write;

fn main() {
    println!("cargo::rerun-if-changed=data/gazetteer.tsv");
    println!("cargo::rerun-if-changed=data/build.rs");
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default());
    let tsv = std::fs::read_to_string("data/gazetteer.tsv").unwrap_or_default();
    let mut builder = fst::MapBuilder::memory();
    let mut prev: Option<&str> = None;
    for line in tsv.lines() {
        let Some((key, flags)) = line.split_once('\t') else {
            continue;
        };
        let Ok(flags) = flags.parse::<u64>() else {
            continue;
        };
        // The generator sorts by bytes and deduplicates; skip anything out of order
        // rather than failing the build on a hand edit.
        if prev.is_some_and(|p| p.as_bytes() >= key.as_bytes()) {
            continue;
        }
        if builder.insert(key, flags).is_ok() {
            prev = Some(key);
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
