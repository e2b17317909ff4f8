"""The sender policy end to end through SMTP: `cis serve` (intake and consumer in one process)
with the real verifier (libspf2, libopendkim, libopendmarc over libunbound) asking a dnslib
server for the test zones, and invites signed by dkimpy.

libspf2 lets every 127.0.0.0/8 client pass SPF ("localhost always gets a free ride"), so the
clients need other addresses: the test makes a network namespace whose loopback also carries
192.0.2.1 (cis listens there), 192.0.2.10 (the organizer's mail server, in example.com's
SPF record), 198.51.100.20 (example.net's mail server) and 203.0.113.66 (a forger's host, in
no record). The zones are under example.com/.net/.org: libunbound answers names under .test
itself (RFC 6761), without asking the forwarder. cis, the DNS server and each SMTP client run inside it; the test reads the topic
files from the shared file system.

Shown: the organizer's REQUEST creates the event; in `enforce` a forged CANCEL (right UID,
organizer's From:, forged Authentication-Results claiming our authserv-id) goes to the failure
route with notify false, an update from another (authenticated) domain is refused, and the
organizer's own CANCEL reaches `cancel`; in `report` the forged CANCEL is routed to `cancel`
as before, carrying the verdicts that show it is forged."""
import base64
import json
import os
import pathlib
import signal
import subprocess
import sys
import time
import uuid
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY

import pytest

from conftest import cis_binary

dkim = pytest.importorskip("dkim")
pytest.importorskip("dnslib")

HERE = pathlib.Path(__file__).resolve().parent
LISTEN = "192.0.2.1"
ORGANIZER_HOST = "192.0.2.10"
OTHER_HOST = "198.51.100.20"
FORGER_HOST = "203.0.113.66"
AUTHSERV_ID = "mx.cis.test"
RECIPIENT = "create@invites.test"
WAIT_SECONDS = 40


def rsa_key():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, f"v=DKIM1; k=rsa; p={base64.b64encode(public).decode()}"


@pytest.fixture(scope="module")
def keys():
    return {"example.com": rsa_key(), "example.net": rsa_key()}


def zone(keys):
    return {
        "example.com": [["TXT", f"v=spf1 ip4:{ORGANIZER_HOST} -all"]],
        "_dmarc.example.com": [["TXT", "v=DMARC1; p=reject"]],
        "sel._domainkey.example.com": [["TXT", keys["example.com"][1]]],
        "mail.example.com": [["A", ORGANIZER_HOST]],
        "example.net": [["TXT", f"v=spf1 ip4:{OTHER_HOST} -all"]],
        "_dmarc.example.net": [["TXT", "v=DMARC1; p=reject"]],
        "sel._domainkey.example.net": [["TXT", keys["example.net"][1]]],
        "example.org": [["TXT", "v=spf1 -all"]],
    }


class Namespace:
    """A network namespace with loopback up and the test's addresses on it; deleted at the end."""

    def __init__(self):
        self.name = f"cis-e2e-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        subprocess.run(["ip", "netns", "add", self.name], check=True, capture_output=True, timeout=10)
        self.run(["ip", "link", "set", "lo", "up"])
        for address in (LISTEN, ORGANIZER_HOST, OTHER_HOST, FORGER_HOST):
            self.run(["ip", "addr", "add", f"{address}/32", "dev", "lo"])

    def command(self, argv):
        return ["ip", "netns", "exec", self.name, *argv]

    def run(self, argv, **kwargs):
        return subprocess.run(self.command(argv), check=True, capture_output=True, timeout=30, **kwargs)

    def delete(self):
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True, timeout=10)


@pytest.fixture
def namespace():
    if os.geteuid() != 0:
        pytest.skip("creating a network namespace needs root (CI runs as root)")
    created = Namespace()
    yield created
    created.delete()


DNS_SERVER = """
import json, sys
sys.path.insert(0, sys.argv[1])
from sender_auth_support import LoopbackDNS
dns = LoopbackDNS()
dns.resolver.set_zone(json.load(open(sys.argv[2])))
print(dns.port, flush=True)
sys.stdin.read()
dns.stop()
"""


