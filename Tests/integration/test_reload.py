"""SIGHUP reloads without a restart, through the real binary: the STARTTLS certificate and
key (a bad pair is refused with a log line and the one in use kept), the recipients file,
and the JSONL topic files (reopened by path after logrotate moved them), in `cis serve`
and `cis consume`. cis logs only to standard error, so there is no log file to reopen."""
import json
import os
import shutil
import signal
import smtplib
import ssl
import subprocess
import time
from pathlib import Path

import pytest

from conftest import ROOT
from pipeline_support import RECIPIENT, invite, send
from test_pipeline_embedded import Consumer, wait_for_lines


def make_pair(directory: Path, name: str):
    """A self-signed certificate with CN=<name> and its key."""
    certificate, key = directory / f"{name}.crt", directory / f"{name}.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", str(key), "-out", str(certificate), "-days", "2", "-subj", f"/CN={name}"],
                   check=True, capture_output=True, timeout=60)
    return certificate, key


def install(source: Path, target: Path):
    """Replaces `target` the way certbot and friends do: a new file renamed into place."""
    temporary = target.with_suffix(".new")
    temporary.write_bytes(source.read_bytes())
    os.replace(temporary, target)


def served_subject(port: int) -> str:
    """The subject of the certificate a new STARTTLS session gets (`openssl s_client`)."""
    result = subprocess.run(
        ["openssl", "s_client", "-starttls", "smtp", "-connect", f"127.0.0.1:{port}", "-servername", "localhost"],
        input="QUIT\r\n", capture_output=True, text=True, timeout=60)
    subjects = [line for line in result.stdout.splitlines() if line.startswith("subject=")]
    assert subjects, result.stdout + result.stderr
    return subjects[0]


def reload(cis, count: int):
    """Sends SIGHUP and waits for the `count`th reload log line."""
    cis.process.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 20
    while True:
        done = [e for e in cis.logs() if e.get("message") in ("reloaded on SIGHUP", "SIGHUP: nothing to reload")]
        if len(done) >= count:
            return done[count - 1]
        assert cis.process.poll() is None, "cis ended on SIGHUP:\n" + "\n".join(cis.lines)
        assert time.monotonic() < deadline, "no reload log line:\n" + "\n".join(cis.lines)
        time.sleep(0.05)


def test_a_renewed_certificate_is_used_by_new_sessions(start_cis, tmp_path):
    first, first_key = make_pair(tmp_path, "first")
    second, second_key = make_pair(tmp_path, "second")
    live, live_key = tmp_path / "live.crt", tmp_path / "live.key"
    install(first, live)
    install(first_key, live_key)
    cis = start_cis("--tls-cert", str(live), "--tls-key", str(live_key))
    assert "CN = first" in served_subject(cis.port)

    install(second, live)
    install(second_key, live_key)
    event = reload(cis, 1)
    assert event["reload.tls"] == str(live)
    assert "CN = second" in served_subject(cis.port)
    assert cis.process.poll() is None


@pytest.mark.parametrize("damage", ["mismatched key", "not a certificate", "missing key"])
def test_a_bad_pair_is_refused_and_the_old_one_kept(start_cis, tmp_path, damage):
    first, first_key = make_pair(tmp_path, "first")
    _, other_key = make_pair(tmp_path, "other")
    live, live_key = tmp_path / "live.crt", tmp_path / "live.key"
    install(first, live)
    install(first_key, live_key)
    cis = start_cis("--tls-cert", str(live), "--tls-key", str(live_key))
    assert "CN = first" in served_subject(cis.port)

    if damage == "mismatched key":
        install(other_key, live_key)
    elif damage == "not a certificate":
        live.write_text("renewal in progress\n")
    else:
        live_key.unlink()
    event = reload(cis, 1)
    assert event["reload.tls"] == "failed"
    [error] = [e for e in cis.logs() if e.get("message") == "SIGHUP: tls not reloaded, keeping what is in use"]
    assert error["level"] == "error"
    assert ("--tls-key" if damage != "not a certificate" else "--tls-cert") in error["error"], error
    assert "CN = first" in served_subject(cis.port)
    # Mail still flows over TLS with the old pair.
    with smtplib.SMTP(cis.host, cis.port, timeout=30) as client:
        client.ehlo("client.example")
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        assert client.starttls(context=context)[0] == 220


def rcpt_code(cis, address):
    with smtplib.SMTP(cis.host, cis.port, timeout=30) as client:
        client.ehlo("client.example")
        assert client.mail("organizer@example.com")[0] == 250
        return client.rcpt(address)[0]


