"""Storage failures: the reply is 451 4.3.0 and nothing is queued; a locked queue table delays only the\nnotification's insertion, never the 250 (docs/architecture.md, the durability contract)."""
import os
import smtplib
import sqlite3
import time

from conftest import INVITE


def send(cis, timeout=60):
    with smtplib.SMTP(cis.host, cis.port, local_hostname="client.example", timeout=timeout) as client:
        client.ehlo()
        client.mail("organizer@example.com")
        client.rcpt("create@localhost")
        code, text = client.data(INVITE.encode())
        return code, text.decode()


def test_object_store_failure_is_451_and_queues_nothing(cis):
    objects = cis.data_dir / "objects"
    moved = cis.data_dir / "objects.moved"
    # A regular file where the object directory was: every write fails, even as root.
    os.rename(objects, moved)
    objects.write_text("not a directory")
    code, text = send(cis)
    assert code == 451, text
    assert text.startswith("4.3.0")
    assert cis.queue_rows() == []
    [line] = cis.transactions()
    assert line["smtp.outcome"] == "delivery-failed"
    assert line["smtp.reply.code"] == "451 4.3.0"
    # Once storage is back, mail flows again.
    objects.unlink()
    os.rename(moved, objects)
    code, text = send(cis)
    assert code == 250, text
    assert len(cis.queue_rows()) == 1


def test_a_locked_queue_database_does_not_hold_up_the_250_and_the_notification_follows(cis):
    # Hold the queue database's write lock, as a stuck consumer would. The notification is
    # durable in the object journal with the message, so the 250 does not wait for the
    # queue's table; the table gets the notification, once, when the lock is released.
    blocker = sqlite3.connect(cis.data_dir / "queue.sqlite", timeout=5, isolation_level=None)
    try:
        blocker.execute("BEGIN EXCLUSIVE")
        started = time.monotonic()
        code, text = send(cis, timeout=120)
        assert code == 250, text
        assert time.monotonic() - started < 10
        assert blocker.execute("SELECT count(*) FROM messages").fetchone()[0] == 0
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    [row] = cis.queue_rows()
    queued_as = text.split("queued as ")[1].strip()
    assert row["body"]["Records"][0]["s3"]["object"]["key"] == f"inbound/{queued_as}"
    code, text = send(cis)
    assert code == 250, text
    assert len(cis.queue_rows()) == 2
