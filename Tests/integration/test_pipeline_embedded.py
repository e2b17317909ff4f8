"""The whole pipeline on the embedded backends, through the real `cis` binary: an invite
sent over SMTP to `cis serve` comes out, seconds later, as one line in
<data-dir>/topics/create.jsonl; `cis serve --no-consumer` only queues it, and `cis consume`
publishes what is queued, also after a consumer was killed during a topic outage."""

import json
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from conftest import cis_binary, run_cis, with_loopback_dns
from pipeline_support import RECIPIENT, invite, send

WAIT_SECONDS = 30
FAST_RETRY = ("--poll-wait", "1", "--visibility-timeout", "2", "--retry-delay", "1")


class Consumer:
    """A `cis consume` process logging JSON to a file; stopped with SIGTERM (bounded)."""

    def __init__(self, data_dir: Path, log: Path, *args: str):
        self.log = log
        self.log_file = open(log, "wb")
        env = with_loopback_dns({k: v for k, v in os.environ.items() if not k.startswith("CIS_") or k == "CIS_BINARY"})
        self.process = subprocess.Popen(
            [cis_binary(), "consume", "--data-dir", str(data_dir), "--log-format", "json", *args],
            stdin=subprocess.DEVNULL, stdout=self.log_file, stderr=subprocess.STDOUT, env=env)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
                pytest.fail(f"cis consume did not stop within 20 s of SIGTERM:\n{self.log.read_text()}")
        self.log_file.close()
        return self.process.returncode


def topic_lines(data_dir: Path, route: str) -> list[dict]:
    path = data_dir / "topics" / f"{route}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def wait_for_lines(data_dir: Path, route: str, count: int, describe_log) -> list[dict]:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        lines = topic_lines(data_dir, route)
        if len(lines) >= count:
            return lines
        time.sleep(0.1)
    pytest.fail(f"{route}.jsonl has {len(topic_lines(data_dir, route))} lines after {WAIT_SECONDS} s, "
                f"expected {count}; log:\n{describe_log()}")


