#!/usr/bin/env python3
"""Score JSONL predictions against the labelled corpus.

    python3 score.py corpus.jsonl predictions.jsonl

Predictions use the `gatehouse scan --jsonl` format: one line per record,
{"id": "...", "findings": [{"start", "end", "entity", "score"}]}, offsets in
code points. Matching is the same as the Rust accuracy benchmark: same entity,
intersection-over-union >= 0.5, each gold span matched at most once. Prints
per-entity precision / recall / F1 at thresholds 0 and 0.5.

A gold record may also carry "ignore": [{"start", "end"}] (text whose entity
type we do not label, e.g. street addresses in the third-party set). A
prediction that matches no gold label and overlaps an ignore span counts as
neither a hit nor a false alarm. "Records without PII flagged" counts records
with no labels that keep at least one such counted false alarm.
"""

import json
import sys

# Entities the corpus can label; predictions of anything else (Presidio's
# ORGANIZATION, UUID, …) are ignored rather than counted as false alarms.
KNOWN = {"PERSON", "LOCATION", "NRP", "EMAIL_ADDRESS", "PHONE_NUMBER", "IP_ADDRESS", "URL", "DATE_TIME",
         "CREDIT_CARD", "IBAN_CODE", "CRYPTO", "MEDICAL_LICENSE", "US_SSN", "US_ITIN", "US_PASSPORT",
         "US_DRIVER_LICENSE", "US_BANK_NUMBER", "UK_NHS", "UK_NINO", "ES_NIF", "IT_FISCAL_CODE", "AU_TFN",
         "IN_PAN", "IN_AADHAAR", "SG_NRIC_FIN", "AWS_ACCESS_KEY", "GOOGLE_API_KEY", "GITHUB_TOKEN",
         "SLACK_TOKEN", "STRIPE_KEY", "PRIVATE_KEY", "JWT", "DATABASE_URL", "GENERIC_SECRET"}
SECRETS = {"AWS_ACCESS_KEY", "GOOGLE_API_KEY", "GITHUB_TOKEN", "SLACK_TOKEN", "STRIPE_KEY",
           "PRIVATE_KEY", "JWT", "DATABASE_URL", "GENERIC_SECRET"}


def iou(a, b):
    inter = max(0, min(a[1], b[1]) - max(a[0], b[0]))
    union = max(a[1], b[1]) - min(a[0], b[0])
    return inter / union if union else 0.0


def prf(c):
    tp, fp, fn = c
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def load(path):
    """Predictions by record id, from a JSONL file."""
    out = {}
    for line in open(path, encoding="utf-8"):
        if line.strip():
            d = json.loads(line)
            out[d["id"]] = d["findings"]
    return out


def count(gold, preds, t, keep=lambda e: True):
    """Per-entity [TP, FP, FN] at threshold `t` for the entities `keep`
    accepts, and how many records without labels get a finding. Findings that
    match nothing inside a record's `ignore` spans are left out."""
    counts, flagged = {}, 0
    for r in gold:
        ps = [p for p in preds.get(r["id"], []) if p["score"] >= t and p["entity"] in KNOWN and keep(p["entity"])]
        used = [False] * len(ps)
        for g in r["labels"]:
            if not keep(g["entity"]):
                continue
            best, bi = 0.5, None
            for i, p in enumerate(ps):
                if not used[i] and p["entity"] == g["entity"]:
                    v = iou((g["start"], g["end"]), (p["start"], p["end"]))
                    if v >= best:
                        best, bi = v, i
            c = counts.setdefault(g["entity"], [0, 0, 0])
            if bi is None:
                c[2] += 1
            else:
                used[bi] = True
                c[0] += 1
        ignore = [(x["start"], x["end"]) for x in r.get("ignore", [])]
        fps = [p for i, p in enumerate(ps) if not used[i]
               and not any(min(b, p["end"]) > max(a, p["start"]) for a, b in ignore)]
        for p in fps:
            counts.setdefault(p["entity"], [0, 0, 0])[1] += 1
        if not r["labels"] and fps:
            flagged += 1
    return counts, flagged


def main():
    gold = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8") if l.strip()]
    preds = load(sys.argv[2])
    for t in (0.0, 0.5):
        counts, flagged = count(gold, preds, t)
        for title, keep in (("all entities", lambda e: True), ("Presidio's entities only (no secrets)", lambda e: e not in SECRETS)):
            print(f"\n### threshold {t} — {title}")
            print("| entity | precision | recall | F1 | TP | FP | FN |")
            print("|---|---|---|---|---|---|---|")
            tot = [0, 0, 0]
            for e in sorted(counts):
                if not keep(e):
                    continue
                c = counts[e]
                p, rr, f = prf(c)
                print(f"| {e} | {p:.3f} | {rr:.3f} | {f:.3f} | {c[0]} | {c[1]} | {c[2]} |")
                tot = [a + b for a, b in zip(tot, c)]
            p, rr, f = prf(tot)
            print(f"| **micro** | {p:.3f} | {rr:.3f} | **{f:.3f}** | {tot[0]} | {tot[1]} | {tot[2]} |")
        empty = sum(1 for r in gold if not r["labels"])
        print(f"\nthreshold {t}: records without PII flagged: {flagged}/{empty}")


if __name__ == "__main__":
    main()
