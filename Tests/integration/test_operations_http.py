"""The HTTP side port through the real binary: /healthz, /readyz naming its failing check,
/metrics after real SMTP traffic and consumer work, the bearer token off loopback, stored
message downloads, the default port taken, and systemd's sd_notify over a datagram socket."""

import json
import os
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from conftest import cis_binary, run_cis, unused_loopback_port
from operations_support import (HTTP_ON_LOOPBACK, NO_CALENDAR_REASON, get, get_json, http_port, itip, metric,
                                not_an_invite, scrape)
from pipeline_support import RECIPIENT, send
from test_pipeline_embedded import FAST_RETRY, topic_lines, wait_for_lines

TOKEN = "operations-test-token-0123456789"


def wait_for(predicate, what: str, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"{what} not seen within {timeout} s")
        time.sleep(0.2)


def test_health_readiness_and_metrics_after_real_traffic(start_cis):
    cis = start_cis("--recipient", RECIPIENT, *HTTP_ON_LOOPBACK, *FAST_RETRY, consumer=True)
    port = http_port(cis)
    assert get_json(port, "/healthz") == (200, {"status": "ok"})
    status, report = wait_for(lambda: (lambda r: r if r[0] == 200 else None)(get_json(port, "/readyz")), "ready")
    assert report["status"] == "ready" and report["failing"] == []
    assert {c["name"] for c in report["checks"]} >= {"smtp_listener", "queue", "journal", "disk_free"}

    send(cis.port, itip("REQUEST", "metrics-1@example.com"))
    send(cis.port, not_an_invite())
    wait_for_lines(cis.data_dir, "create", 1, lambda: "\n".join(cis.lines))
    wait_for_lines(cis.data_dir, "failure", 1, lambda: "\n".join(cis.lines))

    samples = wait_for(
        lambda: (lambda s: s if metric(s, "cis_consumer_processing_seconds_count") >= 2 else None)(scrape(port)),
        "two processed messages in the metrics")
    assert metric(samples, "cis_smtp_connections_opened_total") >= 2
    assert metric(samples, "cis_smtp_connections_closed_total") >= 2
    assert metric(samples, "cis_smtp_transactions_started_total") == 2
    assert metric(samples, "cis_smtp_transactions_completed_total") == 2
    assert metric(samples, "cis_smtp_replies_total", **{"class": "2xx", "enhanced_code": "2.0.0"}) >= 2
    assert metric(samples, "cis_smtp_replies_total", **{"class": "3xx"}) == 2  # the 354s
    assert metric(samples, "cis_smtp_message_size_bytes_count") == 2
    assert metric(samples, "cis_smtp_message_recipients_sum") == 2
    assert metric(samples, "cis_smtp_data_to_reply_seconds_count") == 2
    assert metric(samples, "cis_object_store_put_seconds_count", backend="filesystem") == 2
    assert metric(samples, "cis_queue_send_seconds_count", backend="sqlite") == 2
    assert metric(samples, "cis_object_store_put_errors_total") == 0
    assert metric(samples, "cis_journal_fsyncs_total") >= 1
    assert metric(samples, "cis_journal_batch_messages_sum") == 2
    assert metric(samples, "cis_consumer_messages_total", route="create", outcome="published") == 1
    assert metric(samples, "cis_consumer_messages_total", route="failure", outcome="published") == 1
    assert metric(samples, "cis_consumer_parse_seconds_count") == 2
    assert metric(samples, "cis_consumer_publish_seconds_count", route="create") == 1
    assert metric(samples, "cis_consumer_dead_letters_total") == 0
    assert metric(samples, "cis_build_info") == 1
    assert abs(metric(samples, "cis_start_time_seconds") - time.time()) < 600
    assert metric(samples, "cis_ready") == 1
    assert metric(samples, "cis_smtp_connections_active") == 0

    # Every name is documented in the README's table, and promtool finds nothing against
    # Prometheus' conventions: every metric has its # HELP and # TYPE lines.
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    documented = set(re.findall(r"^\| `(cis_[a-z_]+)` \|", readme, re.MULTILINE))
    exported = {re.sub(r"_(bucket|sum|count)$", "", name) if name not in documented else name for name, _, _ in samples}
    assert {name for name in exported if name.startswith("cis_")} <= documented
    text = get(port, "/metrics")[2]
    promtool = shutil.which("promtool")
    assert promtool, "promtool is needed (Debian package prometheus)"
    lint = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, timeout=60)
    problems = [line for line in (lint.stdout + lint.stderr).decode().splitlines() if line]
    assert lint.returncode == 0 and problems == [], problems
    families = {name for name, _, _ in samples if name.startswith("cis_")}
    helped = set(re.findall(r"^# HELP (cis_[a-z_]+) \S", text.decode(), re.MULTILINE))
    typed = set(re.findall(r"^# TYPE (cis_[a-z_]+) (?:counter|gauge|histogram)$", text.decode(), re.MULTILINE))
    assert helped == typed and {re.sub(r"_(bucket|sum|count)$", "", n) if n not in typed else n for n in families} <= typed
    assert cis.stop() == 0


