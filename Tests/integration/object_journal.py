"""Reads the embedded object store's journal (`objects/.meta/journal`) as
`Sources/Backends/Embedded/JournalRecord.swift` writes it, for the tests that need to know
which queue notifications the intake has journaled but not yet inserted into `queue.sqlite`."""

import hashlib
import sqlite3
import struct
import time
from pathlib import Path

PLAIN = b"CISJ"
NOTIFYING = b"CISN"
HEADER = 29
NOTIFYING_HEADER = HEADER + 8


def records(journal: bytes):
    """[(key, notification message id or None)] of the records from the start of the journal,
    up to the first torn, foreign-epoch or damaged one (what replay would find)."""
    found, offset, epoch = [], 0, None
    while offset + HEADER <= len(journal):
        magic = journal[offset:offset + 4]
        if magic not in (PLAIN, NOTIFYING):
            break
        size = NOTIFYING_HEADER if magic == NOTIFYING else HEADER
        if offset + size > len(journal):
            break
        record_epoch, key_length, metadata_length, body_length, _flags = struct.unpack_from("<QIIQB", journal, offset + 4)
        id_length = body_length_notification = 0
        if magic == NOTIFYING:
            id_length, body_length_notification = struct.unpack_from("<II", journal, offset + HEADER)
        if epoch is not None and record_epoch != epoch:
            break
        payload = key_length + metadata_length + body_length + id_length + body_length_notification
        end = offset + size + payload + 16
        if end > len(journal) or hashlib.md5(journal[offset:end - 16]).digest() != journal[end - 16:end]:
            break
        epoch = record_epoch
        start = offset + size
        key = journal[start:start + key_length].decode()
        message_id = None
        if magic == NOTIFYING:
            id_start = start + key_length + metadata_length + body_length
            message_id = journal[id_start:id_start + id_length].decode()
        found.append((key, message_id))
        offset = end
    return found


def journaled_notification_ids(data_dir: Path):
    path = data_dir / "objects" / ".meta" / "journal"
    if not path.exists():
        return []
    return [message_id for _, message_id in records(path.read_bytes()) if message_id]


def applied_ids(data_dir: Path):
    """Message ids the intake has inserted from its journal (`journal_applied`)."""
    path = data_dir / "queue.sqlite"
    if not path.exists():
        return set()
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=15)
    try:
        return {row[0] for row in connection.execute("SELECT message_id FROM journal_applied")}
    except sqlite3.OperationalError:
        return set()
    finally:
        connection.close()


def wait_until_queue_caught_up(data_dir: Path, timeout=15):
    """Waits until every notification the journal holds is in the queue's table: the intake
    inserts them just after its 250s, off the reply path."""
    deadline = time.monotonic() + timeout
    while True:
        pending = set(journaled_notification_ids(data_dir)) - applied_ids(data_dir)
        if not pending:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(pending)} journaled notifications not in queue.sqlite after {timeout} s")
        time.sleep(0.02)
