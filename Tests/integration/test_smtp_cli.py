"""`cis serve` / `cis smtp` options: every option has a flag and an environment variable,
is documented in --help, and a bad value stops the program with one line naming it."""
import os
import signal
import smtplib
import socket
import subprocess

import pytest

from conftest import INVITE, cis_binary, run_cis

OPTIONS = [
    ("--listen", "CIS_LISTEN"), ("--hostname", "CIS_HOSTNAME"), ("--recipient", "CIS_RECIPIENTS"),
    ("--tls-cert", "CIS_TLS_CERT"), ("--tls-key", "CIS_TLS_KEY"), ("--require-tls", "CIS_REQUIRE_TLS"),
    ("--max-message-size", "CIS_MAX_MESSAGE_SIZE"), ("--max-recipients", "CIS_MAX_RECIPIENTS"),
    ("--max-connections", "CIS_MAX_CONNECTIONS"), ("--max-connections-per-ip", "CIS_MAX_CONNECTIONS_PER_IP"),
    ("--command-timeout", "CIS_COMMAND_TIMEOUT"), ("--data-timeout", "CIS_DATA_TIMEOUT"),
    ("--tls-handshake-timeout", "CIS_TLS_HANDSHAKE_TIMEOUT"), ("--max-session-time", "CIS_MAX_SESSION_TIME"),
    ("--min-data-rate", "CIS_MIN_DATA_RATE"), ("--min-data-rate-grace", "CIS_MIN_DATA_RATE_GRACE"),
    ("--max-pending-reply-bytes", "CIS_MAX_PENDING_REPLY_BYTES"), ("--junk-command-limit", "CIS_JUNK_COMMAND_LIMIT"),
    ("--max-connection-rate", "CIS_MAX_CONNECTION_RATE"), ("--client-ipv4-prefix", "CIS_CLIENT_IPV4_PREFIX"),
    ("--client-ipv6-prefix", "CIS_CLIENT_IPV6_PREFIX"), ("--tcp-keepalive", "CIS_TCP_KEEPALIVE"),
    ("--close-timeout", "CIS_CLOSE_TIMEOUT"), ("--recipients-file", "CIS_RECIPIENTS_FILE"),
    ("--proxy-protocol", "CIS_PROXY_PROTOCOL"), ("--proxy-trusted", "CIS_PROXY_TRUSTED"),
    ("--proxy-header-timeout", "CIS_PROXY_HEADER_TIMEOUT"),
    ("--backend", "CIS_BACKEND"), ("--data-dir", "CIS_DATA_DIR"), ("--prefix", "CIS_S3_PREFIX"),
    ("--log-format", "CIS_LOG_FORMAT"),
    ("--http-listen", "CIS_HTTP_LISTEN"), ("--http-token", "CIS_HTTP_TOKEN"),
    ("--ready-max-queue-depth", "CIS_READY_MAX_QUEUE_DEPTH"), ("--ready-min-disk-free", "CIS_READY_MIN_DISK_FREE"),
    ("--status-messages", "CIS_STATUS_MESSAGES"), ("--http-max-connections", "CIS_HTTP_MAX_CONNECTIONS"),
    ("--http-idle-timeout", "CIS_HTTP_IDLE_TIMEOUT"), ("--ready-probe-timeout", "CIS_READY_PROBE_TIMEOUT"),
    ("--http-request-timeout", "CIS_HTTP_REQUEST_TIMEOUT"),
]


@pytest.mark.parametrize("command", ["serve", "smtp"])
def test_help_documents_every_option_and_its_variable(tmp_path, command):
    result = run_cis([command, "--help"], tmp_path)
    assert result.returncode == 0
    help_text = " ".join(result.stdout.split())
    for flag, variable in OPTIONS:
        assert flag in help_text, flag
        assert variable in help_text, variable


