"""Pipelining (RFC 2920), SMTP smuggling, and commands injected after STARTTLS."""
import json
import socket
import ssl

import pytest

from conftest import INVITE, queued_id


def test_pipelined_commands_in_one_packet(cis, raw_smtp):
    client = raw_smtp(cis.port)
    assert client.read_code() == "220"
    client.send(
        "EHLO client.example\r\n"
        "MAIL FROM:<organizer@example.com>\r\n"
        "RCPT TO:<nobody@localhost>\r\n"
        "RCPT TO:<create@localhost>\r\n"
        "DATA\r\n")
    assert [client.read_code() for _ in range(5)] == ["250", "250 2.1.0", "550 5.1.1", "250 2.1.5", "354"]
    # Message, end, and the next transaction and QUIT, all in one packet.
    client.send(
        INVITE + ".\r\n"
        "MAIL FROM:<>\r\nRCPT TO:<create@localhost>\r\nDATA\r\n" + INVITE + ".\r\nQUIT\r\n")
    code, first = client.read_reply()
    assert code == 250
    assert [client.read_code() for _ in range(3)] == ["250 2.1.0", "250 2.1.5", "354"]
    code, second = client.read_reply()
    assert code == 250
    assert client.read_code() == "221 2.0.0"
    assert queued_id(first) != queued_id(second)
    assert len(cis.queue_rows()) == 2


@pytest.mark.parametrize("sequence", [b"\n.\n", b"\r.\r", b"\n.\r\n", b"\r\n.\n"],
                         ids=["LF.LF", "CR.CR", "LF.CRLF", "CRLF.LF"])
def test_smuggling_never_ends_the_message(cis, raw_smtp, sequence):
    client = raw_smtp(cis.port)
    assert client.read_code() == "220"
    client.send("EHLO client.example\r\nMAIL FROM:<organizer@example.com>\r\nRCPT TO:<create@localhost>\r\nDATA\r\n")
    assert [client.read_code() for _ in range(4)] == ["250", "250 2.1.0", "250 2.1.5", "354"]
    smuggled = (b"Subject: first\r\n\r\nhello" + sequence +
                b"MAIL FROM:<attacker@evil.example>\r\nRCPT TO:<create@localhost>\r\nDATA\r\n"
                b"Subject: smuggled\r\n\r\nsecond message\r\n")
    client.send(smuggled)
    assert client.nothing_more(0.5), "the smuggled end must not end the message"
    client.send(b".\r\n")
    code, text = client.read_reply()
    assert code == 250, text
    client.send(b"QUIT\r\n")
    assert client.read_code() == "221 2.0.0"
    rows = cis.queue_rows()
    assert len(rows) == 1, "exactly one message"
    stored = cis.object_path(rows[0]["body"]["Records"][0]["s3"]["object"]["key"]).read_bytes()
    assert b"MAIL FROM:<attacker@evil.example>" in stored
    assert b"second message" in stored
    assert all("attacker" not in json.dumps(metadata) for metadata in cis.all_metadata().values())


def test_command_injected_after_starttls_is_not_executed(start_cis, raw_smtp, tls_files):
    certificate, key = tls_files
    cis = start_cis("--tls-cert", str(certificate), "--tls-key", str(key))
    client = raw_smtp(cis.port)
    assert client.read_code() == "220"
    client.send("EHLO client.example\r\n")
    code, text = client.read_reply()
    assert "250 STARTTLS" in text
    # STARTTLS and an injected transaction in the same plaintext packet.
    client.send("STARTTLS\r\nMAIL FROM:<attacker@evil.example>\r\nRCPT TO:<create@localhost>\r\n")
    assert client.read_code() == "220 2.0.0"
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    tls = context.wrap_socket(client.sock, server_hostname="localhost")
    client.sock = tls
    # Had the injected MAIL run, its replies would arrive now, and RCPT would be accepted.
    client.send("RCPT TO:<create@localhost>\r\n")
    assert client.read_code() == "503 5.5.1"
    client.send("MAIL FROM:<organizer@example.com>\r\n")
    assert client.read_code() == "503 5.5.1", "the session must start over: EHLO first"
    client.send("EHLO client.example\r\n")
    code, text = client.read_reply()
    assert code == 250 and "STARTTLS" not in text
    client.send("MAIL FROM:<organizer@example.com>\r\nRCPT TO:<create@localhost>\r\nDATA\r\n")
    assert [client.read_code() for _ in range(3)] == ["250 2.1.0", "250 2.1.5", "354"]
    client.send(INVITE + ".\r\n")
    code, text = client.read_reply()
    assert code == 250
    [row] = cis.queue_rows()
    [metadata] = cis.all_metadata().values()
    assert metadata["mail-from"] == "organizer@example.com"
    assert metadata["tls"] == "true"
    assert any(e.get("message") == "discarded bytes pipelined after STARTTLS" for e in cis.logs())
