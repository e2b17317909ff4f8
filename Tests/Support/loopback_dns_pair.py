"""Starts dnslib's UDP and TCP servers on one port of 127.0.0.1.

The port the kernel picks for UDP may already be held for TCP by another listener on the
machine (another test's server): then both are closed and a new port is picked."""
import errno

from dnslib.server import DNSServer

ATTEMPTS = 50


def start_udp_and_tcp(resolver, logger):
    """Returns (udp, tcp, port) with both servers' threads running."""
    for attempt in range(ATTEMPTS):
        udp = DNSServer(resolver, port=0, address="127.0.0.1", logger=logger)
        port = udp.server.server_address[1]
        try:
            tcp = DNSServer(resolver, port=port, address="127.0.0.1", tcp=True, logger=logger)
        except OSError as error:
            udp.server.server_close()
            if error.errno != errno.EADDRINUSE or attempt == ATTEMPTS - 1:
                raise
            continue
        udp.start_thread()
        tcp.start_thread()
        return udp, tcp, port
    raise AssertionError("unreachable")