@pytest.mark.parametrize("args, env, names", [
    (["--max-recipients", "many"], {}, "--max-recipients"),
    ([], {"CIS_MAX_RECIPIENTS": "0"}, "CIS_MAX_RECIPIENTS"),
    (["--max-message-size", "-5"], {}, "--max-message-size"),
    (["--max-message-size=0"], {}, "--max-message-size"),
    (["--max-connections", "1.5"], {}, "--max-connections"),
    ([], {"CIS_MAX_CONNECTIONS_PER_IP": "x"}, "CIS_MAX_CONNECTIONS_PER_IP"),
    (["--command-timeout", "soon"], {}, "--command-timeout"),
    ([], {"CIS_DATA_TIMEOUT": "-1"}, "CIS_DATA_TIMEOUT"),
    (["--tls-handshake-timeout", "0"], {}, "--tls-handshake-timeout"),
    ([], {"CIS_MAX_SESSION_TIME": "forever"}, "CIS_MAX_SESSION_TIME"),
    (["--min-data-rate", "-1"], {}, "--min-data-rate"),
    ([], {"CIS_MIN_DATA_RATE": "fast"}, "CIS_MIN_DATA_RATE"),
    (["--min-data-rate-grace", "0"], {}, "--min-data-rate-grace"),
    (["--max-pending-reply-bytes", "100"], {}, "--max-pending-reply-bytes"),
    ([], {"CIS_MAX_PENDING_REPLY_BYTES": "x"}, "CIS_MAX_PENDING_REPLY_BYTES"),
    (["--junk-command-limit", "0"], {}, "--junk-command-limit"),
    (["--max-connection-rate", "-5"], {}, "--max-connection-rate"),
    (["--client-ipv4-prefix", "33"], {}, "--client-ipv4-prefix"),
    ([], {"CIS_CLIENT_IPV4_PREFIX": "0"}, "CIS_CLIENT_IPV4_PREFIX"),
    (["--client-ipv6-prefix", "129"], {}, "--client-ipv6-prefix"),
    (["--tcp-keepalive", "0.5"], {}, "--tcp-keepalive"),
    ([], {"CIS_TCP_KEEPALIVE": "40000"}, "CIS_TCP_KEEPALIVE"),
    (["--close-timeout", "0"], {}, "--close-timeout"),
    (["--listen", "127.0.0.1"], {}, "--listen"),
    (["--listen", "127.0.0.1:70000"], {}, "--listen"),
    ([], {"CIS_LISTEN": "mail.example.com:25"}, "CIS_LISTEN"),
    (["--recipient", "not-an-address"], {}, "--recipient"),
    ([], {"CIS_RECIPIENTS": "create@localhost,broken@"}, "CIS_RECIPIENTS"),
    (["--tls-cert", "/nonexistent/cert.pem", "--tls-key", "/nonexistent/key.pem"], {}, "--tls-cert"),
    (["--tls-cert", "/etc/hostname"], {}, "--tls-cert"),
    (["--require-tls"], {}, "--require-tls"),
    ([], {"CIS_REQUIRE_TLS": "perhaps"}, "CIS_REQUIRE_TLS"),
    (["--backend", "ftp"], {}, "--backend"),
    (["--log-format", "xml"], {}, "--log-format"),
    (["--prefix", "../escape/"], {}, "--prefix"),
    (["--recipients-file", "/nonexistent/recipients"], {}, "--recipients-file"),
    ([], {"CIS_RECIPIENTS_FILE": "/nonexistent/recipients"}, "CIS_RECIPIENTS_FILE"),
    (["--recipients-file", "/etc/hostname", "--recipient", "a@example.com"], {}, "--recipients-file"),
    (["--recipients-file", "/etc"], {}, "--recipients-file"),
    (["--proxy-protocol"], {}, "--proxy-protocol"),
    ([], {"CIS_PROXY_PROTOCOL": "sometimes"}, "CIS_PROXY_PROTOCOL"),
    (["--proxy-protocol", "--proxy-trusted", "10.0.0.1/8"], {}, "--proxy-trusted"),
    (["--proxy-protocol", "--proxy-trusted", "10.0.0.0/33"], {}, "--proxy-trusted"),
    (["--proxy-protocol", "--proxy-trusted", "10.0.0.0/8,lb.example.com"], {}, "--proxy-trusted"),
    ([], {"CIS_PROXY_PROTOCOL": "true", "CIS_PROXY_TRUSTED": "example.com"}, "CIS_PROXY_TRUSTED"),
    (["--proxy-trusted", "10.0.0.0/8"], {}, "--proxy-trusted"),
    (["--proxy-protocol", "--proxy-trusted", "127.0.0.1", "--proxy-header-timeout", "2"], {}, "--proxy-header-timeout"),
    ([], {"CIS_PROXY_HEADER_TIMEOUT": "soon"}, "CIS_PROXY_HEADER_TIMEOUT"),
    (["--http-listen", "nowhere"], {}, "--http-listen"),
    ([], {"CIS_HTTP_LISTEN": "127.0.0.1:99999"}, "CIS_HTTP_LISTEN"),
    (["--http-listen", "0.0.0.0:9025"], {}, "--http-listen"),
    (["--http-listen", "0.0.0.0:9025", "--http-token", "short"], {}, "--http-token"),
    ([], {"CIS_HTTP_TOKEN": "with spaces in the token"}, "CIS_HTTP_TOKEN"),
    (["--ready-max-queue-depth", "0"], {}, "--ready-max-queue-depth"),
    ([], {"CIS_READY_MIN_DISK_FREE": "-1"}, "CIS_READY_MIN_DISK_FREE"),
    (["--status-messages", "0"], {}, "--status-messages"),
    ([], {"CIS_STATUS_MESSAGES": "10001"}, "CIS_STATUS_MESSAGES"),
    (["--http-max-connections", "0"], {}, "--http-max-connections"),
    ([], {"CIS_HTTP_MAX_CONNECTIONS": "10001"}, "CIS_HTTP_MAX_CONNECTIONS"),
    (["--http-idle-timeout", "0"], {}, "--http-idle-timeout"),
    ([], {"CIS_HTTP_IDLE_TIMEOUT": "1.5"}, "CIS_HTTP_IDLE_TIMEOUT"),
    (["--http-request-timeout", "0"], {}, "--http-request-timeout"),
    ([], {"CIS_HTTP_REQUEST_TIMEOUT": "601"}, "CIS_HTTP_REQUEST_TIMEOUT"),
    (["--ready-probe-timeout", "61"], {}, "--ready-probe-timeout"),
    ([], {"CIS_READY_PROBE_TIMEOUT": "soon"}, "CIS_READY_PROBE_TIMEOUT"),
])
def test_bad_values_stop_at_start_with_one_line(tmp_path, args, env, names):
    listen = [] if "--listen" in args or "CIS_LISTEN" in env else ["--listen", "127.0.0.1:0"]
    result = run_cis(["serve", *listen, *args], tmp_path, env=env)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"cis: {names}"), lines[0]
    assert not (tmp_path / "cis-data").exists(), "nothing is created for a bad configuration"


