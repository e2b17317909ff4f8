"""Transient failures on SQS, through the real binary against moto: SNS unreachable for a while
does not use up the intake queue's receive limit. The consumer keeps the message (extending its
visibility) and retries it; only the hand-back at shutdown costs a receive."""

import json
import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from pipeline_support import RECIPIENT, invite, send

MOTO_ENDPOINT = os.environ.get("CIS_TEST_MOTO_ENDPOINT")
pytestmark = pytest.mark.skipif(
    not os.environ.get("CIS_BINARY") or not MOTO_ENDPOINT, reason="needs CIS_BINARY and CIS_TEST_MOTO_ENDPOINT")
WAIT_SECONDS = 40


def test_sns_unreachable_does_not_use_up_the_receive_limit(tmp_path: Path):
    pytest.importorskip("boto3")
    from conftest import unused_loopback_port
    from test_pipeline_aws import TOPIC_OPTIONS, aws_environment, client
    suffix = uuid.uuid4().hex[:10]
    sqs, sns, s3 = client("sqs"), client("sns"), client("s3")
    bucket = f"cis-transient-{suffix}"
    s3.create_bucket(Bucket=bucket)
    dead_letters = sqs.create_queue(QueueName=f"cis-transient-dlq-{suffix}")["QueueUrl"]
    dead_letters_arn = sqs.get_queue_attributes(QueueUrl=dead_letters, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    # Two receives at most: the first consumer's and the one after its hand-back at shutdown.
    intake = sqs.create_queue(
        QueueName=f"cis-transient-{suffix}",
        Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dead_letters_arn, "maxReceiveCount": "2"})})["QueueUrl"]
    topics = {route: sns.create_topic(Name=f"cis-transient-{route}-{suffix}")["TopicArn"] for route in TOPIC_OPTIONS}
    subscriber = sqs.create_queue(QueueName=f"cis-transient-create-sub-{suffix}")["QueueUrl"]
    subscriber_arn = sqs.get_queue_attributes(QueueUrl=subscriber, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topics["create"], Protocol="sqs", Endpoint=subscriber_arn)

    def serve(log: Path, env: dict, *extra: str) -> tuple[subprocess.Popen, int]:
        port = unused_loopback_port()
        args = [os.environ["CIS_BINARY"], "serve", "--backend", "aws", "--bucket", bucket, "--queue-url", intake,
                "--listen", f"127.0.0.1:{port}", "--recipient", RECIPIENT, "--data-dir", str(tmp_path / "cis-data"),
                "--poll-wait", "1", "--visibility-timeout", "3", "--retry-delay", "1", "--event-index", "none", *extra]
        for route, option in TOPIC_OPTIONS.items():
            args += [option, topics[route]]
        process = subprocess.Popen(args, stdout=open(log, "wb"), stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 30
        while "listening" not in log.read_text():
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        return process, port

    def stop(process: subprocess.Popen, log: Path) -> None:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=40)
        assert process.returncode == 0, log.read_text()

    def queue_counts(url: str) -> tuple[int, int]:
        attributes = sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesNotVisible"])

    # SNS unreachable (nothing listens on port 9 of loopback): every publish fails transiently.
    unreachable = dict(aws_environment(), AWS_ENDPOINT_URL_SNS="http://127.0.0.1:9")
    log = tmp_path / "serve-outage.log"
    process, port = serve(log, unreachable)
    try:
        message_id = send(port, invite(f"sns-outage-{suffix}@example.com"))
        deadline = time.monotonic() + WAIT_SECONDS
        while log.read_text().count("Message processing failed; retrying later") < 4:
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        # Four failures, several visibility timeouts long, and still one receive: nothing dead-lettered.
        assert queue_counts(intake) == (0, 1)
        assert queue_counts(dead_letters) == (0, 0)
    finally:
        stop(process, log)
    assert "Message handed back to the queue for a later retry" in log.read_text()

    # SNS is back: the second receive publishes it.
    log = tmp_path / "serve-recovered.log"
    process, _ = serve(log, aws_environment())
    try:
        deadline = time.monotonic() + WAIT_SECONDS
        published = []
        while not published:
            assert time.monotonic() < deadline, log.read_text()
            published = sqs.receive_message(QueueUrl=subscriber, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    finally:
        stop(process, log)
    assert len(published) == 1
    assert json.loads(json.loads(published[0]["Body"])["Message"])["key"].endswith(message_id)
    assert queue_counts(intake) == (0, 0)
    assert queue_counts(dead_letters) == (0, 0)
