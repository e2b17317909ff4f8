"""Transient failures through the real binary: a topic that stays unavailable does not
dead-letter a valid invite, however many times it fails, even with --max-receive-count 1;
the invite is published once the topic is back."""

import json
import sqlite3
import time
from pathlib import Path

from pipeline_support import RECIPIENT, invite, send
from test_pipeline_embedded import Consumer, dead_letters, topic_lines, wait_for_lines

WAIT_SECONDS = 30
FAST = ("--poll-wait", "1", "--visibility-timeout", "2", "--retry-delay", "1", "--max-receive-count", "1", "--log-level", "debug")


def log_events(consumer: Consumer) -> list[dict]:
    return [json.loads(line) for line in consumer.log.read_text().splitlines() if line.startswith("{")]


def count(consumer: Consumer, message: str) -> int:
    return sum(1 for event in log_events(consumer) if event.get("message") == message)


def wait_for(consumer: Consumer, message: str, times: int) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while count(consumer, message) < times:
        assert consumer.process.poll() is None, consumer.log.read_text()
        assert time.monotonic() < deadline, f"{message!r} not logged {times} times:\n{consumer.log.read_text()}"
        time.sleep(0.2)


def queued_invite_with_a_blocked_topic(start_cis, uid: str) -> tuple[object, str, Path]:
    """An invite accepted by `cis serve --no-consumer`, and its create topic made unusable: a
    directory where the topic's file should be (every publish fails, even as root)."""
    cis = start_cis("--recipient", RECIPIENT)
    message_id = send(cis.port, invite(uid))
    assert cis.stop() == 0
    blocked = cis.data_dir / "topics" / "create.jsonl"
    blocked.mkdir(parents=True)
    return cis, message_id, blocked


def wait_until_drained(cis, consumer: Consumer) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while cis.queue_rows():
        assert time.monotonic() < deadline, consumer.log.read_text()
        time.sleep(0.2)


def test_a_message_handed_back_after_each_transient_failure_is_not_dead_lettered(start_cis, tmp_path: Path):
    cis, message_id, blocked = queued_invite_with_a_blocked_topic(start_cis, "handed-back@example.com")
    # --retry-hold 0: handed back after every failure and received again, with --max-receive-count 1.
    consumer = Consumer(cis.data_dir, tmp_path / "consume-1.log", *FAST, "--retry-hold", "0")
    try:
        wait_for(consumer, "Message handed back to the queue for a later retry", 3)
    finally:
        assert consumer.stop() == 0, consumer.log.read_text()
    assert count(consumer, "Message received") >= 3
    assert dead_letters(cis.data_dir) == []
    with sqlite3.connect(f"file:{cis.data_dir / 'queue.sqlite'}?mode=ro", uri=True, timeout=15) as connection:
        [(receives, transient)] = connection.execute("SELECT receive_count, transient_failures FROM messages").fetchall()
    assert receives <= 1 and transient >= 3

    blocked.rmdir()
    consumer = Consumer(cis.data_dir, tmp_path / "consume-2.log", *FAST)
    try:
        lines = wait_for_lines(cis.data_dir, "create", 1, consumer.log.read_text)
        wait_until_drained(cis, consumer)
    finally:
        assert consumer.stop() == 0, consumer.log.read_text()
    assert json.loads(lines[0]["Message"])["key"].endswith(message_id)
    assert len(topic_lines(cis.data_dir, "create")) == 1
    assert dead_letters(cis.data_dir) == []


def test_a_message_is_kept_and_retried_while_the_topic_is_down(start_cis, tmp_path: Path):
    cis, message_id, blocked = queued_invite_with_a_blocked_topic(start_cis, "kept@example.com")
    consumer = Consumer(cis.data_dir, tmp_path / "consume.log", *FAST)
    try:
        wait_for(consumer, "Message processing failed; retrying later", 3)
        blocked.rmdir()
        lines = wait_for_lines(cis.data_dir, "create", 1, consumer.log.read_text)
        wait_until_drained(cis, consumer)
    finally:
        assert consumer.stop() == 0, consumer.log.read_text()
    # One receive, several tries, no hand-back.
    assert count(consumer, "Message received") == 1
    assert count(consumer, "Message handed back to the queue for a later retry") == 0
    assert json.loads(lines[0]["Message"])["key"].endswith(message_id)
    assert len(topic_lines(cis.data_dir, "create")) == 1
    assert dead_letters(cis.data_dir) == []
