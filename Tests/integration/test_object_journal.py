"""The embedded object store's journal and writer lock, through the real `cis` binary:
a clean stop checkpoints (nothing left to replay), one intake per data directory,
`cis consume` reading objects beside a running `cis smtp`, and a crash after the journal
flush but before the queue's table caught up losing and duplicating no notification."""

import signal
import sqlite3
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from conftest import cis_binary
from object_journal import applied_ids, journaled_notification_ids
from pipeline_support import RECIPIENT, invite, send
from test_pipeline_embedded import Consumer, check_create_line, wait_for_lines

MAGICS = (b"CISJ", b"CISN")
SENDERS = 16
MESSAGES = 128


def journal_head(data_dir: Path) -> bytes:
    path = data_dir / "objects" / ".meta" / "journal"
    return path.read_bytes()[:4] if path.exists() else b""


def test_clean_stop_leaves_nothing_in_the_journal(start_cis):
    cis = start_cis("--recipient", RECIPIENT)
    ids = [send(cis.port, invite(f"journal-{index}@example.com")) for index in range(5)]
    assert cis.stop() == 0
    assert journal_head(cis.data_dir) not in MAGICS
    for message_id in ids:
        [path] = list((cis.data_dir / "objects").rglob(message_id))
        assert b"BEGIN:VCALENDAR" in path.read_bytes()


def test_a_second_intake_on_the_same_data_directory_stops_with_one_line(start_cis):
    first = start_cis("--recipient", RECIPIENT, command="smtp")
    result = subprocess.run(
        [cis_binary(), "smtp", "--listen", "127.0.0.1:0", "--data-dir", str(first.data_dir)],
        capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "--data-dir" in lines[0] and "writer.lock" in lines[0], lines[0]
    # The first intake is unharmed.
    send(first.port, invite("still-running@example.com"))
    assert len(first.queue_rows()) == 1


def test_consume_beside_a_running_smtp_intake(start_cis, tmp_path: Path):
    intake = start_cis("--recipient", RECIPIENT, command="smtp")
    consumer = Consumer(intake.data_dir, tmp_path / "consume.log", "--poll-wait", "1")
    try:
        time.sleep(0.5)
        uid = "side-by-side@example.com"
        message_id = send(intake.port, invite(uid))
        lines = wait_for_lines(intake.data_dir, "create", 1, consumer.log.read_text)
        check_create_line(lines[0], message_id, uid)
        # The intake still takes mail after the consumer opened the store.
        send(intake.port, invite("second@example.com"))
        wait_for_lines(intake.data_dir, "create", 2, consumer.log.read_text)
    finally:
        assert consumer.stop() == 0, consumer.log.read_text()
    assert intake.stop() == 0
    assert journal_head(intake.data_dir) not in MAGICS


def test_concurrent_deliveries_then_sigkill_lose_nothing_and_restart_writes_back(start_cis):
    cis = start_cis("--recipient", RECIPIENT)
    uids = [f"load-{index}@example.com" for index in range(MESSAGES)]
    with ThreadPoolExecutor(max_workers=SENDERS) as pool:
        ids = list(pool.map(lambda uid: send(cis.port, invite(uid)), uids))
    # A crash right after the last 250: no shutdown, no checkpoint.
    cis.stop(sig=signal.SIGKILL)
    journal_held_records = journal_head(cis.data_dir) in MAGICS

    def check_everything_stored(queue_rows):
        for message_id, uid in zip(ids, uids):
            content = cis.object_path(f"inbound/{message_id}").read_bytes()
            assert f"UID:{uid}".encode() in content, message_id
        assert sorted(row["body"]["Records"][0]["s3"]["object"]["key"] for row in queue_rows) == \
            sorted(f"inbound/{message_id}" for message_id in ids)
        metadata = cis.all_metadata()
        assert all(metadata[f"inbound/{message_id}"]["message-id"] == message_id for message_id in ids)

    # The killed process's writer lock went with it: the next start opens the store, writes
    # back whatever the journal still held, and inserts the notifications the queue's table
    # had not caught up with (each once: those it had are not inserted again).
    restarted = start_cis("--recipient", RECIPIENT, data_dir=cis.data_dir)
    notices = [e for e in restarted.logs() if "from its journal" in e.get("message", "")]
    if journal_held_records:
        assert len(notices) == 1 and int(notices[0]["objects.replayed"]) >= 1, restarted.logs()
    check_everything_stored(restarted.queue_rows())
    assert restarted.stop() == 0
    assert journal_head(cis.data_dir) not in MAGICS


def test_killed_after_the_journal_flush_before_the_queue_caught_up_loses_and_duplicates_nothing(start_cis):
    cis = start_cis("--recipient", RECIPIENT, command="smtp")
    # Hold the queue database's write lock: the intake answers 250 once the journal (object
    # and notification) is flushed, but cannot bring the queue's table up to date, nor
    # checkpoint the journal.
    blocker = sqlite3.connect(cis.data_dir / "queue.sqlite", timeout=5, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        uids = [f"unqueued-{index}@example.com" for index in range(24)]
        with ThreadPoolExecutor(max_workers=4) as pool:
            ids = list(pool.map(lambda uid: send(cis.port, invite(uid)), uids))
        assert blocker.execute("SELECT count(*) FROM messages").fetchone()[0] == 0
        cis.stop(sig=signal.SIGKILL)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    # What the test is about: every notification is in the journal, none in the queue's table.
    assert journal_head(cis.data_dir) == b"CISN"
    assert len(journaled_notification_ids(cis.data_dir)) == len(ids)
    assert applied_ids(cis.data_dir) == set()
    assert cis.queue_rows() == []

    restarted = start_cis("--recipient", RECIPIENT, command="smtp", data_dir=cis.data_dir)
    rows = restarted.queue_rows()
    keys = [row["body"]["Records"][0]["s3"]["object"]["key"] for row in rows]
    assert sorted(keys) == sorted(f"inbound/{message_id}" for message_id in ids)
    assert len({row["message_id"] for row in rows}) == len(ids)
    for message_id, uid in zip(ids, uids):
        assert f"UID:{uid}".encode() in restarted.object_path(f"inbound/{message_id}").read_bytes()
    # A second crash and start, now that the table holds them: still exactly once.
    restarted.stop(sig=signal.SIGKILL)
    again = start_cis("--recipient", RECIPIENT, command="smtp", data_dir=cis.data_dir)
    assert sorted(row["message_id"] for row in again.queue_rows()) == sorted(row["message_id"] for row in rows)
    assert again.stop() == 0
    assert journal_head(cis.data_dir) not in MAGICS