def test_readyz_names_the_check_that_fails(start_cis):
    cis = start_cis("--recipient", RECIPIENT, *HTTP_ON_LOOPBACK, "--ready-max-queue-depth", "1")
    port = http_port(cis)
    send(cis.port, itip("REQUEST", "depth-1@example.com"))
    send(cis.port, itip("REQUEST", "depth-2@example.com"))
    # Without a consumer both stay queued: more than --ready-max-queue-depth 1.
    status, report = wait_for(lambda: (lambda r: r if r[0] == 503 else None)(get_json(port, "/readyz")), "503")
    assert report["status"] == "not ready"
    assert report["failing"] == ["queue"]
    [queue] = [c for c in report["checks"] if c["name"] == "queue"]
    assert "2 messages queued" in queue["detail"] and "--ready-max-queue-depth 1" in queue["detail"]
    samples = scrape(port)
    assert metric(samples, "cis_queue_depth_messages") == 2
    assert metric(samples, "cis_ready") == 0
    assert metric(samples, "cis_queue_oldest_message_age_seconds") >= 0
    assert cis.stop() == 0


def read_response(connection: socket.socket) -> bytes:
    """Everything the server sends until it closes (the request said Connection: close)."""
    chunks = []
    while chunk := connection.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def test_a_connection_past_the_maximum_waits_until_an_idle_one_is_closed(start_cis):
    cis = start_cis(*HTTP_ON_LOOPBACK, "--http-max-connections", "2", "--http-idle-timeout", "2")
    port = http_port(cis)
    held = [socket.create_connection(("127.0.0.1", port), timeout=15) for _ in range(2)]
    try:
        # Both held connections are accepted before the third arrives.
        time.sleep(0.5)
        started = time.monotonic()
        with socket.create_connection(("127.0.0.1", port), timeout=15) as third:
            third.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            response = read_response(third)
            answered = time.monotonic() - started
        assert response.startswith(b"HTTP/1.1 200"), response[:200]
        assert response.endswith(b'{"status":"ok"}')
        # The third waited in the backlog for a free slot (the held ones sat idle for the
        # 2 s idle timeout), and was answered then: a wait with a deadline, not a hang.
        assert answered >= 1.0, f"answered after {answered:.2f} s: the connection limit of 2 was not applied"
        # The held connections were closed by the server for being idle.
        for connection in held:
            assert connection.recv(1) == b""
    finally:
        for connection in held:
            connection.close()
    assert cis.stop() == 0


def test_an_idle_connection_is_closed_after_the_idle_timeout(start_cis):
    cis = start_cis(*HTTP_ON_LOOPBACK, "--http-idle-timeout", "1")
    port = http_port(cis)
    with socket.create_connection(("127.0.0.1", port), timeout=15) as idle:
        started = time.monotonic()
        # Half a request line, then nothing: closed at the idle timeout with no answer.
        idle.sendall(b"GET /heal")
        assert idle.recv(1) == b""
        closed_after = time.monotonic() - started
    assert 0.5 <= closed_after < 14, closed_after
    assert get(port, "/healthz")[0] == 200
    assert cis.stop() == 0


