//! Throughput benchmark: MB/s per core with every detector and region on, on
//! JSON tool arguments of about 1 KB, 4 KB and 64 KB; compile time and memory
//! of the compiled default set; size of the embedded gazetteer data.
//!
//! Run: `cargo bench -p shared --bench throughput` (single thread; figures go
//! into BENCHMARKS.md).

use std::hint::black_box;
use std::time::{Duration, Instant};

use shared::detect::{CompiledRules, Entity, EntitySetting, RuleSet, ScanOptions};

/// Deterministic pseudo-random numbers (no `rand` dependency for a bench).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[(self.next() as usize) % xs.len()]
    }
}

const PROSE: &[&str] = &[
    "Please summarise the open issues for the payments service and list the owners.",
    "The nightly job failed after the migration; see the stack trace below for details.",
    "Customer asked why the invoice total changed between March and April.",
    "Refactor the retry logic so that transient network errors back off exponentially.",
    "Select the ten most recent orders that have not shipped yet and show their status.",
    "Update the README with the new configuration flags and an example for staging.",
    "Can you check whether the cache is warmed before the load balancer sends traffic?",
    "Ticket escalated by the support team; the user cannot reset their password.",
];
const PII: &[&str] = &[
    "Contact Maria Garcia at maria.garcia@example.com or +1 415-555-2671.",
    "Card on file 4111 1111 1111 1111, billing zip 94107.",
    "SSN 536-22-8745 was entered in the wrong field.",
    "Wire to IBAN DE89 3704 0044 0532 0130 00 by Friday.",
    "Server 10.20.30.40 rejected the key AKIAIOSFODNN7EXAMPLE.",
    "Patient DOB 1984-07-19, NHS number 943 476 5919, lives in Manchester.",
];
const CODE: &[&str] = &[
    "SELECT id, status, total FROM orders WHERE created_at > now() - interval '7 days' ORDER BY id DESC LIMIT 10;",
    "2024-05-02T10:22:01.123Z INFO worker[3] processed batch 8812 in 231ms (ok=200 failed=0)",
    "fn main() { let v = vec![1, 2, 3]; println!(\"{:?}\", v.iter().sum::<i32>()); }",
    "order_id=ORD-2024-000184 sku=SKU-88213 qty=2 price=19.99 version=3.14.2 uuid=5f0c2e3a-8b1d-4c7e-9a2b-1d3e5f7a9c0b",
];

fn tool_args(target: usize, rng: &mut Lcg) -> String {
    // A short call, the commonest kind: a few fields, no personal data.
    if target <= 128 {
        return r#"{"path":"/srv/app/config.yaml","query":"status of order 88123 for the billing team","limit":25}"#.to_owned();
    }
    let mut items = Vec::new();
    let mut size = 0;
    let mut i = 0;
    while size < target {
        let text = match rng.next() % 10 {
            0 => rng.pick(PII),
            1..=3 => rng.pick(CODE),
            _ => rng.pick(PROSE),
        };
        let item = serde_json::json!({
            "id": i,
            "kind": rng.pick(&["note", "query", "log", "comment"]),
            "text": text,
            "count": rng.next() % 100_000,
            "tags": ["triage", "backend"],
        });
        size += item.to_string().len();
        items.push(item);
        i += 1;
    }
    serde_json::json!({"tool": "tickets.search", "arguments": {"items": items}}).to_string()
}

