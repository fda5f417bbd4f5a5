//! A cdylib whose only export scans a text (with `--features engine`) or
//! only parses JSON (without), so the size difference is the engine's.

/// Scan `len` bytes at `ptr`… is not needed for a size measurement: the
/// export takes a length and returns a count so nothing is optimised away.
#[unsafe(no_mangle)]
pub extern "C" fn run(n: u32) -> u32 {
    let text = "x".repeat(n as usize);
    #[cfg(feature = "engine")]
    {
        match shared::detect::compile_default() {
            Ok(rules) => rules.scan_text(&text).len() as u32,
            Err(_) => 0,
        }
    }
    #[cfg(not(feature = "engine"))]
    {
        serde_json::to_string(&text).map_or(0, |s| s.len() as u32)
    }
}
