"""The whole pipeline on the AWS backends, against moto ($CIS_TEST_MOTO_ENDPOINT): `cis serve
--backend aws` stores an invite sent over SMTP in S3, queues its notification in SQS, and its
consumer publishes the event to the route's SNS topic. Each topic is subscribed by an SQS queue
here, so the published message is read back and checked; a DynamoDB item in the existing
pipeline's schema turns the next request for that UID into an update."""

import json
import os
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from conftest import moto_client, moto_credentials, unused_loopback_port, with_loopback_dns
from pipeline_support import RECIPIENT, invite, send

boto3 = pytest.importorskip("boto3")

CIS_BINARY = os.environ.get("CIS_BINARY")
MOTO_ENDPOINT = os.environ.get("CIS_TEST_MOTO_ENDPOINT")
REGION = "us-east-1"
ROUTES = ["create", "update", "cancel", "reply", "failure"]
TOPIC_OPTIONS = {"create": "--topic-create", "update": "--topic-update", "cancel": "--topic-cancel",
                 "reply": "--topic-reply", "failure": "--topic-failure"}
WAIT_SECONDS = 20

pytestmark = pytest.mark.skipif(
    not CIS_BINARY or not MOTO_ENDPOINT, reason="needs CIS_BINARY and CIS_TEST_MOTO_ENDPOINT (scripts/test.sh sets both)")


def aws_environment() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CIS_", "AWS_")) or k == "CIS_BINARY"}
    env.update({
        **moto_credentials(), "AWS_REGION": REGION,
        "AWS_ENDPOINT_URL": MOTO_ENDPOINT, "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:9/",
    })
    return with_loopback_dns(env)


def client(service: str):
    return moto_client(service, MOTO_ENDPOINT, REGION)


def cis_help_mentions(option: str) -> bool:
    result = subprocess.run([CIS_BINARY, "serve", "--help"], capture_output=True, text=True, timeout=30)
    return option in result.stdout


@pytest.fixture
def aws_world():
    """A bucket, the intake queue with its dead-letter queue, five topics each subscribed by an
    SQS queue, and an event table, all named for this test only."""
    if not cis_help_mentions("--topic-create"):
        pytest.skip("this build of cis has no AWS topic options")
    suffix = uuid.uuid4().hex[:10]
    s3, sqs, sns, dynamodb = client("s3"), client("sqs"), client("sns"), client("dynamodb")
    bucket = f"cis-invites-{suffix}"
    s3.create_bucket(Bucket=bucket)
    dead_letters = sqs.create_queue(QueueName=f"cis-intake-dlq-{suffix}")["QueueUrl"]
    dead_letters_arn = sqs.get_queue_attributes(QueueUrl=dead_letters, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    intake = sqs.create_queue(
        QueueName=f"cis-intake-{suffix}",
        Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dead_letters_arn, "maxReceiveCount": "3"})})["QueueUrl"]
    topics, subscribers = {}, {}
    for route in ROUTES:
        topic = sns.create_topic(Name=f"cis-{route}-{suffix}")["TopicArn"]
        queue = sqs.create_queue(QueueName=f"cis-{route}-subscriber-{suffix}")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
        topics[route], subscribers[route] = topic, queue
    table = f"cis-events-{suffix}"
    dynamodb.create_table(
        TableName=table, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}])
    return {"bucket": bucket, "intake": intake, "dead_letters": dead_letters, "topics": topics,
            "subscribers": subscribers, "table": table, "sqs": sqs, "s3": s3, "dynamodb": dynamodb}


def start_serve(world: dict, tmp_path: Path, *extra: str, topics: dict | None = None,
                env: dict | None = None) -> tuple[subprocess.Popen, int, Path]:
    port = unused_loopback_port()
    log = tmp_path / f"serve-aws-{port}.log"
    args = [CIS_BINARY, "serve", "--backend", "aws", "--bucket", world["bucket"], "--queue-url", world["intake"],
            "--listen", f"127.0.0.1:{port}", "--hostname", "mx.invites.test", "--recipient", RECIPIENT,
            "--data-dir", str(tmp_path / "cis-data"), "--poll-wait", "1", *extra]
    for route, option in TOPIC_OPTIONS.items():
        args += [option, (topics or world["topics"])[route]]
    process = subprocess.Popen(args, stdout=open(log, "wb"), stderr=subprocess.STDOUT, env={**aws_environment(), **(env or {})})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"cis exited with {process.returncode}:\n{log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process, port, log
        except OSError:
            time.sleep(0.1)
    process.kill()
    pytest.fail(f"cis did not listen within 30 s:\n{log.read_text()}")


