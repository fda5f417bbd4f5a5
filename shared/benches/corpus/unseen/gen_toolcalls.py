#!/usr/bin/env python3
"""Held-out tool-call evaluation set, values from a generator we never tuned on.

Writes `toolcalls_mimesis.jsonl` (corpus format: id, kind, text, labels,
ignore; offsets in code points) from fixed seeds. Every personal value comes
from Mimesis (MIT), a fake-data library whose name, place and phone tables
are its own: the engine's tables come from Faker and GeoNames, never from
Mimesis. The tool-call shapes below were written here, once, before the set
was first scored, and are not changed to suit the engine; the set is scored,
never read error by error (see SOURCES.md).

    python3 -m venv /tmp/mv && /tmp/mv/bin/pip install mimesis==22.2.0
    /tmp/mv/bin/python gen_toolcalls.py            # rewrites the .jsonl
"""

import json
import os
import random

from mimesis import (Address, Code, Cryptographic, Datetime, Development, File,
                     Finance, Internet, Locale, Payment, Person, Text)
from mimesis.enums import CardType

N_RECORDS = 800
SEED = 20261207
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "toolcalls_mimesis.jsonl")

LOCALES = list(Locale)
# Locales whose person tables Mimesis writes in a Latin script, for the
# templates that greet someone in English.
rng = random.Random(SEED)


class Doc:
    """Builds a text from segments, remembering labelled spans in code points."""

    def __init__(self):
        self.parts = []
        self.len = 0
        self.labels = []
        self.ignore = []

    def raw(self, s):
        self.parts.append(s)
        self.len += len(s)

    def span(self, s, entity):
        start = self.len
        self.raw(s)
        if entity == "IGNORE":
            self.ignore.append({"start": start, "end": self.len})
        elif entity:
            self.labels.append({"start": start, "end": self.len, "entity": entity})

    def text(self):
        return "".join(self.parts)


class Seg(list):
    """A string value built from (text, entity) segments."""


def esc(s):
    """A JSON string body (no quotes), as json.dumps writes it, non-ASCII kept."""
    return json.dumps(s, ensure_ascii=False)[1:-1]


def emit(doc, v):
    """Serialise a value; a string value may be a list of (text, entity) segments."""
    if isinstance(v, dict):
        doc.raw("{")
        for i, (k, x) in enumerate(v.items()):
            if i:
                doc.raw(", ")
            doc.raw(json.dumps(k) + ": ")
            emit(doc, x)
        doc.raw("}")
    elif isinstance(v, Seg):
        doc.raw('"')
        for text, ent in v:
            doc.span(esc(text), ent)
        doc.raw('"')
    elif isinstance(v, list):
        doc.raw("[")
        for i, x in enumerate(v):
            if i:
                doc.raw(", ")
            emit(doc, x)
        doc.raw("]")
    elif isinstance(v, tuple):
        doc.raw('"')
        doc.span(esc(v[0]), v[1])
        doc.raw('"')
    else:
        doc.raw(json.dumps(v, ensure_ascii=False))


def providers(loc, seed):
    return dict(
        person=Person(loc, seed=seed), addr=Address(loc, seed=seed), dt=Datetime(loc, seed=seed),
        text=Text(loc, seed=seed), fin=Finance(loc, seed=seed), pay=Payment(seed=seed),
        net=Internet(seed=seed), code=Code(seed=seed), crypto=Cryptographic(seed=seed),
        dev=Development(seed=seed), file=File(seed=seed),
    )


CARDS = [CardType.VISA, CardType.MASTER_CARD, CardType.AMERICAN_EXPRESS]


def t_contact(p):
    name = p["person"].full_name()
    return "crm.create_contact", {
        "name": (name, "PERSON"), "email": (p["person"].email(), "EMAIL_ADDRESS"),
        "phone": (p["person"].telephone(), "PHONE_NUMBER"), "city": (p["addr"].city(), "LOCATION"),
        "country": (p["addr"].country(), "LOCATION"), "company": (p["fin"].company(), "IGNORE"),
    }


def t_split_name(p):
    return "hr.update_employee", {
        "employee": {"first_name": (p["person"].first_name(), "PERSON"),
                     "last_name": (p["person"].last_name(), "PERSON"),
                     "date_of_birth": (p["person"].birthdate().isoformat(), "DATE_TIME"),
                     "nationality": (p["person"].nationality(), "NRP")},
        "department": p["person"].occupation(), "active": True,
    }


def t_email(p):
    first = p["person"].first_name()
    return "email.send", {
        "to": [(p["person"].email(), "EMAIL_ADDRESS")],
        "subject": "Follow-up",
        "body": Seg([("Hi ", None), (first, "PERSON"), (", thanks for the call. You can reach me on ", None),
                 (p["person"].telephone(), "PHONE_NUMBER"), (". ", None), (p["text"].sentence(), "IGNORE")]),
    }


def t_ticket(p):
    return "tickets.create", {
        "title": "Duplicate charge",
        "description": Seg([("Customer ", None), (p["person"].full_name(), "PERSON"), (" from ", None),
                        (p["addr"].city(), "LOCATION"), (" says card ", None),
                        (p["pay"].credit_card_number(rng.choice(CARDS)), "CREDIT_CARD"),
                        (" was charged twice on ", None), (p["dt"].formatted_date(), "DATE_TIME"), (".", None)]),
        "priority": rng.choice(["low", "normal", "high"]),
    }


def t_refund(p):
    return "payments.refund", {
        "card_number": (p["pay"].credit_card_number(rng.choice(CARDS)), "CREDIT_CARD"),
        "cardholder": (p["person"].full_name(), "PERSON"),
        "expires": p["pay"].credit_card_expiration_date(), "amount": p["fin"].price(),
        "currency": p["fin"].currency_iso_code(),
    }


