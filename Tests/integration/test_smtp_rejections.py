"""Recipients, sizes and protocol errors: the reply codes of docs/architecture.md, and nothing stored."""
import smtplib

from conftest import INVITE


def session(cis):
    client = smtplib.SMTP(cis.host, cis.port, local_hostname="client.example", timeout=30)
    client.ehlo()
    return client


def assert_nothing_stored(cis):
    assert cis.queue_rows() == []
    objects = cis.data_dir / "objects" / "inbound"
    assert not objects.exists() or list(objects.iterdir()) == []


def test_relay_denied(cis):
    with session(cis) as client:
        client.mail("organizer@example.com")
        code, text = client.rcpt("create@elsewhere.example")
        assert (code, text.decode().split(" ")[0]) == (550, "5.7.1")
    assert_nothing_stored(cis)


def test_unknown_user(cis):
    with session(cis) as client:
        client.mail("organizer@example.com")
        code, text = client.rcpt("nobody@localhost")
        assert (code, text.decode().split(" ")[0]) == (550, "5.1.1")
        code, text = client.rcpt("nobody@LocalHost")
        assert (code, text.decode().split(" ")[0]) == (550, "5.1.1")
    assert_nothing_stored(cis)


def test_too_many_recipients(start_cis):
    cis = start_cis("--max-recipients", "2", "--recipient", "create@localhost", "--recipient", "invites@example.org")
    with session(cis) as client:
        client.mail("organizer@example.com")
        assert client.rcpt("create@localhost")[0] == 250
        assert client.rcpt("invites+a@example.org")[0] == 250
        code, text = client.rcpt("invites+b@example.org")
        assert (code, text.decode().split(" ")[0]) == (452, "4.5.3")
        code, text = client.data(INVITE.encode())
        assert code == 250, text
    [row] = cis.queue_rows()
    [metadata] = cis.all_metadata().values()
    assert metadata["recipients"] == "create@localhost,invites+a@example.org"


def test_size_declared_at_mail_over_the_limit(start_cis):
    cis = start_cis("--max-message-size", "1000")
    with session(cis) as client:
        assert client.esmtp_features["size"] == "1000"
        code, text = client.mail("organizer@example.com", ["SIZE=1001"])
        assert (code, text.decode().split(" ")[0]) == (552, "5.3.4")
        code, _ = client.mail("organizer@example.com", ["SIZE=900"])
        assert code == 250
    assert_nothing_stored(cis)


def test_size_undeclared_and_over_the_limit_in_data(start_cis, raw_smtp):
    cis = start_cis("--max-message-size", "1000")
    client = raw_smtp(cis.port)
    assert client.read_code() == "220"
    client.send("EHLO client.example\r\nMAIL FROM:<organizer@example.com>\r\nRCPT TO:<create@localhost>\r\nDATA\r\n")
    assert [client.read_code() for _ in range(4)] == ["250", "250 2.1.0", "250 2.1.5", "354"]
    client.send("Subject: big\r\n\r\n" + ("y" * 998 + "\r\n") * 50)
    # The rest of DATA is drained before the reply.
    assert client.nothing_more(0.5)
    client.send(".\r\nNOOP\r\n")
    assert client.read_code() == "552 5.3.4"
    assert client.read_code() == "250 2.0.0"
    assert_nothing_stored(cis)
    [line] = cis.transactions()
    assert line["smtp.outcome"] == "rejected-too-large"
    assert line["smtp.reply.code"] == "552 5.3.4"


def test_protocol_errors(cis, raw_smtp):
    client = raw_smtp(cis.port)
    assert client.read_code() == "220"
    exchanges = [
        ("MAIL FROM:<organizer@example.com>", "503 5.5.1"),  # before EHLO
        ("EHLO client.example", "250"),
        ("RCPT TO:<create@localhost>", "503 5.5.1"),  # before MAIL
        ("DATA", "503 5.5.1"),
        ("FROB", "500 5.5.1"),
        ("MAIL FROM:organizer@example.com", "501 5.5.4"),
        ("MAIL FROM:<organizer@example.com> RET=HDRS", "555 5.5.4"),
        ("NOOP " + "x" * 600, "500 5.5.2"),
        ("VRFY create", "252 2.0.0"),
        ("HELP", "214 2.0.0"),
        ("NOOP", "250 2.0.0"),
        ("RSET", "250 2.0.0"),
        ("STARTTLS", "502 5.5.1"),  # no certificate configured
        ("QUIT", "221 2.0.0"),
    ]
    for command, expected in exchanges:
        client.send(command + "\r\n")
        assert client.read_code() == expected, command
    assert client.closed_by_server()


def test_too_many_errors_close_the_session_with_421(cis, raw_smtp):
    client = raw_smtp(cis.port)
    assert client.read_code() == "220"
    client.send("FROB\r\n" * 10)
    codes = [client.read_code() for _ in range(10)]
    assert codes == ["500 5.5.1"] * 10
    assert client.read_code() == "421 4.7.0"
    assert client.closed_by_server()