class ZoneServer:
    """The dnslib server (sender_auth_support.LoopbackDNS) on the namespace's 127.0.0.1; it stops
    when its standard input closes."""

    def __init__(self, namespace, zone_records, tmp_path):
        path = tmp_path / "zone.json"
        path.write_text(json.dumps(zone_records))
        self.process = subprocess.Popen(
            namespace.command([sys.executable, "-c", DNS_SERVER, str(HERE), str(path)]),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        line = self.process.stdout.readline().decode().strip()
        assert line.isdigit(), self.process.stderr.read().decode()
        self.address = f"127.0.0.1:{line}"

    def stop(self):
        self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


class Serve:
    """`cis serve` inside the namespace on 192.0.2.1, JSON logs to a file."""

    def __init__(self, namespace, data_dir, dns_address, policy):
        self.data_dir = data_dir
        self.log = data_dir.parent / f"{data_dir.name}.log"
        self.log_file = open(self.log, "wb")
        env = {k: v for k, v in os.environ.items() if not k.startswith("CIS_")}
        argv = [cis_binary(), "serve", "--listen", f"{LISTEN}:0", "--hostname", AUTHSERV_ID, "--recipient", RECIPIENT,
                "--data-dir", str(data_dir), "--log-format", "json", "--poll-wait", "1",
                "--sender-policy", policy, "--dns-server", dns_address, "--authserv-id", AUTHSERV_ID,
                "--dns-timeout", "2"]
        self.process = subprocess.Popen(namespace.command(argv), stdin=subprocess.DEVNULL, stdout=self.log_file,
                                        stderr=subprocess.STDOUT, env=env)
        self.port = int(self.wait_for_log(lambda e: e.get("message") == "listening")["smtp.listen.port"])

    def events(self):
        events = []
        for line in self.log.read_text(errors="replace").splitlines():
            try:
                events.append(json.loads(line))
            except ValueError:
                pass
        return events

    def wait_for_log(self, predicate, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.events():
                if predicate(event):
                    return event
            if self.process.poll() is not None:
                pytest.fail(f"cis exited ({self.process.returncode}):\n{self.log.read_text()}")
            time.sleep(0.1)
        pytest.fail(f"log event not seen within {timeout} s:\n{self.log.read_text()}")

    def topic(self, route):
        path = self.data_dir / "topics" / f"{route}.jsonl"
        if not path.exists():
            return []
        return [json.loads(json.loads(line)["Message"]) for line in path.read_text().splitlines() if line.strip()]

    def wait_for(self, route, count):
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            lines = self.topic(route)
            if len(lines) >= count:
                return lines
            time.sleep(0.1)
        pytest.fail(f"{route}.jsonl has {len(self.topic(route))} lines after {WAIT_SECONDS} s, expected {count}:\n"
                    + self.log.read_text())

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.log_file.close()
        return self.process.returncode


SEND = """
import smtplib, sys
source, host, port, sender = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
raw = sys.stdin.buffer.read()
with smtplib.SMTP(host, port, local_hostname=sys.argv[5], source_address=(source, 0), timeout=20) as smtp:
    smtp.ehlo()
    assert smtp.mail(sender)[0] == 250
    assert smtp.rcpt(sys.argv[6])[0] == 250
    code, reply = smtp.data(raw)
    assert code == 250, reply
    print(reply.decode())
"""


def send(namespace, serve, source, mail_from, helo, raw):
    """Sends `raw` from `source` in the namespace; returns the queued message id."""
    result = namespace.run([sys.executable, "-c", SEND, source, LISTEN, str(serve.port), mail_from, helo, RECIPIENT],
                           input=raw)
    return result.stdout.decode().split("queued as ", 1)[1].split()[0]


def invite(method, uid, sequence, from_address, organizer, summary="Quarterly planning", extra_headers=()):
    message = EmailMessage(policy=SMTP_POLICY)
    message["From"] = from_address
    message["To"] = RECIPIENT
    message["Subject"] = f"{method.title()}: {summary}"
    message["Date"] = "Wed, 02 Dec 2026 08:00:00 +0000"
    message["Message-ID"] = f"<{uuid.uuid4().hex}@{from_address.split('@')[1]}>"
    for name, value in extra_headers:
        message[name] = value
    message.set_content(f"{summary}\n")
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//cis sender policy tests//EN", f"METHOD:{method}",
             "BEGIN:VEVENT", f"UID:{uid}", f"SEQUENCE:{sequence}", "DTSTAMP:20261125T150000Z",
             "DTSTART:20261210T140000Z", "DTEND:20261210T150000Z", f"SUMMARY:{summary}",
             f"ORGANIZER;CN=Organizer:mailto:{organizer}",
             "ATTENDEE;CN=Alex;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:alex@guest.example.org"]
    if method == "CANCEL":
        lines.append("STATUS:CANCELLED")
    lines += ["END:VEVENT", "END:VCALENDAR", ""]
    message.add_alternative("\r\n".join(lines), subtype="calendar", params={"method": method})
    return message.as_bytes()


def signed(raw, domain, keys):
    header = dkim.sign(raw, b"sel", domain.encode(), keys[domain][0],
                       include_headers=[b"from", b"to", b"subject", b"date", b"message-id"])
    return header + raw


@pytest.fixture
def world(namespace, keys, tmp_path):
    dns = ZoneServer(namespace, zone(keys), tmp_path)
    servers = []

    def serve(policy):
        server = Serve(namespace, tmp_path / f"cis-{policy}", dns.address, policy)
        servers.append(server)
        return server

    yield serve
    for server in servers:
        server.stop()
    dns.stop()


def test_enforce_a_forged_organizer_cannot_cancel_or_move_the_event(namespace, keys, world):
    cis = world("enforce")
    uid = f"planning-{uuid.uuid4().hex}@example.com"

    # 1. The organizer's real REQUEST, DKIM-signed and from a host in example.com's SPF record.
    request = signed(invite("REQUEST", uid, 0, "olivia@example.com", "olivia@example.com"), "example.com", keys)
    send(namespace, cis, ORGANIZER_HOST, "olivia@example.com", "mail.example.com", request)
    [created] = cis.wait_for("create", 1)
    assert created["original_uid"] == uid
    assert created["sender_authenticated"] is True
    assert created["organizer_matches_sender"] is True
    assert created["sender_policy"] == "enforce"
    receipt = created["receipt"]
    assert receipt["spfVerdict"] == {"status": "PASS"}
    assert receipt["dkimVerdict"] == {"status": "PASS"}
    assert receipt["dmarcVerdict"] == {"status": "PASS"}
    assert "dmarcPolicy" not in receipt
    assert receipt["clientIp"] == ORGANIZER_HOST
    assert receipt["spf"]["identity"] == "olivia@example.com"
    assert [s["selector"] for s in receipt["dkimSignatures"]] == ["sel"]
    assert "example.com" in receipt["authenticatedDomains"]
    assert created["authentication_results"].startswith(f"Authentication-Results: {AUTHSERV_ID};")
    assert "dmarc=pass" in created["authentication_results"]

    # 2. A forged CANCEL: right UID, the organizer's From: and envelope sender, no signature, from a
    # host in no SPF record, with an Authentication-Results header claiming to be ours.
    forged = invite("CANCEL", uid, 1, "olivia@example.com", "olivia@example.com", extra_headers=[
        ("Authentication-Results", f"{AUTHSERV_ID}; spf=pass smtp.mailfrom=example.com; dmarc=pass header.from=example.com")])
    forged_id = send(namespace, cis, FORGER_HOST, "olivia@example.com", "example.org", forged)
    [refused] = cis.wait_for("failure", 1)
    assert refused["uid"] == forged_id
    assert refused["refused_route"] == "cancel"
    assert refused["original_uid"] == uid
    assert refused["notify"] is False, "no notice to a forged address (backscatter)"
    assert refused["sender_authenticated"] is False
    assert "could not be verified" in refused["reason"]
    assert refused["receipt"]["spfVerdict"] == {"status": "FAIL"}
    assert refused["receipt"]["dkimVerdict"] == {"status": "GRAY"}
    assert refused["receipt"]["dmarcVerdict"] == {"status": "FAIL"}
    assert refused["receipt"]["dmarcPolicy"] == {"status": "REJECT"}
    assert refused["receipt"]["ignoredAuthenticationResults"] == 1
    assert refused["receipt"]["clientIp"] == FORGER_HOST

    # 3. An update of the same UID from another domain: authenticated as example.net, with an
    # organizer there, but example.com created the event.
    moved = signed(invite("REQUEST", uid, 2, "mallory@example.net", "mallory@example.net", summary="Moved"), "example.net", keys)
    send(namespace, cis, OTHER_HOST, "mallory@example.net", "mail.example.net", moved)
    refusals = cis.wait_for("failure", 2)
    update = refusals[1]
    assert update["refused_route"] == "update"
    assert update["sender_authenticated"] is True
    assert update["notify"] is True, "an authenticated requester is told why"
    assert "was created by example.com" in update["reason"]

    # 4. The organizer's own CANCEL goes through.
    cancel = signed(invite("CANCEL", uid, 3, "olivia@example.com", "olivia@example.com"), "example.com", keys)
    send(namespace, cis, ORGANIZER_HOST, "olivia@example.com", "mail.example.com", cancel)
    [cancelled] = cis.wait_for("cancel", 1)
    assert cancelled["original_uid"] == uid
    assert cancelled["sequence"] == 3
    assert cancelled["sender_authenticated"] is True

    assert cis.topic("update") == []
    assert len(cis.topic("failure")) == 2
    assert len(cis.topic("create")) == 1
    assert cis.stop() == 0


def test_report_routes_as_before_but_carries_the_verdicts(namespace, keys, world):
    cis = world("report")
    uid = f"report-{uuid.uuid4().hex}@example.com"
    forged = invite("CANCEL", uid, 1, "olivia@example.com", "olivia@example.com")
    send(namespace, cis, FORGER_HOST, "olivia@example.com", "example.org", forged)
    [cancelled] = cis.wait_for("cancel", 1)
    assert cancelled["original_uid"] == uid
    assert cancelled["sender_policy"] == "report"
    assert cancelled["sender_authenticated"] is False
    assert cancelled["organizer_matches_sender"] is False
    assert cancelled["receipt"]["dmarcVerdict"] == {"status": "FAIL"}
    assert cancelled["receipt"]["spfVerdict"] == {"status": "FAIL"}
    assert cis.topic("failure") == []
    assert cis.stop() == 0


def test_a_verification_past_its_deadline_is_processing_failed_and_routed(start_cis):
    """--sender-verification-timeout through the binary: the DNS server drops every query, each
    would wait --dns-timeout (10 s), and the consumer's 1-second deadline answers first."""
    from pipeline_support import RECIPIENT as PIPELINE_RECIPIENT, invite as plain_invite, send as plain_send
    from sender_auth_support import TIMEOUT, LoopbackDNS
    dns = LoopbackDNS()
    try:
        dns.resolver.set_zone({name: [TIMEOUT] for name in ("example.com", "_dmarc.example.com", "client.invites.test")})
        # The verifier's own budget (12 s) ends the abandoned lookups well within the wait below.
        cis = start_cis("--recipient", PIPELINE_RECIPIENT, "--poll-wait", "1", "--sender-verification-timeout", "1",
                        "--dns-timeout", "10", "--dns-time-per-message", "12",
                        env={"CIS_DNS_SERVER": dns.address}, consumer=True)
        uid = f"deadline-{uuid.uuid4().hex}@example.com"
        plain_send(cis.port, plain_invite(uid))
        verified = cis.wait_for_log(lambda e: e.get("message") == "Sender verified", timeout=WAIT_SECONDS)
        assert verified["consumer.sender.timed_out"] == "true"
        published = cis.wait_for_log(lambda e: e.get("message") == "Published event request", timeout=2 * WAIT_SECONDS)
        assert published["consumer.route"] == "create", published
        path = cis.data_dir / "topics" / "create.jsonl"
        [line] = path.read_text().splitlines()
        event = json.loads(json.loads(line)["Message"])
        assert event["original_uid"] == uid
        assert event["sender_policy"] == "report"
        for verdict in ("spfVerdict", "dkimVerdict", "dmarcVerdict"):
            assert event["receipt"][verdict] == {"status": "PROCESSING_FAILED"}, event["receipt"]
        assert event["sender_authenticated"] is False
        assert cis.stop() == 0
    finally:
        dns.stop()


def test_enforce_retries_a_sender_left_unverified_by_a_dns_outage_then_decides(start_cis):
    """--sender-temperror-retry through the binary: while the DNS server drops every query, an
    invite under enforce is neither routed nor refused but retried (stage verify); once DNS answers
    it is verified and routed to create. With --sender-temperror-retry 0 the same outage sends it
    to the failure route at once, notify false."""
    from pipeline_support import RECIPIENT as PIPELINE_RECIPIENT, invite as plain_invite, send as plain_send
    from sender_auth_support import TIMEOUT, LoopbackDNS
    dns = LoopbackDNS()
    outage = {name: [TIMEOUT] for name in ("example.com", "_dmarc.example.com")}
    try:
        dns.resolver.set_zone(outage)
        common = ("--recipient", PIPELINE_RECIPIENT, "--poll-wait", "1", "--sender-policy", "enforce",
                  "--dns-timeout", "1", "--dns-time-per-message", "3", "--sender-verification-timeout", "5",
                  "--retry-delay", "1")
        cis = start_cis(*common, env={"CIS_DNS_SERVER": dns.address}, consumer=True)
        uid = f"outage-{uuid.uuid4().hex}@example.com"
        plain_send(cis.port, plain_invite(uid))
        retried = cis.wait_for_log(lambda e: e.get("message") == "Message processing failed; retrying later",
                                   timeout=WAIT_SECONDS)
        assert retried["consumer.stage"] == "verify", retried
        assert "DNS lookup failed temporarily" in retried["consumer.error"], retried
        topics = cis.data_dir / "topics"
        assert not (topics / "create.jsonl").exists() and not (topics / "failure.jsonl").exists()
        # DNS is back: example.com lets the client send (libspf2 passes loopback clients anyway)
        # and publishes no DMARC record, so the aligned SPF pass authenticates the sender.
        dns.resolver.set_zone({"example.com": [("TXT", "v=spf1 ip4:127.0.0.0/8 -all")]})
        deadline = time.monotonic() + WAIT_SECONDS
        path = topics / "create.jsonl"
        # The append that writes the line creates the file: wait for the whole line.
        while not (path.exists() and path.read_text().endswith("\n")) and time.monotonic() < deadline:
            time.sleep(0.1)
        [line] = path.read_text().splitlines()
        event = json.loads(json.loads(line)["Message"])
        assert event["original_uid"] == uid
        assert event["sender_authenticated"] is True
        assert event["sender_policy"] == "enforce"
        assert not (topics / "failure.jsonl").exists()
        assert cis.stop() == 0

        dns.resolver.set_zone(outage)
        at_once = start_cis(*common, "--sender-temperror-retry", "0", env={"CIS_DNS_SERVER": dns.address}, consumer=True)
        refused_uid = f"outage-refused-{uuid.uuid4().hex}@example.com"
        plain_send(at_once.port, plain_invite(refused_uid))
        deadline = time.monotonic() + WAIT_SECONDS
        path = at_once.data_dir / "topics" / "failure.jsonl"
        # The append that writes the line creates the file: wait for the whole line.
        while not (path.exists() and path.read_text().endswith("\n")) and time.monotonic() < deadline:
            time.sleep(0.1)
        [line] = path.read_text().splitlines()
        failure = json.loads(json.loads(line)["Message"])
        assert failure["refused_route"] == "create", failure
        assert failure["notify"] is False
        assert "could not be verified" in failure["reason"], failure
        assert not (at_once.data_dir / "topics" / "create.jsonl").exists()
        assert at_once.stop() == 0
    finally:
        dns.stop()