def test_a_request_trickled_byte_by_byte_is_closed_at_the_request_timeout(start_cis):
    """A client that sends a byte every 0.3 s is never idle for the 30 s idle timeout; the
    request deadline (2 s) closes it unanswered, and the next connection is served."""
    cis = start_cis(*HTTP_ON_LOOPBACK, "--http-request-timeout", "2", "--http-idle-timeout", "30")
    port = http_port(cis)
    request = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 200 + b"\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=15) as slow:
        started = time.monotonic()
        received = b""
        for byte in request:
            try:
                slow.sendall(bytes([byte]))
            except OSError:
                break
            slow.settimeout(0.3)
            try:
                chunk = slow.recv(4096)
            except socket.timeout:
                continue
            received += chunk
            break
        closed_after = time.monotonic() - started
    assert received == b"", received
    assert 1.5 <= closed_after < 10, closed_after
    # A whole request on a kept-alive connection: answered, and the clock starts again after it.
    with socket.create_connection(("127.0.0.1", port), timeout=15) as client:
        client.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert client.recv(4096).startswith(b"HTTP/1.1 200")
        time.sleep(1)
        client.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert client.recv(4096).startswith(b"HTTP/1.1 200")
        started = time.monotonic()
        assert client.recv(1) == b""
        assert 1.5 <= time.monotonic() - started < 10
    assert cis.stop() == 0


def test_the_status_page_lists_the_newest_200_dead_letters_and_says_how_many_more(start_cis):
    import sqlite3
    cis = start_cis(*HTTP_ON_LOOPBACK)
    port = http_port(cis)
    wait_for(lambda: (cis.data_dir / "queue.sqlite").exists(), "the embedded queue")
    now = int(time.time() * 1000)
    with sqlite3.connect(cis.data_dir / "queue.sqlite", timeout=10) as database:
        database.executemany(
            "INSERT INTO dead_letters (message_id, body, sent_at, receive_count, dead_lettered_at) VALUES (?, ?, ?, ?, ?)",
            [(f"dead-{n:03}", "{}", now, 5, now + n) for n in range(205)])
    status, listing = get_json(port, "/api/dead-letters")
    assert status == 200
    assert len(listing["deadLetters"]) == 200
    assert listing["deadLetters"][0]["queueMessageId"] == "dead-204"
    assert listing["deadLetters"][-1]["queueMessageId"] == "dead-005"
    assert listing["note"] == "The newest 200 of 205 dead letters are listed here; `cis dlq list` lists them all."
    assert cis.stop() == 0


def test_readyz_fails_below_the_disk_free_floor(start_cis):
    cis = start_cis(*HTTP_ON_LOOPBACK, "--ready-min-disk-free", "1000000000")
    port = http_port(cis)
    status, report = wait_for(lambda: (lambda r: r if r[0] == 503 and "disk_free" in r[1]["failing"] else None)(
        get_json(port, "/readyz")), "disk_free failing")
    [disk] = [c for c in report["checks"] if c["name"] == "disk_free"]
    assert "less than --ready-min-disk-free" in disk["detail"]
    assert cis.stop() == 0


def test_off_loopback_everything_but_health_and_metrics_needs_the_token(start_cis):
    # 0.0.0.0 is not loopback (the token rule is about the listen address); the test reaches it over 127.0.0.1.
    cis = start_cis(*FAST_RETRY, "--http-listen", "0.0.0.0:0", "--http-token", TOKEN, consumer=True)
    port = http_port(cis)
    assert any("token required" in str(e.get("message")) for e in cis.logs())
    assert get(port, "/healthz")[0] == 200
    assert get(port, "/metrics")[0] == 200
    for path in ["/", "/readyz", "/api/activity", "/api/dead-letters", "/api/messages/x/raw"]:
        status, headers, body = get(port, path)
        assert status == 401, path
        assert headers["WWW-Authenticate"].startswith("Bearer")
        assert b"--http-token" in body
        assert get(port, path, token="wrong-token-0123456789")[0] == 401
    assert get(port, "/", token=TOKEN)[0] == 200
    assert get(port, f"/?token={TOKEN}")[0] == 200
    assert get(port, "/api/activity", token=TOKEN)[0] == 200
    assert get(port, "/readyz", token=TOKEN)[0] in (200, 503)
    assert cis.stop() == 0