def test_a_bad_line_in_the_recipients_file_is_named(tmp_path):
    recipients = tmp_path / "recipients"
    recipients.write_text("# invites\ncreate@localhost\nnot an address\n")
    result = run_cis(["serve", "--listen", "127.0.0.1:0", "--recipients-file", str(recipients)], tmp_path)
    assert result.returncode == 78, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"cis: --recipients-file: {recipients} line 3: 'not an address' is not an address"), line
    (tmp_path / "empty").write_text("# nobody\n\n")
    result = run_cis(["serve", "--listen", "127.0.0.1:0", "--recipients-file", str(tmp_path / "empty")], tmp_path)
    assert result.stderr.strip().splitlines() == [f"cis: --recipients-file: {tmp_path / 'empty'}: no address in the file"]


def test_unreadable_key_names_the_key_option(tmp_path, tls_files):
    certificate, _ = tls_files
    result = run_cis(["serve", "--tls-cert", str(certificate), "--tls-key", str(tmp_path / "missing.pem")], tmp_path)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        f"cis: --tls-key: private key {tmp_path / 'missing.pem'}: no such file"]


def test_mismatched_key_is_refused(tmp_path, tls_files):
    certificate, _ = tls_files
    other = tmp_path / "other"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", str(other) + ".key", "-out", str(other) + ".crt", "-days", "1",
                    "-subj", "/CN=other"], check=True, capture_output=True, timeout=60)
    result = run_cis(["serve", "--tls-cert", str(certificate), "--tls-key", str(other) + ".key"], tmp_path)
    assert result.returncode != 0
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("cis: --tls-key:"), line


