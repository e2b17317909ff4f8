#!/usr/bin/env python3
"""Attack soak (issue 8, item 6): one `cis serve` on loopback under six kinds of attack at
once while a legitimate sender delivers real invites over STARTTLS.

Attackers (each connection from its own 127.0.0.x source address, one /32 network each):
  stalled-tls      EHLO, STARTTLS, then never a ClientHello  (cut: --tls-handshake-timeout)
  stalled-ehlo     EHLO, then nothing                        (cut: --command-timeout)
  slowloris-data   DATA at 1 byte/s                          (cut: --min-data-rate-grace)
  noop-flood       pipelined NOOPs, never reads a reply      (cut: junk-command + error limit)
  bad-commands     pipelined unknown commands                (cut: error limit)
  churn            connect, read the greeting, close, again  (refused: --max-connection-rate)

Pass means: every legitimate message got 250, is stored (`objects/inbound/<id>`) and routed
(a line with its request id in `topics/*.jsonl`, carrying one of the message's iCalendar UIDs);
cis's peak RSS stays under --rss-bound-mib; every connection cis closed was closed within its
deadline plus one second (a connection still open at its deadline plus one second fails); the
file descriptors of cis are back to the pre-attack count (± --fd-tolerance) after a settle
period. The same legitimate load runs first against a fresh cis without attackers, and the
throughput under attack is printed as a ratio of that. Exits 1 when any criterion failed.

Bounded: every socket wait has a timeout, attackers stop when the legitimate load is done
(at least --min-attack-seconds), and every wait for cis has a deadline.

Usage: python3 bench/attack_soak.py [--messages 1000] [--attackers-per-kind 4] ...
       (`make attack-soak`; the binary is $CIS_BINARY, else .build/release/cis, else .build/debug/cis)
"""
import argparse
import json
import os
import pathlib
import queue
import select
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
KINDS = ("stalled-tls", "stalled-ehlo", "slowloris-data", "noop-flood", "bad-commands", "churn")
RECIPIENT = "create@localhost"
SENDER = "organizer@example.com"


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", help="the cis binary (default $CIS_BINARY, else .build/release/cis, else .build/debug/cis)")
    parser.add_argument("--messages", type=int, default=1000, help="legitimate messages (default 1000)")
    parser.add_argument("--senders", type=int, default=4, help="legitimate SMTP connections at once (default 4)")
    parser.add_argument("--messages-per-session", type=int, default=25, help="messages per legitimate session (default 25)")
    parser.add_argument("--attackers-per-kind", type=int, default=4, help="attacking threads per kind (default 4)")
    parser.add_argument("--min-attack-seconds", type=float, default=15, help="attack at least this long (default 15)")
    parser.add_argument("--route-timeout", type=float, default=120, help="wait for every message to be routed (default 120 s)")
    parser.add_argument("--settle-seconds", type=float, default=3, help="pause before the fd count after the attack (default 3)")
    parser.add_argument("--rss-bound-mib", type=float, default=256, help="peak RSS of cis must stay under this (default 256 MiB)")
    parser.add_argument("--fd-tolerance", type=int, default=2, help="fd count after vs before (default ±2)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the run without attackers (no ratio)")
    parser.add_argument("--corpus", help="directory of real invites (default $CIS_SHARED_DIR/corpus/imip, else the test fixtures)")
    # The deadlines cis runs with: short but realistic.
    parser.add_argument("--command-timeout", type=float, default=5)
    parser.add_argument("--tls-handshake-timeout", type=float, default=3)
    parser.add_argument("--data-timeout", type=float, default=10)
    parser.add_argument("--min-data-rate", type=int, default=500)
    parser.add_argument("--min-data-rate-grace", type=float, default=3)
    parser.add_argument("--max-session-time", type=float, default=30)
    parser.add_argument("--close-timeout", type=float, default=2)
    parser.add_argument("--max-connection-rate", type=int, default=60)
    parser.add_argument("--max-connections-per-ip", type=int, default=20)
    return parser.parse_args(argv)


def default_binary():
    configured = os.environ.get("CIS_BINARY")
    if configured:
        return configured
    for build in ("release", "debug"):
        candidate = ROOT / ".build" / build / "cis"
        if os.access(candidate, os.X_OK):
            return str(candidate)
    sys.exit("attack_soak: no cis binary: build with `swift build -c release --product cis` or set CIS_BINARY")


