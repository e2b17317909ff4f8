"""The parse worker's memory limit (`--parse-memory-limit`), through the real binary: an invite
within every parse limit that still needs more memory than a worker may use (a PUBLISH of 200
events with 250 attendees each: 5 MB that GMime, libical, the event requests and their JSON
multiply past 64 MiB; a worker starts with about 31 MiB of data) ends that worker only. Its
message goes to the failure route saying so, and the next message is parsed by a fresh worker;
with the default limit (512 MiB) the same invite is parsed."""

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from conftest import cis_binary
from pipeline_support import ORGANIZER, RECIPIENT, invite, send

LOW_LIMIT_MIB = 64
MEMORY_WORDS = f"more than the {LOW_LIMIT_MIB} MiB of memory a parse may use"
CRLF = "\r\n"


def memory_hungry_invite(events: int = 200, attendees: int = 250) -> bytes:
    """A PUBLISH within the default limits (--max-calendar-events 200, --max-attendees 1000)."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//cis memory test//EN", "METHOD:PUBLISH"]
    for number in range(events):
        lines += ["BEGIN:VEVENT", f"UID:hungry-{number}@memory.test", "SEQUENCE:0", "DTSTAMP:20260101T000000Z",
                  "DTSTART:20260301T100000Z", "DTEND:20260301T110000Z", f"SUMMARY:event {number}",
                  f"ORGANIZER:mailto:{ORGANIZER}"]
        lines += [f"ATTENDEE;CN=Attendee {i};ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:a{i}@memory.test"
                  for i in range(attendees)]
        lines.append("END:VEVENT")
    lines += ["END:VCALENDAR", ""]
    headers = (f"From: Olivia <{ORGANIZER}>{CRLF}To: {RECIPIENT}{CRLF}Subject: hungry{CRLF}MIME-Version: 1.0{CRLF}"
               f"Content-Type: text/calendar; method=PUBLISH; charset=utf-8{CRLF}{CRLF}")
    return (headers + CRLF.join(lines)).encode()


def test_cis_parse_answers_an_invite_over_the_memory_limit_on_the_failure_route(tmp_path: Path):
    path = tmp_path / "hungry.eml"
    path.write_bytes(memory_hungry_invite())
    result = subprocess.run([cis_binary(), "parse", "--parse-timeout", "60", "--parse-memory-limit", str(LOW_LIMIT_MIB),
                             str(path)], capture_output=True, timeout=120)
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    failure = json.loads(result.stdout)
    assert failure["route"] == "failure"
    assert MEMORY_WORDS in failure["reason"], failure["reason"]

    # The same invite is legal: with the default limit (512 MiB) it is parsed.
    result = subprocess.run([cis_binary(), "parse", "--parse-timeout", "60", str(path)], capture_output=True, timeout=120)
    assert result.returncode == 0, (result.returncode, result.stderr[-2000:])
    events = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert len(events) == 200 and all(len(event["attendees"]) == 250 for event in events)


def parse_workers(parent: int) -> set[int]:
    """The `cis parse-worker` children of `parent`."""
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == parent and b"parse-worker" in cmdline and stat.rsplit(")", 1)[1].split()[0] != "Z":
            found.add(int(entry))
    return found


def topic(data_dir: Path, route: str) -> dict[str, dict]:
    path = data_dir / "topics" / f"{route}.jsonl"
    if not path.exists():
        return {}
    lines = [json.loads(line) for line in path.read_text().split("\n")[:-1] if line.strip()]
    return {line["MessageAttributes"]["uid"]["Value"]: json.loads(line["Message"]) for line in lines}


def wait_until(condition, seconds: float, describe) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    pytest.fail(f"not within {seconds} s: {describe()}")


def test_a_worker_out_of_memory_fails_only_its_message_and_a_fresh_worker_parses_the_next(start_cis):
    import smtplib
    cis = start_cis("--recipient", RECIPIENT, "--poll-wait", "1", "--consumer-concurrency", "1", "--parse-timeout", "60",
                    "--parse-memory-limit", str(LOW_LIMIT_MIB), consumer=True)
    before = send(cis.port, invite("before-hungry@memory.test"))
    wait_until(lambda: before in topic(cis.data_dir, "create"), 60, lambda: cis.logs()[-10:])
    [first_worker] = parse_workers(cis.process.pid)

    with smtplib.SMTP("127.0.0.1", cis.port, local_hostname="client.invites.test", timeout=60) as smtp:
        smtp.ehlo()
        assert smtp.mail(ORGANIZER)[0] == 250
        assert smtp.rcpt(RECIPIENT)[0] == 250
        code, reply = smtp.data(memory_hungry_invite())
        assert code == 250, reply
    hungry = reply.decode().rsplit(" ", 1)[-1]
    wait_until(lambda: hungry in topic(cis.data_dir, "failure"), 120, lambda: cis.logs()[-10:])
    assert MEMORY_WORDS in topic(cis.data_dir, "failure")[hungry]["reason"]
    assert first_worker not in parse_workers(cis.process.pid), "the worker that ran out of memory is gone"
    assert not Path(f"/proc/{first_worker}").exists(), "and reaped"

    after = send(cis.port, invite("after-hungry@memory.test"))
    wait_until(lambda: after in topic(cis.data_dir, "create"), 60, lambda: cis.logs()[-10:])
    [second_worker] = parse_workers(cis.process.pid)
    assert second_worker != first_worker
    assert hungry not in topic(cis.data_dir, "create")
    wait_until(lambda: cis.queue_rows() == [], 30, lambda: f"queue still holds {cis.queue_rows()}")
    assert cis.process.poll() is None
