"""The durable Python peer: an aiosmtpd server that writes each message to its own file and
fsyncs it before answering 250 (the file write and fsync run on a thread pool, so sessions
overlap their syncs as a careful asyncio server would).

    python3 bench/intake/fsync_smtpd.py --port PORT --directory DIR [--tls-cert C --tls-key K]

Prints `listening PORT` on standard output once it accepts connections; stops on SIGTERM.
"""

import argparse
import asyncio
import itertools
import os
import signal
import ssl
import sys

from aiosmtpd.smtp import SMTP


class FsyncHandler:
    def __init__(self, directory):
        self.directory = directory
        self.counter = itertools.count()

    def store(self, name, content):
        path = os.path.join(self.directory, name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            view = memoryview(content)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)

    async def handle_DATA(self, server, session, envelope):
        name = f"{os.getpid()}-{next(self.counter)}"
        await asyncio.get_running_loop().run_in_executor(None, self.store, name, envelope.content)
        return f"250 2.0.0 Ok: queued as {name}"


class LongLineSMTP(SMTP):
    # Real invites carry lines past RFC 5321's 1000 octets (cis and Postfix accept them too).
    line_length_limit = 1 << 16


async def serve(args):
    os.makedirs(args.directory, exist_ok=True)
    handler = FsyncHandler(args.directory)
    context = None
    if args.tls_cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.tls_cert, args.tls_key)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: LongLineSMTP(handler, hostname="peer.test", tls_context=context, data_size_limit=64 * 1024 * 1024,
                     enable_SMTPUTF8=True, decode_data=False),
        host="127.0.0.1", port=args.port, backlog=1024)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    print(f"listening {server.sockets[0].getsockname()[1]}", flush=True)
    await stop.wait()
    server.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--directory", required=True)
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
