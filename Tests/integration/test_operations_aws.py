"""The HTTP side port with `--backend aws`, against moto verifying SigV4
($CIS_TEST_MOTO_ENDPOINT): /readyz probes S3, SQS (the queue and its dead-letter queue, with
GetQueueAttributes) and SNS (GetTopicAttributes for each route topic); /metrics has the SQS
depths and no oldest-message age (SQS tells that only to CloudWatch); the status page lists the
SQS dead-letter queue by peeking, so its messages stay where they are; and an endpoint that
never answers fails its check at --ready-probe-timeout."""

import json
import socket
import threading
import time
import uuid
from pathlib import Path

import pytest

from operations_support import get, get_json, metric, scrape
from pipeline_support import send
from test_pipeline_aws import CIS_BINARY, MOTO_ENDPOINT, aws_world, invite, start_serve, stop  # noqa: F401 (fixture)

pytestmark = pytest.mark.skipif(
    not CIS_BINARY or not MOTO_ENDPOINT, reason="needs CIS_BINARY and CIS_TEST_MOTO_ENDPOINT (scripts/test.sh sets both)")

HTTP = ("--http-listen", "127.0.0.1:0", "--log-format", "json")


def http_port(log: Path, timeout: float = 30) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in log.read_text().splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if str(event.get("message", "")).startswith("status page at "):
                return int(event["ops.http.port"])
        time.sleep(0.1)
    pytest.fail(f"no 'status page at' line within {timeout} s:\n{log.read_text()}")


def readiness(port: int, log: Path, until, what: str, timeout: float = 30) -> tuple[int, dict]:
    deadline = time.monotonic() + timeout
    while True:
        status, report = get_json(port, "/readyz")
        if until(status, report):
            return status, report
        if time.monotonic() > deadline:
            pytest.fail(f"{what} not seen within {timeout} s; last /readyz {status} {report}:\n{log.read_text()}")
        time.sleep(0.3)


def check(report: dict, name: str) -> dict:
    [found] = [c for c in report["checks"] if c["name"] == name]
    return found