def test_port_in_use_is_one_line(tmp_path):
    with socket.socket() as occupied:
        occupied.bind(("127.0.0.1", 0))
        occupied.listen()
        port = occupied.getsockname()[1]
        result = run_cis(["serve", "--listen", f"127.0.0.1:{port}"], tmp_path)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [f"cis: --listen 127.0.0.1:{port}: cannot listen: Address already in use"]


def test_environment_variables_configure_the_server(start_cis, tmp_path):
    cis = start_cis(env={"CIS_RECIPIENTS": "invites@example.org, team@example.org", "CIS_MAX_MESSAGE_SIZE": "5000",
                         "CIS_S3_PREFIX": "mail/", "CIS_HOSTNAME": "ignored.example"})
    with smtplib.SMTP(cis.host, cis.port, timeout=30) as client:
        code, banner = client.ehlo("client.example")
        # The flag (--hostname mx.test, from the fixture) wins over CIS_HOSTNAME.
        assert banner.decode().startswith("mx.test")
        assert client.esmtp_features["size"] == "5000"
        client.mail("organizer@example.com")
        assert client.rcpt("create@localhost")[0] == 550
        assert client.rcpt("team+x@example.org")[0] == 250
        code, text = client.data(INVITE.encode())
        assert code == 250
    [row] = cis.queue_rows()
    assert row["body"]["Records"][0]["s3"]["object"]["key"].startswith("mail/")


def test_cis_smtp_runs_the_intake(start_cis):
    cis = start_cis(command="smtp")
    with smtplib.SMTP(cis.host, cis.port, timeout=30) as client:
        client.ehlo("client.example")
        client.mail("organizer@example.com")
        client.rcpt("create@localhost")
        assert client.data(INVITE.encode())[0] == 250
    assert len(cis.queue_rows()) == 1


def test_text_logs_are_human_readable_lines(tmp_path):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CIS_")}
    process = subprocess.Popen(
        [cis_binary(), "serve", "--no-consumer", "--listen", "127.0.0.1:0", "--data-dir", str(tmp_path / "data")],
        env=clean, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        first = process.stderr.readline()
        assert " info " in first and "smtp.listen.port=" in first and "listening" in first, first
        assert not first.startswith("{")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


@pytest.mark.parametrize("args, env, names", [
    (["--prefix", ".meta/"], {}, "--prefix"),
    (["--prefix", "a//"], {}, "--prefix"),
    (["--prefix", "./"], {}, "--prefix"),
    ([], {"CIS_S3_PREFIX": "in\tbound/"}, "CIS_S3_PREFIX"),
    (["--hostname", "bad name"], {}, "--hostname"),
    (["--consumer-concurrency", "0"], {}, "--consumer-concurrency"),
    ([], {"CIS_VISIBILITY_TIMEOUT": "0"}, "CIS_VISIBILITY_TIMEOUT"),
    (["--poll-wait", "21"], {}, "--poll-wait"),
    (["--retry-delay", "901"], {}, "--retry-delay"),
    ([], {"CIS_MAX_RECEIVE_COUNT": "0"}, "CIS_MAX_RECEIVE_COUNT"),
    (["--topic-deduplication-window", "-1"], {}, "--topic-deduplication-window"),
    (["--retry-hold", "43200"], {}, "--retry-hold"),
    ([], {"CIS_RETRY_HOLD": "soon"}, "CIS_RETRY_HOLD"),
    ([], {"CIS_TOPIC_DEDUPLICATION_WINDOW": "2000000000"}, "CIS_TOPIC_DEDUPLICATION_WINDOW"),
    (["--shutdown-timeout", "0"], {}, "--shutdown-timeout"),
    (["--publish-ledger-retention", "0"], {}, "--publish-ledger-retention"),
    ([], {"CIS_PUBLISH_LEDGER_RETENTION": "366"}, "CIS_PUBLISH_LEDGER_RETENTION"),
    ([], {"CIS_PUBLISH_LEDGER_RETENTION": "two weeks"}, "CIS_PUBLISH_LEDGER_RETENTION"),
])
def test_values_the_store_or_consumer_would_refuse_stop_at_start(tmp_path, args, env, names):
    """A prefix the object store rejects on every put used to start and answer 451 to every
    message; every value is now checked once, at start, by the same code that uses it."""
    result = run_cis(["serve", "--listen", "127.0.0.1:0", *args], tmp_path, env=env)
    assert result.returncode == 78, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"cis: {names}"), lines[0]
    assert not (tmp_path / "cis-data").exists()


