"""The whole pipeline on the embedded backends, through the real `cis` binary: an invite
sent over SMTP to `cis serve` comes out, seconds later, as one line in
<data-dir>/topics/create.jsonl; `cis serve --no-consumer` only queues it, and `cis consume`
publishes what is queued."""

import json
import os
import signal
import smtplib
import socket
import subprocess
import time
from email.message import EmailMessage
from pathlib import Path

import pytest

CIS_BINARY = os.environ.get("CIS_BINARY")
RECIPIENT = "create@invites.test"
WAIT_SECONDS = 15

pytestmark = pytest.mark.skipif(not CIS_BINARY, reason="CIS_BINARY is not set (scripts/test.sh sets it)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"cis exited with {process.returncode} before listening:\n{log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"cis did not listen on 127.0.0.1:{port} within 30 s:\n{log.read_text()}")


class Cis:
    """One `cis` subprocess with its log file; stopped with SIGTERM (bounded), then SIGKILL."""

    def __init__(self, args: list[str], log: Path):
        self.log = log
        self.log_file = open(log, "wb")
        env = {k: v for k, v in os.environ.items() if not k.startswith("CIS_") or k == "CIS_BINARY"}
        self.process = subprocess.Popen([CIS_BINARY, *args], stdout=self.log_file, stderr=subprocess.STDOUT, env=env)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
                pytest.fail(f"cis did not stop within 20 s of SIGTERM:\n{self.log.read_text()}")
        self.log_file.close()
        return self.process.returncode


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "cis-data"


def serve(data_dir: Path, tmp_path: Path, *extra: str) -> tuple[Cis, int]:
    port = free_port()
    cis = Cis(
        ["serve", "--listen", f"127.0.0.1:{port}", "--hostname", "mx.invites.test", "--recipient", RECIPIENT,
         "--data-dir", str(data_dir), "--poll-wait", "1", *extra],
        tmp_path / f"serve-{port}.log")
    wait_for_port(port, cis.process, cis.log)
    return cis, port


def invite(uid: str, sequence: int = 0) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Olivia Organizer <olivia@example.com>"
    message["To"] = RECIPIENT
    message["Subject"] = "Invitation: Quarterly planning"
    message["Message-ID"] = f"<{uid}-{sequence}@example.com>"
    message.set_content("You are invited to Quarterly planning.")
    calendar = "\r\n".join([
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//cis integration tests//EN", "METHOD:REQUEST",
        "BEGIN:VEVENT", f"UID:{uid}", f"SEQUENCE:{sequence}", "DTSTAMP:20261125T150000Z",
        "DTSTART;TZID=Europe/Berlin:20261202T150000", "DTEND;TZID=Europe/Berlin:20261202T160000",
        "SUMMARY:Quarterly planning", "ORGANIZER;CN=Olivia Organizer:mailto:olivia@example.com",
        "ATTENDEE;CN=Alex;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:alex@example.com",
        "END:VEVENT", "END:VCALENDAR", ""])
    message.add_alternative(calendar, subtype="calendar", params={"method": "REQUEST"})
    return message


def send(port: int, message: EmailMessage) -> str:
    """Sends over SMTP; returns the message id from `250 2.0.0 Ok: queued as <id>`."""
    with smtplib.SMTP("127.0.0.1", port, local_hostname="client.invites.test", timeout=10) as smtp:
        smtp.ehlo()
        code, _ = smtp.mail("olivia@example.com")
        assert code == 250
        code, _ = smtp.rcpt(RECIPIENT)
        assert code == 250
        code, reply = smtp.data(message.as_bytes())
        assert code == 250, reply
    text = reply.decode()
    assert "queued as " in text, text
    return text.rsplit("queued as ", 1)[1].strip()


def topic_lines(data_dir: Path, route: str) -> list[dict]:
    path = data_dir / "topics" / f"{route}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def wait_for_lines(data_dir: Path, route: str, count: int, log: Path) -> list[dict]:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        lines = topic_lines(data_dir, route)
        if len(lines) >= count:
            return lines
        time.sleep(0.1)
    pytest.fail(f"{route}.jsonl has {len(topic_lines(data_dir, route))} lines after {WAIT_SECONDS} s, "
                f"expected {count}:\n{log.read_text()}")


def check_create_line(line: dict, message_id: str, uid: str) -> None:
    assert line["Route"] == "create"
    assert line["MessageAttributes"]["method"]["Value"] == "request"
    assert line["MessageAttributes"]["uid"]["Value"] == message_id
    assert line["DeduplicationId"] == f"{message_id}/{uid}/0"
    event = json.loads(line["Message"])
    assert event["method"] == "request"
    assert event["uid"] == message_id
    assert event["original_uid"] == uid
    # 15:00 in Berlin in December (CET, UTC+1).
    assert event["dtstart"] == "20261202T140000Z"
    assert event["dtend"] == "20261202T150000Z"
    assert event["organizer"] == "olivia@example.com"
    assert event["mailto"] == "olivia@example.com"
    assert event["summary"] == "Quarterly planning"
    assert event["bucket"]
    assert event["key"].endswith(message_id)


def test_invite_sent_over_smtp_is_published_to_create(data_dir: Path, tmp_path: Path):
    cis, port = serve(data_dir, tmp_path)
    try:
        uid = "pipeline-1@example.com"
        message_id = send(port, invite(uid))
        lines = wait_for_lines(data_dir, "create", 1, cis.log)
    finally:
        assert cis.stop() == 0, cis.log.read_text()
    assert len(lines) == 1
    check_create_line(lines[0], message_id, uid)
    assert topic_lines(data_dir, "failure") == []
    assert (data_dir / "objects").is_dir()
    # Logs carry ids and routes, never message content.
    assert "Quarterly planning" not in cis.log.read_text()


def test_serve_without_consumer_queues_and_consume_publishes(data_dir: Path, tmp_path: Path):
    cis, port = serve(data_dir, tmp_path, "--no-consumer")
    try:
        uid = "pipeline-2@example.com"
        message_id = send(port, invite(uid))
        time.sleep(2)
        assert topic_lines(data_dir, "create") == [], "--no-consumer must not publish"
    finally:
        assert cis.stop() == 0, cis.log.read_text()

    consumer = Cis(["consume", "--data-dir", str(data_dir), "--poll-wait", "1"], tmp_path / "consume.log")
    try:
        lines = wait_for_lines(data_dir, "create", 1, consumer.log)
    finally:
        assert consumer.stop() == 0, consumer.log.read_text()
    assert len(lines) == 1
    check_create_line(lines[0], message_id, uid)


def wait_for_log(cis: Cis, text: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if text in cis.log.read_text(errors="replace"):
            return
        if cis.process.poll() is not None:
            pytest.fail(f"cis exited with {cis.process.returncode}:\n{cis.log.read_text()}")
        time.sleep(0.1)
    pytest.fail(f"no '{text}' in the log after {WAIT_SECONDS} s:\n{cis.log.read_text()}")


def test_consumer_killed_while_a_topic_is_down_loses_nothing(data_dir: Path, tmp_path: Path):
    args = ["--visibility-timeout", "2", "--retry-delay", "1"]
    doomed, port = serve(data_dir, tmp_path, *args)
    try:
        # A regular file where the topics directory should be: every publish fails, even as root.
        topics = data_dir / "topics"
        topics.rmdir()
        topics.write_bytes(b"")
        uid = "pipeline-3@example.com"
        message_id = send(port, invite(uid))
        wait_for_log(doomed, "retrying later")
    finally:
        doomed.process.kill()
        doomed.process.wait(timeout=10)
        doomed.log_file.close()
    assert topics.read_bytes() == b""

    topics.unlink()
    topics.mkdir()
    consumer = Cis(["consume", "--data-dir", str(data_dir), "--poll-wait", "1", *args], tmp_path / "consume.log")
    try:
        lines = wait_for_lines(data_dir, "create", 1, consumer.log)
        time.sleep(1)
    finally:
        assert consumer.stop() == 0, consumer.log.read_text()
    assert len(topic_lines(data_dir, "create")) == 1
    check_create_line(lines[0], message_id, uid)