@pytest.mark.parametrize("command", ["serve", "smtp", "consume"])
@pytest.mark.parametrize("listen", ["0.0.0.0:0", "192.0.2.1:9025", "[::]:0"])
def test_a_listener_off_loopback_without_a_token_stops_at_start(tmp_path, command, listen):
    args = [command, "--data-dir", str(tmp_path / "data"), "--http-listen", listen]
    if command != "consume":
        args += ["--listen", "127.0.0.1:0"]
    result = run_cis(args, tmp_path)
    assert result.returncode == 78, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("cis: --http-listen: ") and "--http-token" in lines[0], lines[0]
    assert not (tmp_path / "data").exists()


def test_stored_messages_download_and_bad_ids(start_cis):
    cis = start_cis("--recipient", RECIPIENT, *HTTP_ON_LOOPBACK)
    port = http_port(cis)
    message_id = send(cis.port, itip("REQUEST", "download-1@example.com", summary="Budget review"))
    status, headers, body = get(port, f"/api/messages/{message_id}/raw")
    assert status == 200
    assert headers["Content-Type"] == "message/rfc822"
    assert f'filename="{message_id}.eml"' in headers["Content-Disposition"]
    assert body.startswith(b"Received: from client.invites.test")
    assert b"SUMMARY:Budget review" in body
    status, details = get_json(port, f"/api/messages/{message_id}")
    assert status == 200 and details["messageId"] == message_id and int(details["size"]) == len(body)
    assert get(port, "/api/messages/01ZZZZZZZZZZZZZZZZZZZZZZZZ/raw")[0] == 404
    assert get(port, "/api/messages/..%2F..%2Fqueue.sqlite/raw")[0] in (400, 404)
    assert get(port, "/api/messages/" + "a" * 65 + "/raw")[0] == 400
    status, activity = get_json(port, "/api/activity")
    [row] = activity["messages"]
    assert row["messageId"] == message_id and row["status"] == "stored" and row["stored"]
    assert cis.stop() == 0


def test_consume_alone_serves_its_side(start_cis, tmp_path):
    intake = start_cis("--recipient", RECIPIENT, "--http-listen", "off")
    assert not any(str(e.get("message", "")).startswith("status page at") for e in intake.logs())
    message_id = send(intake.port, not_an_invite())
    assert intake.stop() == 0
    consumer = subprocess.Popen(
        [cis_binary(), "consume", "--data-dir", str(intake.data_dir), "--log-format", "json", *HTTP_ON_LOOPBACK,
         *FAST_RETRY], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        env={k: v for k, v in os.environ.items() if not k.startswith("CIS_")})
    try:
        port = None
        for raw in consumer.stderr:
            if b"status page at" in raw:
                port = int(json.loads(raw)["ops.http.port"])
                break
        assert port, "cis consume printed no status page address"
        def published():
            status, activity = get_json(port, "/api/activity")
            rows = [r for r in activity["messages"] if r["messageId"] == message_id and r["status"] == "published"]
            return rows[0] if rows else None
        row = wait_for(published, "the consumer's row")
        assert row["routes"] == ["failure"]
        assert row["failureReason"].startswith(NO_CALENDAR_REASON)
        assert row.get("client") is None  # the intake ran in another process
        assert get_json(port, "/readyz")[1]["failing"] == []
    finally:
        consumer.terminate()
        assert consumer.wait(timeout=20) == 0


def test_an_explicit_address_in_use_stops_the_start(tmp_path):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    try:
        port = taken.getsockname()[1]
        result = run_cis(["serve", "--listen", "127.0.0.1:0", "--data-dir", str(tmp_path / "d"),
                          "--http-listen", f"127.0.0.1:{port}"], tmp_path, timeout=60)
    finally:
        taken.close()
    assert result.returncode != 0
    assert f"the HTTP side port cannot listen on 127.0.0.1:{port}" in result.stderr


def test_the_default_port_taken_leaves_mail_running(start_cis):
    holder = socket.socket()
    try:
        holder.bind(("127.0.0.1", 9025))
        holder.listen(1)
    except OSError:
        holder.close()
        holder = None  # another process holds it already: the same situation
    try:
        cis = start_cis("--recipient", RECIPIENT)
        cis.wait_for_log(lambda e: "HTTP side port not started" in str(e.get("message")), timeout=30)
        send(cis.port, itip("REQUEST", "default-port@example.com"))
        assert cis.stop() == 0
    finally:
        if holder:
            holder.close()