@pytest.mark.parametrize("args, env, names", [
    (["--publish-ledger-table", "no spaces allowed"], {}, "--publish-ledger-table"),
    ([], {"CIS_PUBLISH_LEDGER_TABLE": "ab"}, "CIS_PUBLISH_LEDGER_TABLE"),
    (["--publish-ledger-table", "x" * 256], {}, "--publish-ledger-table"),
])
def test_a_bad_publish_ledger_table_stops_cis_consume_at_start(tmp_path, args, env, names):
    result = run_cis(["consume", "--backend", "aws", "--event-index", "dynamodb", "--event-table", "pipeline-events",
                      *args], tmp_path, env=env)
    assert result.returncode == 78, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"cis: {names}: ") and "DynamoDB table name" in lines[0], lines[0]
    assert not (tmp_path / "cis-data").exists()


def readme_defaults():
    """(variable, default) from the README's option tables, where the default is a literal."""
    import pathlib
    import re
    readme = (pathlib.Path(__file__).resolve().parents[2] / "README.md").read_text()
    rows = re.findall(r"^\| `--[^|]*\| `([A-Z_]+)`[^|]*\| `([^`]+)` \|", readme, re.MULTILINE)
    return [(variable, default) for variable, default in rows]


@pytest.mark.parametrize("command", ["serve", "smtp", "consume", "parse", "verify-sender"])
def test_help_and_readme_state_the_same_defaults(tmp_path, command):
    """Each default lives in one constant that the option, its help and (by this test) the
    README agree on."""
    import re
    help_text = " ".join(run_cis([command, "--help"], tmp_path).stdout.split())
    checked = 0
    for variable, default in readme_defaults():
        match = re.search(rf"Env: {variable}\b[^.]*?\. Default: (.+?)\.(?:\s|$)", help_text)
        if match is None:
            continue
        assert match.group(1) == default, f"{variable}: help says {match.group(1)!r}, README {default!r}"
        checked += 1
    assert checked >= 5, f"only {checked} defaults compared for {command}"


@pytest.mark.parametrize("args, env, names", [
    (["--dead-letter-queue-url", "not-a-url"], {}, "--dead-letter-queue-url"),
    ([], {"CIS_DEAD_LETTER_QUEUE_URL": "ftp://example.com/q"}, "CIS_DEAD_LETTER_QUEUE_URL"),
    ([], {}, "--dead-letter-queue-url"),
])
def test_dlq_redrive_with_aws_checks_the_dead_letter_queue_url_at_start(tmp_path, args, env, names):
    result = run_cis(["dlq", "redrive", "--all", "--backend", "aws", "--queue-url", "http://127.0.0.1:9/1/q", *args],
                     tmp_path, env=env)
    assert result.returncode == 78, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"cis: {names}"), lines[0]


@pytest.mark.parametrize("command", ["serve", "consume", "parse"])
@pytest.mark.parametrize("args, env, name", [
    (["--parse-timeout", "0"], {}, "--parse-timeout"),
    ([], {"CIS_PARSE_TIMEOUT": "61"}, "CIS_PARSE_TIMEOUT"),
    (["--max-mime-parts", "0"], {}, "--max-mime-parts"),
    ([], {"CIS_MAX_MIME_DEPTH": "deep"}, "CIS_MAX_MIME_DEPTH"),
    (["--max-calendar-components", "-5"], {}, "--max-calendar-components"),
    ([], {"CIS_MAX_CALENDAR_EVENTS": "0"}, "CIS_MAX_CALENDAR_EVENTS"),
    (["--max-attendees", "1.5"], {}, "--max-attendees"),
    ([], {"CIS_MAX_OVERRIDES": "1000001"}, "CIS_MAX_OVERRIDES"),
    (["--max-timezone-transitions", "none"], {}, "--max-timezone-transitions"),
    (["--parse-memory-limit", "63"], {}, "--parse-memory-limit"),
    ([], {"CIS_PARSE_MEMORY_LIMIT": "512M"}, "CIS_PARSE_MEMORY_LIMIT"),
    (["--parse-memory-limit", "1048577"], {}, "--parse-memory-limit"),
])
def test_bad_parse_limits_stop_at_start_with_one_line(tmp_path, command, args, env, name):
    """Every parse limit is checked at start by `cis serve`, `cis consume` and `cis parse` alike."""
    (tmp_path / "invite.ics").write_text("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
    before = {"serve": ["--listen", "127.0.0.1:0"], "consume": [], "parse": ["invite.ics"]}[command]
    result = run_cis([command, *before, *args], tmp_path, env=env)
    assert result.returncode == 78, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"cis: {name}"), lines[0]
    assert result.stdout == ""
    assert not (tmp_path / "cis-data").exists()


