//! `gatehouse scan`: run the detection engine on a file or stdin.
//!
//! * `gatehouse scan [FILE]` — text or JSON (auto-detected; `--text` forces
//!   text); findings as a table with redacted evidence, never raw values.
//! * `--json` — findings as JSON; `--redact` — the redacted document (JSON
//!   input keeps every untouched byte).
//! * `--jsonl` — the batch contract used by benchmarks: each stdin line
//!   `{"id": …, "text": "…"}` gives one stdout line
//!   `{"id": …, "findings": [{"start", "end", "entity", "score"}]}` with
//!   offsets in Unicode code points; every finding with its score unless
//!   `--threshold` is given. A `text` that is a JSON object or array is
//!   scanned as the gateway scans a tool call (its member keys give context),
//!   offsets still into `text`. Streams line by line.
//! * `--rules FILE` — a [`RuleSet`] in YAML or JSON; default: every entity,
//!   every region. `--threshold T` — keep findings scoring at least T (instead
//!   of each rule's own threshold).
//!
//! Exit status for table and `--json` output: 0 when nothing was found, 1
//! when something was (like `grep`, for hooks and CI); `--redact` and
//! `--jsonl` exit 0 on success. Errors are returned to the caller, which
//! prints them and exits 2.

use std::io::{BufRead, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use shared::detect::{
    CompiledRules, Finding, RuleError, RuleSet, ScanError, ScanOptions, redact_text, snippet,
};

/// Arguments of `gatehouse scan`.
#[derive(clap::Args, Debug, Clone, Default, PartialEq)]
pub struct ScanArgs {
    /// File to scan (text or JSON); standard input when absent or `-`.
    pub file: Option<PathBuf>,
    /// Print findings as JSON instead of a table.
    #[arg(long, conflicts_with_all = ["redact", "jsonl"])]
    pub json: bool,
    /// Print the input with findings replaced by `[REDACTED:<LABEL>]`.
    #[arg(long, conflicts_with = "jsonl")]
    pub redact: bool,
    /// Batch mode: read `{"id", "text"}` lines on stdin, write one findings line per input line.
    #[arg(long, conflicts_with = "file")]
    pub jsonl: bool,
    /// Rule set file, YAML or JSON (regions, entities, thresholds, custom rules).
    #[arg(long, value_name = "FILE", env = "GATEHOUSE_SCAN_RULES")]
    pub rules: Option<PathBuf>,
    /// Keep findings scoring at least this (0..=1), overriding per-rule thresholds.
    #[arg(long, value_name = "SCORE")]
    pub threshold: Option<f32>,
    /// Treat the input as plain text even when it parses as JSON.
    #[arg(long)]
    pub text: bool,
}

/// Why `gatehouse scan` failed.
#[derive(Debug, thiserror::Error)]
pub enum ScanCliError {
    /// Reading input or writing output failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being read or written.
        context: String,
        /// The IO error.
        source: std::io::Error,
    },
    /// The rules file is not a valid rule set document.
    #[error("rules file {path}: {message}")]
    RulesFile {
        /// The file.
        path: String,
        /// Parser message.
        message: String,
    },
    /// The rule set did not compile.
    #[error("rules: {0}")]
    Rules(#[from] RuleError),
    /// The input was refused (size, depth, bad JSON).
    #[error("input: {0}")]
    Scan(#[from] ScanError),
    /// A bad argument value.
    #[error("{0}")]
    Usage(String),
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> ScanCliError {
    let context = context.into();
    move |source| ScanCliError::Io { context, source }
}

/// Load the rule set: the file if given, else every entity with every region.
///
/// # Errors
/// Unreadable or malformed file, or a rule set that does not compile.
pub fn load_rules(path: Option<&std::path::Path>) -> Result<CompiledRules, ScanCliError> {
    let set = match path {
        None => RuleSet::all_regions(),
        Some(p) => {
            let text =
                std::fs::read_to_string(p).map_err(io(format!("reading {}", p.display())))?;
            let is_json = p
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("json"));
            let parsed: Result<RuleSet, String> = if is_json {
                serde_json::from_str(&text).map_err(|e| e.to_string())
            } else {
                serde_yaml_ng::from_str(&text).map_err(|e| e.to_string())
            };
            parsed.map_err(|message| ScanCliError::RulesFile {
                path: p.display().to_string(),
                message,
            })?
        }
    };
    Ok(CompiledRules::compile(&set)?)
}

/// Run `gatehouse scan` with injected input and output.
///
/// # Errors
/// See [`ScanCliError`]; the caller prints the message and exits 2.
pub fn run(
    args: &ScanArgs,
    stdin: &mut dyn BufRead,
    stdout: &mut dyn Write,
) -> Result<ExitCode, ScanCliError> {
    if let Some(t) = args.threshold
        && !(t.is_finite() && (0.0..=1.0).contains(&t))
    {
        return Err(ScanCliError::Usage(format!(
            "--threshold must be from 0 to 1, got {t}"
        )));
    }
    let rules = load_rules(args.rules.as_deref())?;
    if args.jsonl {
        jsonl(&rules, args.threshold, stdin, stdout)?;
        return Ok(ExitCode::SUCCESS);
    }
    let input = read_input(args, stdin, rules.limits().max_input_bytes)?;
    let opts = ScanOptions {
        all_findings: args.threshold.is_some(),
    };
    let json_doc = !args.text && looks_like_json(&input);
    let mut findings = if json_doc {
        match rules.scan_json_str(&input, opts) {
            Ok(f) => f,
            // Not JSON after all (e.g. `{` in prose): scan it as text.
            Err(ScanError::InvalidJson(_)) => rules.scan_text_checked(&input, opts)?,
            Err(e) => return Err(e.into()),
        }
    } else {
        rules.scan_text_checked(&input, opts)?
    };
    let is_json = findings.iter().any(|f| f.pointer.is_some())
        || (json_doc && serde_json::from_str::<serde::de::IgnoredAny>(&input).is_ok());
    if let Some(t) = args.threshold {
        findings.retain(|f| f.score >= t);
    }
    let out_err = io("writing output");
    if args.redact {
        let redacted = if is_json {
            rules.redact_json_str(&input, &findings)?
        } else {
            redact_text(&input, &findings)
        };
        stdout.write_all(redacted.as_bytes()).map_err(out_err)?;
        return Ok(ExitCode::SUCCESS);
    }
    let strings = if is_json {
        field_strings(&input)
    } else {
        Default::default()
    };
    let text_of = |f: &Finding| -> String {
        match &f.pointer {
            Some(p) => strings
                .get(&(p.clone(), f.in_key))
                .cloned()
                .unwrap_or_default(),
            None => input.clone(),
        }
    };
    if args.json {
        let rows: Vec<serde_json::Value> = findings
            .iter()
            .map(|f| {
                let same: Vec<Finding> = findings
                    .iter()
                    .filter(|g| g.pointer == f.pointer && g.in_key == f.in_key)
                    .cloned()
                    .collect();
                let mut v = serde_json::to_value(f).unwrap_or_default();
                if let Some(o) = v.as_object_mut() {
                    o.insert("snippet".into(), snippet(&text_of(f), f, &same).into());
                }
                v
            })
            .collect();
        let doc = serde_json::json!({ "findings": rows, "count": findings.len() });
        let s = serde_json::to_string_pretty(&doc).unwrap_or_default();
        writeln!(stdout, "{s}").map_err(out_err)?;
    } else {
        write_table(stdout, &findings, &text_of).map_err(out_err)?;
    }
    Ok(if findings.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn read_input(
    args: &ScanArgs,
    stdin: &mut dyn BufRead,
    max: usize,
) -> Result<String, ScanCliError> {
    let mut buf = Vec::new();
    let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
    match args.file.as_deref() {
        Some(p) if p.as_os_str() != "-" => {
            let f = std::fs::File::open(p).map_err(io(format!("opening {}", p.display())))?;
            f.take(limit)
                .read_to_end(&mut buf)
                .map_err(io(format!("reading {}", p.display())))?;
        }
        _ => {
            stdin
                .take(limit)
                .read_to_end(&mut buf)
                .map_err(io("reading standard input"))?;
        }
    }
    if buf.len() > max {
        return Err(ScanError::TooLarge { max }.into());
    }
    String::from_utf8(buf).map_err(|_| ScanCliError::Usage("input is not valid UTF-8".into()))
}

fn looks_like_json(s: &str) -> bool {
    matches!(s.trim_start().as_bytes().first(), Some(b'{' | b'[' | b'"'))
}

/// Every string (and number) of a JSON document by (pointer, in_key), so the
/// table can show redacted evidence for JSON findings.
fn field_strings(src: &str) -> std::collections::HashMap<(String, bool), String> {
    fn walk(
        v: &serde_json::Value,
        path: &mut String,
        out: &mut std::collections::HashMap<(String, bool), String>,
    ) {
        match v {
            serde_json::Value::String(s) => {
                out.insert((path.clone(), false), s.clone());
            }
            serde_json::Value::Number(n) => {
                out.insert((path.clone(), false), n.to_string());
            }
            serde_json::Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    let len = path.len();
                    path.push('/');
                    path.push_str(&i.to_string());
                    walk(x, path, out);
                    path.truncate(len);
                }
            }
            serde_json::Value::Object(m) => {
                for (k, x) in m {
                    let len = path.len();
                    path.push('/');
                    path.push_str(&k.replace('~', "~0").replace('/', "~1"));
                    out.insert((path.clone(), true), k.clone());
                    walk(x, path, out);
                    path.truncate(len);
                }
            }
            _ => {}
        }
    }
    let mut out = std::collections::HashMap::new();
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(src) {
        walk(&v, &mut String::new(), &mut out);
    }
    out
}

fn write_table(
    out: &mut dyn Write,
    findings: &[Finding],
    text_of: &dyn Fn(&Finding) -> String,
) -> std::io::Result<()> {
    if findings.is_empty() {
        return writeln!(out, "no findings");
    }
    let rows: Vec<[String; 6]> = findings
        .iter()
        .map(|f| {
            let same: Vec<Finding> = findings
                .iter()
                .filter(|g| g.pointer == f.pointer && g.in_key == f.in_key)
                .cloned()
                .collect();
            let loc = match &f.pointer {
                Some(p) => format!(
                    "{}{}",
                    if p.is_empty() { "/" } else { p },
                    if f.in_key { " (key)" } else { "" }
                ),
                None => "-".into(),
            };
            [
                f.label.clone(),
                format!("{:.2}", f.score),
                loc,
                format!("{}..{}", f.start, f.end),
                f.context.join(","),
                snippet(&text_of(f), f, &same).replace(['\n', '\r', '\t'], " "),
            ]
        })
        .collect();
    let head = ["ENTITY", "SCORE", "FIELD", "SPAN", "CONTEXT", "EVIDENCE"];
    let mut w = head.map(|h| h.chars().count());
    for r in &rows {
        for (i, c) in r.iter().enumerate().take(5) {
            w[i] = w[i].max(c.chars().count());
        }
    }
    let line = |cells: [&str; 6], out: &mut dyn Write| -> std::io::Result<()> {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i < 5 {
                s.push_str(c);
                s.push_str(&" ".repeat(w[i] - c.chars().count() + 2));
            } else {
                s.push_str(c);
            }
        }
        writeln!(out, "{}", s.trim_end())
    };
    line(head, out)?;
    for r in &rows {
        line([&r[0], &r[1], &r[2], &r[3], &r[4], &r[5]], out)?;
    }
    writeln!(
        out,
        "{} finding{}",
        rows.len(),
        if rows.len() == 1 { "" } else { "s" }
    )
}

#[derive(serde::Deserialize)]
struct JsonlIn {
    #[serde(default)]
    id: serde_json::Value,
    text: String,
}

fn jsonl(
    rules: &CompiledRules,
    threshold: Option<f32>,
    stdin: &mut dyn BufRead,
    stdout: &mut dyn Write,
) -> Result<(), ScanCliError> {
    let mut line = String::new();
    let mut n = 0usize;
    loop {
        line.clear();
        let read = stdin
            .read_line(&mut line)
            .map_err(io("reading standard input"))?;
        if read == 0 {
            break;
        }
        n += 1;
        if line.trim().is_empty() {
            continue;
        }
        let out = match serde_json::from_str::<JsonlIn>(&line) {
            // A text that is a JSON tool call is scanned as the gateway scans
            // one (member keys give context); offsets stay in the text.
            Ok(rec) => match rules.scan_document(&rec.text, ScanOptions::ALL) {
                Ok(found) => {
                    let findings: Vec<serde_json::Value> = found
                        .iter()
                        .filter(|f| threshold.is_none_or(|t| f.score >= t))
                        .map(|f| {
                            serde_json::json!({
                                "start": rec.text[..f.start].chars().count(),
                                "end": rec.text[..f.end].chars().count(),
                                "entity": f.label,
                                // f32 → f64 would print 0.8999999761581421.
                                "score": (f64::from(f.score) * 1e4).round() / 1e4,
                            })
                        })
                        .collect();
                    serde_json::json!({"id": rec.id, "findings": findings})
                }
                Err(e) => serde_json::json!({"id": rec.id, "error": e.to_string()}),
            },
            Err(e) => serde_json::json!({"id": null, "error": format!("line {n}: {e}")}),
        };
        writeln!(stdout, "{out}").map_err(io("writing output"))?;
    }
    stdout.flush().map_err(io("writing output"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_on(args: ScanArgs, input: &str) -> (u8, String) {
        let mut out = Vec::new();
        let code = run(&args, &mut input.as_bytes(), &mut out).unwrap();
        let code = if code == ExitCode::SUCCESS { 0 } else { 1 };
        (code, String::from_utf8(out).unwrap())
    }

    #[test]
    fn table_shows_redacted_evidence_only() {
        let (code, out) = run_on(
            ScanArgs::default(),
            "mail jane.doe@example.com, SSN 536-22-8745",
        );
        assert_eq!(code, 1);
        assert!(out.starts_with("ENTITY"), "{out}");
        assert!(
            out.contains("EMAIL_ADDRESS") && out.contains("US_SSN"),
            "{out}"
        );
        assert!(out.contains("[REDACTED:US_SSN]"), "{out}");
        assert!(
            !out.contains("536-22-8745") && !out.contains("jane.doe@"),
            "{out}"
        );
        assert!(out.contains("2 findings"));
        let (code, out) = run_on(ScanArgs::default(), "nothing to see here");
        assert_eq!((code, out.as_str()), (0, "no findings\n"));
    }

    #[test]
    fn json_output_has_pointers() {
        let args = ScanArgs {
            json: true,
            ..Default::default()
        };
        let (code, out) = run_on(args, r#"{"user": {"email": "jane@example.com"}}"#);
        assert_eq!(code, 1);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["count"], 1);
        assert_eq!(v["findings"][0]["pointer"], "/user/email");
        assert_eq!(v["findings"][0]["label"], "EMAIL_ADDRESS");
        assert_eq!(v["findings"][0]["snippet"], "[REDACTED:EMAIL_ADDRESS]");
    }

    #[test]
    fn redact_preserves_json_bytes_and_text() {
        let args = ScanArgs {
            redact: true,
            ..Default::default()
        };
        let src = "{\n  \"note\" : \"card 4111 1111 1111 1111\",\n  \"n\": 4111111111111111\n}\n";
        let (code, out) = run_on(args.clone(), src);
        assert_eq!(code, 0);
        assert_eq!(
            out,
            "{\n  \"note\" : \"card [REDACTED:CREDIT_CARD]\",\n  \"n\": \"[REDACTED:CREDIT_CARD]\"\n}\n"
        );
        let (_, out) = run_on(args, "call +1 415-555-2671 now");
        assert_eq!(out, "call [REDACTED:PHONE_NUMBER] now");
    }

    #[test]
    fn jsonl_contract_uses_code_points_and_streams() {
        let args = ScanArgs {
            jsonl: true,
            ..Default::default()
        };
        let input = "{\"id\": \"a\", \"text\": \"é é jane@example.com\"}\n\n{\"id\": 7, \"text\": \"ref 536228745\"}\nnot json\n";
        let (code, out) = run_on(args.clone(), input);
        assert_eq!(code, 0);
        let lines: Vec<serde_json::Value> = out
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0]["id"], "a");
        assert_eq!(lines[0]["findings"][0]["start"], 4);
        assert_eq!(lines[0]["findings"][0]["end"], 20);
        assert_eq!(lines[0]["findings"][0]["entity"], "EMAIL_ADDRESS");
        assert_eq!(lines[0]["findings"][0]["score"], 0.9);
        // No threshold by default: weak findings come with their scores.
        assert_eq!(lines[1]["id"], 7);
        assert!(
            lines[1]["findings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["entity"] == "US_SSN" && f["score"].as_f64().unwrap() < 0.5)
        );
        assert!(lines[2]["error"].as_str().unwrap().contains("line 4"));
        let args = ScanArgs {
            jsonl: true,
            threshold: Some(0.5),
            ..Default::default()
        };
        let (_, out) = run_on(args.clone(), "{\"id\": 7, \"text\": \"ref 536228745\"}\n");
        assert_eq!(out.trim(), r#"{"id":7,"findings":[]}"#);
        // A JSON tool call: the member key makes an unknown surname a person,
        // and the offsets point into the text itself.
        let text = r#"{"last_name": "Vähäkangas", "note": "ok"}"#;
        let line = serde_json::json!({"id": "j", "text": text}).to_string() + "\n";
        let (_, out) = run_on(args, &line);
        let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        let f = &v["findings"][0];
        assert_eq!(f["entity"], "PERSON");
        let chars: Vec<char> = text.chars().collect();
        let (start, end) = (
            f["start"].as_u64().unwrap() as usize,
            f["end"].as_u64().unwrap() as usize,
        );
        assert_eq!(chars[start..end].iter().collect::<String>(), "Vähäkangas");
    }

    #[test]
    fn rules_file_yaml_and_errors() {
        let dir = std::env::temp_dir().join(format!("gatehouse-scan-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let yaml = dir.join("rules.yaml");
        std::fs::write(
            &yaml,
            "regions: [US]\nentities:\n  - entity: EMAIL_ADDRESS\n    enabled: false\ncustom_rules:\n  - id: emp\n    name: Employee id\n    label: EMPLOYEE_ID\n    pattern: 'EMP-\\d{6}'\n    score: 0.9\n",
        )
        .unwrap();
        let args = ScanArgs {
            rules: Some(yaml.clone()),
            redact: true,
            ..Default::default()
        };
        let (_, out) = run_on(args, "EMP-123456 jane@example.com");
        assert_eq!(out, "[REDACTED:EMPLOYEE_ID] jane@example.com");
        std::fs::write(
            &yaml,
            "custom_rules:\n  - {id: bad, name: Bad, label: B, pattern: '(x'}\n",
        )
        .unwrap();
        let args = ScanArgs {
            rules: Some(yaml.clone()),
            ..Default::default()
        };
        let err = run(&args, &mut "x".as_bytes(), &mut Vec::new())
            .unwrap_err()
            .to_string();
        assert!(err.contains("\"bad\"") && err.contains("pattern"), "{err}");
        std::fs::write(&yaml, "regions: [MARS]\n").unwrap();
        let err = run(&args, &mut "x".as_bytes(), &mut Vec::new())
            .unwrap_err()
            .to_string();
        assert!(err.contains("rules file"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn bad_threshold_and_oversize_input() {
        let args = ScanArgs {
            threshold: Some(2.0),
            ..Default::default()
        };
        assert!(matches!(
            run(&args, &mut "x".as_bytes(), &mut Vec::new()),
            Err(ScanCliError::Usage(_))
        ));
        let (_, out) = run_on(
            ScanArgs {
                threshold: Some(0.0),
                ..Default::default()
            },
            "ref 536228745",
        );
        assert!(out.contains("US_SSN"), "{out}");
    }
}
