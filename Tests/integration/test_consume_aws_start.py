"""`cis consume --backend aws` on a fresh machine: its data directory (the local event index
and publish ledger) does not exist yet, and it is created at start."""

import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from conftest import cis_binary

MOTO_ENDPOINT = os.environ.get("CIS_TEST_MOTO_ENDPOINT")
pytestmark = pytest.mark.skipif(not MOTO_ENDPOINT, reason="needs CIS_TEST_MOTO_ENDPOINT (scripts/test.sh sets it)")


def test_consume_with_aws_creates_its_data_directory(tmp_path: Path):
    pytest.importorskip("boto3")
    from test_pipeline_aws import TOPIC_OPTIONS, aws_environment, client
    queue_url = client("sqs").create_queue(QueueName=f"cis-fresh-{uuid.uuid4().hex[:10]}")["QueueUrl"]
    data_dir = tmp_path / "fresh" / "cis-data"
    args = [cis_binary(), "consume", "--backend", "aws", "--bucket", "cis-fresh", "--queue-url", queue_url,
            "--data-dir", str(data_dir), "--poll-wait", "1", "--log-format", "json"]
    for route, option in TOPIC_OPTIONS.items():
        args += [option, f"arn:aws:sns:us-east-1:123456789012:cis-fresh-{route}"]
    log = tmp_path / "consume.log"
    process = subprocess.Popen(args, stdout=open(log, "wb"), stderr=subprocess.STDOUT, env=aws_environment())
    try:
        deadline = time.monotonic() + 30
        while "Consumer started" not in log.read_text():
            assert process.poll() is None, f"cis consume exited with {process.returncode}:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"cis consume did not start within 30 s:\n{log.read_text()}"
            time.sleep(0.1)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
    assert process.returncode == 0, log.read_text()
    assert (data_dir / "events.sqlite").is_file()


def test_consume_stops_with_one_line_when_the_data_directory_cannot_be_made(tmp_path: Path):
    pytest.importorskip("boto3")
    from test_pipeline_aws import TOPIC_OPTIONS, aws_environment
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    args = [cis_binary(), "consume", "--backend", "aws", "--bucket", "cis-fresh", "--queue-url", "http://127.0.0.1:9/1/q",
            "--data-dir", str(blocker / "cis-data")]
    for route, option in TOPIC_OPTIONS.items():
        args += [option, f"arn:aws:sns:us-east-1:123456789012:cis-fresh-{route}"]
    result = subprocess.run(args, env=aws_environment(), capture_output=True, text=True, timeout=30)
    assert result.returncode == 78, result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith("cis: --data-dir: ") and "cannot create the directory" in line, line
