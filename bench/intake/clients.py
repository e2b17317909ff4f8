"""The benchmark's own SMTP clients, for what smtp-source cannot measure: the time from the
end of DATA to the 250 (with the id it names), idle sessions held open, large messages
sent at once, and STARTTLS sessions per second. Every wait has a deadline."""

import asyncio
import multiprocessing
import re
import ssl
import time

QUEUED_AS = re.compile(rb"queued as (\S+)")
REPLY_TIMEOUT = 60


class ReplyError(RuntimeError):
    pass


async def read_reply(reader, timeout=REPLY_TIMEOUT):
    """The whole (possibly multi-line) reply: (code, last line)."""
    while True:
        line = await asyncio.wait_for(reader.readline(), timeout)
        if not line:
            raise ReplyError("connection closed")
        if len(line) < 4 or line[3:4] != b"-":
            return int(line[:3]), line


async def command(reader, writer, text, expect):
    writer.write(text)
    code, line = await read_reply(reader)
    if code != expect:
        raise ReplyError(f"{text!r} -> {line!r}")
    return line


def smtp_body(raw):
    """CRLF line ends, dot-stuffed, ending in CRLF.CRLF."""
    lines = raw.replace(b"\r\n", b"\n").split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return b"".join((b"." + line if line.startswith(b".") else line) + b"\r\n" for line in lines) + b".\r\n"


async def _latency_session(port, bodies, first, count, results, interval, offset):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        await read_reply(reader)
        await command(reader, writer, b"EHLO bench.test\r\n", 250)
        started = time.monotonic() + offset
        for k, n in enumerate(range(first, first + count)):
            if interval:
                await asyncio.sleep(max(0.0, started + k * interval - time.monotonic()))
            await command(reader, writer, b"MAIL FROM:<organizer@example.com>\r\n", 250)
            await command(reader, writer, b"RCPT TO:<create@localhost>\r\n", 250)
            await command(reader, writer, b"DATA\r\n", 354)
            writer.write(bodies[n % len(bodies)])
            sent = time.monotonic()
            await writer.drain()
            code, line = await read_reply(reader)
            answered = time.monotonic()
            if code != 250:
                raise ReplyError(f"end of DATA -> {line!r}")
            match = QUEUED_AS.search(line)
            results.append((match.group(1).decode() if match else None, sent, answered))
        writer.write(b"QUIT\r\n")
        await writer.drain()
    finally:
        writer.close()


async def latency_run(port, bodies, sessions, per_session, rate=None):
    """[(id, end of DATA sent, 250 read)] for sessions × per_session messages: back to back,
    or with `rate` messages per second offered in all (each session on its own schedule)."""
    encoded = [smtp_body(body) for body in bodies]
    results = []
    interval = sessions / rate if rate else 0
    await asyncio.gather(*(_latency_session(port, encoded, s * per_session, per_session, results, interval,
                                            interval * s / sessions) for s in range(sessions)))
    return results


async def _idle_session(port, sessions):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    await read_reply(reader)
    await command(reader, writer, b"EHLO bench.test\r\n", 250)
    sessions.append(writer)


async def hold_idle_sessions(port, count, batch, measure):
    """Opens `count` sessions (greeting read, EHLO answered), calls measure() while all are
    open, closes them, and returns measure()'s result."""
    sessions = []
    try:
        for start in range(0, count, batch):
            await asyncio.gather(*(_idle_session(port, sessions) for _ in range(min(batch, count - start))))
        await asyncio.sleep(1)
        return measure(len(sessions))
    finally:
        for writer in sessions:
            writer.close()
        await asyncio.sleep(0.5)


async def _large_session(port, body, chunk):
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
    try:
        await read_reply(reader)
        await command(reader, writer, b"EHLO bench.test\r\n", 250)
        await command(reader, writer, b"MAIL FROM:<organizer@example.com> SIZE=%d\r\n" % len(body), 250)
        await command(reader, writer, b"RCPT TO:<create@localhost>\r\n", 250)
        await command(reader, writer, b"DATA\r\n", 354)
        view = memoryview(body)
        for offset in range(0, len(body), chunk):
            writer.write(view[offset:offset + chunk])
            await asyncio.wait_for(writer.drain(), REPLY_TIMEOUT)
        code, line = await read_reply(reader, timeout=300)
        if code != 250:
            raise ReplyError(f"large message -> {line!r}")
        writer.write(b"QUIT\r\n")
        await writer.drain()
    finally:
        writer.close()


def large_body(size):
    """`size` bytes of 78-byte lines plus CRLF.CRLF, with a header."""
    header = b"From: organizer@example.com\r\nTo: create@localhost\r\nSubject: large\r\n\r\n"
    line = b"x" * 76 + b"\r\n"
    lines = (size - len(header)) // len(line)
    return header + line * lines + b".\r\n"


async def large_run(port, count, size):
    body = large_body(size)
    started = time.monotonic()
    await asyncio.gather(*(_large_session(port, body, 1 << 20) for _ in range(count)))
    return time.monotonic() - started


def _tls_worker(port, seconds, result_queue):
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    import socket
    done = 0
    started = time.monotonic()
    deadline = started + seconds
    while time.monotonic() < deadline:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            stream = sock.makefile("rb")
            _expect(stream, 220)
            sock.sendall(b"EHLO bench.test\r\n")
            _expect(stream, 250)
            sock.sendall(b"STARTTLS\r\n")
            _expect(stream, 220)
            with context.wrap_socket(sock, server_hostname="localhost") as tls:
                stream = tls.makefile("rb")
                tls.sendall(b"EHLO bench.test\r\n")
                _expect(stream, 250)
                tls.sendall(b"QUIT\r\n")
                _expect(stream, 221)
        done += 1
    result_queue.put((done, time.monotonic() - started))


def _expect(stream, code):
    while True:
        line = stream.readline()
        if not line:
            raise ReplyError("connection closed")
        if line[3:4] != b"-":
            if int(line[:3]) != code:
                raise ReplyError(f"expected {code}: {line!r}")
            return


def tls_sessions_per_second(port, clients, seconds):
    """Complete sessions (EHLO, STARTTLS, handshake, EHLO, QUIT) per second from `clients`
    client processes running for `seconds`."""
    results = multiprocessing.Queue()
    workers = [multiprocessing.Process(target=_tls_worker, args=(port, seconds, results)) for _ in range(clients)]
    for worker in workers:
        worker.start()
    total, rate = 0, 0.0
    for _ in workers:
        done, elapsed = results.get(timeout=seconds + 60)
        total += done
        rate += done / elapsed
    for worker in workers:
        worker.join(timeout=10)
    return {"sessions": total, "seconds": seconds, "rate": rate}