@pytest.mark.parametrize("command", ["serve", "consume", "parse"])
def test_help_documents_every_parse_limit(tmp_path, command):
    help_text = " ".join(run_cis([command, "--help"], tmp_path).stdout.split())
    for flag, variable in [("--parse-timeout", "CIS_PARSE_TIMEOUT"), ("--max-mime-parts", "CIS_MAX_MIME_PARTS"),
                           ("--max-mime-depth", "CIS_MAX_MIME_DEPTH"),
                           ("--max-calendar-components", "CIS_MAX_CALENDAR_COMPONENTS"),
                           ("--max-calendar-events", "CIS_MAX_CALENDAR_EVENTS"), ("--max-attendees", "CIS_MAX_ATTENDEES"),
                           ("--max-overrides", "CIS_MAX_OVERRIDES"),
                           ("--max-timezone-transitions", "CIS_MAX_TIMEZONE_TRANSITIONS"),
                           ("--parse-memory-limit", "CIS_PARSE_MEMORY_LIMIT")]:
        assert flag in help_text and variable in help_text, (flag, variable)


@pytest.mark.parametrize("args, env, names", [
    (["--queue-batch-window", "1001"], {}, "--queue-batch-window"),
    (["--queue-batch-window", "-1"], {}, "--queue-batch-window"),
    ([], {"CIS_QUEUE_BATCH_WINDOW": "5ms"}, "CIS_QUEUE_BATCH_WINDOW"),
])
def test_bad_aws_intake_values_stop_at_start_before_credentials(tmp_path, args, env, names):
    """Checked with the other AWS options, before any credential or endpoint is looked at."""
    result = run_cis(["smtp", "--listen", "127.0.0.1:0", "--backend", "aws", "--bucket", "cis-bucket",
                      "--queue-url", "http://127.0.0.1:9/123456789012/q", *args], tmp_path,
                     env={"AWS_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true", **env})
    assert result.returncode == 78, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"cis: {names}: "), lines[0]
    assert "from 0 to 1000" in lines[0], lines[0]


SENDER_AUTHENTICATION_OPTIONS = [
    ("--dns-server", "CIS_DNS_SERVER"), ("--dns-timeout", "CIS_DNS_TIMEOUT"),
    ("--dns-queries-per-message", "CIS_DNS_QUERIES_PER_MESSAGE"), ("--dns-time-per-message", "CIS_DNS_TIME_PER_MESSAGE"),
    ("--max-dkim-signatures", "CIS_MAX_DKIM_SIGNATURES"), ("--authserv-id", "CIS_AUTHSERV_ID"),
    ("--trusted-arc-sealers", "CIS_TRUSTED_ARC_SEALERS"),
]


def test_verify_sender_help_documents_every_option(tmp_path):
    help_text = " ".join(run_cis(["verify-sender", "--help"], tmp_path).stdout.split())
    for flag, variable in SENDER_AUTHENTICATION_OPTIONS:
        assert flag in help_text, flag
        assert variable in help_text, variable


