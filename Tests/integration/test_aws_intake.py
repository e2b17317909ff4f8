"""`cis serve --backend aws` against moto_server ($CIS_TEST_MOTO_ENDPOINT, started by `make test`):
the stored object, the queued notification compared with the one moto itself produces for the
same object, the SNS envelope option, retries, an endpoint that is down, the consumer's SNS
topics, and the one-line start-up errors."""
import json
import os
import pathlib
import smtplib
import subprocess
import time
import uuid

import pytest

from conftest import INVITE, cis_binary, moto_client, moto_credentials, queued_id, unused_loopback_port

ROOT = pathlib.Path(__file__).resolve().parents[2]
REGION = "us-east-1"


@pytest.fixture(scope="module")
def moto():
    endpoint = os.environ.get("CIS_TEST_MOTO_ENDPOINT")
    if not endpoint:
        pytest.fail("CIS_TEST_MOTO_ENDPOINT is not set: run `make test` (it starts moto_server), "
                    "or start `moto_server -H 127.0.0.1 -p <port>` and export CIS_TEST_MOTO_ENDPOINT")
    return endpoint


def client(service, endpoint):
    return moto_client(service, endpoint, REGION)


def aws_env(endpoint, **overrides):
    env = {
        **moto_credentials(), "AWS_REGION": REGION,
        "AWS_ENDPOINT_URL": endpoint, "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:9/",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent", "AWS_CONFIG_FILE": "/nonexistent",
    }
    env.update(overrides)
    return env


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


class Stack:
    """A bucket and a queue (plus topics when asked) created in moto for one test."""

    def __init__(self, endpoint):
        self.endpoint = endpoint
        self.s3 = client("s3", endpoint)
        self.sqs = client("sqs", endpoint)
        self.sns = client("sns", endpoint)
        self.bucket = unique("cis-bucket")
        self.s3.create_bucket(Bucket=self.bucket)
        self.queue_url = self.sqs.create_queue(QueueName=unique("cis-queue"))["QueueUrl"]

    def queue(self, name):
        return self.sqs.create_queue(QueueName=unique(name))["QueueUrl"]

    def queue_arn(self, url):
        return self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    def receive(self, url, wait=2, count=10):
        messages = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=count, WaitTimeSeconds=wait,
                                            AttributeNames=["All"]).get("Messages", [])
        return messages

    def keys(self):
        return [o["Key"] for o in self.s3.list_objects_v2(Bucket=self.bucket).get("Contents", [])]

    def args(self, *extra):
        return ("--backend", "aws", "--bucket", self.bucket, "--queue-url", self.queue_url, *extra)


def send(server, body="Subject: hello\r\n\r\nhello\r\n", sender="alice@example.com", to="create@localhost"):
    """Sends one message; returns (code, reply text) of the end of DATA."""
    with smtplib.SMTP(server.host, server.port, timeout=60) as smtp:
        smtp.ehlo("client.test")
        smtp.mail(sender)
        smtp.rcpt(to)
        code, reply = smtp.data(body.encode())
        return code, reply.decode()


def key_paths(value, prefix=""):
    """Every key path of a JSON value (list items merged), for comparing shapes."""
    if isinstance(value, dict):
        paths = set()
        for key, item in value.items():
            paths.add(prefix + key)
            paths |= key_paths(item, prefix + key + ".")
        return paths
    if isinstance(value, list):
        paths = set()
        for item in value:
            paths |= key_paths(item, prefix + "[].")
        return paths
    return set()


