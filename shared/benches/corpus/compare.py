#!/usr/bin/env python3
"""Side-by-side per-entity table of two tools' predictions on one corpus.

    python3 compare.py CORPUS.jsonl OURS.jsonl PRESIDIO.jsonl

Same matching as score.py (same entity, IoU >= 0.5, each gold span once;
findings that match nothing inside a record's `ignore` spans are left out).
Prints Markdown: precision / recall / F1 at threshold 0.5 and F1 at 0 for
each tool, the gold count, micro totals, and the records without labels that
get at least one finding at 0.5 — the tables in BENCHMARKS.md.
"""

import json
import sys

from score import SECRETS, count, load, prf


def cells(c):
    """Precision, recall, F1 as text; "—" where nothing was found or labelled."""
    tp, fp, fn = c
    p, r, f = prf(c)
    return ["—" if tp + fp == 0 else f"{p:.3f}",
            "—" if tp + fn == 0 else f"{r:.3f}",
            "—" if tp + fp + fn == 0 else f"{f:.3f}"]


def main():
    gold = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8") if l.strip()]
    ours, theirs = load(sys.argv[2]), load(sys.argv[3])
    empty = sum(1 for r in gold if not r["labels"])
    for title, keep in (("all entities", lambda e: True),
                        ("Presidio's entities only (no secrets)", lambda e: e not in SECRETS)):
        table = {name: {t: count(gold, p, t, keep) for t in (0.0, 0.5)} for name, p in (("ours", ours), ("presidio", theirs))}
        print(f"\n{title}, threshold 0.5 (F1 at 0 alongside):\n")
        print("| entity | ours P | ours R | ours F1 @0.5 | ours F1 @0 | Presidio P | Presidio R | Presidio F1 @0.5 | Presidio F1 @0 | gold |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        ents = sorted(set().union(*(table[n][t][0] for n in table for t in table[n])))
        tot = {n: {t: [0, 0, 0] for t in (0.0, 0.5)} for n in table}
        for e in ents:
            row = [e]
            gold_n = 0
            for n in ("ours", "presidio"):
                c5 = table[n][0.5][0].get(e, [0, 0, 0])
                c0 = table[n][0.0][0].get(e, [0, 0, 0])
                gold_n = max(gold_n, c5[0] + c5[2])
                row += cells(c5) + [cells(c0)[2]]
                for t, c in ((0.5, c5), (0.0, c0)):
                    tot[n][t] = [a + b for a, b in zip(tot[n][t], c)]
            # Entities the corpus never labels matter only through false alarms.
            if gold_n == 0 and all(table[n][0.5][0].get(e, [0, 0, 0])[1] == 0 for n in table):
                continue
            print("| " + " | ".join(row + [str(gold_n)]) + " |")
        row = ["**micro**"]
        for n in ("ours", "presidio"):
            p, r, f = prf(tot[n][0.5])
            row += [f"{p:.3f}", f"{r:.3f}", f"**{f:.3f}**", f"{prf(tot[n][0.0])[2]:.3f}"]
        print("| " + " | ".join(row + [str(tot['ours'][0.5][0] + tot['ours'][0.5][2])]) + " |")
    print(f"\nrecords without labels flagged at 0.5: ours {count(gold, ours, 0.5, lambda e: True)[1]}/{empty}, "
          f"Presidio {count(gold, theirs, 0.5, lambda e: True)[1]}/{empty}")


if __name__ == "__main__":
    main()
