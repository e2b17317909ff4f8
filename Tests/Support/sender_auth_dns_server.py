"""A loopback DNS server (dnslib) for SenderVerificationTests: publishes an SPF record, a DMARC
record and a DKIM key for example.com, writes a message signed with that key (dkimpy) and the
server's port to the directory given as argv[1], and serves until stdin closes (at most 300 s)."""
import base64
import json
import pathlib
import sys
import threading

import dkim
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from dnslib import QTYPE, RCODE, RR, TXT
from dnslib.server import BaseResolver, DNSLogger
from loopback_dns_pair import start_udp_and_tcp

directory = pathlib.Path(sys.argv[1])
key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption())
public = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
ZONE = {
    "example.com": "v=spf1 ip4:192.0.2.0/24 -all",
    "_dmarc.example.com": "v=DMARC1; p=reject",
    "s1._domainkey.example.com": f"v=DKIM1; k=rsa; p={base64.b64encode(public).decode()}",
}


class Resolver(BaseResolver):
    def resolve(self, request, handler):
        reply = request.reply()
        name = str(request.q.qname).rstrip(".").lower()
        if name not in ZONE:
            reply.header.rcode = RCODE.NXDOMAIN
        elif QTYPE[request.q.qtype] == "TXT":
            text = ZONE[name].encode()
            reply.add_answer(RR(name, QTYPE.TXT, rdata=TXT([text[i:i + 255] for i in range(0, len(text), 255)]), ttl=60))
        return reply


logger = DNSLogger(log="-request,-reply,-truncated,-error,-recv,-send,-data", prefix=False)
udp, tcp, port = start_udp_and_tcp(Resolver(), logger)

message = (b"From: Alice <alice@example.com>\r\nTo: create@cis.test\r\nSubject: Meeting\r\n"
           b"Date: Wed, 02 Dec 2026 08:00:00 +0000\r\nMessage-ID: <1@example.com>\r\n\r\nSee you.\r\n")
signed = dkim.sign(message, b"s1", b"example.com", private, include_headers=[b"from", b"to", b"subject", b"date"]) + message
(directory / "message.eml").write_bytes(signed)
(directory / "port.tmp").write_text(json.dumps({"port": port}))
(directory / "port.tmp").rename(directory / "port.json")

done = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
done.wait(300)
udp.stop()
tcp.stop()