def stop(process: subprocess.Popen, log: Path) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
            pytest.fail(f"cis did not stop within 20 s of SIGTERM:\n{log.read_text()}")
    assert process.returncode == 0, log.read_text()


def receive_published(world: dict, route: str, log: Path) -> dict:
    """The SNS notification the route's subscriber queue received (exactly one), deleted."""
    sqs = world["sqs"]
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        messages = sqs.receive_message(QueueUrl=world["subscribers"][route], MaxNumberOfMessages=10,
                                       WaitTimeSeconds=1).get("Messages", [])
        if messages:
            assert len(messages) == 1, [m["Body"] for m in messages]
            sqs.delete_message(QueueUrl=world["subscribers"][route], ReceiptHandle=messages[0]["ReceiptHandle"])
            return json.loads(messages[0]["Body"])
    pytest.fail(f"nothing published to {route} within {WAIT_SECONDS} s:\n{log.read_text()}")


def queue_is_drained(world: dict) -> bool:
    attributes = world["sqs"].get_queue_attributes(
        QueueUrl=world["intake"],
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return attributes["ApproximateNumberOfMessages"] == "0" and attributes["ApproximateNumberOfMessagesNotVisible"] == "0"


def wait_until_drained(world: dict, log: Path, process: subprocess.Popen | None = None,
                       handled=lambda: True, seconds: float = WAIT_SECONDS) -> None:
    """Waits until `handled()` holds and the intake queue is empty; fails with the log when
    `seconds` pass or `process` exits first."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            pytest.fail(f"cis exited ({process.returncode}) before the intake queue was drained:\n{log.read_text()}")
        if handled() and queue_is_drained(world):
            return
        time.sleep(0.2)
    pytest.fail(f"the intake queue still holds messages after {seconds} s:\n{log.read_text()}")


def consume_command(world: dict, data_dir: Path, *extra: str) -> list[str]:
    """`cis consume --backend aws` on the world's bucket and intake queue, publishing to its topics."""
    args = [CIS_BINARY, "consume", "--backend", "aws", "--bucket", world["bucket"], "--queue-url", world["intake"],
            "--data-dir", str(data_dir), "--poll-wait", "1", *extra]
    for route, option in TOPIC_OPTIONS.items():
        args += [option, world["topics"][route]]
    return args


def check_event(notification: dict, route: str, method: str, message_id: str, uid: str, sequence: int, bucket: str):
    assert notification["Type"] == "Notification"
    assert notification["MessageAttributes"]["method"]["Value"] == method
    assert notification["MessageAttributes"]["uid"]["Value"] == message_id
    event = json.loads(notification["Message"])
    assert event["method"] == method
    assert event["route"] == route
    assert event["uid"] == message_id
    assert event["original_uid"] == uid
    assert event["sequence"] == sequence
    # 15:00 in Berlin in December (CET, UTC+1).
    assert event["dtstart"] == "20261202T140000Z"
    assert event["dtend"] == "20261202T150000Z"
    assert event["organizer"] == "olivia@example.com"
    assert event["mailto"] == "olivia@example.com"
    assert event["bucket"] == bucket
    assert event["key"].endswith(message_id)


def test_invite_over_smtp_is_published_to_the_create_topic(aws_world: dict, tmp_path: Path):
    process, port, log = start_serve(aws_world, tmp_path, "--event-index", "none")
    try:
        uid = f"aws-create-{uuid.uuid4().hex}@example.com"
        message_id = send(port, invite(uid))
        notification = receive_published(aws_world, "create", log)
        wait_until_drained(aws_world, log)
    finally:
        stop(process, log)
    check_event(notification, "create", "request", message_id, uid, 0, aws_world["bucket"])
    stored = aws_world["s3"].get_object(Bucket=aws_world["bucket"], Key=json.loads(notification["Message"])["key"])
    assert b"BEGIN:VCALENDAR" in stored["Body"].read()
    assert aws_world["sqs"].receive_message(QueueUrl=aws_world["subscribers"]["update"], WaitTimeSeconds=0).get("Messages") is None


def test_uid_in_the_event_table_goes_to_the_update_topic(aws_world: dict, tmp_path: Path):
    uid = f"aws-known-{uuid.uuid4().hex}@example.com"
    key = f"original_event#{uid}"
    aws_world["dynamodb"].put_item(TableName=aws_world["table"], Item={"pk": {"S": key}, "sk": {"S": key}})
    process, port, log = start_serve(aws_world, tmp_path, "--event-index", "dynamodb", "--event-table", aws_world["table"])
    try:
        message_id = send(port, invite(uid))
        notification = receive_published(aws_world, "update", log)
        wait_until_drained(aws_world, log)
    finally:
        stop(process, log)
    check_event(notification, "update", "request", message_id, uid, 0, aws_world["bucket"])


def test_publish_to_a_missing_topic_leaves_the_message_to_the_dead_letter_queue(aws_world: dict, tmp_path: Path):
    topics = dict(aws_world["topics"])
    topics["create"] = topics["create"] + "-deleted"
    process, port, log = start_serve(aws_world, tmp_path, "--event-index", "none", "--visibility-timeout", "1",
                                     topics=topics)
    try:
        message_id = send(port, invite(f"aws-poison-{uuid.uuid4().hex}@example.com"))
        sqs = aws_world["sqs"]
        deadline = time.monotonic() + WAIT_SECONDS
        dead = []
        while not dead and time.monotonic() < deadline:
            dead = sqs.receive_message(QueueUrl=aws_world["dead_letters"], MaxNumberOfMessages=10,
                                       WaitTimeSeconds=1, AttributeNames=["ApproximateReceiveCount"]).get("Messages", [])
        assert dead, f"nothing in the dead-letter queue after {WAIT_SECONDS} s:\n{log.read_text()}"
    finally:
        stop(process, log)
    assert len(dead) == 1
    record = json.loads(dead[0]["Body"])["Records"][0]
    assert record["s3"]["object"]["key"].endswith(message_id)
    assert queue_is_drained(aws_world)
    for route in ROUTES:
        assert sqs.receive_message(QueueUrl=aws_world["subscribers"][route], WaitTimeSeconds=0).get("Messages") is None
    assert "left for the dead-letter queue" in log.read_text()


def test_cis_consume_publishes_through_a_server_that_verifies_signatures(aws_world: dict, tmp_path: Path):
    """`cis consume --backend aws` alone: moto's own S3 notification for an invite put with boto3
    is consumed and the event published to SNS. moto recomputes every signature (make test runs
    it with INITIAL_NO_AUTH_ACTION_COUNT and the IAM user's keys), rebuilding the Publish form
    body the way botocore encodes it: a summary with spaces, `+`, `/`, `~`, `*`, `&`, `=`,
    quotes and non-ASCII text must arrive, not be refused with SignatureDoesNotMatch."""
    sqs, s3 = aws_world["sqs"], aws_world["s3"]
    intake_arn = sqs.get_queue_attributes(QueueUrl=aws_world["intake"], AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3.put_bucket_notification_configuration(Bucket=aws_world["bucket"], NotificationConfiguration={
        "QueueConfigurations": [{"Id": "cis-intake", "QueueArn": intake_arn, "Events": ["s3:ObjectCreated:*"]}]})
    uid = f"aws-consume-{uuid.uuid4().hex}@example.com"
    summary = 'Plan + review / Q3 ~ *draft* & "go" = yes, café 会议'
    key = f"inbound/consume-{uuid.uuid4().hex}"
    s3.put_object(Bucket=aws_world["bucket"], Key=key, Body=invite(uid, summary=summary).as_bytes(),
                  ContentType="message/rfc822")

    log = tmp_path / "consume-aws.log"
    process = subprocess.Popen(consume_command(aws_world, tmp_path / "cis-data", "--event-index", "none"),
                               stdout=open(log, "wb"), stderr=subprocess.STDOUT, env=aws_environment())
    try:
        notification = receive_published(aws_world, "create", log)
        wait_until_drained(aws_world, log)
    finally:
        stop(process, log)
    event = json.loads(notification["Message"])
    assert (event["original_uid"], event["key"], event["bucket"]) == (uid, key, aws_world["bucket"])
    assert event["summary"] == summary
    assert notification["MessageAttributes"]["method"]["Value"] == "request"
    assert "SignatureDoesNotMatch" not in log.read_text()