def t_sql(p):
    doc_sql = Seg([("SELECT id, plan FROM customers WHERE email = '", None), (p["person"].email(), "EMAIL_ADDRESS"),
               ("' OR last_name = '", None), (p["person"].last_name(), "PERSON"), ("' LIMIT 20", None)])
    return "db.query", {"sql": doc_sql, "database": "crm"}


def t_log(p):
    ts = p["dt"].datetime().isoformat()
    line = Seg([(ts, "IGNORE"), (" WARN auth failed for ", None), (p["person"].email(), "EMAIL_ADDRESS"),
            (" from ", None), (p["net"].ip_v4(), "IP_ADDRESS"), (" (", None), (p["net"].user_agent(), None),
            (")", None)])
    return "logs.search", {"query": line, "limit": 50}


def t_ipv6(p):
    return "firewall.block", {"address": (p["net"].ip_v6(), "IP_ADDRESS"), "reason": (p["text"].sentence()[:60], "IGNORE"),
                              "ttl_seconds": 3600}


def t_meeting(p):
    return "calendar.create_event", {
        "title": Seg([("Interview with ", None), (p["person"].full_name(), "PERSON")]),
        "location": (p["addr"].city(), "LOCATION"),
        "date": (p["dt"].date().isoformat(), "DATE_TIME"),
        "attendees": [(p["person"].email(), "EMAIL_ADDRESS"), (p["person"].email(), "EMAIL_ADDRESS")],
    }


def t_shipping(p):
    return "orders.update_shipping", {
        "order_id": "ORD-" + str(rng.randint(100000, 999999)),
        "recipient": (p["person"].full_name(), "PERSON"),
        "address": {"street": (p["addr"].address(), "IGNORE"), "postal_code": (p["addr"].postal_code(), "IGNORE"),
                    "city": (p["addr"].city(), "LOCATION"), "country": (p["addr"].country(), "LOCATION")},
        "phone": (p["person"].telephone(), "PHONE_NUMBER"),
    }


def t_note(p):
    return "notes.append", {
        "text": Seg([(p["person"].full_name(), "PERSON"), (" moved to ", None), (p["addr"].city(), "LOCATION"),
                 (" and asked us to update the billing contact to ", None), (p["person"].email(), "EMAIL_ADDRESS"),
                 (". ", None), (p["text"].sentence(), "IGNORE")]),
    }


def t_webhook(p):
    return "http.request", {"method": p["net"].http_method(), "url": (p["net"].url(), "URL"),
                            "headers": {"Content-Type": p["net"].content_type().split(": ")[-1]}}


# Records with no personal data: identifiers, versions, file names, hashes,
# product codes, prose in the locale's language.
def t_deploy(p):
    return "deploy.release", {
        "service": p["net"].slug(), "version": p["dev"].version(), "artifact": p["file"].file_name(),
        "build_id": p["crypto"].uuid(), "commit": p["crypto"].hash(), "region": p["net"].cloud_region(),
        "host": (p["net"].hostname(), "IGNORE"), "port": p["net"].port(),
    }


def t_inventory(p):
    return "inventory.lookup", {"isbn": p["code"].isbn(), "ean": p["code"].ean(), "imei": p["code"].imei(),
                                "issn": p["code"].issn(), "ticker": p["fin"].stock_ticker(),
                                "price": p["fin"].price(), "quantity": rng.randint(1, 500)}


def t_files(p):
    return "files.read", {"path": "/srv/data/" + p["file"].file_name(), "mime": p["file"].mime_type(),
                          "max_bytes": rng.choice([4096, 65536, 1048576])}


def t_summarise(p):
    return "docs.summarise", {"text": (p["text"].text(3), "IGNORE"), "language": p["person"].language(),
                              "max_words": 120}


def t_metrics(p):
    return "metrics.query", {"expr": "rate(http_requests_total{status=\"" + str(p["net"].http_status_code())
                             + "\"}[5m])", "mac": p["net"].mac_address(), "asn": p["net"].asn(),
                             "path": p["net"].path(), "os": p["dev"].os(), "license": p["dev"].software_license()}


WITH_PII = [t_contact, t_split_name, t_email, t_ticket, t_refund, t_sql, t_log, t_ipv6, t_meeting,
            t_shipping, t_note, t_webhook]
WITHOUT_PII = [t_deploy, t_inventory, t_files, t_summarise, t_metrics]


def write_set(out_path, n, seed, rng, with_pii, without_pii, prefix, stride=1):
    """Write `n` tool calls, one locale per record in turn (every `stride`-th),
    about three in ten without personal data; prints a summary."""
    out = []
    for i in range(n):
        loc = LOCALES[(i * stride) % len(LOCALES)]
        p = providers(loc, seed + i)
        clean = rng.random() < 0.3
        tool, args = rng.choice(without_pii if clean else with_pii)(p)
        doc = Doc()
        emit(doc, {"tool": tool, "arguments": args})
        out.append({"id": f"{prefix}-{i}", "kind": f"toolcall-{loc.value}", "text": doc.text(),
                    "labels": doc.labels, "ignore": doc.ignore})
    with open(out_path, "w", encoding="utf-8") as f:
        for r in out:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    n_labels = sum(len(r["labels"]) for r in out)
    print(f"{len(out)} records, {n_labels} labels, {sum(1 for r in out if not r['labels'])} without labels -> {out_path}")


def main():
    write_set(OUT, N_RECORDS, SEED, rng, WITH_PII, WITHOUT_PII, "mim")


if __name__ == "__main__":
    main()