def test_intake_notification_matches_what_moto_s3_sends(moto, start_cis):
    stack = Stack(moto)
    # moto's own S3 -> SQS notification for the same bucket, as the reference.
    reference_queue = stack.queue("cis-reference")
    stack.s3.put_bucket_notification_configuration(Bucket=stack.bucket, NotificationConfiguration={
        "QueueConfigurations": [{"Id": "cis-intake", "QueueArn": stack.queue_arn(reference_queue),
                                 "Events": ["s3:ObjectCreated:*"]}]})
    stack.receive(reference_queue, wait=0)  # drop moto's s3:TestEvent
    # A prefix S3 encodes in event keys (a space becomes "+"). Not "+", "=" or ":" as well: moto
    # checks an S3 signature against the path as werkzeug re-quotes it, not as sent, and so
    # refuses keys with reserved characters even from boto3 (RoundTripTests covers their event
    # encoding, BotocoreSignerTests their request encoding).
    server = start_cis(*stack.args("--prefix", "in box~1_x/"), env=aws_env(moto))
    code, reply = send(server)
    assert code == 250, reply
    message_id = queued_id(reply)
    key = f"in box~1_x/{message_id}"

    assert stack.keys() == [key]
    head = stack.s3.head_object(Bucket=stack.bucket, Key=key)
    assert head["ContentType"] == "message/rfc822"
    assert head["Metadata"]["mail-from"] == "alice@example.com"
    assert head["Metadata"]["recipients"] == "create@localhost"
    stored = stack.s3.get_object(Bucket=stack.bucket, Key=key)["Body"].read()
    assert stored.startswith(b"Received: from client.test")
    assert stored.endswith(b"hello\r\n")

    ours = stack.receive(stack.queue_url)
    assert len(ours) == 1
    theirs = [m for m in stack.receive(reference_queue) if "Records" in json.loads(m["Body"])]
    assert len(theirs) == 1
    our_event = json.loads(ours[0]["Body"])
    moto_event = json.loads(theirs[0]["Body"])
    # moto writes a subset of what S3 writes: ours has every field of moto's, plus exactly the
    # fields real S3 events carry that moto leaves out.
    assert key_paths(moto_event) <= key_paths(our_event)
    assert key_paths(our_event) - key_paths(moto_event) == {
        "Records.[].userIdentity", "Records.[].userIdentity.principalId",
        "Records.[].requestParameters", "Records.[].requestParameters.sourceIPAddress",
        "Records.[].responseElements", "Records.[].responseElements.x-amz-request-id",
        "Records.[].responseElements.x-amz-id-2",
        "Records.[].s3.bucket.ownerIdentity", "Records.[].s3.bucket.ownerIdentity.principalId",
        "Records.[].s3.object.sequencer",
    }
    ours_record, moto_record = our_event["Records"][0], moto_event["Records"][0]
    for field in ("eventVersion", "eventSource", "awsRegion", "eventName"):
        assert ours_record[field] == moto_record[field], field
    # Same key encoding, except that moto also encodes "/" (as %2F) where S3 keeps it.
    assert ours_record["s3"]["object"]["key"] == moto_record["s3"]["object"]["key"].replace("%2F", "/")
    assert ours_record["s3"]["object"]["key"] == f"in+box~1_x/{message_id}"
    assert ours_record["s3"]["object"]["key"] != key, "the key in the event is URL-encoded"
    assert ours_record["s3"]["object"]["size"] == moto_record["s3"]["object"]["size"] == len(stored)
    assert ours_record["s3"]["object"]["eTag"] == moto_record["s3"]["object"]["eTag"]
    assert ours_record["s3"]["bucket"]["name"] == moto_record["s3"]["bucket"]["name"] == stack.bucket
    assert ours_record["s3"]["bucket"]["arn"] == moto_record["s3"]["bucket"]["arn"]
    assert ours_record["s3"]["configurationId"] == moto_record["s3"]["configurationId"]
    assert ours_record["s3"]["s3SchemaVersion"] == moto_record["s3"]["s3SchemaVersion"]


def test_sns_envelope_matches_what_moto_sns_delivers(moto, start_cis):
    stack = Stack(moto)
    topic = stack.sns.create_topic(Name=unique("cis-s3-events"))["TopicArn"]
    reference_queue = stack.queue("cis-sns-reference")
    stack.sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=stack.queue_arn(reference_queue))
    stack.sns.publish(TopicArn=topic, Message='{"Records":[]}', Subject="Amazon S3 Notification")
    moto_envelope = json.loads(stack.receive(reference_queue)[0]["Body"])

    server = start_cis(*stack.args("--sqs-envelope", "sns", "--sns-envelope-topic-arn", topic), env=aws_env(moto))
    code, reply = send(server)
    assert code == 250, reply
    messages = stack.receive(stack.queue_url)
    assert len(messages) == 1
    envelope = json.loads(messages[0]["Body"])
    assert set(envelope) == set(moto_envelope)
    assert envelope["Type"] == "Notification"
    assert envelope["TopicArn"] == topic
    event = json.loads(envelope["Message"])
    assert event["Records"][0]["s3"]["object"]["key"] == f"inbound/{queued_id(reply)}"
    assert event["Records"][0]["s3"]["bucket"]["name"] == stack.bucket