def test_a_recipient_added_to_the_file_is_accepted_after_sighup(start_cis, tmp_path):
    recipients = tmp_path / "recipients"
    recipients.write_text("# invites\ncreate@localhost\n\n")
    cis = start_cis("--recipients-file", str(recipients))
    assert rcpt_code(cis, "create@localhost") == 250
    assert rcpt_code(cis, "team@example.org") == 550

    recipients.write_text("# invites\ncreate@localhost\nteam@example.org\n")
    event = reload(cis, 1)
    assert event["reload.recipients"] == "2 addresses"
    assert rcpt_code(cis, "team@example.org") == 250

    # A bad line keeps the list in use.
    recipients.write_text("create@localhost\nnot an address\n")
    event = reload(cis, 2)
    assert event["reload.recipients"] == "failed"
    [error] = [e for e in cis.logs() if e.get("message") == "SIGHUP: recipients not reloaded, keeping what is in use"]
    assert "line 2" in error["error"], error
    assert rcpt_code(cis, "team@example.org") == 250


def rotate(data_dir: Path, route: str) -> Path:
    """What logrotate does without copytruncate: the file is renamed, the writer keeps it open."""
    path = data_dir / "topics" / f"{route}.jsonl"
    rotated = path.with_name(f"{route}.jsonl.1")
    os.rename(path, rotated)
    return rotated


def test_cis_serve_reopens_a_rotated_topic_file(start_cis):
    cis = start_cis("--recipient", RECIPIENT, "--poll-wait", "1", consumer=True)
    send(cis.port, invite("rotate-1@example.com"))
    wait_for_lines(cis.data_dir, "create", 1, lambda: "\n".join(cis.lines))
    rotated = rotate(cis.data_dir, "create")

    event = reload(cis, 1)
    assert event["reload.topics"].startswith("reopened")
    send(cis.port, invite("rotate-2@example.com"))
    [line] = wait_for_lines(cis.data_dir, "create", 1, lambda: "\n".join(cis.lines))
    assert json.loads(line["Message"])["original_uid"] == "rotate-2@example.com"
    old = [json.loads(raw) for raw in rotated.read_text().splitlines()]
    assert [json.loads(entry["Message"])["original_uid"] for entry in old] == ["rotate-1@example.com"]


def test_cis_consume_reopens_a_rotated_topic_file(start_cis, tmp_path):
    cis = start_cis("--recipient", RECIPIENT)
    consumer = Consumer(cis.data_dir, tmp_path / "consume.log", "--poll-wait", "1")
    try:
        send(cis.port, invite("consume-rotate-1@example.com"))
        wait_for_lines(cis.data_dir, "create", 1, consumer.log.read_text)
        rotated = rotate(cis.data_dir, "create")
        consumer.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 20
        while '"reloaded on SIGHUP"' not in consumer.log.read_text():
            assert consumer.process.poll() is None, consumer.log.read_text()
            assert time.monotonic() < deadline, consumer.log.read_text()
            time.sleep(0.05)
        send(cis.port, invite("consume-rotate-2@example.com"))
        [line] = wait_for_lines(cis.data_dir, "create", 1, consumer.log.read_text)
        assert json.loads(line["Message"])["original_uid"] == "consume-rotate-2@example.com"
        assert len(rotated.read_text().splitlines()) == 1
    finally:
        assert consumer.stop() == 0, consumer.log.read_text()


def test_the_shipped_logrotate_snippet_rotates_a_topic_file_and_cis_reopens_it(start_cis, tmp_path):
    """deploy/cis.logrotate run by the real logrotate, its path pointed at this data directory
    and its postrotate signalling this process instead of the systemd unit."""
    logrotate = shutil.which("logrotate") or "/usr/sbin/logrotate"
    cis = start_cis("--recipient", RECIPIENT, "--poll-wait", "1", consumer=True)
    send(cis.port, invite("logrotate-1@example.com"))
    wait_for_lines(cis.data_dir, "create", 1, lambda: "\n".join(cis.lines))

    snippet = (ROOT / "deploy" / "cis.logrotate").read_text()
    assert "/var/lib/cis/topics/*.jsonl {" in snippet
    assert "systemctl kill -s HUP --kill-whom=main cis.service" in snippet
    config = tmp_path / "cis.logrotate"
    config.write_text(snippet.replace("/var/lib/cis/topics", str(cis.data_dir / "topics"))
                      .replace("systemctl kill -s HUP --kill-whom=main cis.service", f"kill -HUP {cis.process.pid}"))
    config.chmod(0o644)
    result = subprocess.run([logrotate, "--force", "--state", str(tmp_path / "state"), str(config)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    rotated = [p for p in (cis.data_dir / "topics").iterdir() if p.name.startswith("create.jsonl-")]
    assert len(rotated) == 1, list((cis.data_dir / "topics").iterdir())
    assert not (cis.data_dir / "topics" / "create.jsonl").exists(), "nocreate: cis makes the new file"

    deadline = time.monotonic() + 20
    while not [e for e in cis.logs() if e.get("message") == "reloaded on SIGHUP"]:
        assert time.monotonic() < deadline, "\n".join(cis.lines)
        time.sleep(0.05)
    send(cis.port, invite("logrotate-2@example.com"))
    [line] = wait_for_lines(cis.data_dir, "create", 1, lambda: "\n".join(cis.lines))
    assert json.loads(line["Message"])["original_uid"] == "logrotate-2@example.com"
    assert len(rotated[0].read_text().splitlines()) == 1
