#!/usr/bin/env python3
"""Convert presidio-research's synthetic PII dataset into our corpus JSONL.

    python3 convert_presidio_synth.py synth_dataset_v2.json

Source: https://github.com/microsoft/presidio-research, file
data/synth_dataset_v2.json at commit 7622dec1e5f7d25dc60b57c28c39f4c4af197018
(1500 templated English sentences). MIT licence, Copyright (c) Microsoft
Corporation; see SOURCES.md.

Writes presidio_synth_v2.jsonl next to this script, one line per record in
upstream order: {"id": "psynth-<index>", "kind": "presidio-synth", "text",
"labels": [{"start", "end", "entity"}], "ignore": [{"start", "end"}]}.
Offsets are code points, as upstream.

Mapping: GPE -> LOCATION; PERSON, CREDIT_CARD, DATE_TIME, PHONE_NUMBER, NRP,
EMAIL_ADDRESS, IBAN_CODE, US_SSN, IP_ADDRESS and US_DRIVER_LICENSE keep their
names. STREET_ADDRESS, ORGANIZATION, TITLE, AGE, ZIP_CODE and DOMAIN_NAME have
no counterpart in our engine, so their spans go to "ignore": score.py drops an
unmatched prediction that overlaps an ignore span instead of counting it as a
false alarm. A span whose text[start:end] differs from its entity_value is
reported and skipped; any other entity type is an error.

HELD OUT: this set is for evaluation only. Do not tune rules, dictionaries or
thresholds on its errors, or it stops measuring anything.
"""

import json
import os
import sys

RENAME = {"PERSON": "PERSON", "GPE": "LOCATION", "CREDIT_CARD": "CREDIT_CARD", "DATE_TIME": "DATE_TIME",
          "PHONE_NUMBER": "PHONE_NUMBER", "NRP": "NRP", "EMAIL_ADDRESS": "EMAIL_ADDRESS",
          "IBAN_CODE": "IBAN_CODE", "US_SSN": "US_SSN", "IP_ADDRESS": "IP_ADDRESS",
          "US_DRIVER_LICENSE": "US_DRIVER_LICENSE"}
IGNORE = {"STREET_ADDRESS", "ORGANIZATION", "TITLE", "AGE", "ZIP_CODE", "DOMAIN_NAME"}


def main():
    records = json.load(open(sys.argv[1], encoding="utf-8"))
    dst = os.path.join(os.path.dirname(os.path.abspath(__file__)), "presidio_synth_v2.jsonl")
    skipped = 0
    with open(dst, "w", encoding="utf-8", newline="\n") as out:
        for i, r in enumerate(records):
            text, labels, ignore = r["full_text"], [], []
            for s in sorted(r["spans"], key=lambda s: (s["start_position"], s["end_position"])):
                a, b, e = s["start_position"], s["end_position"], s["entity_type"]
                if text[a:b] != s["entity_value"]:
                    print(f"psynth-{i}: {e} [{a}:{b}] does not match entity_value; skipped", file=sys.stderr)
                    skipped += 1
                elif e in RENAME:
                    labels.append({"start": a, "end": b, "entity": RENAME[e]})
                elif e in IGNORE:
                    ignore.append({"start": a, "end": b})
                else:
                    sys.exit(f"psynth-{i}: unmapped entity type {e}")
            out.write(json.dumps({"id": f"psynth-{i}", "kind": "presidio-synth", "text": text,
                                  "labels": labels, "ignore": ignore}, ensure_ascii=False) + "\n")
    print(f"{len(records)} records -> {dst}; {skipped} spans skipped for offset mismatch", file=sys.stderr)


if __name__ == "__main__":
    main()
