"""A normal invite through the real `cis serve`: the 250 reply, the stored object and
its S3-event notification in the embedded queue, checked field by field."""
import hashlib
import json
import re
import shutil
import smtplib
import subprocess
import urllib.parse

import pytest

from conftest import HOSTNAME, INVITE, queued_id


def send_invite(cis, sender="organizer@example.com", recipients=("create@localhost",), message=INVITE):
    with smtplib.SMTP(cis.host, cis.port, local_hostname="client.example", timeout=30) as client:
        client.ehlo()
        code, text = client.mail(sender)
        assert code == 250, text
        for recipient in recipients:
            code, text = client.rcpt(recipient)
            assert code == 250, text
        code, text = client.data(message.encode())
        return code, text.decode()


def test_ehlo_advertises_the_extensions(cis):
    with smtplib.SMTP(cis.host, cis.port, timeout=30) as client:
        code, banner = client.ehlo("client.example")
        assert code == 250
        for extension in ("pipelining", "size", "8bitmime", "enhancedstatuscodes", "smtputf8"):
            assert client.has_extn(extension), extension
        assert client.esmtp_features["size"] == "41943040"
        assert not client.has_extn("starttls"), "no certificate configured"


def test_invite_is_stored_and_its_notification_queued(cis):
    code, text = send_invite(cis)
    assert code == 250
    assert re.fullmatch(r"2\.0\.0 Ok: queued as [A-Za-z0-9_-]+", text), text
    message_id = queued_id(text)
    key = f"inbound/{message_id}"

    # The object: one Received: header, then the message exactly as sent.
    stored = cis.object_path(key).read_bytes()
    assert stored.startswith(b"Received: from client.example ([127.0.0.1])"), stored[:200]
    first_line_end = stored.index(INVITE.encode()[:20])
    received = stored[:first_line_end].decode()
    assert f"by {HOSTNAME}" in received
    assert "with ESMTP" in received
    assert f"id {message_id}" in received
    assert "for <create@localhost>" in received
    assert stored[first_line_end:] == INVITE.encode()

    # Its metadata: the envelope.
    metadata = cis.object_metadata(key)
    assert metadata["mail-from"] == "organizer@example.com"
    assert metadata["recipients"] == "create@localhost"
    assert metadata["client-address"] == "127.0.0.1"
    assert metadata["tls"] == "false"

    # The notification: exactly one, shaped like S3's ObjectCreated:Put event.
    rows = cis.queue_rows()
    assert len(rows) == 1
    assert rows[0]["receive_count"] == 0
    records = rows[0]["body"]["Records"]
    assert len(records) == 1
    record = records[0]
    assert record["eventVersion"] == "2.1"
    assert record["eventSource"] == "aws:s3"
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["awsRegion"] == "us-east-1"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", record["eventTime"]), record["eventTime"]
    s3 = record["s3"]
    assert s3["s3SchemaVersion"] == "1.0"
    assert s3["configurationId"] == "cis-intake"
    assert s3["bucket"]["name"] == "cis-local"
    assert s3["bucket"]["arn"] == "arn:aws:s3:::cis-local"
    assert urllib.parse.unquote_plus(s3["object"]["key"]) == key
    assert s3["object"]["size"] == len(stored)
    assert s3["object"]["eTag"] == hashlib.md5(stored).hexdigest()
    assert re.fullmatch(r"[0-9A-F]+", s3["object"]["sequencer"]), s3["object"]["sequencer"]

    # One transaction log line, without the message content.
    [line] = cis.transactions()
    assert line["smtp.message.id"] == message_id
    assert line["smtp.client.address"] == "127.0.0.1"
    assert line["smtp.tls"] == "false"
    assert line["smtp.outcome"] == "delivered"
    assert line["smtp.reply.code"] == "250 2.0.0"
    assert int(line["smtp.message.size"]) == len(INVITE)
    assert all("Design review" not in json.dumps(event) for event in cis.logs())
    assert all("raw" not in event for event in cis.logs()), "--log-format json: every line is one JSON object"



def test_sequencers_increase_and_ids_are_unique(cis):
    ids = [queued_id(send_invite(cis)[1]) for _ in range(3)]
    assert len(set(ids)) == 3
    sequencers = [row["body"]["Records"][0]["s3"]["object"]["sequencer"] for row in cis.queue_rows()]
    assert len(sequencers) == 3
    assert sorted(sequencers, key=lambda s: (len(s), s)) == sequencers


def test_null_sender_tagged_recipient_and_case(cis):
    code, text = send_invite(cis, sender="", recipients=("Create+Team@LOCALHOST",))
    assert code == 250, text
    assert len(cis.queue_rows()) == 1


def test_smtputf8_and_8bitmime(cis):
    message = INVITE.replace("Subject: Design review", "Subject: Entwurfsprüfung").encode()
    with smtplib.SMTP(cis.host, cis.port, local_hostname="client.example", timeout=30) as client:
        client.ehlo()
        code, text = client.mail("jörg@exämple.de", ["SMTPUTF8", "BODY=8BITMIME"])
        assert code == 250, text
        assert client.rcpt("create@localhost")[0] == 250
        code, text = client.data(message)
        assert code == 250, text
    key = f"inbound/{queued_id(text.decode())}"
    assert cis.object_path(key).read_bytes().endswith(message)
    metadata = cis.object_metadata(key)
    assert metadata["mail-from"] == "jörg@exämple.de"


def test_non_ascii_sender_without_smtputf8_is_refused(cis, raw_smtp):
    client = raw_smtp(cis.port)
    assert client.read_code() == "220"
    client.send("EHLO client.example\r\n".encode() + "MAIL FROM:<jörg@exämple.de>\r\n".encode())
    assert client.read_code() == "250"
    assert client.read_code() == "553 5.6.7"


def test_large_message_is_stored_whole(start_cis):
    cis = start_cis("--max-message-size", str(8 << 20))
    body = INVITE + ("X-Padding: " + "p" * 990 + "\r\n") * 3000  # about 3 MB, spooled to disk
    code, text = send_invite(cis, message=body)
    assert code == 250, text
    stored = cis.object_path(f"inbound/{queued_id(text)}").read_bytes()
    assert stored.endswith(body.encode())
    assert list((cis.data_dir / "spool").iterdir()) == [], "the spool file is removed after delivery"


@pytest.mark.skipif(shutil.which("swaks") is None, reason="swaks is not installed")
def test_swaks_with_a_calendar_attachment(cis, tmp_path):
    invite = tmp_path / "invite.ics"
    invite.write_text(INVITE.split("\r\n\r\n", 1)[1])
    result = subprocess.run(
        ["swaks", "--server", f"{cis.host}:{cis.port}", "--to", "create@localhost",
         "--from", "organizer@example.com", "--attach-type", "text/calendar", "--attach", f"@{invite}"],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    match = re.search(r"<-  250 2\.0\.0 Ok: queued as (\S+)", result.stdout)
    assert match, result.stdout
    stored = cis.object_path(f"inbound/{match.group(1)}").read_bytes()
    assert b"Content-Type: text/calendar" in stored
    assert len(cis.queue_rows()) == 1
