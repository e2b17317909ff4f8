"""Issue 9: no single message can stall or exhaust the consumer. Every hostile invite of
hostile_invites.py is answered within the parse timeout (plus the worker's start grace and a
margin for a loaded machine), by `cis parse` and by the consumer of `cis serve`, on the
failure route with the limit in plain words; meanwhile normal invites keep flowing."""

import json
import smtplib
import subprocess
import time
from pathlib import Path

import pytest

from conftest import cis_binary
from hostile_invites import PUBLISHED_OR_TIMED_OUT, hostile_invites
from pipeline_support import ORGANIZER, RECIPIENT, invite, send

PARSE_TIMEOUT = 2
# The worker is killed one second past the timeout; the rest is process start-up on a busy machine.
ANSWER_WITHIN = PARSE_TIMEOUT + 1 + 7
CASES = hostile_invites()


def as_email(message: bytes) -> bytes:
    """A bare iCalendar object wrapped in a message, as SMTP carries it."""
    if not message.startswith(b"BEGIN:VCALENDAR"):
        return message
    return (f"From: Mallory <mallory@hostile.test>\r\nTo: {RECIPIENT}\r\nSubject: hostile\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/calendar; charset=utf-8\r\n\r\n").encode() + message


def send_raw(port: int, message: bytes) -> str:
    with smtplib.SMTP("127.0.0.1", port, local_hostname="client.invites.test", timeout=60) as smtp:
        smtp.ehlo()
        assert smtp.mail(ORGANIZER)[0] == 250
        assert smtp.rcpt(RECIPIENT)[0] == 250
        code, reply = smtp.data(message)
        assert code == 250, reply
    return reply.decode().rsplit(" ", 1)[-1]


def answered_as(expected: str, reason: str) -> bool:
    """The limit a hostile message is over, or, for the large ones on a loaded machine running a
    debug build, the timeout: both are the answer in time the issue asks for (the Swift suites
    check each limit's reason on its own)."""
    return expected in reason or PUBLISHED_OR_TIMED_OUT in reason


def topic(data_dir: Path, route: str) -> list[dict]:
    path = data_dir / "topics" / f"{route}.jsonl"
    if not path.exists():
        return []
    lines = path.read_text().split("\n")[:-1]  # a line still being written has no newline yet
    return [json.loads(line) for line in lines if line.strip()]


def published_ids(data_dir: Path, route: str) -> dict[str, dict]:
    return {line["MessageAttributes"]["uid"]["Value"]: json.loads(line["Message"]) for line in topic(data_dir, route)}


def wait_until(condition, seconds: float, describe) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    pytest.fail(f"not within {seconds} s: {describe()}")


@pytest.mark.parametrize("name, message, reason", CASES, ids=[case[0] for case in CASES])
def test_cis_parse_answers_every_hostile_invite_within_the_deadline(tmp_path, name, message, reason):
    path = tmp_path / name
    path.write_bytes(message)
    started = time.monotonic()
    result = subprocess.run([cis_binary(), "parse", "--parse-timeout", str(PARSE_TIMEOUT), str(path)],
                            capture_output=True, timeout=ANSWER_WITHIN)
    elapsed = time.monotonic() - started
    if reason is None or (reason == PUBLISHED_OR_TIMED_OUT and result.returncode == 0):
        assert result.returncode == 0, result.stderr
        [event] = [json.loads(line) for line in result.stdout.decode().splitlines()]
        assert event["dtstart"] == "20260301T100000Z"
    else:
        assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
        failure = json.loads(result.stdout)
        assert failure["route"] == "failure" and failure["uid"] == name
        assert answered_as(reason, failure["reason"]), failure["reason"]
        assert result.stderr.decode().startswith("failure: ")
    assert elapsed < ANSWER_WITHIN


def test_consumer_answers_every_hostile_invite_while_normal_invites_flow(start_cis):
    """All hostile invites and a normal one arrive together; the normal one is published, every
    hostile one is answered on the failure route (or published, when legal), and the queue is
    empty: nothing waits for the dead-letter queue."""
    cis = start_cis("--recipient", RECIPIENT, "--poll-wait", "1", "--parse-timeout", str(PARSE_TIMEOUT),
                    "--consumer-concurrency", "4", consumer=True)
    expected = {}
    for name, message, reason in CASES:
        expected[send_raw(cis.port, as_email(message))] = (name, reason)
    normal = send(cis.port, invite("normal-amid-hostile@example.com"))

    wait_until(lambda: normal in published_ids(cis.data_dir, "create"), 60,
               lambda: f"the normal invite is not published; logs: {cis.logs()[-20:]}")

    def answered():
        done = {**published_ids(cis.data_dir, "failure"), **published_ids(cis.data_dir, "create")}
        return all(message_id in done for message_id in expected)
    # Every hostile message takes at most the timeout plus a second; four at a time.
    wait_until(answered, 30 + len(CASES) * ANSWER_WITHIN / 4,
               lambda: f"unanswered: {[expected[i][0] for i in expected if i not in published_ids(cis.data_dir, 'failure')]}")
    failures = published_ids(cis.data_dir, "failure")
    creates = published_ids(cis.data_dir, "create")
    for message_id, (name, reason) in expected.items():
        if reason is None or (reason == PUBLISHED_OR_TIMED_OUT and message_id in creates):
            assert message_id in creates, name
        else:
            assert answered_as(reason, failures[message_id]["reason"]), (name, failures[message_id]["reason"])
    wait_until(lambda: cis.queue_rows() == [], 30, lambda: f"queue still holds {len(cis.queue_rows())}")
    assert not [e for e in cis.logs() if "dead-letter" in str(e.get("message", ""))]


def test_a_slow_legal_invite_does_not_delay_the_next_one(start_cis):
    """Parses of different messages run in parallel: an invite that takes libical seconds to
    read (legal, within a long timeout) is still being parsed when one sent after it is published."""
    from hostile_invites import many_parameters
    cis = start_cis("--recipient", RECIPIENT, "--poll-wait", "1", "--parse-timeout", "60", consumer=True)
    slow = send_raw(cis.port, as_email(many_parameters(150, 4_000)))
    wait_until(lambda: cis.queue_rows() and cis.queue_rows()[0]["receive_count"] >= 1, 30,
               lambda: "the slow invite was not received")
    quick = send(cis.port, invite("quick-after-slow@example.com"))
    wait_until(lambda: quick in published_ids(cis.data_dir, "create"), 60, lambda: "the quick invite is not published")
    assert slow not in published_ids(cis.data_dir, "create"), "the slow invite finished first: not slow enough to show anything"
    wait_until(lambda: slow in published_ids(cis.data_dir, "create"), 90, lambda: "the slow invite is not published")