@pytest.mark.parametrize("args, env, name", [
    (["--dns-server", "dns.example.com"], {}, "--dns-server"),
    (["--dns-server", "192.0.2.53:0"], {}, "--dns-server"),
    ([], {"CIS_DNS_SERVER": "[::1"}, "CIS_DNS_SERVER"),
    (["--dns-timeout", "0"], {}, "--dns-timeout"),
    ([], {"CIS_DNS_TIMEOUT": "61"}, "CIS_DNS_TIMEOUT"),
    (["--dns-queries-per-message", "0"], {}, "--dns-queries-per-message"),
    ([], {"CIS_DNS_QUERIES_PER_MESSAGE": "many"}, "CIS_DNS_QUERIES_PER_MESSAGE"),
    (["--dns-time-per-message", "301"], {}, "--dns-time-per-message"),
    ([], {"CIS_DNS_TIME_PER_MESSAGE": "-1"}, "CIS_DNS_TIME_PER_MESSAGE"),
    (["--max-dkim-signatures", "51"], {}, "--max-dkim-signatures"),
    ([], {"CIS_MAX_DKIM_SIGNATURES": "0"}, "CIS_MAX_DKIM_SIGNATURES"),
    (["--authserv-id", "mx example;"], {}, "--authserv-id"),
    ([], {"CIS_AUTHSERV_ID": "-bad-.example"}, "CIS_AUTHSERV_ID"),
    (["--trusted-arc-sealers", "lists.example,,"], {}, "--trusted-arc-sealers"),
    ([], {"CIS_TRUSTED_ARC_SEALERS": "ok.example,not a domain"}, "CIS_TRUSTED_ARC_SEALERS"),
    (["--client-ip", "mail.example.com"], {}, "--client-ip"),
])
def test_bad_sender_authentication_values_stop_at_start_with_one_line(tmp_path, args, env, name):
    (tmp_path / "message.eml").write_bytes(b"From: a@example.com\r\n\r\nbody\r\n")
    client = [] if "--client-ip" in args else ["--client-ip", "192.0.2.10"]
    dns = [] if name in ("--dns-server", "CIS_DNS_SERVER") else ["--dns-server", "127.0.0.1:9"]
    result = run_cis(["verify-sender", "message.eml", *client, *dns, *args], tmp_path, env=env)
    assert result.returncode == 78, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"cis: {name}"), lines[0]
    assert result.stdout == ""


@pytest.mark.parametrize("command", ["serve", "consume"])
@pytest.mark.parametrize("args, env, name", [
    (["--sender-policy", "strict"], {}, "--sender-policy"),
    ([], {"CIS_SENDER_POLICY": "Enforce"}, "CIS_SENDER_POLICY"),
    (["--sender-verification-timeout", "0"], {}, "--sender-verification-timeout"),
    ([], {"CIS_SENDER_VERIFICATION_TIMEOUT": "601"}, "CIS_SENDER_VERIFICATION_TIMEOUT"),
    (["--sender-policy", "report", "--sender-verification-timeout", "2.5"], {}, "--sender-verification-timeout"),
    (["--sender-temperror-retry", "-1"], {}, "--sender-temperror-retry"),
    ([], {"CIS_SENDER_TEMPERROR_RETRY": "432001"}, "CIS_SENDER_TEMPERROR_RETRY"),
    (["--sender-temperror-retry", "1h"], {}, "--sender-temperror-retry"),
    (["--dns-server", "dns.example.com"], {}, "--dns-server"),
    ([], {"CIS_AUTHSERV_ID": "mx example"}, "CIS_AUTHSERV_ID"),
])
def test_bad_sender_policy_settings_stop_at_start_with_one_line(tmp_path, command, args, env, name):
    before = {"serve": ["--listen", "127.0.0.1:0"], "consume": []}[command]
    result = run_cis([command, *before, "--data-dir", str(tmp_path / "cis-data"), *args], tmp_path, env=env)
    assert result.returncode == 78, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"cis: {name}"), lines[0]
    assert not (tmp_path / "cis-data").exists()


@pytest.mark.parametrize("command", ["serve", "consume"])
def test_help_documents_the_sender_policy(tmp_path, command):
    help_text = " ".join(run_cis([command, "--help"], tmp_path).stdout.split())
    for flag, variable in [("--sender-policy", "CIS_SENDER_POLICY"),
                           ("--sender-verification-timeout", "CIS_SENDER_VERIFICATION_TIMEOUT"),
                           ("--sender-temperror-retry", "CIS_SENDER_TEMPERROR_RETRY"),
                           *SENDER_AUTHENTICATION_OPTIONS]:
        assert flag in help_text and variable in help_text, (flag, variable)
    assert "Default: report." in help_text
