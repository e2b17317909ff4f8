"""`cis parse`: the event JSON and route for a message, with no side effects."""
import json
import pathlib
import subprocess

from conftest import cis_binary

ROOT = pathlib.Path(__file__).resolve().parents[2]
CASES = ROOT / "Tests" / "InvitesTests" / "Fixtures" / "cases"


def run_parse(args, cwd, stdin=None):
    return subprocess.run(
        [cis_binary(), "parse", *args], cwd=cwd, input=stdin, capture_output=True, timeout=60)


def test_request_prints_event_json_with_route(tmp_path):
    result = run_parse([str(CASES / "update-sequence-2.eml")], tmp_path)
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert len(events) == 1
    event = events[0]
    assert event["original_uid"] == "design-review-4411@example.com"
    assert event["route"] == "update"
    assert event["uid"] == "update-sequence-2.eml"
    assert event["dtstart"].endswith("Z")
    assert list(tmp_path.iterdir()) == [], "cis parse must not write anything"


def test_publish_of_two_events_prints_one_line_each(tmp_path):
    result = run_parse([str(CASES / "publish-two-events.eml")], tmp_path)
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [e["original_uid"] for e in events] == [
        "exconf-2025-keynote@example.org", "exconf-2025-workshop@example.org"]


def test_failure_exits_non_zero_with_reason(tmp_path):
    result = run_parse([str(CASES / "method-mismatch.eml")], tmp_path)
    assert result.returncode == 2
    assert b"failure:" in result.stderr and b"METHOD" in result.stderr
    failure = json.loads(result.stdout)
    assert failure["route"] == "failure"
    assert "reason" in failure and failure["uid"] == "method-mismatch.eml"


def test_stdin_and_bare_ics(tmp_path):
    calendar = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nMETHOD:CANCEL\r\n"
        "BEGIN:VEVENT\r\nUID:stdin-1@example.com\r\nSEQUENCE:3\r\nDTSTAMP:20250101T000000Z\r\n"
        "DTSTART;TZID=Europe/Paris:20250110T100000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n").encode()
    result = run_parse(["-", "--envelope-sender", "owner@example.com"], tmp_path, stdin=calendar)
    assert result.returncode == 0, result.stderr
    event = json.loads(result.stdout)
    assert event["route"] == "cancel"
    assert event["dtstart"] == "20250110T090000Z"
    assert event["mailto"] == "owner@example.com"
    assert event["key"] == "stdin"


def test_unreadable_file_is_an_error(tmp_path):
    result = run_parse([str(tmp_path / "missing.eml")], tmp_path)
    assert result.returncode != 0
    assert b"cannot read" in result.stderr
