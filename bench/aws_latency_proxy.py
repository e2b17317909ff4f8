#!/usr/bin/env python3
"""A loopback HTTP/1.1 proxy in front of moto_server that delays every AWS call, counts the
calls by operation, and can fail chosen SendMessageBatch entries.

Usage: aws_latency_proxy.py --upstream http://127.0.0.1:<moto port> [--delay-ms 20]
                            [--port-file PATH] [--answer-locally] [--fail-entry-containing TEXT
                            [--fail-entry-times N] [--fail-entry-retryable]] [--lifetime SECONDS]

cis (or boto3) talks to the proxy's endpoint as if it were moto. Each request is held for
--delay-ms, then its bytes go to moto unchanged, on an upstream connection of its own per client
connection, so the Host header, the body and therefore the SigV4 signature moto checks are
exactly what the client signed (moto recomputes the signature over the Host header as
received, not over its own address). Responses come back unchanged, except:

- GET /__proxy__/stats answers the counts as JSON, without reaching moto:
  {"requests": n, "operations": {"PutObject": n, "SendMessage": n, ...},
   "batch_entries": [entries of each SendMessageBatch, in order],
   "entries": {"SendMessageBatch": [...], "DeleteMessageBatch": [...],
               "ChangeMessageVisibilityBatch": [...]}  (entries of each such call, in order),
   "failed_entries": n}
- with --answer-locally, PutObject, SendMessage and SendMessageBatch are answered by the proxy
  itself (200, the body's MD5 as ETag or MD5OfMessageBody, a random message id) after the
  delay, and stored nowhere: a null AWS that shows what the client does beyond moto's own
  ceiling. No signature is checked for those; everything else still goes to moto.
- with --fail-entry-containing TEXT, a SendMessageBatch entry whose MessageBody contains TEXT
  (the first --fail-entry-times of them; default every one) is reported in the response's
  Failed list (SenderFault true, InvalidParameterValue; or with --fail-entry-retryable
  SenderFault false, InternalError) instead of Successful. moto has stored that message
  all the same: the proxy only changes what the client is told.

Bounded: request and response heads 64 KiB, an SQS batch call's body 2 MiB (others are
streamed in 64 KiB pieces), an idle client connection 120 s, an upstream exchange 120 s;
the process exits by itself after --lifetime seconds (default 3600) or on SIGTERM.
"""
import argparse
import asyncio
import hashlib
import json
import os
import signal
import sys
import urllib.parse
import uuid

HEAD_LIMIT = 64 * 1024
INSPECTED_BODY_LIMIT = 2 * 1024 * 1024
PIECE = 64 * 1024
IDLE_TIMEOUT = 120
EXCHANGE_TIMEOUT = 120
STATS_PATH = "/__proxy__/stats"


class HTTPError(Exception):
    pass


class Stats:
    def __init__(self):
        self.requests = 0
        self.operations = {}
        self.batch_entries = []
        self.entries = {}
        self.failed_entries = 0

    def count(self, operation):
        self.requests += 1
        self.operations[operation] = self.operations.get(operation, 0) + 1

    def json(self):
        return json.dumps({"requests": self.requests, "operations": self.operations,
                           "batch_entries": self.batch_entries, "entries": self.entries,
                           "failed_entries": self.failed_entries}).encode()


