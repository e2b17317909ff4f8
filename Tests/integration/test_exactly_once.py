"""Every publish takes effect once, through the real binary: the crash between a publish and
its ledger record leaves the event's line in the topic file but not in the ledger, and the
redelivery appends nothing."""

import json
import time
from pathlib import Path

import pytest

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
