"""`--proxy-protocol` behind a real haproxy (Debian's package) on loopback: haproxy's
`send-proxy` (v1), `send-proxy-v2` and `send-proxy-v2` with a CRC32C TLV put the client's
address in front of each connection, and cis uses it for `Received:`, the object's
metadata, the logs and the per-client limits. Clients bind a distinct source address
(127.0.0.7, 127.0.0.8) so that the client and haproxy (127.0.0.1) can be told apart."""
import shutil
import smtplib
import socket
import ssl
import subprocess
import time

import pytest

from conftest import INVITE, queued_id, unused_loopback_port
from operations_support import HTTP_ON_LOOPBACK, http_port, metric, scrape

CLIENT = "127.0.0.7"
OTHER_CLIENT = "127.0.0.8"
# haproxy connects to cis from 127.0.0.1, except on the backend that sets `source`.
UNTRUSTED_SOURCE = "127.0.0.3"


class HAProxy:
    """haproxy in the foreground with one TCP frontend per way of sending the header."""

    MODES = {
        "v1": "send-proxy",
        "v2": "send-proxy-v2",
        "v2-crc32c": "send-proxy-v2 proxy-v2-options crc32c",
        "untrusted": f"send-proxy source {UNTRUSTED_SOURCE}",
    }

    def __init__(self, directory, cis_port):
        binary = shutil.which("haproxy") or "/usr/sbin/haproxy"
        self.ports = {mode: unused_loopback_port() for mode in self.MODES}
        sections = [
            "global\n  maxconn 100\n",
            "defaults\n  mode tcp\n  timeout connect 5s\n  timeout client 30s\n  timeout server 30s\n",
        ]
        for mode, server_options in self.MODES.items():
            name = mode.replace("-", "_")
            sections.append(
                f"frontend in_{name}\n  bind 127.0.0.1:{self.ports[mode]}\n  default_backend to_{name}\n"
                f"backend to_{name}\n  server cis 127.0.0.1:{cis_port} {server_options}\n")
        self.config = directory / "haproxy.cfg"
        self.config.write_text("\n".join(sections))
        check = subprocess.run([binary, "-c", "-f", str(self.config)], capture_output=True, text=True, timeout=30)
        assert check.returncode == 0, check.stdout + check.stderr
        self.process = subprocess.Popen([binary, "-db", "-f", str(self.config)], stdin=subprocess.DEVNULL,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15
        for port in self.ports.values():
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    assert self.process.poll() is None, self.process.stdout.read().decode()
                    assert time.monotonic() < deadline, "haproxy did not listen in time"
                    time.sleep(0.05)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


@pytest.fixture
def behind_haproxy(start_cis, tmp_path, tls_files):
    """cis with the PROXY protocol on, trusting 127.0.0.1 only, and STARTTLS; haproxy in front."""
    proxies = []

    def start(*args):
        certificate, key = tls_files
        cis = start_cis("--proxy-protocol", "--proxy-trusted", "127.0.0.1", "--proxy-header-timeout", "3",
                        "--tls-cert", str(certificate), "--tls-key", str(key), *HTTP_ON_LOOPBACK, *args)
        proxy = HAProxy(tmp_path, cis.port)
        proxies.append(proxy)
        return cis, proxy

    yield start
    for proxy in proxies:
        proxy.stop()


def smtp_client(port, source=CLIENT):
    return smtplib.SMTP("127.0.0.1", port, local_hostname="client.example", timeout=30, source_address=(source, 0))


def send(client, message=INVITE):
    client.ehlo()
    code, text = client.mail("organizer@example.com")
    assert code == 250, text
    code, text = client.rcpt("create@localhost")
    assert code == 250, text
    code, text = client.data(message.encode())
    assert code == 250, text
    return queued_id(text.decode())


@pytest.mark.parametrize("mode", ["v1", "v2", "v2-crc32c"])
def test_the_clients_address_arrives_in_received_metadata_and_logs(behind_haproxy, mode):
    cis, proxy = behind_haproxy()
    with smtp_client(proxy.ports[mode]) as client:
        client_port = client.sock.getsockname()[1]
        message_id = send(client)
    key = f"inbound/{message_id}"
    stored = cis.object_path(key).read_bytes()
    assert stored.startswith(f"Received: from client.example ([{CLIENT}])".encode()), stored[:200]
    metadata = cis.object_metadata(key)
    assert metadata["client-address"] == CLIENT
    assert metadata["client-port"] == str(client_port)
    [notification] = cis.queue_rows()
    assert notification["body"]["Records"][0]["requestParameters"]["sourceIPAddress"] == CLIENT
    [transaction] = cis.transactions(1)
    assert transaction["smtp.client.address"] == CLIENT
    assert transaction["smtp.proxy.address"] == "127.0.0.1"
    assert transaction["smtp.proxy.version"] == ("1" if mode == "v1" else "2")
    assert transaction["smtp.message.id"] == message_id


def test_starttls_works_through_haproxy(behind_haproxy):
    cis, proxy = behind_haproxy("--require-tls")
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with smtp_client(proxy.ports["v2"]) as client:
        client.ehlo()
        code, _ = client.starttls(context=context)
        assert code == 220
        assert client.sock.version() in ("TLSv1.2", "TLSv1.3")
        message_id = send(client)
    metadata = cis.object_metadata(f"inbound/{message_id}")
    assert metadata["tls"] == "true"
    assert metadata["client-address"] == CLIENT


def test_a_header_from_an_untrusted_address_is_refused(behind_haproxy):
    cis, proxy = behind_haproxy()
    with pytest.raises(smtplib.SMTPServerDisconnected):
        smtp_client(proxy.ports["untrusted"])
    refused = cis.wait_for_log(lambda e: e.get("message") == "connection refused: not from a trusted proxy (--proxy-trusted)")
    assert refused["smtp.proxy.address"] == UNTRUSTED_SOURCE
    assert cis.all_metadata() == {}
    assert metric(scrape(http_port(cis)), "cis_smtp_connections_refused_total", reason="proxy_untrusted") >= 1


def test_a_plain_smtp_client_without_a_header_is_refused(behind_haproxy, raw_smtp):
    cis, _ = behind_haproxy()
    # One that speaks first is dropped at its first byte, without a reply.
    speaker = raw_smtp(cis.port)
    speaker.send("EHLO client.example\r\n")
    assert speaker.closed_by_server(wait=10)
    event = cis.wait_for_log(lambda e: e.get("smtp.proxy.error") == "wrong-signature")
    assert event["message"] == "connection refused: no valid PROXY protocol header"
    # One that waits for a greeting gets none, and is dropped at the header timeout (3 s).
    waiter = raw_smtp(cis.port, timeout=20)
    started = time.monotonic()
    assert waiter.closed_by_server(wait=20)
    assert time.monotonic() - started >= 2.5
    cis.wait_for_log(lambda e: e.get("smtp.proxy.error") == "timeout")
    assert cis.all_metadata() == {}
    samples = scrape(http_port(cis))
    assert metric(samples, "cis_smtp_connections_refused_total", reason="proxy_header_invalid") == 1
    assert metric(samples, "cis_smtp_connections_refused_total", reason="proxy_header_timeout") == 1


def test_per_client_limits_count_the_clients_address(behind_haproxy):
    cis, proxy = behind_haproxy("--max-connections-per-ip", "1")
    port = proxy.ports["v1"]
    first = smtp_client(port)
    try:
        # Another client through the same haproxy is admitted: the limit is not haproxy's.
        with smtp_client(port, source=OTHER_CLIENT) as other:
            assert other.noop()[0] == 250
            # The same client a second time is over its limit.
            with pytest.raises(smtplib.SMTPConnectError) as refused:
                smtp_client(port)
            assert refused.value.smtp_code == 421
        # (haproxy's start-up probe connections, from 127.0.0.1, may have been refused too.)
        refusal = cis.wait_for_log(
            lambda e: e.get("message") == "connection refused: too many connections from the network"
            and e.get("smtp.client.address") == CLIENT)
        assert refusal["smtp.client.network"] == f"{CLIENT}/32"
        assert refusal["smtp.proxy.address"] == "127.0.0.1"
    finally:
        first.close()
