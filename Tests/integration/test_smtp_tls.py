"""STARTTLS with real clients: smtplib, openssl s_client, and --require-tls."""
import shutil
import smtplib
import ssl
import subprocess

import pytest

from conftest import INVITE, queued_id


def client_context(minimum=ssl.TLSVersion.TLSv1_2, maximum=None):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.minimum_version = minimum
    if maximum is not None:
        context.maximum_version = maximum
    return context


@pytest.fixture
def tls_cis(start_cis, tls_files):
    certificate, key = tls_files
    return start_cis("--tls-cert", str(certificate), "--tls-key", str(key))


def test_smtplib_starttls_delivers_over_tls(tls_cis):
    with smtplib.SMTP(tls_cis.host, tls_cis.port, local_hostname="client.example", timeout=30) as client:
        client.ehlo()
        assert client.has_extn("starttls")
        code, text = client.starttls(context=client_context())
        assert (code, text.decode().split(" ")[0]) == (220, "2.0.0")
        assert client.sock.version() in ("TLSv1.2", "TLSv1.3")
        client.ehlo()
        assert not client.has_extn("starttls")
        client.mail("organizer@example.com")
        client.rcpt("create@localhost")
        code, text = client.data(INVITE.encode())
        assert code == 250
    key = f"inbound/{queued_id(text.decode())}"
    stored = tls_cis.object_path(key).read_bytes()
    assert b"with ESMTPS" in stored.split(b"\r\n\r\n", 1)[0]
    [line] = tls_cis.transactions()
    assert line["smtp.tls"] == "true"


def test_smtplib_plain_still_works_when_tls_is_offered(tls_cis):
    with smtplib.SMTP(tls_cis.host, tls_cis.port, timeout=30) as client:
        client.ehlo("client.example")
        client.mail("organizer@example.com")
        client.rcpt("create@localhost")
        code, _ = client.data(INVITE.encode())
        assert code == 250
    assert tls_cis.transactions()[0]["smtp.tls"] == "false"


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_tls_older_than_1_2_is_refused(tls_cis):
    with smtplib.SMTP(tls_cis.host, tls_cis.port, timeout=30) as client:
        client.ehlo("client.example")
        context = client_context(minimum=ssl.TLSVersion.TLSv1, maximum=ssl.TLSVersion.TLSv1_1)
        try:
            context.set_ciphers("DEFAULT:@SECLEVEL=0")
        except ssl.SSLError:
            pass
        with pytest.raises((ssl.SSLError, ConnectionError, smtplib.SMTPServerDisconnected)):
            client.starttls(context=context)
            client.noop()
    # The server itself refused the handshake (not just the local OpenSSL).
    tls_cis.wait_for_log(
        lambda e: e.get("message") == "connection error" and "UNSUPPORTED_PROTOCOL" in e.get("error", ""), timeout=10)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_openssl_s_client_starttls(tls_cis):
    script = (
        "EHLO client.example\n"
        "MAIL FROM:<organizer@example.com>\n"
        "RCPT TO:<create@localhost>\n"
        "DATA\n"
        "Subject: via openssl\n\nBEGIN:VCALENDAR\nEND:VCALENDAR\n.\n"
        "QUIT\n")
    result = subprocess.run(
        ["openssl", "s_client", "-starttls", "smtp", "-connect", f"127.0.0.1:{tls_cis.port}",
         "-crlf", "-quiet", "-tls1_2"],
        input=script, capture_output=True, text=True, timeout=60)
    assert "250 2.0.0 Ok: queued as" in result.stdout, result.stdout + result.stderr
    assert "221 2.0.0" in result.stdout
    [line] = tls_cis.transactions()
    assert line["smtp.tls"] == "true"
    assert len(tls_cis.queue_rows()) == 1


def test_require_tls_refuses_mail_before_starttls(start_cis, tls_files):
    certificate, key = tls_files
    cis = start_cis("--tls-cert", str(certificate), "--tls-key", str(key), "--require-tls")
    with smtplib.SMTP(cis.host, cis.port, timeout=30) as client:
        client.ehlo("client.example")
        code, text = client.mail("organizer@example.com")
        assert (code, text.decode().split(" ")[0]) == (530, "5.7.0")
        client.starttls(context=client_context())
        client.ehlo("client.example")
        assert client.mail("organizer@example.com")[0] == 250
        assert client.rcpt("create@localhost")[0] == 250
        assert client.data(INVITE.encode())[0] == 250
    assert len(cis.queue_rows()) == 1


def test_require_tls_from_the_environment(start_cis, tls_files):
    certificate, key = tls_files
    cis = start_cis(env={"CIS_TLS_CERT": str(certificate), "CIS_TLS_KEY": str(key), "CIS_REQUIRE_TLS": "true"})
    with smtplib.SMTP(cis.host, cis.port, timeout=30) as client:
        client.ehlo("client.example")
        assert client.has_extn("starttls")
        assert client.mail("organizer@example.com")[0] == 530
