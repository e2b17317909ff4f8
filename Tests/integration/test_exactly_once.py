"""Every publish takes effect once, through the real binary: the crash between a publish and
its ledger record leaves the event's line in the topic file but not in the ledger, and the
redelivery appends nothing."""

import json
import os
import time
from pathlib import Path

import pytest

from conftest import with_loopback_dns
from pipeline_support import RECIPIENT, invite, send
from test_pipeline_embedded import FAST_RETRY, Consumer, topic_lines

WAIT_SECONDS = 30


@pytest.mark.parametrize("window, lines", [(None, 1), ("0", 2)])
def test_a_publish_made_before_a_crash_is_not_appended_again(start_cis, tmp_path: Path, window, lines):
    """The crash between a publish and its ledger record: the topic file already holds the
    event's line, the ledger does not. The redelivery appends nothing (deduplication id in the
    file), unless the window is off."""
    cis = start_cis("--recipient", RECIPIENT)
    uid = "crashed-publish@example.com"
    message_id = send(cis.port, invite(uid))
    assert cis.stop() == 0
    topics = cis.data_dir / "topics"
    topics.mkdir(exist_ok=True)
    earlier = {"DeduplicationId": f"{message_id}/{uid}/0", "Message": "{}", "MessageAttributes": {},
               "MessageId": "published-before-the-crash", "Route": "create", "Subject": None,
               "Timestamp": "2026-12-02T05:00:00.000Z"}
    (topics / "create.jsonl").write_text(json.dumps(earlier, sort_keys=True) + "\n")

    args = [*FAST_RETRY] + (["--topic-deduplication-window", window] if window else [])
    consumer = Consumer(cis.data_dir, tmp_path / "consume.log", *args)
    try:
        deadline = time.monotonic() + WAIT_SECONDS
        while cis.queue_rows():
            assert time.monotonic() < deadline, consumer.log.read_text()
            time.sleep(0.2)
    finally:
        assert consumer.stop() == 0, consumer.log.read_text()
    published = topic_lines(cis.data_dir, "create")
    assert len(published) == lines
    assert published[0]["MessageId"] == "published-before-the-crash"
    log = [json.loads(line) for line in consumer.log.read_text().splitlines() if line.startswith("{")]
    [entry] = [e for e in log if e.get("message") == "Published event request"]
    assert (entry["consumer.publish.message_id"] == "published-before-the-crash") == (window is None)


def test_a_write_cut_short_leaves_no_torn_line(start_cis, tmp_path: Path):
    """A topic file that cannot grow by a whole line (RLIMIT_FSIZE, as a full disk would): the
    append fails after part of the line was written, the file is cut back to whole lines, and
    the message is published once the file can grow again."""
    import resource
    import signal
    import subprocess

    from conftest import cis_binary

    cis = start_cis("--recipient", RECIPIENT)
    uid = "disk-full@example.com"
    send(cis.port, invite(uid))
    assert cis.stop() == 0
    topics = cis.data_dir / "topics"
    topics.mkdir(exist_ok=True)
    # Eight earlier lines of 1 MiB: the file is larger than anything SQLite writes meanwhile.
    filler = "".join(json.dumps({"DeduplicationId": f"earlier-{n}", "Message": "x" * (1 << 20), "MessageAttributes": {},
                                 "MessageId": f"earlier-{n}", "Route": "create", "Subject": None,
                                 "Timestamp": "2026-12-02T05:00:00.000Z"}, sort_keys=True) + "\n" for n in range(8))
    create = topics / "create.jsonl"
    create.write_text(filler)
    limit = len(filler.encode()) + 200

    def limited():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    log = tmp_path / "consume-limited.log"
    env = with_loopback_dns({k: v for k, v in os.environ.items() if not k.startswith("CIS_") or k == "CIS_BINARY"})
    process = subprocess.Popen(
        [cis_binary(), "consume", "--data-dir", str(cis.data_dir), "--log-format", "json", *FAST_RETRY],
        stdout=open(log, "wb"), stderr=subprocess.STDOUT, env=env, preexec_fn=limited)
    try:
        deadline = time.monotonic() + WAIT_SECONDS
        while log.read_text().count('"consumer.stage":"publish"') < 2:
            assert process.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.2)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    assert process.returncode == 0, log.read_text()[-3000:]
    assert create.read_text() == filler
    assert len(cis.queue_rows()) == 1

    consumer = Consumer(cis.data_dir, tmp_path / "consume.log", *FAST_RETRY)
    try:
        deadline = time.monotonic() + WAIT_SECONDS
        while cis.queue_rows():
            assert time.monotonic() < deadline, consumer.log.read_text()
            time.sleep(0.2)
    finally:
        assert consumer.stop() == 0, consumer.log.read_text()
    lines = topic_lines(cis.data_dir, "create")
    assert len(lines) == 9
    assert json.loads(lines[-1]["Message"])["original_uid"] == uid