def cis_options(args):
    """The deadlines and limits cis runs with, as command-line options."""
    return [
        "--command-timeout", str(args.command_timeout),
        "--tls-handshake-timeout", str(args.tls_handshake_timeout),
        "--data-timeout", str(args.data_timeout),
        "--min-data-rate", str(args.min_data_rate),
        "--min-data-rate-grace", str(args.min_data_rate_grace),
        "--max-session-time", str(args.max_session_time),
        "--close-timeout", str(args.close_timeout),
        "--max-connection-rate", str(args.max_connection_rate),
        "--max-connections-per-ip", str(args.max_connections_per_ip),
    ]


def deadlines(args):
    """Seconds from the moment each attack is armed until cis must have closed it (the
    check adds one second). Limit-based cuts are immediate, but the closing 421 may wait
    --close-timeout to be written."""
    return {
        "stalled-tls": args.tls_handshake_timeout,
        "stalled-ehlo": args.command_timeout,
        "slowloris-data": args.min_data_rate_grace,
        "noop-flood": args.close_timeout,
        "bad-commands": args.close_timeout,
        "churn": args.close_timeout,
    }


# The legitimate invites.

def real_invites(corpus=None):
    """[(name, bytes, {UIDs})] of real-world invites the parser routes (expected outcome
    "requests"), from the shared corpus; the project's own fixtures when it is absent."""
    fixtures = ROOT / "Tests" / "InvitesTests" / "Fixtures"
    candidates = []
    if corpus:
        candidates.append((pathlib.Path(corpus), fixtures / "corpus-expected.json"))
    else:
        shared = pathlib.Path(os.environ.get("CIS_SHARED_DIR", ROOT.parent / "shared"))
        candidates.append((shared / "corpus" / "imip", fixtures / "corpus-expected.json"))
    candidates.append((fixtures / "cases", fixtures / "cases" / "expected.json"))
    for directory, expectations in candidates:
        if not directory.is_dir():
            continue
        invites = []
        for entry in json.loads(expectations.read_text()):
            path = directory / entry["file"]
            if entry["outcome"] != "requests" or not entry["file"].endswith(".eml") or not path.exists():
                continue
            invites.append((entry["file"], path.read_bytes(), {r["uid"] for r in entry["requests"]}))
        if invites:
            return directory, invites
    sys.exit("attack_soak: no invites found (set CIS_SHARED_DIR or --corpus)")


# One cis process.