def test_sd_notify_ready_watchdog_and_stopping(start_cis, tmp_path):
    path = str(tmp_path / "notify.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(path)
    listener.settimeout(1)
    try:
        cis = start_cis(*HTTP_ON_LOOPBACK, env={"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "1000000"})
        http_port(cis)
        received = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and received.count("WATCHDOG=1") < 3:
            try:
                received.append(listener.recv(4096).decode())
            except socket.timeout:
                pass
        # The watchdog runs from the start (systemd's timer does too); READY=1 comes once, when both listeners are bound.
        assert received.count("READY=1\nSTATUS=accepting") == 1, received
        assert set(received) == {"READY=1\nSTATUS=accepting", "WATCHDOG=1"}, received
        assert received.count("WATCHDOG=1") >= 3, received
        assert cis.stop() == 0
        rest = []
        while True:
            try:
                rest.append(listener.recv(4096).decode())
            except socket.timeout:
                break
        assert "STOPPING=1" in rest, rest
    finally:
        listener.close()


def test_without_notify_socket_nothing_is_sent_and_ready_needs_both_listeners(start_cis, tmp_path):
    """READY=1 waits for the SMTP listener and the side port: with the side port off it
    follows the SMTP listener alone."""
    path = str(tmp_path / "notify.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(path)
    listener.settimeout(10)
    try:
        cis = start_cis("--http-listen", "off", env={"NOTIFY_SOCKET": path})
        assert listener.recv(4096) == b"READY=1\nSTATUS=accepting"
        assert cis.stop() == 0
        assert listener.recv(4096) == b"STOPPING=1"
    finally:
        listener.close()


def test_tls_metrics_count_versions_failures_and_the_certificate_expiry(start_cis, tls_files):
    import smtplib
    import ssl
    certificate, key = tls_files
    cis = start_cis("--recipient", RECIPIENT, *HTTP_ON_LOOPBACK, "--tls-cert", str(certificate), "--tls-key", str(key))
    port = http_port(cis)
    for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        context.minimum_version = context.maximum_version = version
        with smtplib.SMTP("127.0.0.1", cis.port, local_hostname="client.invites.test", timeout=10) as client:
            client.ehlo()
            assert client.starttls(context=context)[0] == 220
            client.ehlo()
    # A client that answers the 220 with plaintext instead of a ClientHello.
    with socket.create_connection(("127.0.0.1", cis.port), timeout=10) as raw:
        raw.recv(1024)
        raw.sendall(b"EHLO client.invites.test\r\n")
        time.sleep(0.3)
        raw.recv(4096)
        raw.sendall(b"STARTTLS\r\n")
        assert raw.recv(1024).startswith(b"220")
        raw.sendall(b"this is not a TLS record\r\n" * 4)
        raw.settimeout(10)
        try:
            while raw.recv(1024):
                pass
        except OSError:
            pass
    not_after = subprocess.run(["openssl", "x509", "-noout", "-enddate", "-in", str(certificate)], capture_output=True,
                               text=True, check=True).stdout.strip().split("=", 1)[1]
    expected_expiry = time.mktime(time.strptime(not_after, "%b %d %H:%M:%S %Y GMT")) - time.timezone
    samples = wait_for(
        lambda: (lambda s: s if metric(s, "cis_smtp_tls_handshake_failures_total") >= 1 else None)(scrape(port)),
        "a TLS handshake failure in the metrics")
    assert metric(samples, "cis_smtp_tls_handshakes_total", version="TLSv1.2") == 1
    assert metric(samples, "cis_smtp_tls_handshakes_total", version="TLSv1.3") == 1
    assert metric(samples, "cis_smtp_tls_handshake_failures_total") == 1
    assert metric(samples, "cis_tls_certificate_expiry_timestamp_seconds") == expected_expiry
    status, report = get_json(port, "/readyz")
    [tls] = [c for c in report["checks"] if c["name"] == "tls_certificate"]
    assert tls["ok"] and tls["detail"].startswith("valid until ")
    assert cis.stop() == 0
