#!/usr/bin/env python3
"""Consistency check of the hand-written expectation files (not a parser).

Checks that corpus-expected.json has exactly one entry per corpus file (one per
message for .mbox files, split on lines beginning with "From "), that
cases/expected.json references every case file and only existing ones, and that
every entry is well-formed (fields, time formats, PARTSTAT case, route rules).

Usage: check_fixtures.py [SHARED_DIR]   (default: $CIS_SHARED_DIR or ../shared
relative to the package root)
"""
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.dirname(HERE)
PACKAGE_ROOT = os.path.abspath(os.path.join(FIXTURES, "..", "..", ".."))

TIME = re.compile(r"^\d{8}(T\d{6}Z?)?$")
METHODS = {"request", "publish", "cancel", "reply", "counter"}
PARTSTATS = {"NEEDS-ACTION", "ACCEPTED", "DECLINED", "TENTATIVE", "DELEGATED", "COMPLETED", "IN-PROCESS"}


def mbox_message_count(path):
    with open(path, "rb") as f:
        lines = f.read().split(b"\n")
    count = sum(1 for line in lines if line.startswith(b"From "))
    return max(count, 1)


def expected_route(method, sequence):
    if method in ("request", "publish"):
        return "update" if sequence > 0 else "create"
    if method == "cancel":
        return "cancel"
    return "reply"


def check_entry(entry, where, errors):
    def err(msg):
        errors.append(f"{where}: {msg}")

    for key in ("file", "index", "outcome", "note", "requests"):
        if key not in entry:
            err(f"missing {key}")
    outcome = entry.get("outcome")
    if outcome not in ("requests", "failure", "ignored"):
        err(f"bad outcome {outcome!r}")
    if outcome == "failure":
        reason = entry.get("failure_reason_contains")
        if not reason or reason != reason.lower():
            err("failure needs a lower-case failure_reason_contains")
    elif "failure_reason_contains" in entry:
        err("failure_reason_contains only for failures")
    requests = entry.get("requests", [])
    if outcome == "requests" and not requests:
        err("outcome requests with no request")
    if outcome != "requests" and requests:
        err("requests listed for a non-requests outcome")
    if "mailto" in entry and (not isinstance(entry["mailto"], str) or "@" not in entry["mailto"]):
        err(f"bad mailto {entry['mailto']!r}")
    uids = [r.get("uid") for r in requests]
    if len(set(uids)) != len(uids):
        err("the same UID twice")
    for r in requests:
        for key in ("method", "uid", "sequence", "dtstart_utc", "dtend_utc", "all_day",
                    "organizer_email", "attendees", "route"):
            if key not in r:
                err(f"request missing {key}")
        if r.get("method") not in METHODS:
            err(f"bad method {r.get('method')!r}")
        for key in ("dtstart_utc", "dtend_utc"):
            value = r.get(key)
            if value is not None and not TIME.match(value):
                err(f"bad {key} {value!r}")
            if value is not None and r.get("all_day") != (len(value) == 8):
                err(f"{key} {value!r} disagrees with all_day")
        org = r.get("organizer_email")
        if org is not None and (org != org.lower() or org.startswith("mailto:")):
            err(f"organizer not normalized {org!r}")
        for email, partstat in r.get("attendees", {}).items():
            if email != email.lower() or email.startswith("mailto:") or "@" not in email:
                err(f"attendee not normalized {email!r}")
            if partstat not in PARTSTATS:
                err(f"bad PARTSTAT {partstat!r}")
        if "summary" in r and not isinstance(r["summary"], str):
            err("summary must be a string")
        if r.get("route") != expected_route(r.get("method"), r.get("sequence", 0)):
            err(f"route {r.get('route')!r} does not follow from {r.get('method')} SEQUENCE {r.get('sequence')}")


def main():
    shared = sys.argv[1] if len(sys.argv) > 1 else os.environ.get(
        "CIS_SHARED_DIR", os.path.join(PACKAGE_ROOT, "..", "shared"))
    corpus_dir = os.path.join(shared, "corpus", "imip")
    if not os.path.isdir(corpus_dir):
        sys.exit(f"corpus directory not found: {corpus_dir} (set CIS_SHARED_DIR)")
    errors = []

    with open(os.path.join(FIXTURES, "corpus-expected.json"), encoding="utf-8") as f:
        corpus = json.load(f)
    seen = {}
    for i, entry in enumerate(corpus):
        check_entry(entry, f"corpus[{i}] {entry.get('file')}#{entry.get('index')}", errors)
        seen.setdefault(entry["file"], []).append(entry["index"])
    files = sorted(n for n in os.listdir(corpus_dir) if n != "SOURCES.md")
    for name in files:
        want = mbox_message_count(os.path.join(corpus_dir, name)) if name.endswith(".mbox") else 1
        got = seen.pop(name, [])
        if got != list(range(want)):
            errors.append(f"corpus {name}: indexes {got}, expected 0..{want - 1} in order")
    for name in seen:
        errors.append(f"corpus-expected.json names a file that does not exist: {name}")

    cases_dir = os.path.join(FIXTURES, "cases")
    with open(os.path.join(cases_dir, "expected.json"), encoding="utf-8") as f:
        cases = json.load(f)
    referenced = set()
    for i, entry in enumerate(cases):
        check_entry(entry, f"cases[{i}] {entry.get('file')}", errors)
        referenced.add(entry["file"])
        path = os.path.join(cases_dir, entry["file"])
        if not os.path.isfile(path):
            errors.append(f"cases: missing file {entry['file']}")
            continue
        with open(path, "rb") as f:
            data = f.read()
        if re.search(rb"(?<!\r)\n", data):
            errors.append(f"cases: {entry['file']} has bare LF line ends")
    for name in os.listdir(cases_dir):
        if name.endswith(".eml") and name not in referenced:
            errors.append(f"cases: {name} is not referenced by expected.json")

    for e in errors:
        print(e)
    print(f"{len(corpus)} corpus entries, {len(cases)} case entries, {len(errors)} problems")
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