class Head:
    """A request or response head: first line, headers in order, as bytes for forwarding."""

    def __init__(self, raw):
        self.raw = raw
        lines = raw.decode("latin-1").split("\r\n")
        self.first_line = lines[0]
        self.headers = []
        for line in lines[1:]:
            if not line:
                continue
            name, sep, value = line.partition(":")
            if not sep:
                raise HTTPError(f"malformed header line {line[:80]!r}")
            self.headers.append((name.strip(), value.strip()))

    def get(self, name):
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def without(self, name):
        """The head as bytes with every `name` header left out."""
        lines = [self.first_line] + [f"{key}: {value}" for key, value in self.headers if key.lower() != name.lower()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def body_framing(self):
        """("length", n), ("chunked", None) or ("none", None) for a request."""
        if (self.get("Transfer-Encoding") or "").lower() == "chunked":
            return "chunked", None
        length = self.get("Content-Length")
        if length is None:
            return "none", None
        if not length.isdigit():
            raise HTTPError(f"bad Content-Length {length!r}")
        return "length", int(length)


async def read_head(reader, timeout):
    try:
        raw = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
    except asyncio.IncompleteReadError as error:
        if not error.partial:
            return None
        raise HTTPError("connection closed inside a head")
    except asyncio.LimitOverrunError:
        raise HTTPError("head over 64 KiB")
    return Head(raw)


async def copy_length(reader, writer, length):
    while length > 0:
        piece = await asyncio.wait_for(reader.read(min(PIECE, length)), EXCHANGE_TIMEOUT)
        if not piece:
            raise HTTPError("connection closed inside a body")
        writer.write(piece)
        await writer.drain()
        length -= len(piece)


async def copy_chunked(reader, writer):
    while True:
        size_line = await asyncio.wait_for(reader.readuntil(b"\r\n"), EXCHANGE_TIMEOUT)
        writer.write(size_line)
        size = int(size_line.split(b";")[0].strip(), 16)
        if size == 0:
            while True:  # trailers, up to the empty line
                line = await asyncio.wait_for(reader.readuntil(b"\r\n"), EXCHANGE_TIMEOUT)
                writer.write(line)
                if line == b"\r\n":
                    await writer.drain()
                    return
        await copy_length(reader, writer, size + 2)


def operation_name(head):
    target = head.get("X-Amz-Target")
    if target:
        return target.split(".")[-1]
    method, _, rest = head.first_line.partition(" ")
    path = rest.rsplit(" ", 1)[0].split("?")[0]
    depth = len([part for part in path.split("/") if part])
    if "x-www-form-urlencoded" in (head.get("Content-Type") or ""):
        return "query-" + method
    s3 = {("PUT", 2): "PutObject", ("GET", 2): "GetObject", ("HEAD", 2): "HeadObject", ("DELETE", 2): "DeleteObject",
          ("PUT", 1): "CreateBucket", ("GET", 1): "ListObjects", ("GET", 0): "ListBuckets"}
    return s3.get((method, min(depth, 2)), f"{method}-{depth}")


def answer_put_object(body):
    return 200, [("ETag", '"' + hashlib.md5(body).hexdigest() + '"')], b""


def answer_send_message(body):
    request = json.loads(body)
    return 200, [("Content-Type", "application/x-amz-json-1.0")], json.dumps({
        "MessageId": str(uuid.uuid4()),
        "MD5OfMessageBody": hashlib.md5(request["MessageBody"].encode()).hexdigest()}).encode()


def answer_send_message_batch(body):
    request = json.loads(body)
    return 200, [("Content-Type", "application/x-amz-json-1.0")], json.dumps({"Successful": [
        {"Id": entry["Id"], "MessageId": str(uuid.uuid4()),
         "MD5OfMessageBody": hashlib.md5(entry["MessageBody"].encode()).hexdigest()}
        for entry in request.get("Entries", [])], "Failed": []}).encode()


# --answer-locally: what the proxy answers itself (everything else still goes to moto).
LOCAL_ANSWERS = {"PutObject": answer_put_object, "SendMessage": answer_send_message,
                 "SendMessageBatch": answer_send_message_batch}
LOCAL_BODY_LIMIT = 64 * 1024 * 1024
# The SQS batch calls whose entries the stats count.
BATCH_OPERATIONS = ("SendMessageBatch", "DeleteMessageBatch", "ChangeMessageVisibilityBatch")


class Proxy:
    def __init__(self, options):
        self.options = options
        upstream = urllib.parse.urlsplit(options.upstream)
        self.upstream = (upstream.hostname, upstream.port or 80)
        self.delay = options.delay_ms / 1000.0
        self.stats = Stats()
        self.failures_left = options.fail_entry_times

    async def serve_client(self, client_reader, client_writer):
        upstream = None
        try:
            while True:
                head = await read_head(client_reader, IDLE_TIMEOUT)
                if head is None:
                    return
                path = head.first_line.split(" ")[1] if " " in head.first_line else ""
                if path == STATS_PATH:
                    body = self.stats.json()
                    client_writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                                        + str(len(body)).encode() + b"\r\n\r\n" + body)
                    await client_writer.drain()
                    continue
                operation = operation_name(head)
                self.stats.count(operation)
                if self.delay:
                    await asyncio.sleep(self.delay)
                if upstream is None:
                    upstream = await asyncio.wait_for(asyncio.open_connection(*self.upstream, limit=HEAD_LIMIT),
                                                      EXCHANGE_TIMEOUT)
                up_reader, up_writer = upstream
                keep = await self.exchange(head, operation, client_reader, client_writer, up_reader, up_writer)
                if not keep:
                    return
        except (HTTPError, asyncio.TimeoutError, ConnectionError, asyncio.IncompleteReadError, ValueError) as error:
            print(f"aws_latency_proxy: connection dropped: {error!r}", file=sys.stderr)
        finally:
            client_writer.close()
            if upstream is not None:
                upstream[1].close()

    async def exchange(self, head, operation, client_reader, client_writer, up_reader, up_writer):
        """Forwards one request and its response; False when either side closes after it."""
        framing, length = head.body_framing()
        if self.options.answer_locally and operation in LOCAL_ANSWERS:
            if framing != "length" or length > LOCAL_BODY_LIMIT:
                raise HTTPError(f"{operation} without a Content-Length up to 64 MiB")
            body = await asyncio.wait_for(client_reader.readexactly(length), EXCHANGE_TIMEOUT)
            if operation == "SendMessageBatch":
                self.stats.batch_entries.append(len(json.loads(body).get("Entries", [])))
                self.stats.entries.setdefault(operation, []).append(self.stats.batch_entries[-1])
            status, headers, answer = LOCAL_ANSWERS[operation](body)
            lines = [f"HTTP/1.1 {status} OK", f"Content-Length: {len(answer)}"] + [f"{k}: {v}" for k, v in headers]
            client_writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + answer)
            await client_writer.drain()
            return (head.get("Connection") or "").lower() != "close"
        inspect = operation == "SendMessageBatch" and self.options.fail_entry_containing is not None
        request_body = None
        if (head.get("Expect") or "").lower() == "100-continue":
            # boto3 waits for the go-ahead before sending a body. Expect is not signed (botocore
            # leaves it out of SignedHeaders), so the proxy answers it and moto never sees it.
            client_writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            await client_writer.drain()
            up_writer.write(head.without("Expect"))
        else:
            up_writer.write(head.raw)
        if inspect or operation in BATCH_OPERATIONS:
            if framing != "length" or length > INSPECTED_BODY_LIMIT:
                raise HTTPError(f"{operation} without a Content-Length up to 2 MiB")
            request_body = await asyncio.wait_for(client_reader.readexactly(length), EXCHANGE_TIMEOUT)
            up_writer.write(request_body)
            await up_writer.drain()
        elif framing == "length":
            await copy_length(client_reader, up_writer, length)
        elif framing == "chunked":
            await copy_chunked(client_reader, up_writer)
        await up_writer.drain()
        failing = set()
        if request_body is not None:
            entries = json.loads(request_body).get("Entries", [])
            self.stats.entries.setdefault(operation, []).append(len(entries))
            if operation == "SendMessageBatch":
                self.stats.batch_entries.append(len(entries))
            if inspect:
                for entry in entries:
                    if self.options.fail_entry_containing in entry.get("MessageBody", "") and self.failures_left != 0:
                        failing.add(entry["Id"])
                        self.failures_left -= 1
                        self.stats.failed_entries += 1

        response = await read_head(up_reader, EXCHANGE_TIMEOUT)
        if response is None:
            raise HTTPError("moto closed the connection before answering")
        method = head.first_line.split(" ")[0]
        status = int(response.first_line.split(" ")[1])
        closes = (response.get("Connection") or "").lower() == "close" or response.first_line.startswith("HTTP/1.0")
        no_body = method == "HEAD" or status in (204, 304) or 100 <= status < 200
        if failing and status == 200:
            body = await self.read_body(response, up_reader)
            await self.answer_with_failures(response, body, failing, client_writer)
        else:
            client_writer.write(response.raw)
            if not no_body:
                kind, size = response.body_framing()
                if kind == "length":
                    await copy_length(up_reader, client_writer, size)
                elif kind == "chunked":
                    await copy_chunked(up_reader, client_writer)
                else:  # delimited by the connection's end
                    while piece := await asyncio.wait_for(up_reader.read(PIECE), EXCHANGE_TIMEOUT):
                        client_writer.write(piece)
                    closes = True
            await client_writer.drain()
        if (head.get("Connection") or "").lower() == "close":
            return False
        return not closes

    async def read_body(self, response, reader):
        kind, size = response.body_framing()
        if kind != "length" or size > INSPECTED_BODY_LIMIT:
            raise HTTPError("SendMessageBatch response without a Content-Length up to 2 MiB")
        return await asyncio.wait_for(reader.readexactly(size), EXCHANGE_TIMEOUT)

    async def answer_with_failures(self, response, body, failing, client_writer):
        document = json.loads(body)
        kept = []
        failed = list(document.get("Failed", []))
        for entry in document.get("Successful", []):
            if entry["Id"] in failing:
                if self.options.fail_entry_retryable:
                    failed.append({"Id": entry["Id"], "SenderFault": False, "Code": "InternalError",
                                   "Message": "aws_latency_proxy: failed this entry on purpose"})
                else:
                    failed.append({"Id": entry["Id"], "SenderFault": True, "Code": "InvalidParameterValue",
                                   "Message": "aws_latency_proxy: failed this entry on purpose"})
            else:
                kept.append(entry)
        document["Successful"] = kept
        document["Failed"] = failed
        new_body = json.dumps(document).encode()
        lines = [response.first_line]
        for name, value in response.headers:
            if name.lower() == "content-length":
                value = str(len(new_body))
            lines.append(f"{name}: {value}")
        client_writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + new_body)
        await client_writer.drain()


