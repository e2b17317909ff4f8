"""Fixtures for the SMTP integration tests: the real `cis` binary ($CIS_BINARY) on an
ephemeral loopback port with a temporary --data-dir, and small SMTP helpers."""
import json
import os
import pathlib
import select
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "Support"))

from object_journal import wait_until_queue_caught_up

ROOT = pathlib.Path(__file__).resolve().parents[2]
HOSTNAME = "mx.test"

# The keys of the IAM user that scripts/test.sh creates in its moto_server, which verifies every
# SigV4 signature against them (INITIAL_NO_AUTH_ACTION_COUNT): read once here, before any test
# strips AWS_* from an environment it builds for the binary.
MOTO_ACCESS_KEY_ID = os.environ.get("AWS_ACCESS_KEY_ID", "")
MOTO_SECRET_ACCESS_KEY = os.environ.get("AWS_SECRET_ACCESS_KEY", "")


def moto_credentials():
    """{"AWS_ACCESS_KEY_ID": …, "AWS_SECRET_ACCESS_KEY": …} for the moto_server of the run; fails
    the test when they are not exported (never falls back to keys moto would refuse)."""
    if not MOTO_ACCESS_KEY_ID or not MOTO_SECRET_ACCESS_KEY:
        pytest.fail("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must hold the moto IAM user's keys: run `make test`, "
                    "or start moto_server as scripts/test.sh does and export what scripts/moto_iam_user.py prints")
    return {"AWS_ACCESS_KEY_ID": MOTO_ACCESS_KEY_ID, "AWS_SECRET_ACCESS_KEY": MOTO_SECRET_ACCESS_KEY}


def moto_client(service, endpoint, region="us-east-1"):
    """A boto3 client for the run's moto_server, signing with the IAM user's keys."""
    import boto3

    keys = moto_credentials()
    return boto3.client(service, endpoint_url=endpoint, region_name=region,
                        aws_access_key_id=keys["AWS_ACCESS_KEY_ID"], aws_secret_access_key=keys["AWS_SECRET_ACCESS_KEY"])


def unused_loopback_port():
    """A loopback TCP port nothing listens on: bound on 127.0.0.1 port 0, read back, closed.
    For a server told to listen there, or for "connection refused"; not reserved."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cis_binary():
    binary = os.environ.get("CIS_BINARY")
    if not binary:
        pytest.fail("CIS_BINARY is not set: build with `swift build --product cis` and export its path")
    if not os.access(binary, os.X_OK):
        pytest.fail(f"CIS_BINARY={binary} is not an executable")
    return binary


class _NoRecordsResolver:
    """Answers NXDOMAIN for every name."""

    def resolve(self, request, handler):
        from dnslib import RCODE
        reply = request.reply()
        reply.header.rcode = RCODE.NXDOMAIN
        return reply


_no_records_dns = None


def no_records_dns_address():
    """HOST:PORT of a dnslib server on 127.0.0.1 (UDP and TCP) that answers NXDOMAIN for every
    name, started once per test session. Every cis the tests start gets it as CIS_DNS_SERVER
    (`with_loopback_dns`), so the consumer's sender verification (`--sender-policy report`, the
    default) never asks the system's resolver."""
    global _no_records_dns
    if _no_records_dns is None:
        from dnslib.server import DNSLogger
        from loopback_dns_pair import start_udp_and_tcp
        logger = DNSLogger(log="-request,-reply,-truncated,-error,-recv,-send,-data", prefix=False)
        udp, tcp, port = start_udp_and_tcp(_NoRecordsResolver(), logger)
        _no_records_dns = (f"127.0.0.1:{port}", udp, tcp)
    return _no_records_dns[0]


def with_loopback_dns(env):
    """`env` with CIS_DNS_SERVER set to the session's loopback DNS server, unless it names one."""
    env = dict(env)
    env.setdefault("CIS_DNS_SERVER", no_records_dns_address())
    return env


