"""The publish ledger across consumer hosts, through the real binary against moto (verifying
signatures): two `cis consume` processes with their own data directories on one SQS queue.
The first publishes an invite and deletes its notification; the same notification arrives
again (SQS delivers at least once; a failed delete or a lapsed visibility on the first host
does the same) and the second consumer gets it. With `--event-index dynamodb` the ledger is
in DynamoDB and the second consumer publishes nothing; with the local ledger (each host its
own `events.sqlite`) it publishes the event a second time, which is why the shared one exists."""

import json
import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from pipeline_support import invite
from test_pipeline_aws import (  # noqa: F401 (fixture)
    CIS_BINARY, aws_environment, aws_world, consume_command, wait_until_drained)

MOTO_ENDPOINT = os.environ.get("CIS_TEST_MOTO_ENDPOINT")
pytestmark = pytest.mark.skipif(
    not CIS_BINARY or not MOTO_ENDPOINT, reason="needs CIS_BINARY and CIS_TEST_MOTO_ENDPOINT (scripts/test.sh sets both)")
WAIT_SECONDS = 60


def consume(world: dict, data_dir: Path, log: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(consume_command(world, data_dir, "--log-format", "json", "--log-level", "debug", *extra),
                            stdout=open(log, "wb"), stderr=subprocess.STDOUT, env=aws_environment())


def stop(process: subprocess.Popen, log: Path) -> None:
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=40)
    assert process.returncode == 0, log.read_text()


def log_entries(log: Path, message: str) -> list[dict]:
    entries = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    return [entry for entry in entries if entry.get("message") == message]


def run_until_handled(world: dict, data_dir: Path, log: Path, *extra: str) -> None:
    """Runs one consumer until the intake queue is empty and it logged what it did with the message."""
    process = consume(world, data_dir, log, *extra)
    try:
        wait_until_drained(world, log, process, seconds=WAIT_SECONDS, handled=lambda: bool(
            log_entries(log, "Published event request")
            or log_entries(log, "Event request already published; not published again")))
    finally:
        stop(process, log)


def published(world: dict, route: str) -> list[dict]:
    found, sqs = {}, world["sqs"]
    for _ in range(3):
        for message in sqs.receive_message(QueueUrl=world["subscribers"][route], MaxNumberOfMessages=10,
                                           WaitTimeSeconds=1, VisibilityTimeout=60).get("Messages", []):
            found[message["MessageId"]] = json.loads(message["Body"])
    return list(found.values())


@pytest.mark.parametrize("index, copies", [("dynamodb", 1), ("local", 2)])
def test_a_redelivery_to_another_consumer_publishes_nothing_with_the_shared_ledger(
        aws_world: dict, tmp_path: Path, index: str, copies: int):  # noqa: F811 (fixture)
    sqs, s3 = aws_world["sqs"], aws_world["s3"]
    uid = f"ledger-{uuid.uuid4().hex}@example.com"
    key = f"inbound/ledger-{uuid.uuid4().hex}"
    s3.put_object(Bucket=aws_world["bucket"], Key=key, Body=invite(uid).as_bytes(), ContentType="message/rfc822")
    notification = json.dumps({"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1", "eventTime": "2026-12-02T08:00:00.000Z",
        "eventName": "ObjectCreated:Put",
        "s3": {"s3SchemaVersion": "1.0", "bucket": {"name": aws_world["bucket"], "arn": f"arn:aws:s3:::{aws_world['bucket']}"},
               "object": {"key": key, "size": 1}}}]})
    extra = ["--event-index", index]
    if index == "dynamodb":
        extra += ["--event-table", aws_world["table"]]

    sqs.send_message(QueueUrl=aws_world["intake"], MessageBody=notification)
    first_log = tmp_path / "consume-host-a.log"
    run_until_handled(aws_world, tmp_path / "host-a", first_log, *extra)
    assert len(log_entries(first_log, "Published event request")) == 1, first_log.read_text()

    # The same notification again, now received by the consumer on the other host. First let
    # moto finish the stopped consumer's last long polls (--poll-wait 1): a message sent while one
    # is still open goes to that dead connection and stays invisible for the visibility timeout
    # (as with SQS itself: redelivered later, not lost), longer than this test waits.
    time.sleep(2.5)
    sqs.send_message(QueueUrl=aws_world["intake"], MessageBody=notification)
    second_log = tmp_path / "consume-host-b.log"
    run_until_handled(aws_world, tmp_path / "host-b", second_log, *extra)

    events = published(aws_world, "create")
    assert len(events) == copies, [e.get("Message") for e in events]
    assert all(json.loads(e["Message"])["original_uid"] == uid for e in events)
    skipped = log_entries(second_log, "Event request already published; not published again")
    assert len(skipped) == (1 if index == "dynamodb" else 0), second_log.read_text()
    if index == "dynamodb":
        # The ledger's item: beside the pipeline's items, with its TTL attribute 14 days on.
        [first_publish] = log_entries(first_log, "Published event request")
        assert skipped[0]["consumer.publish.message_id"] == first_publish["consumer.publish.message_id"]
        request_id = key.rsplit("/", 1)[-1]
        item_key = f"published#{request_id}/{uid}/0/create"
        item = aws_world["dynamodb"].get_item(TableName=aws_world["table"], Key={"pk": {"S": item_key}, "sk": {"S": item_key}},
                                              ConsistentRead=True)["Item"]
        assert item["message_id"]["S"] == first_publish["consumer.publish.message_id"]
        assert int(item["expires_at"]["N"]) - int(item["published_at"]["N"]) == 14 * 86400
        assert abs(int(item["published_at"]["N"]) - time.time()) < 600
        assert not (tmp_path / "host-b" / "events.sqlite").exists(), "the DynamoDB ledger needs no local one"