class Cis:
    def __init__(self, binary, work, name, args, cert, key):
        self.data_dir = work / f"{name}-data"
        self.log_path = work / f"{name}.log"
        self.log = open(self.log_path, "wb")
        # The soak measures the intake; sender verification would ask the system's DNS.
        env = {k: v for k, v in os.environ.items() if not k.startswith("CIS_")} | {"CIS_SENDER_POLICY": "off"}
        argv = [binary, "serve", "--listen", "127.0.0.1:0", "--hostname", "mx.test", "--data-dir", str(self.data_dir),
                "--log-format", "json", "--tls-cert", str(cert), "--tls-key", str(key), *cis_options(args)]
        self.argv = argv
        self.process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self.log, env=env)
        self.pid = self.process.pid
        self.port = self._wait_for_port()

    def events(self):
        events = []
        for line in self.log_path.read_bytes().splitlines():
            try:
                events.append(json.loads(line))
            except ValueError:
                pass
        return events

    def _wait_for_port(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.events():
                if event.get("message") == "listening":
                    return int(event["smtp.listen.port"])
            if self.process.poll() is not None:
                raise RuntimeError(f"cis exited ({self.process.returncode}): {self.log_path.read_text()[-2000:]}")
            time.sleep(0.1)
        raise RuntimeError("cis did not listen within 60 s")

    def rss_kib(self):
        with open(f"/proc/{self.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def fds(self):
        """{fd: target} of cis's open file descriptors."""
        result = {}
        directory = f"/proc/{self.pid}/fd"
        for fd in os.listdir(directory):
            try:
                result[int(fd)] = os.readlink(f"{directory}/{fd}")
            except OSError:
                pass
        return result

    def threads(self):
        return len(os.listdir(f"/proc/{self.pid}/task"))

    def stop(self, timeout=30):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
                self.log.close()
                return None
        self.log.close()
        return self.process.returncode


class Sampler(threading.Thread):
    """Samples cis's VmRSS and fd count every 100 ms until stopped."""

    def __init__(self, cis):
        super().__init__(daemon=True)
        self.cis = cis
        self.peak_rss_kib = 0
        self.peak_fds = 0
        self.halt = threading.Event()

    def run(self):
        while not self.halt.is_set():
            try:
                self.peak_rss_kib = max(self.peak_rss_kib, self.cis.rss_kib())
                self.peak_fds = max(self.peak_fds, len(os.listdir(f"/proc/{self.cis.pid}/fd")))
            except OSError:
                return
            self.halt.wait(0.1)


# The legitimate sender.

class LegitimateLoad:
    """`senders` connections from 127.0.0.1, each taking invites off one queue, up to
    `per_session` per STARTTLS session; records every DATA reply."""

    def __init__(self, port, invites, count, senders, per_session, cert, offset=0):
        self.port = port
        self.work = queue.Queue()
        for n in range(count):
            name, body, uids = invites[(offset + n) % len(invites)]
            self.work.put((n, name, body, uids))
        self.senders = senders
        self.per_session = per_session
        self.context = ssl.create_default_context(cafile=str(cert))
        self.results = {}  # n -> (code, text, name, uids)
        self.errors = []
        self.lock = threading.Lock()

    def run(self):
        started = time.monotonic()
        threads = [threading.Thread(target=self._sender, daemon=True) for _ in range(self.senders)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.elapsed = time.monotonic() - started
        return self

    def _sender(self):
        while True:
            batch = []
            while len(batch) < self.per_session:
                try:
                    batch.append(self.work.get_nowait())
                except queue.Empty:
                    break
            if not batch:
                return
            try:
                self._session(batch)
            except (smtplib.SMTPException, OSError) as error:
                with self.lock:
                    self.errors.append(f"{type(error).__name__}: {error}")
                    for n, name, _, uids in batch:
                        self.results.setdefault(n, (0, f"session failed: {error}", name, uids))

    def _session(self, batch):
        with smtplib.SMTP("127.0.0.1", self.port, local_hostname="sender.example", timeout=30,
                          source_address=("127.0.0.1", 0)) as client:
            client.ehlo()
            client.starttls(context=self.context)
            client.ehlo()
            eight_bit = client.has_extn("8bitmime")
            for n, name, body, uids in batch:
                options = ["BODY=8BITMIME"] if eight_bit and any(b > 127 for b in body) else []
                code, text = client.mail(SENDER, options)
                if code == 250:
                    code, text = client.rcpt(RECIPIENT)
                if code in (250, 251):
                    code, text = client.data(body)
                else:
                    client.rset()
                with self.lock:
                    self.results[n] = (code, text.decode("utf-8", "replace"), name, uids)

    def queued(self):
        """{message id: (name, uids)} of every message answered 250."""
        ids = {}
        for code, text, name, uids in self.results.values():
            if code == 250 and "queued as " in text:
                ids[text.split("queued as ", 1)[1].split()[0]] = (name, uids)
        return ids


# The attackers.

class Record:
    """One attacking connection: when it was armed (the moment its deadline starts), when
    cis closed it, or why it ended otherwise."""
    __slots__ = ("kind", "source", "armed", "closed", "outcome")

    def __init__(self, kind, source):
        self.kind, self.source = kind, source
        self.armed = self.closed = None
        self.outcome = "open"


class Attacker(threading.Thread):
    def __init__(self, kind, source, port, deadline, stop, records, lock, churn_pause=0.01):
        super().__init__(daemon=True)
        self.kind, self.source, self.port = kind, source, port
        self.deadline = deadline
        self.stop = stop
        self.records, self.lock = records, lock
        self.churn_pause = churn_pause
        # Longest wait for the server to close: its deadline, one second, and slack so that
        # a late close is measured rather than given up on.
        self.wait = deadline + 6

    def run(self):
        attack = getattr(self, "_" + self.kind.replace("-", "_"))
        while not self.stop.is_set():
            record = Record(self.kind, self.source)
            with self.lock:
                self.records.append(record)
            sock = None
            try:
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                if self.kind == "noop-flood":
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                sock.settimeout(10)
                sock.bind((self.source, 0))
                sock.connect(("127.0.0.1", self.port))
                attack(sock, record)
            except (ConnectionResetError, BrokenPipeError):
                self._closed(record, "reset")
            except (OSError, ValueError) as error:
                if record.outcome == "open":
                    record.outcome = f"error: {type(error).__name__}: {error}"
            finally:
                if sock is not None:
                    sock.close()
            if self.kind in ("churn", "noop-flood", "bad-commands"):
                self.stop.wait(self.churn_pause)

    # Helpers.

    def _closed(self, record, how):
        if record.closed is None:
            record.closed = time.monotonic()
            record.outcome = how if record.armed is not None else f"{how} before armed"

    def _read_until(self, sock, marker, buffer=b""):
        while marker not in buffer:
            chunk = sock.recv(4096)
            if not chunk:
                raise ConnectionResetError("closed early")
            buffer += chunk
        return buffer.split(marker, 1)[1]

    def _await_close(self, sock, record):
        """Reads (and drops) whatever comes until cis closes, at most `wait` seconds after arming."""
        end = record.armed + self.wait
        while True:
            remaining = end - time.monotonic()
            if remaining <= 0:
                record.outcome = "not closed"
                return
            sock.settimeout(remaining)
            try:
                if sock.recv(65536) == b"":
                    self._closed(record, "closed")
                    return
            except socket.timeout:
                record.outcome = "not closed"
                return
            except ConnectionResetError:
                self._closed(record, "reset")
                return

    def _greeting(self, sock, record):
        """The first reply line; a 421 (a limit refused the connection) is awaited to the close."""
        line = self._read_line(sock)
        if line.startswith(b"421"):
            record.armed = time.monotonic()
            self._await_close(sock, record)
            if record.outcome in ("closed", "reset"):
                record.outcome = "refused"
            return False
        return True

    def _read_line(self, sock):
        data = b""
        while b"\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                raise ConnectionResetError("closed before a reply")
            data += chunk
        return data

    # The attacks.

    def _stalled_tls(self, sock, record):
        if not self._greeting(sock, record):
            return
        sock.sendall(b"EHLO attacker.example\r\n")
        rest = self._read_until(sock, b"250 ")
        self._read_until(sock, b"\n", rest)
        sock.sendall(b"STARTTLS\r\n")
        self._read_until(sock, b"220 ")
        record.armed = time.monotonic()
        self._await_close(sock, record)

    def _stalled_ehlo(self, sock, record):
        if not self._greeting(sock, record):
            return
        sock.sendall(b"EHLO attacker.example\r\n")
        rest = self._read_until(sock, b"250 ")
        self._read_until(sock, b"\n", rest)
        record.armed = time.monotonic()
        self._await_close(sock, record)

    def _slowloris_data(self, sock, record):
        if not self._greeting(sock, record):
            return
        sock.sendall(b"EHLO attacker.example\r\nMAIL FROM:<slow@example.com>\r\nRCPT TO:<" + RECIPIENT.encode()
                     + b">\r\nDATA\r\n")
        self._read_until(sock, b"354 ")
        record.armed = time.monotonic()
        end = record.armed + self.wait
        text = b"Subject: slow\r\n\r\n" + b"x" * 10_000
        sent = 0
        while time.monotonic() < end:
            sock.sendall(text[sent:sent + 1])
            sent += 1
            ready, _, _ = select.select([sock], [], [], 1.0)
            if ready:
                self._await_close(sock, record)
                return
        record.outcome = "not closed"

    def _noop_flood(self, sock, record):
        # Never reads: not even the greeting. cis must cut it on the junk-command limit
        # (then the error limit), or on its reply backlog, not on a timer.
        chunk = b"EHLO attacker.example\r\n" + b"NOOP\r\n" * 8192
        record.armed = time.monotonic()
        sock.settimeout(1)
        sent = 0
        try:
            while sent < 64 << 20 and time.monotonic() < record.armed + self.wait:
                sent += sock.send(chunk)
        except (ConnectionResetError, BrokenPipeError):
            self._closed(record, "reset")
            return
        except socket.timeout:
            pass
        self._await_close(sock, record)

    def _bad_commands(self, sock, record):
        if not self._greeting(sock, record):
            return
        record.armed = time.monotonic()
        sock.sendall(b"EHLO attacker.example\r\n" + b"XYZZY plugh\r\nMAIL FROM:<bad\r\nRCPT TO:nobody\r\n" * 20)
        self._await_close(sock, record)

    def _churn(self, sock, record):
        if not self._greeting(sock, record):
            return
        record.outcome = "client closed"


def run_attackers(port, args, stop, records, lock):
    limits = deadlines(args)
    attackers = []
    address = 2
    for kind in KINDS:
        for _ in range(args.attackers_per_kind):
            if address > 254:
                sys.exit("attack_soak: more attackers than 127.0.0.2-254 addresses")
            attackers.append(Attacker(kind, f"127.0.0.{address}", port, limits[kind], stop, records, lock))
            address += 1
    for attacker in attackers:
        attacker.start()
    return attackers


# Checks.

def routed_ids(data_dir):
    """{request id: {iCalendar UIDs}} of the topic lines in <data-dir>/topics/*.jsonl."""
    routed = {}
    for path in (data_dir / "topics").glob("*.jsonl"):
        for line in path.read_bytes().splitlines():
            try:
                envelope = json.loads(line)
            except ValueError:
                continue
            message = envelope.get("Message")
            if isinstance(message, str):
                try:
                    message = json.loads(message)
                except ValueError:
                    continue
            if isinstance(message, dict) and message.get("uid"):
                routed.setdefault(message["uid"], set()).add(message.get("original_uid") or "")
    return routed


def wait_routed(cis, ids, timeout):
    """The request ids not yet routed once every one is, or when `timeout` has passed."""
    deadline = time.monotonic() + timeout
    while True:
        routed = routed_ids(cis.data_dir) if (cis.data_dir / "topics").is_dir() else {}
        missing = [i for i in ids if i not in routed]
        if not missing or time.monotonic() > deadline:
            return missing, routed
        time.sleep(0.5)


def check_delivery(cis, load, args, failures, label):
    refused = [(n, code, text) for n, (code, text, _, _) in sorted(load.results.items()) if code != 250]
    if len(load.results) != args.messages or refused:
        failures.append(f"{label}: {len(refused)} of {args.messages} legitimate messages not answered 250"
                        f" (first: {refused[:3]}; session errors: {load.errors[:3]})")
    queued = load.queued()
    unstored = [i for i in queued if not (cis.data_dir / "objects" / "inbound" / i).is_file()]
    if unstored:
        failures.append(f"{label}: {len(unstored)} messages answered 250 are not in objects/inbound (first {unstored[:3]})")
    missing, routed = wait_routed(cis, list(queued), args.route_timeout)
    if missing:
        failures.append(f"{label}: {len(missing)} messages not routed within {args.route_timeout:.0f} s (first {missing[:3]})")
    wrong = [i for i, (name, uids) in queued.items() if i in routed and not routed[i] & uids]
    if wrong:
        failures.append(f"{label}: {len(wrong)} routed with a UID not in the message (first {wrong[:3]})")
    return len(queued) - len(missing)


def warm_up(cis, invites, cert, failures, label):
    """A few messages before measuring, so the files cis keeps open are open."""
    load = LegitimateLoad(cis.port, invites, 5, 1, 5, cert).run()
    queued = load.queued()
    if len(queued) != 5:
        failures.append(f"{label}: warm-up messages refused: {list(load.results.values())[:2]}")
    missing, _ = wait_routed(cis, list(queued), 60)
    if missing:
        failures.append(f"{label}: warm-up messages not routed")


def fd_census(cis, settle, tolerance, before, deadline=15):
    """The fds after the attack: sampled every 0.5 s after `settle` until they pass the check
    against `before` (connections cis has just closed may still be releasing) or `deadline`
    seconds have passed."""
    time.sleep(settle)
    end = time.monotonic() + deadline
    while True:
        fds = cis.fds()
        if not fd_failures(before, fds, cis.threads(), tolerance) or time.monotonic() > end:
            return fds
        time.sleep(0.5)


def fd_kinds(fds):
    """How many fds of each kind: socket, pipe, anon_inode:[eventfd], or a file's path."""
    counts = {}
    for target in fds.values():
        kind = target.split(":[", 1)[0] if target.startswith(("socket:", "pipe:")) else target
        counts[kind] = counts.get(kind, 0) + 1
    return dict(sorted(counts.items(), key=lambda item: -item[1]))


RUN_LOOP_FDS = ("anon_inode:[eventpoll]", "anon_inode:[eventfd]", "anon_inode:[timerfd]")


def fd_failures(before, after, threads, tolerance):
    """Sockets, pipes and files: as many after as before (± tolerance). Event-loop fds (an
    epoll, an eventfd and a timerfd each) may grow, but only up to three per thread of cis:
    Foundation's Process gives every BlockingPool thread that starts a parse worker a
    CFRunLoop of its own, kept for the thread's life (the pool has a fixed size)."""
    def split(fds):
        loops = sum(1 for target in fds.values() if target in RUN_LOOP_FDS)
        return loops, len(fds) - loops
    loops_before, other_before = split(before)
    loops_after, other_after = split(after)
    failures = []
    if abs(other_after - other_before) > tolerance:
        failures.append(f"fds: {other_before} sockets, pipes and files before, {other_after} after the attack"
                        f" (tolerance ±{tolerance}); by kind before {fd_kinds(before)}, after {fd_kinds(after)}")
    if loops_after > loops_before and loops_after > 3 * threads:
        failures.append(f"fds: {loops_after} event-loop fds after the attack, more than 3 per thread ({threads} threads)")
    return failures


def summarize_attacks(records, limits):
    rows = []
    failures = []
    for kind in KINDS:
        mine = [r for r in records if r.kind == kind]
        cut = [r for r in mine if r.outcome in ("closed", "reset", "refused")]
        times = [r.closed - r.armed for r in cut]
        late = [t for t in times if t > limits[kind] + 1]
        open_ = [r for r in mine if r.outcome == "not closed"]
        other = [r for r in mine if r.outcome not in ("closed", "reset", "refused", "not closed", "client closed")]
        rows.append((kind, len(mine), len(cut), sum(1 for r in mine if r.outcome == "refused"),
                     sum(1 for r in mine if r.outcome == "client closed"),
                     max(times) if times else None, limits[kind] + 1, len(late) + len(open_)))
        if late or open_:
            failures.append(f"{kind}: {len(late)} closed after the deadline + 1 s ({limits[kind] + 1:.1f} s; "
                            f"slowest {max(times):.2f} s), {len(open_)} not closed")
        if not cut:
            failures.append(f"{kind}: no connection was cut or refused by cis (the attack never ran its course)")
        if other:
            failures.append(f"{kind}: {len(other)} connections ended unexpectedly (first: {other[0].outcome})")
    return rows, failures


def print_table(rows):
    print(f"{'attacker':<16}{'conns':>7}{'cut':>7}{'refused':>9}{'self-closed':>13}{'max cut s':>11}"
          f"{'limit s':>9}{'late':>6}")
    for kind, total, cut, refused, self_closed, slowest, limit, late in rows:
        slowest_text = f"{slowest:.2f}" if slowest is not None else "-"
        print(f"{kind:<16}{total:>7}{cut:>7}{refused:>9}{self_closed:>13}{slowest_text:>11}{limit:>9.1f}{late:>6}")


def soak(args):
    """Runs the soak; returns (ok, figures)."""
    binary = args.binary or default_binary()
    corpus, invites = real_invites(args.corpus)
    work = pathlib.Path(tempfile.mkdtemp(prefix="cis-attack-soak-"))
    figures = {"binary": binary, "corpus": str(corpus), "invites": len(invites)}
    failures = []
    print(f"attack soak: {binary}; {args.messages} legitimate messages cycling {len(invites)} real invites from {corpus}")
    print(f"attack soak: cis serve {' '.join(cis_options(args))}")
    try:
        subprocess.run(["bash", str(ROOT / "certs" / "make-dev-cert.sh"), str(work / "tls")], check=True,
                       capture_output=True, timeout=60)
        cert, key = work / "tls" / "cert.pem", work / "tls" / "key.pem"

        if not args.no_baseline:
            cis = Cis(binary, work, "baseline", args, cert, key)
            try:
                warm_up(cis, invites, cert, failures, "baseline")
                load = LegitimateLoad(cis.port, invites, args.messages, args.senders, args.messages_per_session, cert,
                                      offset=5).run()
                figures["baseline_rate"] = args.messages / load.elapsed
                check_delivery(cis, load, args, failures, "baseline")
            finally:
                cis.stop()
            print(f"attack soak: without attackers: {args.messages} messages in {load.elapsed:.1f} s = "
                  f"{figures['baseline_rate']:.1f} msg/s")

        cis = Cis(binary, work, "attack", args, cert, key)
        try:
            warm_up(cis, invites, cert, failures, "attack")
            time.sleep(1)
            before = cis.fds()
            figures["fds_before"] = len(before)
            figures["rss_before_kib"] = cis.rss_kib()
            sampler = Sampler(cis)
            sampler.start()
            stop = threading.Event()
            records, lock = [], threading.Lock()
            attack_started = time.monotonic()
            attackers = run_attackers(cis.port, args, stop, records, lock)
            time.sleep(1)  # every kind has its connections in place before the legitimate load starts
            load = LegitimateLoad(cis.port, invites, args.messages, args.senders, args.messages_per_session, cert,
                                  offset=5).run()
            figures["attack_rate"] = args.messages / load.elapsed
            stop.wait(max(0.0, attack_started + args.min_attack_seconds - time.monotonic()))
            stop.set()
            join_deadline = time.monotonic() + max(deadlines(args).values()) + 15
            for attacker in attackers:
                attacker.join(timeout=max(0.1, join_deadline - time.monotonic()))
            if any(attacker.is_alive() for attacker in attackers):
                failures.append("attackers still running 15 s after their longest deadline")
            figures["attack_seconds"] = time.monotonic() - attack_started
            figures["fds_during_peak"] = sampler.peak_fds
            check_delivery(cis, load, args, failures, "under attack")
            after = fd_census(cis, args.settle_seconds, args.fd_tolerance, before)
            sampler.halt.set()
            sampler.join(timeout=5)
            figures["fds_after"] = len(after)
            figures["loop_fds"] = (sum(1 for t in before.values() if t in RUN_LOOP_FDS),
                                   sum(1 for t in after.values() if t in RUN_LOOP_FDS), cis.threads())
            figures["rss_peak_kib"] = sampler.peak_rss_kib
            figures["rss_after_kib"] = cis.rss_kib()
            failures.extend(fd_failures(before, after, cis.threads(), args.fd_tolerance))
            if sampler.peak_rss_kib > args.rss_bound_mib * 1024:
                failures.append(f"RSS: peak {sampler.peak_rss_kib / 1024:.1f} MiB over the bound {args.rss_bound_mib} MiB")
            if cis.process.poll() is not None:
                failures.append(f"cis exited during the attack ({cis.process.returncode})")
        finally:
            status = cis.stop()
        if status != 0:
            failures.append(f"cis did not stop cleanly after the attack (exit {status})")

        rows, attack_failures = summarize_attacks(records, deadlines(args))
        failures.extend(attack_failures)
        figures["attackers"] = rows
        print()
        print_table(rows)
        print()
        rate = figures["attack_rate"]
        print(f"legitimate: {args.messages} messages in {load.elapsed:.1f} s under attack = {rate:.1f} msg/s", end="")
        if "baseline_rate" in figures:
            figures["ratio"] = rate / figures["baseline_rate"]
            print(f"; without attackers {figures['baseline_rate']:.1f} msg/s; ratio {figures['ratio']:.2f}")
        else:
            print()
        print(f"RSS of cis: {figures['rss_before_kib'] / 1024:.1f} MiB before, peak {figures['rss_peak_kib'] / 1024:.1f} MiB"
              f" (bound {args.rss_bound_mib:.0f} MiB), {figures['rss_after_kib'] / 1024:.1f} MiB after")
        print(f"fds of cis: {figures['fds_before']} before, peak {figures['fds_during_peak']} during,"
              f" {figures['fds_after']} after; of them event-loop fds {figures['loop_fds'][0]} before,"
              f" {figures['loop_fds'][1]} after ({figures['loop_fds'][2]} threads; others must match ±{args.fd_tolerance})")
        print(f"attack lasted {figures['attack_seconds']:.1f} s; {sum(r[1] for r in rows)} attacking connections")
    finally:
        if failures:
            print(f"\n(cis logs and data kept in {work})")
        else:
            shutil.rmtree(work, ignore_errors=True)
    for failure in failures:
        print(f"FAILED: {failure}")
    print("attack soak: " + ("PASSED" if not failures else f"FAILED ({len(failures)} criteria)"))
    figures["failures"] = failures
    return not failures, figures


def main():
    ok, _ = soak(parse_arguments())
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