def start_proxy(tmp_path, plan):
    """scripted_http_server.py: canned failures, then requests passed on to moto."""
    plan_path = tmp_path / "plan.json"
    plan_path.write_text(json.dumps(plan))
    port_path = tmp_path / "port"
    log_path = tmp_path / "requests.jsonl"
    process = subprocess.Popen(["python3", str(ROOT / "Tests/Support/scripted_http_server.py"),
                                str(plan_path), str(log_path), str(port_path)])
    deadline = time.time() + 20
    while not port_path.exists():
        assert time.time() < deadline, "proxy did not start"
        time.sleep(0.05)
    return process, f"http://127.0.0.1:{port_path.read_text()}", log_path


def test_s3_failures_are_retried_and_the_message_stored_once(moto, start_cis, tmp_path):
    stack = Stack(moto)
    proxy, proxy_url, log_path = start_proxy(tmp_path, [
        {"method": "PUT", "times": 1, "status": 500,
         "body": "<Error><Code>InternalError</Code><Message>try again</Message></Error>"},
        {"method": "PUT", "times": 1, "status": 503,
         "body": "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"},
        {"proxy": moto},
    ])
    try:
        server = start_cis(*stack.args(), env=aws_env(moto, AWS_ENDPOINT_URL_S3=proxy_url))
        code, reply = send(server)
        assert code == 250, reply
        puts = [json.loads(line) for line in log_path.read_text().splitlines()]
        assert [p["method"] for p in puts].count("PUT") == 3
        assert stack.keys() == [f"inbound/{queued_id(reply)}"]
        assert len(stack.receive(stack.queue_url)) == 1
    finally:
        proxy.terminate()
        proxy.wait(timeout=10)


def test_s3_down_is_451_and_nothing_queued(moto, start_cis):
    stack = Stack(moto)
    server = start_cis(*stack.args(), env=aws_env(moto, AWS_ENDPOINT_URL_S3=f"http://127.0.0.1:{unused_loopback_port()}"))
    code, reply = send(server)
    assert code == 451, reply
    assert reply.startswith("4.3.0")
    assert stack.keys() == []
    assert stack.receive(stack.queue_url, wait=1) == []


def test_a_wrong_secret_is_refused_by_the_verifying_moto(moto, start_cis):
    """moto checks every signature (make test starts it so): cis signing with a wrong secret
    stores nothing and answers 451, the log naming SignatureDoesNotMatch."""
    stack = Stack(moto)
    wrong = moto_credentials()["AWS_SECRET_ACCESS_KEY"] + "x"
    server = start_cis(*stack.args(), env=aws_env(moto, AWS_SECRET_ACCESS_KEY=wrong))
    code, reply = send(server)
    assert code == 451, reply
    assert stack.keys() == []
    assert stack.receive(stack.queue_url, wait=1) == []
    assert any("SignatureDoesNotMatch" in json.dumps(event) for event in server.logs()), server.logs()


def test_sqs_down_is_451(moto, start_cis):
    stack = Stack(moto)
    server = start_cis(*stack.args(), env=aws_env(moto, AWS_ENDPOINT_URL_SQS=f"http://127.0.0.1:{unused_loopback_port()}"))
    code, reply = send(server)
    assert code == 451, reply
    assert stack.receive(stack.queue_url, wait=1) == []