fn rss_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// CPU time of this thread in seconds (user + system), so figures are per
/// core even when the machine is busy; falls back to wall time.
fn cpu_seconds() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are 14 and 15.
    let rest = &s[s.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// Run `f` repeatedly for at least `min_time` of CPU time; MB/s per core.
fn rate(bytes: usize, min_time: Duration, mut f: impl FnMut()) -> f64 {
    f();
    let wall = Instant::now();
    let cpu0 = cpu_seconds();
    let mut iters = 0u64;
    // Reading the CPU clock (/proc) costs microseconds: between two readings
    // scan about a megabyte, so a 100-byte input is not timed mostly on the clock.
    let batch = (1 << 20) / bytes.max(1);
    let batch = batch.clamp(8, 16_384) as u64;
    loop {
        for _ in 0..batch {
            f();
        }
        iters += batch;
        let elapsed = match (cpu0, cpu_seconds()) {
            (Some(a), Some(b)) => b - a,
            _ => wall.elapsed().as_secs_f64(),
        };
        if elapsed >= min_time.as_secs_f64() && iters >= 16 {
            return bytes as f64 * iters as f64 / elapsed / 1e6;
        }
    }
}

/// MB/s over a set of documents, each scanned once per round: the
/// parsed-value walk reporting every finding, the same walk with thresholds
/// applied (what the gateway calls on every tool call), and the raw-text walk.
fn measure(rules: &CompiledRules, docs: &[String], min_time: Duration) -> (f64, f64, f64) {
    let values: Vec<serde_json::Value> = docs
        .iter()
        .map(|d| serde_json::from_str(d).unwrap_or_default())
        .collect();
    let bytes: usize = docs.iter().map(String::len).sum();
    let scan = rate(bytes, min_time, || {
        for v in &values {
            black_box(rules.scan_json_with(black_box(v), ScanOptions::ALL).ok());
        }
    });
    let gateway = rate(bytes, min_time, || {
        for v in &values {
            black_box(rules.scan_json(black_box(v)).ok());
        }
    });
    let raw = rate(bytes, min_time, || {
        for d in docs {
            black_box(rules.scan_json_str(black_box(d), ScanOptions::ALL).ok());
        }
    });
    (scan, gateway, raw)
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let min_time = Duration::from_millis(if quick { 300 } else { 2000 });
    let rss0 = rss_kib();
    let t = Instant::now();
    let rules = match CompiledRules::compile(&RuleSet::all_regions()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("compile failed: {e}");
            std::process::exit(1);
        }
    };
    let compile = t.elapsed();
    let t = Instant::now();
    let _ = rules.scan_text("warm up +1 415-555-2671 John Smith in London, 2024-01-02");
    let first_scan = t.elapsed();
    let rss1 = rss_kib();
    let t = Instant::now();
    let again =
        CompiledRules::compile(&RuleSet::all_regions()).map(|r| black_box(r).limits().max_depth);
    let recompile = t.elapsed();
    black_box(again.ok());
    println!(
        "compile (all regions): first in process {:.1} ms (loads phone metadata), then {:.3} ms",
        compile.as_secs_f64() * 1e3,
        recompile.as_secs_f64() * 1e3
    );
    // One validated phone number costs far more than ordinary text: measure it.
    let with_phone = "please call +1 415-555-2671 tomorrow";
    let without = "please call the office tomorrow at noon";
    let per_call = |s: &str| {
        let n = 2000;
        let t = Instant::now();
        for _ in 0..n {
            black_box(rules.scan_text_all(black_box(s)));
        }
        t.elapsed().as_secs_f64() * 1e6 / n as f64
    };
    let (p, q) = (per_call(with_phone), per_call(without));
    println!("one short text with a phone number: {p:.1} µs; same length without: {q:.1} µs");
    println!(
        "first scan (loads gazetteer, TLDs, phone metadata): {:.1} ms",
        first_scan.as_secs_f64() * 1e3
    );
    if let (Some(a), Some(b)) = (rss0, rss1) {
        println!(
            "resident memory added by compile + first scan: {} KiB",
            b.saturating_sub(a)
        );
    }
    println!(
        "embedded gazetteer + TLD data: {} KiB",
        shared::detect::gazetteer_bytes() / 1024
    );
    let profiling = std::env::args().any(|a| a == "--family");
    let mut rng = Lcg(42);
    println!(
        "| input | documents | mean bytes | scan_json_all (parsed Value, every finding) MB/s | µs per document | scan_json (thresholds, as the gateway) MB/s | scan_json_str (raw text, every finding) MB/s |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (name, size) in [
        ("100 B", 100),
        ("1 KB", 1024),
        ("4 KB", 4096),
        ("64 KB", 65536),
    ] {
        if profiling {
            break;
        }
        // One document of a size is one draw of the generator (a 1 KB
        // document is seven items, and how many of them hold personal data
        // moves its figure by a third): average over several draws. The
        // 100-byte call is always the same text.
        let n = match size {
            100 => 1,
            65536 => 4,
            _ => 16,
        };
        let docs: Vec<String> = (0..n).map(|_| tool_args(size, &mut rng)).collect();
        if std::env::args().any(|a| a == "--dump") {
            for doc in &docs {
                eprintln!("{doc}");
            }
        }
        let (scan, gateway, raw) = measure(&rules, &docs, min_time);
        let mean = docs.iter().map(String::len).sum::<usize>() / n;
        // MB/s is bytes per µs, so bytes / (MB/s) is µs per document.
        let us = mean as f64 / scan;
        println!("| {name} | {n} | {mean} | {scan:.1} | {us:.2} | {gateway:.1} | {raw:.1} |");
    }
    let prose: String = (0..2000)
        .map(|_| rng.pick(PROSE))
        .collect::<Vec<_>>()
        .join(" ");
    let r = if profiling {
        0.0
    } else {
        rate(prose.len(), min_time, || {
            black_box(rules.scan_text_all(black_box(&prose)));
        })
    };
    println!("plain prose text ({} KB): {r:.1} MB/s", prose.len() / 1024);
    // Where the time goes: the same 64 KB document with one detector family at a time.
    let doc = tool_args(65536, &mut Lcg(7));
    let value: serde_json::Value = serde_json::from_str(&doc).unwrap_or_default();
    println!("breakdown on 64 KB (scan_json, MB/s per core):");
    let injection: Vec<Entity> = Entity::ALL
        .iter()
        .copied()
        .filter(|e| e.is_injection())
        .collect();
    let families: &[(&str, &[Entity])] = &[
        ("no detectors (walk only)", &[]),
        (
            "numeric (cards, ids, phones, dates, IPv4)",
            &[
                Entity::CreditCard,
                Entity::UsSsn,
                Entity::PhoneNumber,
                Entity::DateTime,
                Entity::IpAddress,
                Entity::UsBankNumber,
            ],
        ),
        (
            "chunks (email, URL, IBAN, secrets, crypto)",
            &[
                Entity::EmailAddress,
                Entity::Url,
                Entity::IbanCode,
                Entity::AwsAccessKey,
                Entity::Crypto,
                Entity::GenericSecret,
            ],
        ),
        (
            "words (PERSON, LOCATION, NRP)",
            &[Entity::Person, Entity::Location, Entity::Nrp],
        ),
        ("prompt injection (PROMPT_INJECTION_*)", &injection),
    ];
    // `--family N` loops one family for profiling (`perf record`).
    let only: Option<usize> = std::env::args()
        .skip_while(|a| a != "--family")
        .nth(1)
        .and_then(|v| v.parse().ok());
    for (k, (name, ents)) in families.iter().enumerate() {
        if only.is_some_and(|o| o != k) {
            continue;
        }
        let set = RuleSet {
            only_listed: true,
            entities: ents.iter().map(|&e| EntitySetting::new(e)).collect(),
            ..RuleSet::all_regions()
        };
        let Ok(r) = CompiledRules::compile(&set) else {
            continue;
        };
        let mbs = rate(doc.len(), min_time, || {
            black_box(r.scan_json_with(black_box(&value), ScanOptions::ALL).ok());
        });
        println!("  {name}: {mbs:.1}");
    }
}