def run_cis(args, cwd, env=None, timeout=30):
    """Runs `cis <args>` to completion in `cwd` with no CIS_* variables but those in `env` (and
    the session's loopback DNS server)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CIS_")}
    clean.update(with_loopback_dns(env or {}))
    return subprocess.run([cis_binary(), *args], cwd=cwd, env=clean, capture_output=True, text=True,
                          timeout=timeout)


class CisServer:
    """One `cis serve` process listening on 127.0.0.1:<ephemeral>, logging JSON to a pipe."""

    def __init__(self, data_dir, args=(), env=None, command="serve"):
        self.data_dir = pathlib.Path(data_dir)
        argv = [cis_binary(), command, "--listen", "127.0.0.1:0", "--hostname", HOSTNAME,
                "--data-dir", str(self.data_dir), "--log-format", "json", *args]
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("CIS_") or k in ("CIS_BINARY",)}
        full_env.update(with_loopback_dns(env or {}))
        self.process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE, env=full_env)
        self.lines = []
        self._lock = threading.Condition()
        self._reader = threading.Thread(target=self._read_logs, daemon=True)
        self._reader.start()
        listening = self.wait_for_log(lambda e: e.get("message") == "listening", timeout=30)
        self.host = "127.0.0.1"
        self.port = int(listening["smtp.listen.port"])

    def _read_logs(self):
        for raw in self.process.stderr:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self._lock:
                self.lines.append(line)
                self._lock.notify_all()
        with self._lock:
            self._lock.notify_all()

    def logs(self):
        """Every JSON log event so far (non-JSON lines are kept as {"raw": line})."""
        with self._lock:
            lines = list(self.lines)
        events = []
        for line in lines:
            try:
                events.append(json.loads(line))
            except ValueError:
                events.append({"raw": line})
        return events

    def wait_for_log(self, predicate, timeout=10):
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                for line in self.lines:
                    try:
                        event = json.loads(line)
                    except ValueError:
                        continue
                    if predicate(event):
                        return event
                if self.process.poll() is not None and not self._reader.is_alive():
                    raise AssertionError(f"cis exited ({self.process.returncode}); log:\n" + "\n".join(self.lines))
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError("log event not seen in time; log:\n" + "\n".join(self.lines))
                self._lock.wait(min(remaining, 0.2))

    def transactions(self, count=1, timeout=10):
        """The transaction log lines, once at least `count` were written (a line is logged
        right after its reply, so it may reach the pipe a moment later)."""
        deadline = time.monotonic() + timeout
        while True:
            lines = [e for e in self.logs() if e.get("message") == "transaction"]
            if len(lines) >= count or time.monotonic() > deadline:
                return lines
            time.sleep(0.05)

    def stop(self, sig=signal.SIGTERM, timeout=20):
        """Signals the process and returns its exit status (killing it if it overstays)."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
                raise AssertionError(f"cis did not stop within {timeout}s after {sig!r}")
        self._reader.join(timeout=5)
        return self.process.returncode

    # Embedded backend contents.

    def object_path(self, key):
        return self.data_dir / "objects" / key

    def all_metadata(self):
        """{key: metadata} of every stored object (`objects/.meta/metadata.sqlite`)."""
        path = self.data_dir / "objects" / ".meta" / "metadata.sqlite"
        if not path.exists():
            return {}
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=15)
        try:
            rows = connection.execute("SELECT key, metadata FROM object_metadata").fetchall()
        finally:
            connection.close()
        return {key: json.loads(metadata) for key, metadata in rows}

    def object_metadata(self, key):
        return self.all_metadata()[key]

    def queue_rows(self):
        """The queue's messages; while this cis runs, once it has inserted every notification
        its journal holds (it does so just after the 250s, off the reply path)."""
        if self.process.poll() is None:
            wait_until_queue_caught_up(self.data_dir)
        path = self.data_dir / "queue.sqlite"
        if not path.exists():
            return []
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=15)
        try:
            rows = connection.execute(
                "SELECT message_id, body, receive_count FROM messages ORDER BY seq").fetchall()
        finally:
            connection.close()
        return [{"message_id": r[0], "body": json.loads(r[1]), "receive_count": r[2]} for r in rows]


