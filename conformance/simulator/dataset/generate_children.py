#!/usr/bin/env python3
"""Writes children.json, the CP-IS simulator's shipped dataset (standard library only).

Every person, number, organisation and telephone number here is fictitious: NHS numbers come
from the range reserved for test data (999 000 0000 - 999 999 9999, valid modulus 11), phone
numbers from Ofcom's drama range (01632 960xxx, written as digits only, as the HL7 v3 telecom
value carries them), ODS-like codes start with X or Z.

    python3 conformance/simulator/dataset/generate_children.py > conformance/simulator/dataset/children.json

The output is deterministic: the same script always writes the same file.
"""

import json
import sys
from datetime import datetime, timedelta, timezone


def nhs_numbers():
    """Valid test-range NHS numbers in order: 9990000018, 9990000026, ..."""
    first9 = 999000001
    while True:
        digits = [int(d) for d in str(first9)]
        total = sum(d * w for d, w in zip(digits, range(10, 1, -1)))
        check = 11 - total % 11
        if check == 11:
            check = 0
        if check != 10:
            yield f"{first9}{check}"
        first9 += 1


LOCAL_AUTHORITIES = [
    {"odsCode": "XLA01", "name": "Exampleshire County Council",
     "emergencyPhone": "01632960001", "workplacePhone": "01632960000"},
    {"odsCode": "XLA02", "name": "Sampleton Borough Council",
     "emergencyPhone": "01632960101", "workplacePhone": "01632960100"},
    {"odsCode": "XLA03", "name": "Testford City Council",
     "emergencyPhone": "01632960201"},
    {"odsCode": "XLA04", "name": "Exampleton & District Council",
     "emergencyPhone": "01632960301", "workplacePhone": "01632960300"},
    {"odsCode": "XLA05", "name": "Cyngor Sir Ynys Ŵen",
     "emergencyPhone": "01632960401"},
    {"odsCode": "XLA06", "name": "Mockshire Council",
     "emergencyPhone": "01632960501", "workplacePhone": "01632960500"},
    {"odsCode": "XLA07", "name": "Fictional Metropolitan Borough Council",
     "emergencyPhone": "01632960601"},
]

ACCESSORS = [
    # (bySystem, personName, jobRoleCode, jobRoleName, orgOdsCode, orgName, asid)
    (False, "Sam EXAMPLE", "R8000", "Clinical Practitioner Access Role", "ZZ101",
     "Example General Hospital Emergency Department", None),
    (True, "Lee SAFEGUARD", "R8003", "Health Professional Access Role", "ZZ201",
     "Example Ambulance Service", "990000000201"),
    (False, "Jo SPECIMEN", "R8000", "Clinical Practitioner Access Role", "ZZ102",
     "Example Minor Injuries Unit", None),
    (True, "Alex NOMINEE", "R8001", "Nurse Access Role", "ZZ301",
     "Example Urgent Treatment Centre", "990000000301"),
    (False, "Kim PLACEHOLDER", "R8004", "Healthcare Student Access Role", "ZZ401",
     "Example GP Out of Hours Service", None),
]

GIVEN = ["Alex", "Sam", "Charlie", "Jordan", "Riley", "Morgan", "Taylor", "Jamie", "Casey", "Robin",
         "Frankie", "Ellis", "Harley", "Rowan", "Sky", "Quinn", "Reese", "Drew", "Logan", "Avery"]
MOTHERS = ["Jane", "Mary", "Anne", "Ruth", "Clare", "Emma", "Sarah", "Laura"]
FAMILY = ["TESTCHILD", "SPECIMEN", "EXAMPLE", "SAMPLE", "MOCK", "FICTIONAL", "DUMMY", "PRETEND"]
END_OF_HISTORY = datetime(2025, 6, 10, 18, 30, tzinfo=timezone.utc)