def test_sqs_depths_and_the_dead_letter_queue_on_the_side_port(aws_world: dict, tmp_path: Path):
    world, sqs = aws_world, aws_world["sqs"]
    process, port, log = start_serve(
        world, tmp_path, "--no-consumer", *HTTP, "--ready-max-queue-depth", "1",
        "--dead-letter-queue-url", world["dead_letters"])
    try:
        http = http_port(log)
        # One stored message's notification goes to the dead-letter queue, as the redrive policy would move it.
        dead_id = send(port, invite(f"ops-dead-{uuid.uuid4().hex}@example.com"))
        [notification] = sqs.receive_message(QueueUrl=world["intake"], MaxNumberOfMessages=10, WaitTimeSeconds=2)["Messages"]
        sqs.send_message(QueueUrl=world["dead_letters"], MessageBody=notification["Body"])
        sqs.delete_message(QueueUrl=world["intake"], ReceiptHandle=notification["ReceiptHandle"])
        # Two more stay queued (no consumer): more than --ready-max-queue-depth 1.
        send(port, invite(f"ops-queued-1-{uuid.uuid4().hex}@example.com"))
        send(port, invite(f"ops-queued-2-{uuid.uuid4().hex}@example.com"))

        status, report = readiness(
            http, log, lambda s, r: s == 503 and "2 messages queued in SQS" in check(r, "queue")["detail"], "queue depth 2")
        assert report["failing"] == ["queue"]
        assert "more than --ready-max-queue-depth 1" in check(report, "queue")["detail"]
        assert check(report, "object_store") == {"name": "object_store", "ok": True, "detail": "S3 answers"}
        dead = check(report, "dead_letter_queue")
        assert dead["ok"] and dead["detail"] == "1 messages in the SQS dead-letter queue"
        assert "topics" not in {c["name"] for c in report["checks"]}  # no consumer, nothing published

        samples = scrape(http)
        assert metric(samples, "cis_queue_depth_messages") == 2
        assert metric(samples, "cis_dead_letter_queue_messages") == 1
        assert metric(samples, "cis_ready") == 0
        assert "cis_queue_oldest_message_age_seconds" not in {name for name, _, _ in samples}

        status, listing = get_json(http, "/api/dead-letters")
        assert status == 200
        assert listing["note"].startswith("1 messages in the SQS dead-letter queue (1 visible, 0 in flight); 1 shown")
        assert "cis dlq redrive" in listing["note"]
        [entry] = listing["deadLetters"]
        assert entry["messageId"] == dead_id
        assert entry["receiveCount"] >= 1
        assert "redrive policy" in entry["reason"]
        # Peeked at, not taken: still there and visible to the next receiver.
        attributes = sqs.get_queue_attributes(
            QueueUrl=world["dead_letters"],
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        assert attributes == {"ApproximateNumberOfMessages": "1", "ApproximateNumberOfMessagesNotVisible": "0"}
        # The stored message behind it downloads from S3.
        status, _, raw = get(http, f"/api/messages/{dead_id}/raw")
        assert status == 200 and b"BEGIN:VCALENDAR" in raw

        # More than the page peeks at: at most 5 peeks of 10, and the note tells the whole depth.
        for batch in range(6):
            sqs.send_message_batch(QueueUrl=world["dead_letters"], Entries=[
                {"Id": str(n), "MessageBody": f"not a notification {batch}-{n}"} for n in range(10)])
        status, listing = get_json(http, "/api/dead-letters")
        assert status == 200
        assert 10 <= len(listing["deadLetters"]) <= 50
        assert len({d["queueMessageId"] for d in listing["deadLetters"]}) == len(listing["deadLetters"])
        assert listing["note"].startswith(f"61 messages in the SQS dead-letter queue (61 visible, 0 in flight); "
                                          f"{len(listing['deadLetters'])} shown")
    finally:
        stop(process, log)


def test_each_route_topic_is_probed_and_a_missing_one_is_named(aws_world: dict, tmp_path: Path):
    world = aws_world
    process, port, log = start_serve(world, tmp_path, *HTTP, "--event-index", "none")
    try:
        http = http_port(log)
        status, report = readiness(http, log, lambda s, r: s == 200, "ready")
        assert check(report, "topics") == {"name": "topics", "ok": True, "detail": "SNS answers for 5 topics"}
        assert check(report, "queue")["ok"]
    finally:
        stop(process, log)

    missing = world["topics"]["reply"].rsplit(":", 1)[0] + f":cis-no-such-topic-{uuid.uuid4().hex[:8]}"
    process, port, log = start_serve(world, tmp_path, *HTTP, "--event-index", "none",
                                     topics={**world["topics"], "reply": missing})
    try:
        http = http_port(log)
        # Once the listener is bound, the missing topic is the only failing check.
        status, report = readiness(http, log, lambda s, r: r.get("failing") == ["topics"], "topics alone failing")
        assert status == 503
        detail = check(report, "topics")["detail"]
        assert detail.startswith("SNS does not answer GetTopicAttributes for ") and missing in detail
        assert world["topics"]["create"] not in detail
    finally:
        stop(process, log)


class SilentServer:
    """Accepts TCP connections on loopback and never answers."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections = []
        self.thread = threading.Thread(target=self.accept, daemon=True)
        self.thread.start()

    def accept(self):
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.connections.append(connection)

    def close(self):
        self.listener.close()
        for connection in self.connections:
            connection.close()


def test_an_sqs_endpoint_that_never_answers_fails_its_check_at_the_probe_timeout(aws_world: dict, tmp_path: Path):
    silent = SilentServer()
    try:
        process, port, log = start_serve(
            aws_world, tmp_path, "--no-consumer", *HTTP, "--ready-probe-timeout", "1",
            "--dead-letter-queue-url", aws_world["dead_letters"],
            env={"AWS_ENDPOINT_URL_SQS": f"http://127.0.0.1:{silent.port}"})
        try:
            http = http_port(log)
            started = time.monotonic()
            status, report = readiness(http, log, lambda s, r: "queue" in r.get("failing", []), "queue failing")
            assert status == 503
            assert sorted(report["failing"]) == ["dead_letter_queue", "queue"]
            for name in ["queue", "dead_letter_queue"]:
                # The monitor's deadline or the SQS call's own timeout (the same second), whichever comes first.
                detail = check(report, name)["detail"]
                assert detail.startswith("no answer within 1") or "does not answer GetQueueAttributes" in detail, detail
            assert check(report, "object_store")["ok"]
            # /readyz itself answers at once from the last round; the round ends at the timeout.
            assert time.monotonic() - started < 25
            listing = get_json(http, "/api/dead-letters")[1]
            assert listing["deadLetters"] == [] and listing["note"].startswith("The dead-letter queue could not be read")
        finally:
            stop(process, log)
    finally:
        silent.close()
