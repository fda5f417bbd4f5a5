//! `gatehouse scan` end to end: the built binary on stdin, each output mode.

use std::io::Write;
use std::process::{Command, Stdio};

fn scan(args: &[&str], input: &str) -> std::io::Result<(i32, String)> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .arg("scan")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let written = child
        .stdin
        .take()
        .ok_or_else(|| std::io::Error::other("no stdin"))?
        .write_all(input.as_bytes());
    // A command that rejects its arguments exits before reading stdin.
    match written {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(e),
        _ => {}
    }
    let out = child.wait_with_output()?;
    let stdout = String::from_utf8(out.stdout).map_err(std::io::Error::other)?;
    Ok((out.status.code().unwrap_or(-1), stdout))
}

#[test]
fn table_json_redact_and_jsonl() {
    let (code, out) = scan(&[], "Contact jane.doe@example.com, SSN 536-22-8745").unwrap();
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("EMAIL_ADDRESS") && out.contains("US_SSN"),
        "{out}"
    );
    assert!(
        !out.contains("536-22-8745"),
        "table must not print raw values: {out}"
    );

    let (code, out) = scan(&["--json"], r#"{"user": {"ssn": "536-22-8745"}}"#).unwrap();
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["findings"][0]["pointer"], "/user/ssn");

    let src = "{ \"card\" : 4111111111111111,\n  \"note\": \"ok\" }";
    let (code, out) = scan(&["--redact"], src).unwrap();
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "{ \"card\" : \"[REDACTED:CREDIT_CARD]\",\n  \"note\": \"ok\" }"
    );

    let (code, out) = scan(
        &["--jsonl"],
        "{\"id\": \"r1\", \"text\": \"é jane@example.com\"}\n{\"id\": \"r2\", \"text\": \"nothing\"}\n",
    )
    .unwrap();
    assert_eq!(code, 0);
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["findings"][0]["start"], 2);
    assert_eq!(lines[0]["findings"][0]["entity"], "EMAIL_ADDRESS");
    assert_eq!(lines[1]["findings"], serde_json::json!([]));

    let (code, _) = scan(&["--threshold", "7"], "x").unwrap();
    assert_eq!(code, 2);
}