async def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--upstream", required=True, help="moto_server's URL, http://127.0.0.1:<port>")
    parser.add_argument("--listen-port", type=int, default=0)
    parser.add_argument("--delay-ms", type=float, default=20.0, help="added to every call (default 20)")
    parser.add_argument("--port-file", help="written (atomically) with the port once listening")
    parser.add_argument("--fail-entry-containing", help="fail SendMessageBatch entries whose body contains this")
    parser.add_argument("--fail-entry-times", type=int, default=-1, help="how many entries to fail (default: all)")
    parser.add_argument("--fail-entry-retryable", action="store_true", help="SenderFault false, InternalError")
    parser.add_argument("--answer-locally", action="store_true",
                        help="answer PutObject, SendMessage and SendMessageBatch here, storing nothing "
                             "(a null AWS: what the client can do without moto's ceiling)")
    parser.add_argument("--lifetime", type=float, default=3600, help="exit after this many seconds (default 3600)")
    options = parser.parse_args()
    if options.delay_ms < 0 or options.delay_ms > 10_000:
        parser.error("--delay-ms must be 0-10000")

    proxy = Proxy(options)
    server = await asyncio.start_server(proxy.serve_client, "127.0.0.1", options.listen_port, limit=HEAD_LIMIT,
                                        backlog=1024)
    port = server.sockets[0].getsockname()[1]
    if options.port_file:
        with open(options.port_file + ".tmp", "w") as port_file:
            port_file.write(str(port))
        os.rename(options.port_file + ".tmp", options.port_file)
    else:
        print(port, flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    loop.call_later(options.lifetime, stop.set)
    async with server:
        await stop.wait()


if __name__ == "__main__":
    # A child of a Swift test inherits that thread's blocked signals: let SIGTERM stop us again.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])
    asyncio.run(main())