def test_consumer_publishes_the_invite_to_the_create_topic(moto, start_cis):
    stack = Stack(moto)
    topics = {}
    for route in ("create", "update", "cancel", "failure", "reply"):
        topics[route] = stack.sns.create_topic(Name=unique(f"cis-{route}"))["TopicArn"]
    create_subscriber = stack.queue("cis-create-sub")
    stack.sns.subscribe(TopicArn=topics["create"], Protocol="sqs", Endpoint=stack.queue_arn(create_subscriber))
    args = stack.args("--event-index", "none", "--poll-wait", "1",
                      *[item for route, arn in topics.items() for item in (f"--topic-{route}", arn)])
    server = start_cis(*args, env=aws_env(moto), consumer=True)
    code, reply = send(server, body=INVITE, sender="organizer@example.com")
    assert code == 250, reply
    deadline = time.time() + 60
    published = []
    while not published and time.time() < deadline:
        published = stack.receive(create_subscriber, wait=2)
    assert len(published) == 1
    envelope = json.loads(published[0]["Body"])
    event = json.loads(envelope["Message"])
    assert event["method"].upper() == "REQUEST"
    assert event["uid"] == queued_id(reply)
    assert event["original_uid"] == "design-review-1@example.com"
    assert envelope["MessageAttributes"]["method"]["Value"].upper() == "REQUEST"
    assert envelope["MessageAttributes"]["uid"]["Type"] == "String"
    # Deleted only after the publish: the intake queue ends empty.
    deadline = time.time() + 30
    while time.time() < deadline:
        attributes = stack.sqs.get_queue_attributes(QueueUrl=stack.queue_url, AttributeNames=["All"])["Attributes"]
        if attributes["ApproximateNumberOfMessages"] == "0" and attributes["ApproximateNumberOfMessagesNotVisible"] == "0":
            break
        time.sleep(0.5)
    else:
        pytest.fail(f"the notification was not deleted: {attributes}")


@pytest.mark.parametrize("missing, expected", [
    ("AWS_REGION", "no AWS region"),
    ("AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together"),
    ("both-keys", "no AWS credentials found"),
])
def test_missing_settings_are_one_line_at_start(moto, tmp_path, missing, expected):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CIS_", "AWS_"))}
    env.update(aws_env(moto))
    if missing == "both-keys":
        del env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]
    else:
        del env[missing]
    env.pop("AWS_DEFAULT_REGION", None)
    result = subprocess.run(
        [cis_binary(), "serve", "--no-consumer", "--listen", "127.0.0.1:0", "--data-dir", str(tmp_path),
         "--backend", "aws", "--bucket", "b", "--queue-url", f"{moto}/123456789012/q"],
        env=env, capture_output=True, timeout=60)
    lines = result.stderr.decode().strip().splitlines()
    assert result.returncode == 78, result.stderr
    assert len(lines) == 1, lines
    assert lines[0].startswith("cis: AWS: ") and expected in lines[0], lines[0]


def test_missing_bucket_names_the_option(moto, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CIS_", "AWS_"))}
    env.update(aws_env(moto))
    result = subprocess.run(
        [cis_binary(), "serve", "--no-consumer", "--listen", "127.0.0.1:0", "--data-dir", str(tmp_path), "--backend", "aws"],
        env=env, capture_output=True, timeout=60)
    assert result.returncode == 78
    assert result.stderr.decode().strip() == "cis: --bucket: required with --backend aws (or set CIS_S3_BUCKET)"


def peak_rss_kib(pid):
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


def test_30_mb_message_is_streamed_from_the_spool_file(moto, start_cis):
    stack = Stack(moto)
    server = start_cis(*stack.args(), env=aws_env(moto))
    line = b"x" * 998 + b"\r\n"
    body = b"Subject: large\r\n\r\n" + line * (30 * 1024 * 1024 // len(line))
    before = peak_rss_kib(server.process.pid)
    started = time.monotonic()
    with smtplib.SMTP(server.host, server.port, timeout=120) as smtp:
        smtp.ehlo("client.test")
        smtp.mail("alice@example.com", ["SIZE=%d" % len(body)])
        smtp.rcpt("create@localhost")
        code, reply = smtp.data(body)
    elapsed = time.monotonic() - started
    assert code == 250, reply
    key = f"inbound/{queued_id(reply.decode())}"
    stored = stack.s3.get_object(Bucket=stack.bucket, Key=key)["Body"].read()
    assert stored.endswith(body)
    assert len(stored) > 30 * 1000 * 1000
    grown_mib = (peak_rss_kib(server.process.pid) - before) / 1024
    print(f"30 MB message: 250 after {elapsed:.2f} s, peak RSS grew {grown_mib:.1f} MiB")
    # Neither the listener nor the S3 upload holds the message in memory.
    assert grown_mib < 24, f"peak RSS grew {grown_mib:.1f} MiB while storing a 30 MiB message"