@pytest.fixture
def start_cis(tmp_path):
    """Starts `cis serve --no-consumer` (or `consumer=True`, or another command) with extra
    arguments; every server is stopped at teardown."""
    servers = []

    def start(*args, env=None, data_dir=None, command="serve", consumer=False):
        if command == "serve" and not consumer:
            # The intake alone, so that the tests see the notifications it queued before
            # any consumer takes them.
            args = ("--no-consumer", *args)
        server = CisServer(data_dir or tmp_path / f"cis-data-{len(servers)}", args, env=env, command=command)
        servers.append(server)
        return server

    yield start
    for server in servers:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait(timeout=10)


@pytest.fixture
def cis(start_cis):
    """A `cis serve` with the defaults (recipient create@localhost)."""
    return start_cis()


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory):
    """A self-signed certificate and key for localhost made with openssl (never committed)."""
    directory = tmp_path_factory.mktemp("tls")
    subprocess.run(
        ["bash", str(ROOT / "certs" / "make-dev-cert.sh"), str(directory)],
        check=True, capture_output=True, timeout=60)
    return directory / "cert.pem", directory / "key.pem"


class RawSMTP:
    """A socket client that sends exact bytes and reads whole replies, for what smtplib
    will not do (pipelining in one packet, bare LF, injection after STARTTLS)."""

    def __init__(self, port, timeout=10):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buffer = b""

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def read_reply(self):
        """(code, text) of the next complete reply; text keeps every line."""
        lines = []
        while True:
            while b"\n" not in self.buffer:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise ConnectionError("connection closed; got " + repr(b"".join(lines) + self.buffer))
                self.buffer += chunk
            line, self.buffer = self.buffer.split(b"\n", 1)
            lines.append(line + b"\n")
            if len(line) < 4 or line[3:4] != b"-":
                text = b"".join(lines).decode()
                return int(line[:3]), text

    def command(self, line):
        """Sends one command line (CRLF added) and returns its reply as (code, text)."""
        self.send(line + "\r\n")
        return self.read_reply()

    def read_code(self):
        """The reply code plus the enhanced code, like "250 2.1.5" (or "354")."""
        code, text = self.read_reply()
        words = text.splitlines()[-1].split(" ")
        if len(words) > 1 and words[1].count(".") == 2 and words[1].replace(".", "").isdigit():
            return f"{words[0]} {words[1]}"
        return words[0]

    def nothing_more(self, wait=0.5):
        """True when no bytes arrive within `wait` seconds (and the connection stays open)."""
        if self.buffer:
            return False
        ready, _, _ = select.select([self.sock], [], [], wait)
        if not ready:
            return True
        return False

    def closed_by_server(self, wait=5):
        self.sock.settimeout(wait)
        try:
            return self.buffer == b"" and self.sock.recv(1) == b""
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False

    def close(self):
        self.sock.close()


@pytest.fixture
def raw_smtp():
    clients = []

    def connect(port, timeout=10):
        client = RawSMTP(port, timeout)
        clients.append(client)
        return client

    yield connect
    for client in clients:
        client.close()


INVITE = (
    "From: Organizer <organizer@example.com>\r\n"
    "To: create@localhost\r\n"
    "Subject: Design review\r\n"
    "Message-ID: <design-review@example.com>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/calendar; method=REQUEST; charset=UTF-8\r\n"
    "\r\n"
    "BEGIN:VCALENDAR\r\n"
    "VERSION:2.0\r\n"
    "PRODID:-//cis tests//EN\r\n"
    "METHOD:REQUEST\r\n"
    "BEGIN:VEVENT\r\n"
    "UID:design-review-1@example.com\r\n"
    "DTSTAMP:20260101T090000Z\r\n"
    "DTSTART:20260102T100000Z\r\n"
    "DTEND:20260102T110000Z\r\n"
    "SUMMARY:Design review\r\n"
    "ORGANIZER:mailto:organizer@example.com\r\n"
    "END:VEVENT\r\n"
    "END:VCALENDAR\r\n"
)


def queued_id(reply_text):
    """The message id from `250 2.0.0 Ok: queued as <id>`."""
    marker = "queued as "
    assert marker in reply_text, reply_text
    return reply_text.split(marker, 1)[1].split()[0]
