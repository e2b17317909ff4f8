"""Graceful shutdown on SIGTERM/SIGINT: stop accepting, finish a message in flight,
tell idle sessions 421, exit 0; a message is either acknowledged and stored, or not
acknowledged."""
import signal
import socket
import time

import pytest

from conftest import INVITE, queued_id


def open_data(raw_smtp, cis):
    client = raw_smtp(cis.port, timeout=30)
    assert client.read_code() == "220"
    client.send("EHLO client.example\r\nMAIL FROM:<organizer@example.com>\r\nRCPT TO:<create@localhost>\r\nDATA\r\n")
    assert [client.read_code() for _ in range(4)] == ["250", "250 2.1.0", "250 2.1.5", "354"]
    return client


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_idle_sessions_are_told_421_and_the_process_exits_0(cis, raw_smtp, sig):
    idle = raw_smtp(cis.port)
    assert idle.read_code() == "220"
    idle.send("EHLO client.example\r\n")
    assert idle.read_code() == "250"
    cis.process.send_signal(sig)
    assert idle.read_code() == "421 4.3.2"
    assert idle.closed_by_server()
    assert cis.stop(timeout=20) == 0


def test_sigterm_during_data_finishes_the_message(cis, raw_smtp):
    client = open_data(raw_smtp, cis)
    half = len(INVITE) // 2
    client.send(INVITE[:half])
    cis.process.send_signal(signal.SIGTERM)
    cis.wait_for_log(lambda e: e.get("message") == "shutting down: no longer accepting connections")
    # New connections are refused while the message in flight finishes (the listening
    # socket closes right after the log line).
    deadline = time.monotonic() + 5
    while True:
        try:
            socket.create_connection(("127.0.0.1", cis.port), timeout=5).close()
        except ConnectionRefusedError:
            break
        except ConnectionResetError:
            # The handshake reached the backlog as the listening socket closed: not served
            # either; the next attempt is refused.
            pass
        assert time.monotonic() < deadline, "still accepting connections"
        time.sleep(0.05)
    client.send(INVITE[half:] + ".\r\n")
    code, text = client.read_reply()
    assert code == 250, text
    assert client.read_code() == "421 4.3.2"
    assert cis.stop(timeout=20) == 0
    # Acknowledged, so stored and queued.
    key = f"inbound/{queued_id(text)}"
    assert cis.object_path(key).read_bytes().endswith(INVITE.encode())
    assert [row["body"]["Records"][0]["s3"]["object"]["key"] for row in cis.queue_rows()] == [key]


def test_sigterm_with_a_stalled_data_transfer_acknowledges_nothing(start_cis, raw_smtp):
    cis = start_cis("--shutdown-timeout", "1")
    client = open_data(raw_smtp, cis)
    client.send(INVITE[:100])
    started = time.monotonic()
    cis.process.send_signal(signal.SIGTERM)
    status = cis.stop(timeout=20)
    assert time.monotonic() - started < 15
    assert status == 0
    # The client never sent its final dot: the message is not acknowledged and not stored.
    client.sock.settimeout(5)
    received = client.buffer
    try:
        while chunk := client.sock.recv(4096):
            received += chunk
    except OSError:
        pass
    assert b"250" not in received
    assert cis.queue_rows() == []
