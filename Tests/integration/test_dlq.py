"""`cis dlq list|show|redrive` through the real binary: on the embedded queue (a notification
whose object went missing is dead-lettered, listed, shown, and once the object is back,
redriven and published), and redrive from an SQS dead-letter queue against moto."""

import json
import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from conftest import cis_binary
from pipeline_support import RECIPIENT, invite, send
from test_pipeline_embedded import FAST_RETRY, Consumer, dead_letters, topic_lines, wait_for_lines

WAIT_SECONDS = 30


def run_cis(args: list[str], env: dict | None = None) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CIS_")}
    clean.update(env or {})
    return subprocess.run([cis_binary(), *args], env=clean, capture_output=True, text=True, timeout=60)


def test_dlq_list_show_and_redrive_on_the_embedded_queue(start_cis, tmp_path: Path):
    cis = start_cis("--recipient", RECIPIENT)
    uid = "dlq-1@example.com"
    message_id = send(cis.port, invite(uid))
    [queued] = cis.queue_rows()
    assert cis.stop() == 0
    [stored] = list((cis.data_dir / "objects").rglob(message_id))
    kept = tmp_path / "kept-object"
    shutil.copyfile(stored, kept)
    stored.unlink()

    # The object is missing (a permanent failure): a dead letter after one receive.
    consumer = Consumer(cis.data_dir, tmp_path / "consume-1.log", "--max-receive-count", "1", *FAST_RETRY)
    try:
        deadline = time.monotonic() + WAIT_SECONDS
        while not dead_letters(cis.data_dir):
            if time.monotonic() > deadline:
                pytest.fail(f"no dead letter after {WAIT_SECONDS} s:\n{consumer.log.read_text()}")
            time.sleep(0.2)
    finally:
        assert consumer.stop() == 0, consumer.log.read_text()
    data_dir = ["--data-dir", str(cis.data_dir)]

    listed = run_cis(["dlq", "list", *data_dir])
    assert listed.returncode == 0, listed.stderr
    [line] = [json.loads(text) for text in listed.stdout.splitlines()]
    assert line["message_id"] == queued["message_id"]
    assert line["receive_count"] == 1
    [named] = line["objects"]
    assert named.endswith(f"/{message_id}")
    assert "body" not in line

    shown = run_cis(["dlq", "show", queued["message_id"], *data_dir])
    assert shown.returncode == 0, shown.stderr
    letter = json.loads(shown.stdout)
    assert json.loads(letter["body"])["Records"][0]["s3"]["object"]["key"].endswith(message_id)

    unknown = run_cis(["dlq", "show", "no-such-id", *data_dir])
    assert unknown.returncode == 1
    assert "no dead letter with message id no-such-id" in unknown.stderr
    assert run_cis(["dlq", "redrive", "no-such-id", *data_dir]).returncode == 1
    neither = run_cis(["dlq", "redrive", *data_dir])
    assert neither.returncode != 0 and "--all" in neither.stderr

    # The object is back; the dead letter goes back to the queue with no receives and is published.
    shutil.copyfile(kept, stored)
    redriven = run_cis(["dlq", "redrive", queued["message_id"], *data_dir])
    assert redriven.returncode == 0, redriven.stderr
    assert redriven.stdout.split() == ["redriven", queued["message_id"]]
    assert dead_letters(cis.data_dir) == []
    assert [(row["message_id"], row["receive_count"]) for row in cis.queue_rows()] == [(queued["message_id"], 0)]
    assert run_cis(["dlq", "list", *data_dir]).stdout == ""

    consumer = Consumer(cis.data_dir, tmp_path / "consume-2.log", *FAST_RETRY)
    try:
        lines = wait_for_lines(cis.data_dir, "create", 1, consumer.log.read_text)
    finally:
        assert consumer.stop() == 0, consumer.log.read_text()
    assert len(lines) == 1
    assert json.loads(lines[0]["Message"])["original_uid"] == uid
    assert cis.queue_rows() == []
    everything = run_cis(["dlq", "redrive", "--all", *data_dir])
    assert everything.returncode == 0 and everything.stdout == ""


def test_dlq_on_a_data_dir_without_a_queue_says_so(tmp_path: Path):
    result = run_cis(["dlq", "list", "--data-dir", str(tmp_path / "nothing-here")])
    assert result.returncode == 78
    assert result.stderr.startswith("cis: --data-dir: no queue at ")
    assert not (tmp_path / "nothing-here").exists()


@pytest.mark.parametrize("command", [["list"], ["show", "some-id"]])
def test_dlq_list_and_show_are_for_the_local_queue(tmp_path: Path, command):
    result = run_cis(["dlq", *command, "--backend", "aws", "--data-dir", str(tmp_path)])
    assert result.returncode == 78
    assert result.stderr.startswith(f"cis: --backend: 'dlq {command[0]}' works on the local queue"), result.stderr


MOTO_ENDPOINT = os.environ.get("CIS_TEST_MOTO_ENDPOINT")


@pytest.mark.skipif(not MOTO_ENDPOINT, reason="needs CIS_TEST_MOTO_ENDPOINT (scripts/test.sh sets it)")
def test_dlq_redrive_from_an_sqs_dead_letter_queue():
    boto3 = pytest.importorskip("boto3")
    from test_pipeline_aws import aws_environment, client
    sqs = client("sqs")
    suffix = uuid.uuid4().hex[:10]
    dead_letters_url = sqs.create_queue(QueueName=f"cis-redrive-dlq-{suffix}")["QueueUrl"]
    queue_url = sqs.create_queue(QueueName=f"cis-redrive-{suffix}")["QueueUrl"]
    ids = {sqs.send_message(QueueUrl=dead_letters_url, MessageBody=f"body-{n}")["MessageId"]: f"body-{n}" for n in range(3)}
    chosen = next(iter(ids))
    env = aws_environment()
    aws = ["--backend", "aws", "--queue-url", queue_url, "--dead-letter-queue-url", dead_letters_url]

    one = subprocess.run([cis_binary(), "dlq", "redrive", chosen, *aws], env=env, capture_output=True, text=True, timeout=60)
    assert one.returncode == 0, one.stderr
    assert one.stdout.startswith(f"redriven {chosen} as ")
    received = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    assert [m["Body"] for m in received] == [ids[chosen]]

    rest = subprocess.run([cis_binary(), "dlq", "redrive", "--all", *aws], env=env, capture_output=True, text=True, timeout=60)
    assert rest.returncode == 0, rest.stderr
    assert sorted(line.split()[1] for line in rest.stdout.splitlines()) == sorted(i for i in ids if i != chosen)
    bodies = []
    deadline = time.monotonic() + WAIT_SECONDS
    while len(bodies) < 2 and time.monotonic() < deadline:
        bodies += [m["Body"] for m in sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])]
    assert sorted(bodies) == sorted(b for i, b in ids.items() if i != chosen)
    attributes = sqs.get_queue_attributes(
        QueueUrl=dead_letters_url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    assert attributes == {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"}

    missing = subprocess.run([cis_binary(), "dlq", "redrive", chosen, *aws], env=env, capture_output=True, text=True, timeout=60)
    assert missing.returncode == 1
    assert f"no dead letter with message id {chosen}" in missing.stderr

