#!/usr/bin/env python3
"""A second held-out tool-call set, scored blind.

`toolcalls_mimesis.jsonl` (gen_toolcalls.py) was scored and the engine was
then changed guided by its error categories, so its figure is no longer a
blind estimate. This set was written afterwards with new tool-call shapes,
new member keys and phrasings and another seed, and scored once before any
change; it is never used to guide one (see SOURCES.md).

    /tmp/mv/bin/python gen_toolcalls_b.py      # rewrites toolcalls_mimesis_b.jsonl
"""

import os
import random

from gen_toolcalls import CARDS, Seg, providers, write_set

N_RECORDS = 600
SEED = 71207
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "toolcalls_mimesis_b.jsonl")
rng = random.Random(SEED)


def t_reply(p):
    return "support.reply", {
        "ticketId": f"T-{rng.randint(10000, 99999)}",
        "message": Seg([("Dear ", None), (p["person"].full_name(), "PERSON"), (", your parcel to ", None),
                        (p["addr"].city(), "LOCATION"), (" ships on ", None), (p["dt"].formatted_date(), "DATE_TIME"),
                        (". Questions? Call ", None), (p["person"].telephone(), "PHONE_NUMBER"), (".", None)]),
        "cc": [(p["person"].email(), "EMAIL_ADDRESS")],
    }


def t_upsert(p):
    return "contacts.upsert", {"contact": {
        "givenName": (p["person"].first_name(), "PERSON"), "familyName": (p["person"].last_name(), "PERSON"),
        "homeTown": (p["addr"].city(), "LOCATION"), "mobileNumber": (p["person"].telephone(), "PHONE_NUMBER"),
        "workEmail": (p["person"].email(), "EMAIL_ADDRESS")}}


def t_charge(p):
    return "billing.charge", {"customer": (p["person"].full_name(), "PERSON"),
                              "card": {"number": (p["pay"].credit_card_number(rng.choice(CARDS)), "CREDIT_CARD"),
                                       "cvc": str(p["pay"].cvv()), "expiry": p["pay"].credit_card_expiration_date()},
                              "amount": p["fin"].price()}


def t_travel(p):
    return "travel.book", {"traveller": (p["person"].full_name(), "PERSON"), "from": (p["addr"].city(), "LOCATION"),
                           "to": (p["addr"].city(), "LOCATION"), "departure": (p["dt"].date().isoformat(), "DATE_TIME"),
                           "passportCountry": (p["addr"].country(), "LOCATION")}


def t_search(p):
    return "crm.search", {"query": Seg([("customers named ", None), (p["person"].last_name(), "PERSON"),
                                        (" in ", None), (p["addr"].country(), "LOCATION")]), "pageSize": 20}


def t_access_log(p):
    ts = p["dt"].datetime().strftime("%d/%b/%Y:%H:%M:%S +0000")
    line = Seg([(p["net"].ip_v4(), "IP_ADDRESS"), (" - - [", None), (ts, "IGNORE"),
                ('] "GET /login HTTP/1.1" 401 ' + str(rng.randint(100, 9999)) + ' "-" "', None),
                (p["net"].user_agent(), None), ('"', None)])
    return "audit.ingest", {"entries": [line]}


def t_hr_note(p):
    return "hr.note", {"body": Seg([(p["person"].full_name(), "PERSON"), (" (", None), (p["person"].nationality(), "NRP"),
                                    (") joined on ", None), (p["dt"].formatted_date(), "DATE_TIME"),
                                    (" and relocated from ", None), (p["addr"].city(), "LOCATION"), (", ", None),
                                    (p["addr"].country(), "LOCATION"), (".", None)])}


def t_sms(p):
    return "sms.send", {"to": (p["person"].telephone(), "PHONE_NUMBER"),
                        "text": Seg([("Hello ", None), (p["person"].first_name(), "PERSON"),
                                     (", your sign-in code is ", None), (str(rng.randint(100000, 999999)), None)])}


def t_build(p):
    return "build.status", {"pipeline": p["net"].slug(), "buildNumber": rng.randint(1, 99999),
                            "commitSha": p["crypto"].hash(), "artifacts": [p["file"].file_name(), p["file"].file_name()],
                            "tag": "v" + p["dev"].version(), "runner": (p["net"].hostname(), "IGNORE")}


def t_inventory(p):
    return "inventory.adjust", {"items": [{"ean": p["code"].ean(), "qty": rng.randint(1, 90),
                                           "bin": f"{rng.choice('ABCD')}-{rng.randint(1, 40)}-{rng.randint(1, 9)}"}
                                          for _ in range(rng.randint(1, 3))], "reason": "cycle count"}


def t_geo(p):
    return "geo.lookup", {"lat": p["addr"].latitude(), "lng": p["addr"].longitude(), "ip": (p["net"].ip_v4(), "IP_ADDRESS")}


def t_kb(p):
    return "kb.search", {"q": "how to rotate " + p["net"].slug().replace("-", " ") + " keys",
                         "filters": {"locale": p["person"].language(), "mime": p["file"].mime_type()}}


WITH_PII = [t_reply, t_upsert, t_charge, t_travel, t_search, t_access_log, t_hr_note, t_sms, t_geo]
WITHOUT_PII = [t_build, t_inventory, t_kb]


def main():
    write_set(OUT, N_RECORDS, SEED, rng, WITH_PII, WITHOUT_PII, "mimb", stride=7)


if __name__ == "__main__":
    main()