def wait_until_drained(cis) -> None:
    """Waits until the embedded queue holds no message (the consumer deleted it)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while cis.queue_rows():
        if time.monotonic() > deadline:
            pytest.fail(f"the queue still holds {cis.queue_rows()} after {WAIT_SECONDS} s")
        time.sleep(0.1)


def check_create_line(line: dict, message_id: str, uid: str) -> None:
    assert line["Route"] == "create"
    assert line["MessageAttributes"]["method"]["Value"] == "request"
    assert line["MessageAttributes"]["uid"]["Value"] == message_id
    assert line["DeduplicationId"] == f"{message_id}/{uid}/0"
    event = json.loads(line["Message"])
    assert event["method"] == "request"
    assert event["route"] == "create"
    assert event["uid"] == message_id
    assert event["original_uid"] == uid
    # 15:00 in Berlin in December (CET, UTC+1).
    assert event["dtstart"] == "20261202T140000Z"
    assert event["dtend"] == "20261202T150000Z"
    assert event["organizer"] == "olivia@example.com"
    assert event["mailto"] == "olivia@example.com"
    assert event["summary"] == "Quarterly planning"
    assert event["bucket"]
    assert event["key"].endswith(message_id)


def test_invite_sent_over_smtp_is_published_to_create(start_cis):
    cis = start_cis("--recipient", RECIPIENT, "--poll-wait", "1", consumer=True)
    uid = "pipeline-1@example.com"
    message_id = send(cis.port, invite(uid))
    lines = wait_for_lines(cis.data_dir, "create", 1, lambda: "\n".join(cis.lines))
    wait_until_drained(cis)
    assert cis.stop() == 0
    assert len(lines) == 1
    check_create_line(lines[0], message_id, uid)
    assert topic_lines(cis.data_dir, "failure") == []
    # Logs carry ids and routes, never message content.
    assert not any("Quarterly planning" in line for line in cis.lines)


def test_serve_without_consumer_queues_and_consume_publishes(start_cis, tmp_path: Path):
    cis = start_cis("--recipient", RECIPIENT, "--poll-wait", "1")
    uid = "pipeline-2@example.com"
    message_id = send(cis.port, invite(uid))
    time.sleep(2)
    assert topic_lines(cis.data_dir, "create") == [], "--no-consumer must not publish"
    assert len(cis.queue_rows()) == 1
    assert cis.stop() == 0

    consumer = Consumer(cis.data_dir, tmp_path / "consume.log", "--poll-wait", "1")
    try:
        lines = wait_for_lines(cis.data_dir, "create", 1, consumer.log.read_text)
    finally:
        assert consumer.stop() == 0, consumer.log.read_text()
    assert len(lines) == 1
    check_create_line(lines[0], message_id, uid)
    assert cis.queue_rows() == []


def test_consumer_killed_while_a_topic_is_down_loses_nothing(start_cis, tmp_path: Path):
    doomed = start_cis("--recipient", RECIPIENT, *FAST_RETRY, consumer=True)
    topics = doomed.data_dir / "topics"
    # A regular file where the topics directory should be: every publish fails, even as root.
    topics.rmdir()
    topics.write_bytes(b"")
    uid = "pipeline-3@example.com"
    message_id = send(doomed.port, invite(uid))
    doomed.wait_for_log(lambda e: e.get("message") == "Message processing failed; retrying later"
                        and e.get("consumer.stage") == "publish", timeout=WAIT_SECONDS)
    doomed.stop(signal.SIGKILL)
    assert topics.read_bytes() == b""
    assert len(doomed.queue_rows()) == 1

    topics.unlink()
    topics.mkdir()
    consumer = Consumer(doomed.data_dir, tmp_path / "consume.log", *FAST_RETRY)
    try:
        lines = wait_for_lines(doomed.data_dir, "create", 1, consumer.log.read_text)
        time.sleep(1)
    finally:
        assert consumer.stop() == 0, consumer.log.read_text()
    assert len(topic_lines(doomed.data_dir, "create")) == 1
    check_create_line(lines[0], message_id, uid)
    assert doomed.queue_rows() == []


def dead_letters(data_dir: Path) -> list[tuple[str, int]]:
    connection = sqlite3.connect(f"file:{data_dir / 'queue.sqlite'}?mode=ro", uri=True, timeout=15)
    try:
        return connection.execute("SELECT message_id, receive_count FROM dead_letters").fetchall()
    finally:
        connection.close()


def test_notification_for_a_missing_object_reaches_the_dead_letters(start_cis, tmp_path: Path):
    cis = start_cis("--recipient", RECIPIENT)
    message_id = send(cis.port, invite("pipeline-4@example.com"))
    [queued] = cis.queue_rows()
    assert cis.stop() == 0
    # The object disappears (say, a bucket lifecycle rule) before any consumer runs.
    objects = list((cis.data_dir / "objects").rglob(message_id))
    assert len(objects) == 1, objects
    objects[0].unlink()

    consumer = Consumer(cis.data_dir, tmp_path / "consume.log", "--max-receive-count", "2", *FAST_RETRY)
    try:
        deadline = time.monotonic() + WAIT_SECONDS
        while not dead_letters(cis.data_dir):
            if time.monotonic() > deadline:
                pytest.fail(f"no dead letter after {WAIT_SECONDS} s:\n{consumer.log.read_text()}")
            time.sleep(0.2)
    finally:
        assert consumer.stop() == 0, consumer.log.read_text()
    assert dead_letters(cis.data_dir) == [(queued["message_id"], 2)]
    assert cis.queue_rows() == []
    assert all(topic_lines(cis.data_dir, route) == [] for route in ("create", "update", "cancel", "reply", "failure"))
    log = consumer.log.read_text()
    assert log.count("left for the dead-letter queue") == 2, log


CONSUMER_OPTIONS = [
    ("--consumer-concurrency", "CIS_CONSUMER_CONCURRENCY"), ("--event-index", "CIS_EVENT_INDEX"),
    ("--visibility-timeout", "CIS_VISIBILITY_TIMEOUT"), ("--max-receive-count", "CIS_MAX_RECEIVE_COUNT"),
    ("--poll-wait", "CIS_POLL_WAIT"), ("--retry-delay", "CIS_RETRY_DELAY"),
    ("--topic-deduplication-window", "CIS_TOPIC_DEDUPLICATION_WINDOW"), ("--retry-hold", "CIS_RETRY_HOLD"),
]


@pytest.mark.parametrize("command", ["serve", "consume"])
def test_help_documents_every_consumer_option_and_its_variable(tmp_path: Path, command: str):
    result = run_cis([command, "--help"], tmp_path)
    assert result.returncode == 0
    help_text = " ".join(result.stdout.split())
    for flag, variable in CONSUMER_OPTIONS:
        assert flag in help_text and variable in help_text, (flag, variable)
    assert ("--no-consumer" in help_text and "CIS_CONSUMER " in help_text) == (command == "serve")


@pytest.mark.parametrize("command", ["serve", "consume"])
@pytest.mark.parametrize("args, env, name", [
    (["--consumer-concurrency", "0"], {}, "--consumer-concurrency"),
    ([], {"CIS_CONSUMER_CONCURRENCY": "four"}, "CIS_CONSUMER_CONCURRENCY"),
    (["--event-index", "redis"], {}, "--event-index"),
    ([], {"CIS_EVENT_INDEX": "sql"}, "CIS_EVENT_INDEX"),
    (["--visibility-timeout", "-1"], {}, "--visibility-timeout"),
    ([], {"CIS_VISIBILITY_TIMEOUT": "43201"}, "CIS_VISIBILITY_TIMEOUT"),
    (["--max-receive-count", "0"], {}, "--max-receive-count"),
    (["--poll-wait", "21"], {}, "--poll-wait"),
    ([], {"CIS_POLL_WAIT": "1.5"}, "CIS_POLL_WAIT"),
    (["--retry-delay", "0"], {}, "--retry-delay"),
])
def test_bad_consumer_values_stop_at_start_with_one_line(tmp_path: Path, command: str, args, env, name):
    listen = ["--listen", "127.0.0.1:0"] if command == "serve" else []
    result = run_cis([command, *listen, *args], tmp_path, env)
    assert result.returncode == 78, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"cis: {name}"), lines[0]
    assert not (tmp_path / "cis-data").exists(), "nothing is created for a bad configuration"


def test_consumer_switch_from_the_environment(tmp_path: Path):
    result = run_cis(["serve", "--listen", "127.0.0.1:0"], tmp_path, {"CIS_CONSUMER": "maybe"})
    assert result.returncode == 78
    assert result.stderr.strip() == "cis: CIS_CONSUMER: 'maybe' is not a boolean (true/false, 1/0, yes/no)"
