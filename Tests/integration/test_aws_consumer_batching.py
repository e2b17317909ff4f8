"""`cis consume --backend aws` gathering its deletes into SQS DeleteMessageBatch calls, against
moto_server verifying every signature ($CIS_TEST_MOTO_ENDPOINT, started by `make test`), through
bench/aws_latency_proxy.py, which passes every request to moto unchanged and counts the calls
and the entries of each batch call by operation."""
import json
import signal
import subprocess
import uuid
from pathlib import Path

import pytest

from pipeline_support import invite
from test_aws_intake_batching import moto, proxy, proxy_stats  # noqa: F401 (fixtures)
from test_pipeline_aws import (  # noqa: F401 (fixture)
    CIS_BINARY, MOTO_ENDPOINT, aws_environment, aws_world, consume_command, wait_until_drained)

pytestmark = pytest.mark.skipif(
    not CIS_BINARY or not MOTO_ENDPOINT, reason="needs CIS_BINARY and CIS_TEST_MOTO_ENDPOINT (scripts/test.sh sets both)")
WAIT_SECONDS = 90


def preload(world: dict, count: int) -> list[str]:
    """`count` invites in the bucket, each with its S3 event in the intake queue; returns their UIDs."""
    uids = [f"batch-{index}-{uuid.uuid4().hex[:8]}@example.com" for index in range(count)]
    bodies = []
    for uid in uids:
        key = f"inbound/{uuid.uuid4().hex}"
        world["s3"].put_object(Bucket=world["bucket"], Key=key, Body=invite(uid).as_bytes(), ContentType="message/rfc822")
        bodies.append(json.dumps({"Records": [{
            "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
            "eventTime": "2026-12-02T08:00:00.000Z", "eventName": "ObjectCreated:Put",
            "s3": {"s3SchemaVersion": "1.0", "bucket": {"name": world["bucket"], "arn": f"arn:aws:s3:::{world['bucket']}"},
                   "object": {"key": key, "size": 1}}}]}))
    for start in range(0, count, 10):
        world["sqs"].send_message_batch(QueueUrl=world["intake"], Entries=[
            {"Id": str(index), "MessageBody": body} for index, body in enumerate(bodies[start:start + 10])])
    return uids


def published_uids(world: dict, log: Path) -> list[str]:
    found = {}
    for _ in range(20):
        messages = world["sqs"].receive_message(QueueUrl=world["subscribers"]["create"], MaxNumberOfMessages=10,
                                                WaitTimeSeconds=1, VisibilityTimeout=120).get("Messages", [])
        if not messages and found:
            break
        for message in messages:
            found[message["MessageId"]] = json.loads(json.loads(message["Body"])["Message"])["original_uid"]
    return sorted(found.values())


def consume_until_drained(world: dict, tmp_path: Path, endpoint: str, expected: int, *extra: str) -> Path:
    log = tmp_path / "consume.log"
    process = subprocess.Popen(consume_command(world, tmp_path / "data", "--log-format", "json", *extra),
                               stdout=open(log, "wb"), stderr=subprocess.STDOUT,
                               env={**aws_environment(), "AWS_ENDPOINT_URL": endpoint})
    try:
        wait_until_drained(world, log, process, seconds=WAIT_SECONDS,
                           handled=lambda: log.read_text().count('"Published event request"') >= expected)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    assert process.returncode == 0, log.read_text()
    return log


def test_deletes_share_delete_message_batch_calls_and_each_message_is_deleted_once(
        aws_world, proxy, tmp_path):  # noqa: F811 (fixtures)
    url = proxy()
    uids = preload(aws_world, 25)
    # A window far longer than the consumer takes for 25 messages: deletes gather until a
    # batch has 10 entries or a second passed.
    log = consume_until_drained(aws_world, tmp_path, url, 25, "--queue-batch-window", "1000")

    stats = proxy_stats(url)
    deletes = stats["entries"].get("DeleteMessageBatch", [])
    assert "DeleteMessage" not in stats["operations"], stats
    assert sum(deletes) == 25, f"every message deleted in exactly one entry: {stats}"
    assert max(deletes) <= 10 and len(deletes) < 25 and max(deletes) > 1, stats
    receives = stats["operations"]["ReceiveMessage"]
    assert receives >= 3, stats
    assert published_uids(aws_world, log) == sorted(uids), "each invite published exactly once"
    dead = aws_world["sqs"].get_queue_attributes(
        QueueUrl=aws_world["dead_letters"], AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
    assert dead["ApproximateNumberOfMessages"] == "0"


def test_window_zero_deletes_each_message_with_delete_message(aws_world, proxy, tmp_path):  # noqa: F811 (fixtures)
    url = proxy()
    uids = preload(aws_world, 3)
    log = consume_until_drained(aws_world, tmp_path, url, 3, "--queue-batch-window", "0")
    stats = proxy_stats(url)
    assert stats["operations"].get("DeleteMessage") == 3, stats
    assert "DeleteMessageBatch" not in stats["operations"], stats
    assert published_uids(aws_world, log) == sorted(uids)
