"""Loopback DNS (dnslib) serving test zones, and helpers to run `cis verify-sender` and the
reference implementations (dkimpy, pyspf, authheaders) against the same zone and message."""
import json
import socket
import subprocess
import threading

from dnslib import AAAA, CNAME, MX, PTR, QTYPE, RCODE, RR, TXT, A, DNSLabel, DNSRecord
from dnslib.server import BaseResolver, DNSError, DNSLogger

from conftest import cis_binary
from loopback_dns_pair import start_udp_and_tcp

TIMEOUT = "TIMEOUT"


class ZoneResolver(BaseResolver):
    """Answers from `zone`: {name: [(type, value), ...]} with types A, AAAA, TXT, MX, PTR,
    CNAME; value TIMEOUT (a bare string entry, or as the value of one type) drops the query
    for the name (or that type), so the client times out. Names are case-insensitive; a name
    with no entry is NXDOMAIN, a name without the asked type is NODATA."""

    def __init__(self):
        self.zone = {}
        self.queries = []
        self.lock = threading.Lock()

    def set_zone(self, zone):
        with self.lock:
            self.zone = {name.lower().rstrip("."): list(records) for name, records in zone.items()}
            self.queries = []

    def resolve(self, request, handler):
        qname = str(request.q.qname).rstrip(".")
        qtype = QTYPE[request.q.qtype]
        with self.lock:
            self.queries.append((qname.lower(), qtype))
            zone = self.zone
        reply = request.reply()
        name = qname.lower()
        for _ in range(8):  # follow CNAMEs, bounded
            records = zone.get(name)
            if records is None:
                if name.startswith("error."):
                    reply.header.rcode = RCODE.SERVFAIL
                    return reply
                reply.header.rcode = RCODE.NXDOMAIN
                return reply
            # As pyspf's test driver reads its zones: a TIMEOUT entry drops the query unless a
            # record of the asked type came before it (then the answer ends there).
            answers = []
            for entry in records:
                if entry == TIMEOUT:
                    if not answers:
                        raise DNSError("timeout for " + name)
                    break
                rtype, value = entry
                if rtype == qtype and value == TIMEOUT:
                    raise DNSError("timeout for " + name + "/" + qtype)
                if rtype == qtype:
                    answers.append((rtype, value))
            cnames = [v for t, v in (e for e in records if e != TIMEOUT) if t == "CNAME"]
            if cnames and qtype != "CNAME" and not answers:
                reply.add_answer(RR(DNSLabel(name), QTYPE.CNAME, rdata=CNAME(cnames[0]), ttl=60))
                name = cnames[0].lower().rstrip(".")
                continue
            for rtype, value in answers:
                reply.add_answer(RR(DNSLabel(name), getattr(QTYPE, rtype), rdata=rdata(rtype, value), ttl=60))
            return reply
        return reply


def rdata(rtype, value):
    if rtype == "A":
        return A(value)
    if rtype == "AAAA":
        return AAAA(value)
    if rtype == "TXT":
        strings = list(value) if isinstance(value, (list, tuple)) else [value]
        chunks = []
        for text in strings:
            data = text.encode("utf-8") if isinstance(text, str) else text
            chunks += [data[i:i + 255] for i in range(0, len(data), 255)] or [b""]
        return TXT(chunks or [b""])  # a TXT with no strings cannot go on the wire: one empty string
    if rtype == "MX":
        preference, exchange = value if isinstance(value, (list, tuple)) else (10, value)
        return MX(exchange, preference)
    if rtype == "PTR":
        return PTR(value)
    if rtype == "CNAME":
        return CNAME(value)
    raise ValueError(rtype)


class LoopbackDNS:
    """UDP and TCP DNS on 127.0.0.1, one ephemeral port; stop() ends both."""

    def __init__(self):
        self.resolver = ZoneResolver()
        logger = DNSLogger(log="-request,-reply,-truncated,-error,-recv,-send,-data", prefix=False)
        self.udp, self.tcp, self.port = start_udp_and_tcp(self.resolver, logger)

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"

    def stop(self):
        self.udp.stop()
        self.tcp.stop()
        self.udp.server.server_close()
        self.tcp.server.server_close()

    def use_for_python(self):
        """Points dnspython's default resolver (which pyspf, dkimpy and authheaders use) at this
        server, so nothing in the test process asks the system's DNS."""
        import dns.resolver
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = ["127.0.0.1"]
        resolver.port = self.port
        resolver.timeout = 2
        resolver.lifetime = 2
        dns.resolver.default_resolver = resolver


def verify_sender(message, client_ip, helo, mail_from, dns_address, tmp_path, extra=(), timeout=120):
    """Runs `cis verify-sender`; returns (header text, report dict)."""
    path = tmp_path / "message.eml"
    path.write_bytes(message)
    args = [cis_binary(), "verify-sender", str(path), "--client-ip", client_ip, "--helo", helo,
            "--mail-from", mail_from, "--dns-server", dns_address, *extra]
    result = subprocess.run(args, capture_output=True, timeout=timeout, env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, (args, result.returncode, result.stderr.decode(errors="replace"),
                                    result.stdout.decode(errors="replace"))
    lines = result.stdout.decode().rstrip("\n").split("\n")
    return "\n".join(lines[:-1]), json.loads(lines[-1])


def reference_spf(client_ip, helo, mail_from):
    import spf
    result, _explanation = spf.check2(i=client_ip, s=mail_from or f"postmaster@{helo}", h=helo)
    return {"error": "temperror", "unknown": "permerror"}.get(result, result)


def reference_dkim(message):
    """dkimpy's verdict for each DKIM-Signature, in header order: True/False."""
    import dkim
    verifier = dkim.DKIM(message, minkey=1024)
    count = sum(1 for name, _ in verifier.headers if name.lower() == b"dkim-signature")
    results = []
    for index in range(count):
        try:
            results.append(bool(verifier.verify(idx=index)))
        except Exception:
            results.append(False)
    return results


def reference_authheaders(message, client_ip, helo, mail_from):
    """authheaders' (dkimpy + pyspf + its DMARC) results: {"spf": ..., "dkim": ..., "dmarc": ...}."""
    import re

    import authheaders
    header = authheaders.authenticate_message(
        message, "reference", spf=True, dkim=True, dmarc=True, ip=client_ip,
        mail_from=mail_from or f"postmaster@{helo}", helo=helo)
    # Read with a pattern, not authres' parser: authheaders puts unquoted DNS error text (with
    # colons) into the SPF temperror comment, which authres refuses.
    results = {}
    for method, result in re.findall(r"(?:;|^)\s*(spf|dkim|dmarc)=(\w+)", header.split(":", 1)[1]):
        results.setdefault(method, result)
    return results