def accesses(count, seed):
    """`count` earlier unscheduled accesses, newest first, a day or three apart."""
    out = []
    at = END_OF_HISTORY - timedelta(hours=7 * seed)
    for i in range(count):
        by_system, person, role, role_name, ods, org, asid = ACCESSORS[(seed + i) % len(ACCESSORS)]
        entry = {"at": at.strftime("%Y-%m-%dT%H:%M:%SZ"), "bySystem": by_system, "personName": person,
                 "jobRoleCode": role, "jobRoleName": role_name, "orgOdsCode": ods, "orgName": org}
        if asid:
            entry["asid"] = asid
        out.append(entry)
        at -= timedelta(days=1 + (seed + i) % 3, hours=(5 * i) % 11)
    return out


def plan(kind, start, end=None):
    p = {"type": kind, "start": start}
    if end:
        p["end"] = end
    return p


def record(la, plans, subject="CHILD"):
    return {"la": la, "subject": subject, "plans": plans}


def main():
    numbers = nhs_numbers()
    children = []

    def child(label, records, access_count=0, birth="2015-04-03", given=None, family=None, fault=None):
        i = len(children)
        entry = {
            "nhsNumber": next(numbers),
            "label": label,
            "givenName": given or GIVEN[i % len(GIVEN)],
            "familyName": family or FAMILY[i % len(FAMILY)],
            "birthDate": birth,
            "records": records,
            "accesses": accesses(access_count, i),
        }
        if fault:
            entry["fault"] = fault
        children.append(entry)

    def mother(label, records, access_count=0, birth="1996-08-21"):
        i = len(children)
        child(label, records, access_count, birth, given=MOTHERS[i % len(MOTHERS)], family="PREGNANT")

    # Every plan type, open and ended, and the combinations CP-IS allows.
    child("CPP open, 2 earlier accesses", [record("XLA01", [plan("CPPI", "2025-03-01")])], 2)
    child("CPP ended", [record("XLA02", [plan("CPPI", "2023-01-15", "2024-11-30")])], 1, "2012-09-14")
    child("LAC open", [record("XLA01", [plan("LACI", "2022-06-01")])], 0, "2010-02-27")
    child("LAC ended", [record("XLA03", [plan("LACI", "2021-05-10", "2025-01-31")])], 3, "2008-12-01")
    mother("UCP on the mother's number", [record("XLA02", [plan("UCPI", "2025-02-01", "2025-09-30")], "UNBORN")], 1)
    mother("UCP ended on the mother's number",
           [record("XLA06", [plan("UCPI", "2024-01-10", "2024-08-15")], "UNBORN")], 0, "1990-03-03")
    child("CPP and LAC at once", [record("XLA01", [plan("CPPI", "2024-10-01"), plan("LACI", "2024-12-15")])], 4,
          "2016-07-19")
    child("CPP ended, LAC open", [record("XLA04", [plan("CPPI", "2023-03-01", "2024-03-01"),
                                                   plan("LACI", "2024-03-02")])], 2, "2013-11-11")
    child("pregnant 16-year-old: her own CPP and an unborn child's plan",
          [record("XLA01", [plan("CPPI", "2024-05-01")]),
           record("XLA01", [plan("UCPI", "2025-04-01", "2025-12-31")], "UNBORN")], 2, "2009-01-20",
          given="Jess", family="PREGNANT")
    child("three plans in one record (CPP, LAC, UCP)",
          [record("XLA06", [plan("CPPI", "2024-02-01"), plan("LACI", "2024-06-01"),
                            plan("UCPI", "2025-03-01", "2025-11-30")])], 1, "2008-10-10")
    child("two local authorities", [record("XLA01", [plan("CPPI", "2025-01-10")]),
                                    record("XLA02", [plan("LACI", "2023-09-01")])], 5, "2014-06-06")
    child("three local authorities", [record("XLA01", [plan("CPPI", "2025-02-10")]),
                                      record("XLA03", [plan("LACI", "2022-04-01", "2024-04-01")]),
                                      record("XLA07", [plan("CPPI", "2021-01-01", "2022-01-01")])], 2, "2011-03-30")
    child("LA without a workplace phone", [record("XLA03", [plan("CPPI", "2025-04-01")])], 1, "2019-05-05")
    child("LA name with an ampersand", [record("XLA04", [plan("CPPI", "2024-12-01")])], 1, "2017-08-08")
    child("LA name with a non-ASCII letter", [record("XLA05", [plan("LACI", "2023-07-07")])], 0, "2018-01-01")
    child("child's name with an apostrophe and accent", [record("XLA06", [plan("CPPI", "2025-05-01")])], 0,
          "2020-02-29", given="Zoë", family="O'EXAMPLE")

    # Access histories of every length that matters: 0, 1, 24, 25, 26 and more (25 returned).
    child("no earlier accesses", [record("XLA01", [plan("CPPI", "2025-05-20")])], 0, "2021-04-04")
    child("one earlier access", [record("XLA02", [plan("CPPI", "2025-05-21")])], 1, "2021-05-05")
    child("24 earlier accesses", [record("XLA06", [plan("LACI", "2020-01-01")])], 24, "2012-12-12")
    child("25 earlier accesses", [record("XLA01", [plan("CPPI", "2024-01-01")])], 25, "2013-01-13")
    child("26 earlier accesses (25 returned)", [record("XLA02", [plan("LACI", "2019-09-09")])], 26, "2011-11-11")
    child("40 earlier accesses (25 returned)", [record("XLA07", [plan("CPPI", "2023-03-03")])], 40, "2010-10-10")

    # Variety: more children over every LA, plan type and state.
    kinds = [("CPPI", None), ("LACI", None), ("CPPI", "2025-02-28"), ("LACI", "2024-12-31")]
    las = ["XLA01", "XLA02", "XLA03", "XLA04", "XLA05", "XLA06", "XLA07"]
    for n in range(20):
        kind, end = kinds[n % len(kinds)]
        la = las[n % len(las)]
        start = f"{2020 + n % 5}-{1 + n % 12:02d}-{1 + n % 27:02d}"
        state = "ended" if end else "open"
        birth = f"{2008 + n % 16}-{1 + (n * 5) % 12:02d}-{1 + (n * 7) % 28:02d}"
        child(f"{kind} {state}, {la}", [record(la, [plan(kind, start, end)])], n % 6, birth)
    for n in range(4):
        mother(f"UCP, {las[n]}", [record(las[n], [plan("UCPI", f"2025-0{1 + n}-15", f"2025-1{n % 3}-15")],
                                         "UNBORN")], n, f"{1988 + n * 4}-0{1 + n}-1{n}")

    # Children that always misbehave, one per fault kind (run-time faults: POST /admin/faults).
    for kind, delay in [("delay", 300), ("timeout", 10000), ("http500", 0), ("soapFault", 0),
                        ("malformedXml", 0), ("invalidResponse", 0), ("dropConnection", 0),
                        ("applicationError", 0), ("unknownCode", 0)]:
        fault = {"kind": kind}
        if delay:
            fault["delayMs"] = delay
        child(f"fault: {kind}", [record("XLA01", [plan("CPPI", "2025-01-01")])], 1, "2016-06-16", fault=fault)

    # Children for the scenarios that fail a check with a fault of their own (the circuit
    # breaker, run-time faults): the engine re-checks them in the background later, which records
    # accesses no other scenario may count, so each has a child to itself.
    for scenario in ["circuit-breaker", "fault-run-time-once", "fault-run-time-application-error",
                     "circuit-breaker-probe"]:
        child(f"reserved for {scenario}", [record("XLA02", [plan("CPPI", "2025-05-05")])], 0, "2017-07-17")

    dataset = {
        "description": "CP-IS simulator dataset: synthetic children with test NHS numbers (999 range). "
                       "Generated by generate_children.py; every name, number and organisation is fictitious.",
        "localAuthorities": LOCAL_AUTHORITIES,
        "children": children,
    }
    json.dump(dataset, sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
