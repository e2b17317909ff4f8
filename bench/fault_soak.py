#!/usr/bin/env python3
"""Fault-injection soak of `cis serve` (issue 9, item 6), through the real binary on loopback.

Senders (threads, smtplib, one distinct invite UID each) deliver N messages while a
controller injects faults at random moments:

  embedded backend (`--backend embedded`):
    * SIGKILL of cis (`os.kill`), restarted at once on the same port;
    * disk full: the data directory is a small tmpfs, filled by a filler file, held, removed;
    * topic directory unwritable: `chattr +i` on <data-dir>/topics and its files (root ignores
      permission bits; an immutable inode refuses root's open for writing), around a SIGKILL
      and restart so that the new process must open the topic files while they are refused.
  AWS backend (`--backend aws`, moto on loopback started here):
    * SIGKILL of cis as above;
    * moto unreachable: a TCP proxy between cis and moto is closed (listener and every open
      connection) and reopened; moto itself keeps running because it holds its state in memory;
    * moto hung: SIGSTOP / SIGCONT of the moto process (requests time out instead of refused);
    * disk full of cis's data directory (the publish ledger), as above.

A sender retries a message that did not get 250 (4xx, a dropped connection, a refused
connection) like an MTA, with a bounded number of attempts and backoff. At the end every
fault is lifted, the consumer drains the queue, cis is stopped with SIGTERM, and the soak
checks: every message id answered 250 is stored and appears exactly once on the topics, no
message id appears twice on any topic, every published line belongs to a message that was
sent, the queue is empty, and nothing is dead-lettered. It prints a summary and exits 1 on any
loss, duplicate, dead letter or unfinished message, 2 when the environment cannot run it.

Bounded: --messages, --max-attempts per message, and --time-limit for the whole run.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import pathlib
import random
import shutil
import signal
import smtplib
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections import Counter
from email.message import EmailMessage

ROOT = pathlib.Path(__file__).resolve().parents[1]
RECIPIENT = "create@invites.test"
ORGANIZER = "olivia@example.com"
ROUTES = ["create", "update", "cancel", "reply", "failure"]
TOPIC_OPTIONS = {"create": "--topic-create", "update": "--topic-update", "cancel": "--topic-cancel",
                 "reply": "--topic-reply", "failure": "--topic-failure"}
REGION = "us-east-1"


class SoakEnvironmentError(Exception):
    """The machine cannot run the soak (not root, no tmpfs, no moto...)."""


def unused_loopback_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# Messages.

def invite(uid: str) -> bytes:
    """An iMIP REQUEST (text/plain + text/calendar; method=REQUEST) with this UID."""
    message = EmailMessage()
    message["From"] = f"Olivia Organizer <{ORGANIZER}>"
    message["To"] = RECIPIENT
    message["Subject"] = "Invitation: Soak"
    message["Message-ID"] = f"<{uid}>"
    message.set_content("You are invited.")
    calendar = "\r\n".join([
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//cis fault soak//EN", "METHOD:REQUEST",
        "BEGIN:VEVENT", f"UID:{uid}", "SEQUENCE:0", "DTSTAMP:20261125T150000Z",
        "DTSTART:20261202T140000Z", "DTEND:20261202T150000Z", "SUMMARY:Soak",
        f"ORGANIZER;CN=Olivia Organizer:mailto:{ORGANIZER}",
        "ATTENDEE;CN=Alex;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:alex@example.com",
        "END:VEVENT", "END:VCALENDAR", ""])
    message.add_alternative(calendar, subtype="calendar", params={"method": "REQUEST"})
    return message.as_bytes()


def not_an_invite(uid: str) -> bytes:
    """A mail without a calendar part: a valid message whose outcome is a failure notice on the
    failure topic (never a dead letter)."""
    message = EmailMessage()
    message["From"] = f"Olivia Organizer <{ORGANIZER}>"
    message["To"] = RECIPIENT
    message["Subject"] = "No calendar here"
    message["Message-ID"] = f"<{uid}>"
    message.set_content(f"Plain text only, {uid}.")
    return message.as_bytes()


# Senders.

class Ledger:
    """What the senders saw, shared by the threads."""

    def __init__(self, count: int, failure_share: float, seed: int):
        rng = random.Random(seed)
        self.lock = threading.Lock()
        self.items = []
        for index in range(count):
            uid = f"soak-{index:05d}-{uuid.uuid4().hex[:8]}@example.com"
            self.items.append({"uid": uid, "kind": "failure" if rng.random() < failure_share else "invite"})
        self.next_index = 0
        # Messages are handed out only below the gate, so that each planned fault happens while
        # messages are still being sent (the controller moves the gate as it injects them).
        self.gate = count
        self.gate_moved = threading.Condition(self.lock)
        self.accepted: dict[str, str] = {}      # uid -> message id of its 250
        self.retried_uids: set[str] = set()
        self.given_up: list[str] = []
        self.permanent: list[tuple[str, str]] = []
        self.attempts = 0
        self.replies = Counter()               # "250", "451", "452", "421", "connection refused", ...
        self.episode_replies: Counter | None = None

    def take(self, stop: threading.Event):
        with self.lock:
            while self.gate <= self.next_index < len(self.items) and not stop.is_set():
                self.gate_moved.wait(0.1)
            if self.next_index >= len(self.items) or stop.is_set():
                return None
            item = self.items[self.next_index]
            self.next_index += 1
            return item

    def note(self, outcome: str) -> None:
        with self.lock:
            self.replies[outcome] += 1
            if self.episode_replies is not None:
                self.episode_replies[outcome] += 1

    def taken(self) -> int:
        with self.lock:
            return self.next_index

    def move_gate(self, gate: int) -> None:
        with self.lock:
            self.gate = min(len(self.items), gate)
            self.gate_moved.notify_all()


def attempt_delivery(port: int, body: bytes) -> tuple[str, str | None]:
    """One SMTP transaction; (outcome, message id). Outcome is the reply code of the step that
    ended it, or the kind of network failure."""
    try:
        with smtplib.SMTP("127.0.0.1", port, local_hostname="client.invites.test", timeout=15) as smtp:
            code, _ = smtp.ehlo()
            if code != 250:
                return str(code), None
            code, _ = smtp.mail(ORGANIZER)
            if code != 250:
                return str(code), None
            code, _ = smtp.rcpt(RECIPIENT)
            if code != 250:
                return str(code), None
            code, reply = smtp.data(body)
            if code != 250:
                return str(code), None
            text = reply.decode("utf-8", "replace")
            if "queued as " not in text:
                return "250 without an id", None
            return "250", text.split("queued as ", 1)[1].split()[0]
    except smtplib.SMTPConnectError as error:
        return str(error.smtp_code), None
    except smtplib.SMTPResponseException as error:
        return str(error.smtp_code), None
    except ConnectionRefusedError:
        return "connection refused", None
    except (smtplib.SMTPServerDisconnected, ConnectionResetError, BrokenPipeError):
        return "connection dropped", None
    except (socket.timeout, TimeoutError):
        return "timeout", None
    except OSError as error:
        return f"network error {errno.errorcode.get(error.errno, error.errno)}", None


def sender(ledger: Ledger, port: int, max_attempts: int, stop: threading.Event) -> None:
    while not stop.is_set():
        item = ledger.take(stop)
        if item is None:
            return
        body = invite(item["uid"]) if item["kind"] == "invite" else not_an_invite(item["uid"])
        for attempt in range(1, max_attempts + 1):
            if stop.is_set():
                return
            with ledger.lock:
                ledger.attempts += 1
            outcome, message_id = attempt_delivery(port, body)
            ledger.note(outcome)
            if outcome == "250":
                with ledger.lock:
                    ledger.accepted[item["uid"]] = message_id
                break
            if outcome.startswith("5"):
                with ledger.lock:
                    ledger.permanent.append((item["uid"], outcome))
                break
            with ledger.lock:
                ledger.retried_uids.add(item["uid"])
            # An MTA's retry, compressed: 0.2 s doubling to 2 s, with jitter.
            time.sleep(min(2.0, 0.2 * 2 ** min(attempt - 1, 4)) * (0.5 + random.random()))
        else:
            with ledger.lock:
                ledger.given_up.append(item["uid"])


# The cis process.

class Cis:
    """`cis serve` restarted on one fixed port; each incarnation logs JSON to its own file."""

    def __init__(self, binary: str, argv: list[str], env: dict, work: pathlib.Path, port: int):
        self.binary, self.argv, self.env, self.work, self.port = binary, argv, env, work, port
        self.process: subprocess.Popen | None = None
        self.incarnation = 0
        self.logs: list[pathlib.Path] = []

    def start(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while True:
            self.incarnation += 1
            log_path = self.work / f"cis-{self.incarnation:02d}.log"
            self.logs.append(log_path)
            with open(log_path, "wb") as output:
                self.process = subprocess.Popen([self.binary, *self.argv], stdin=subprocess.DEVNULL, stdout=output,
                                                stderr=subprocess.STDOUT, env=self.env, start_new_session=True)
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    break
                if '"listening"' in log_path.read_text(errors="replace"):
                    return
                time.sleep(0.05)
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
                raise RuntimeError(f"cis did not listen within {timeout} s; see {log_path}")
            if self.process.returncode in (64, 78) or time.monotonic() >= deadline:
                raise RuntimeError(f"cis exited at start with {self.process.returncode}: "
                                   f"{log_path.read_text(errors='replace').strip()[-600:]}")
            log(f"cis exited at start ({self.process.returncode}); retrying: "
                f"{log_path.read_text(errors='replace').strip().splitlines()[-1:]}")
            time.sleep(0.5)

    def kill(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def terminate(self, timeout: float = 60) -> int:
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            return -999

    def events(self) -> list[dict]:
        found = []
        for path in self.logs:
            for line in path.read_text(errors="replace").splitlines():
                if line.startswith("{"):
                    try:
                        found.append(json.loads(line))
                    except ValueError:
                        pass
        return found


# File-system faults.

def mount_tmpfs(directory: pathlib.Path, size_mb: int) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m,mode=0755", "tmpfs", str(directory)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise SoakEnvironmentError(f"cannot mount a tmpfs on {directory} (the disk-full fault needs root or "
                                   f"CAP_SYS_ADMIN): {result.stderr.strip()}")


def unmount(directory: pathlib.Path) -> None:
    for _ in range(20):
        if subprocess.run(["umount", str(directory)], capture_output=True).returncode == 0:
            return
        time.sleep(0.25)
    subprocess.run(["umount", "-l", str(directory)], capture_output=True)


def fill(directory: pathlib.Path) -> pathlib.Path:
    """Writes a filler file until the file system says ENOSPC."""
    filler = directory / "filler"
    chunk = b"\0" * (1 << 20)
    with open(filler, "wb", buffering=0) as output:
        try:
            while True:
                output.write(chunk)
        except OSError as error:
            if error.errno != errno.ENOSPC:
                raise
        # The last partial chunk: fill to the last byte.
        small = b"\0" * 4096
        try:
            while True:
                output.write(small)
        except OSError as error:
            if error.errno != errno.ENOSPC:
                raise
    return filler


def set_immutable(paths: list[pathlib.Path], on: bool) -> None:
    for path in paths:
        result = subprocess.run(["chattr", "+i" if on else "-i", str(path)], capture_output=True, text=True)
        if result.returncode != 0 and on:
            raise SoakEnvironmentError(f"chattr +i {path} failed: {result.stderr.strip()}")


def topic_paths(data_dir: pathlib.Path) -> list[pathlib.Path]:
    topics = data_dir / "topics"
    return [topics, *sorted(topics.glob("*.jsonl"))]


# moto and the proxy in front of it.

class Proxy:
    """A TCP proxy 127.0.0.1:port -> upstream; `down()` closes the listener and every open
    connection (clients see refused connections and resets), `up()` listens again."""

    def __init__(self, upstream_port: int):
        self.upstream_port = upstream_port
        self.port = unused_loopback_port()
        self.lock = threading.Lock()
        self.listener: socket.socket | None = None
        self.connections: set[socket.socket] = set()
        self.up()

    def up(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(256)
        with self.lock:
            self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def down(self) -> None:
        with self.lock:
            listener, self.listener = self.listener, None
            connections, self.connections = self.connections, set()
        if listener is not None:
            try:
                listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            listener.close()
        for connection in connections:
            try:
                connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
                connection.close()
            except OSError:
                pass

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self.lock:
                if self.listener is not listener:
                    client.close()
                    upstream.close()
                    continue
                self.connections.update((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                target.sendall(data)
        except OSError:
            pass
        for sock in (source, target):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        with self.lock:
            self.connections.discard(source)
            self.connections.discard(target)


def start_moto(work: pathlib.Path) -> tuple[subprocess.Popen, int]:
    if shutil.which("moto_server") is None:
        raise SoakEnvironmentError("moto_server is not installed (bash scripts/install-deps.sh --with-test-tools)")
    port = unused_loopback_port()
    process = subprocess.Popen(["moto_server", "-H", "127.0.0.1", "-p", str(port)], stdout=open(work / "moto.log", "wb"),
                               stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/data.json", timeout=1)
            return process, port
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SoakEnvironmentError("moto_server did not start; see " + str(work / "moto.log"))


class AWSWorld:
    """Bucket, intake queue with its dead-letter queue (redrive after 5 receives), and five FIFO
    topics each subscribed by a FIFO SQS queue, created directly on moto (not through the proxy)."""

    def __init__(self, moto_port: int):
        import boto3
        endpoint = f"http://127.0.0.1:{moto_port}"
        self.clients = {name: boto3.client(name, endpoint_url=endpoint, region_name=REGION, aws_access_key_id="testing",
                                           aws_secret_access_key="testing") for name in ("s3", "sqs", "sns")}
        s3, sqs, sns = self.clients["s3"], self.clients["sqs"], self.clients["sns"]
        suffix = uuid.uuid4().hex[:8]
        self.bucket = f"cis-soak-{suffix}"
        s3.create_bucket(Bucket=self.bucket)
        self.dead_letters = sqs.create_queue(QueueName=f"cis-soak-dlq-{suffix}")["QueueUrl"]
        dlq_arn = self.queue_arn(self.dead_letters)
        self.intake = sqs.create_queue(QueueName=f"cis-soak-intake-{suffix}", Attributes={
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "5"})})["QueueUrl"]
        self.topics, self.subscribers = {}, {}
        for route in ROUTES:
            topic = sns.create_topic(Name=f"cis-soak-{route}-{suffix}.fifo",
                                     Attributes={"FifoTopic": "true"})["TopicArn"]
            queue = sqs.create_queue(QueueName=f"cis-soak-{route}-sub-{suffix}.fifo",
                                     Attributes={"FifoQueue": "true"})["QueueUrl"]
            sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=self.queue_arn(queue))
            self.topics[route], self.subscribers[route] = topic, queue

    def queue_arn(self, url: str) -> str:
        return self.clients["sqs"].get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    def counts(self, url: str) -> tuple[int, int]:
        attributes = self.clients["sqs"].get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesNotVisible"])

    def drain(self, url: str) -> list[dict]:
        """Every message in a queue, each received once and left hidden (no deletes: half the requests)."""
        sqs, found, empty_rounds = self.clients["sqs"], {}, 0
        while empty_rounds < 2:
            messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                           VisibilityTimeout=43200, AttributeNames=["All"]).get("Messages", [])
            if not messages:
                empty_rounds += 1
                continue
            empty_rounds = 0
            for message in messages:
                found[message["MessageId"]] = message
        return list(found.values())

    def stored_keys(self) -> set[str]:
        keys, paginator = set(), self.clients["s3"].get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix="inbound/"):
            keys.update(item["Key"] for item in page.get("Contents", []))
        return keys

    def stored_body(self, key: str) -> bytes:
        return self.clients["s3"].get_object(Bucket=self.bucket, Key=key)["Body"].read()


# Published lines.

def published_message_id(line: dict) -> str | None:
    """The cis message id a topic line (JSONL line or SNS notification) was made from."""
    attributes = line.get("MessageAttributes") or {}
    if "uid" in attributes:
        return attributes["uid"].get("Value")
    try:
        event = json.loads(line["Message"])
    except (KeyError, ValueError, TypeError):
        return None
    key = event.get("key") or ""
    return key.rsplit("/", 1)[-1] or None


def published_original_uid(line: dict) -> str | None:
    try:
        return json.loads(line["Message"]).get("original_uid")
    except (KeyError, ValueError, TypeError):
        return None


# The soak.

class Soak:
    def __init__(self, options: argparse.Namespace):
        self.options = options
        self.rng = random.Random(options.seed)
        self.work = pathlib.Path(tempfile.mkdtemp(prefix=f"cis-fault-soak-{options.backend}-"))
        self.data_dir = self.work / "data"
        self.faults: list[dict] = []
        self.kills = 0
        self.stop_senders = threading.Event()
        self.moto: subprocess.Popen | None = None
        self.proxy: Proxy | None = None
        self.world: AWSWorld | None = None
        self.mounted = False
        self.immutable: list[pathlib.Path] = []
        self.filler: pathlib.Path | None = None
        # A failed run keeps its work directory (cis logs; the data is on the unmounted tmpfs).
        self.failed = True

    # Set-up.

    def binary(self) -> str:
        binary = self.options.binary or os.environ.get("CIS_BINARY") or str(ROOT / ".build" / "debug" / "cis")
        if not os.access(binary, os.X_OK):
            raise SoakEnvironmentError(f"no cis binary at {binary} (swift build --product cis, or --binary PATH)")
        return binary

    def cis_command(self, port: int) -> tuple[list[str], dict]:
        fast = ["--poll-wait", "1", "--visibility-timeout", "5", "--retry-delay", "1", "--log-format", "json",
                "--shutdown-timeout", "10"]
        common = ["serve", "--listen", f"127.0.0.1:{port}", "--hostname", "mx.invites.test", "--recipient", RECIPIENT,
                  "--data-dir", str(self.data_dir), *fast]
        # The soak injects storage and queue faults; sender verification would ask the system's DNS.
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CIS_", "AWS_"))} | {"CIS_SENDER_POLICY": "off"}
        if self.options.backend == "embedded":
            return common, env
        world = self.world
        args = [*common, "--backend", "aws", "--bucket", world.bucket, "--queue-url", world.intake,
                "--event-index", "none"]
        for route, option in TOPIC_OPTIONS.items():
            args += [option, world.topics[route]]
        env.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": REGION,
                    "AWS_ENDPOINT_URL": f"http://127.0.0.1:{self.proxy.port}", "AWS_EC2_METADATA_DISABLED": "true",
                    "AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:9/"})
        return args, env

    def plan(self) -> list[tuple[int, str]]:
        """(messages handed to senders, fault) pairs, at random points of the first 90 % of the run."""
        count = self.options.messages
        faults = ["kill"] * self.options.kills + ["disk-full"] * self.options.disk_full
        if self.options.backend == "embedded":
            faults += ["topics-unwritable"] * self.options.topic_outages
        else:
            faults += ["moto-unreachable"] * self.options.topic_outages + ["moto-stopped"] * self.options.moto_stops
        thresholds = sorted(self.rng.randint(max(1, count // 20), max(2, count * 9 // 10)) for _ in faults)
        thresholds = [min(count - 1, max(threshold, thresholds[i - 1] + 1 if i else 0)) for i, threshold in enumerate(thresholds)]
        self.rng.shuffle(faults)
        return list(zip(thresholds, faults))

    # Faults.

    def kill_and_restart(self, cis: Cis, note: str = "") -> float:
        time.sleep(self.rng.random() * 0.3)
        started = time.monotonic()
        cis.kill()
        self.kills += 1
        cis.start()
        return time.monotonic() - started

    def disk_full(self, cis: Cis, ledger: Ledger) -> dict:
        self.filler = fill(self.data_dir)
        # Replies counted from the moment the file system is full until the filler goes.
        with ledger.lock:
            ledger.episode_replies = Counter()
        time.sleep(self.options.hold)
        with ledger.lock:
            replies, ledger.episode_replies = ledger.episode_replies, None
        free_while_full = shutil.disk_usage(self.data_dir).free
        self.filler.unlink()
        self.filler = None
        return {"fault": "disk full", "replies": dict(replies), "free bytes while full": free_while_full}

    def topics_unwritable(self, cis: Cis) -> dict:
        (self.data_dir / "topics").mkdir(exist_ok=True)
        for route in ROUTES:
            (self.data_dir / "topics" / f"{route}.jsonl").touch()
        self.immutable = topic_paths(self.data_dir)
        set_immutable(self.immutable, True)
        before = len(cis.events())
        # A new process must open the topic files; the running one holds them open already.
        self.kill_and_restart(cis)
        held = time.monotonic()
        # Held at least --hold seconds, and until a publish has failed (at most three times as long).
        while True:
            failures = [e for e in cis.events()[before:] if e.get("message") == "Message processing failed; retrying later"
                        and e.get("consumer.stage") == "publish"]
            waited = time.monotonic() - held
            if waited >= self.options.hold and (failures or waited >= 3 * self.options.hold):
                break
            time.sleep(0.2)
        set_immutable(self.immutable, False)
        self.immutable = []
        return {"fault": "topics unwritable (chattr +i) + SIGKILL", "publish failures seen": len(failures),
                "seconds": round(waited, 1),
                "first error": failures[0].get("consumer.error", "")[:160] if failures else None}

    def moto_unreachable(self) -> dict:
        self.proxy.down()
        time.sleep(self.options.hold)
        self.proxy.up()
        return {"fault": "moto unreachable (proxy closed)", "seconds": self.options.hold}

    def moto_stopped(self) -> dict:
        os.kill(self.moto.pid, signal.SIGSTOP)
        time.sleep(self.options.hold)
        os.kill(self.moto.pid, signal.SIGCONT)
        return {"fault": "moto stopped (SIGSTOP/SIGCONT)", "seconds": self.options.hold}

    # Run.

    def run(self) -> dict:
        options = self.options
        started = time.monotonic()
        binary = self.binary()
        if os.geteuid() != 0:
            raise SoakEnvironmentError("the soak mounts a tmpfs and uses chattr: run it as root")
        try:
            mount_tmpfs(self.data_dir, options.tmpfs_mb)
            self.mounted = True
            if options.backend == "aws":
                self.moto, moto_port = start_moto(self.work)
                self.proxy = Proxy(moto_port)
                self.world = AWSWorld(moto_port)
            port = unused_loopback_port()
            argv, env = self.cis_command(port)
            cis = Cis(binary, argv, env, self.work, port)
            cis.start()
            ledger = Ledger(options.messages, options.failure_share, options.seed)
            senders = [threading.Thread(target=sender, args=(ledger, port, options.max_attempts, self.stop_senders),
                                        daemon=True) for _ in range(options.senders)]
            for thread in senders:
                thread.start()
            plan = self.plan()
            ledger.move_gate(plan[0][0] + options.senders if plan else options.messages)
            log(f"{options.backend}: {options.messages} messages, {options.senders} senders, faults: "
                + ", ".join(f"{fault}@{threshold}" for threshold, fault in plan))
            deadline = started + options.time_limit
            last_fault_end = time.monotonic()
            timed_out = False
            while any(thread.is_alive() for thread in senders):
                if time.monotonic() > deadline:
                    timed_out = True
                    self.stop_senders.set()
                    break
                if plan and ledger.taken() >= plan[0][0]:
                    threshold, fault = plan.pop(0)
                    # Room for a few messages per sender during this fault, even if the next is close.
                    ledger.move_gate(max(plan[0][0], threshold + 3 * options.senders) + options.senders
                                     if plan else options.messages)
                    at = time.monotonic() - started
                    events_before = len(cis.events())
                    attempts_before = ledger.attempts
                    if fault == "kill":
                        restart = self.kill_and_restart(cis)
                        record = {"fault": "SIGKILL", "restart seconds": round(restart, 2)}
                    elif fault == "disk-full":
                        record = self.disk_full(cis, ledger)
                    elif fault == "topics-unwritable":
                        record = self.topics_unwritable(cis)
                    elif fault == "moto-unreachable":
                        record = self.moto_unreachable()
                    else:
                        record = self.moto_stopped()
                    record.update({"at seconds": round(at, 1), "after messages": threshold,
                                   "SMTP attempts meanwhile": ledger.attempts - attempts_before,
                                   "consumer retries (stage: count)": consumer_retries(cis.events()[events_before:])})
                    self.faults.append(record)
                    log(f"fault: {record}")
                    last_fault_end = time.monotonic()
                    continue
                time.sleep(0.05)
            for thread in senders:
                thread.join(timeout=30)
            sending_done = time.monotonic()
            # Faults still planned (fewer 250s than a threshold, e.g. at a small --messages) run now.
            for _, fault in plan:
                if fault == "kill":
                    self.kill_and_restart(cis)
                    self.faults.append({"fault": "SIGKILL (after sending)"})
            drained, drain_error = self.wait_until_drained(cis, deadline)
            recovered = time.monotonic()
            status = cis.terminate()
            summary = self.verify(ledger, cis)
            summary.update({
                "backend": options.backend, "seconds": round(time.monotonic() - started, 1),
                "sending seconds": round(sending_done - started, 1),
                "recovery seconds (last fault lifted -> queue drained)": round(recovered - last_fault_end, 1),
                "drained": drained, "drain error": drain_error, "timed out": timed_out,
                "cis exit status at SIGTERM": status, "kills": self.kills, "faults": self.faults,
                "work directory": str(self.work)})
            problems = summary["problems"]
            if timed_out:
                problems.append(f"time limit {options.time_limit} s reached before every message was sent")
            if not drained:
                problems.append(f"not drained: {drain_error}")
            if status != 0:
                problems.append(f"cis exited with {status} at SIGTERM")
            self.failed = bool(problems)
            return summary
        finally:
            self.stop_senders.set()
            self.cleanup()

    def wait_until_drained(self, cis: Cis, deadline: float) -> tuple[bool, str | None]:
        drain_deadline = time.monotonic() + self.options.drain_seconds
        next_report = time.monotonic() + 30
        while time.monotonic() < drain_deadline:
            if self.options.backend == "embedded":
                rows = queue_rows(self.data_dir)
                if rows == 0:
                    return True, None
                state = f"{rows} messages in queue.sqlite"
            else:
                counts = self.world.counts(self.world.intake)
                if counts == (0, 0):
                    return True, None
                state = f"intake queue (visible, in flight) = {counts}"
            if cis.process.poll() is not None:
                return False, f"cis exited ({cis.process.returncode}); {state}"
            if time.monotonic() >= next_report:
                log(f"draining: {state}")
                next_report = time.monotonic() + 30
            time.sleep(0.5)
        return False, state

    def verify(self, ledger: Ledger, cis: Cis) -> dict:
        problems: list[str] = []
        sent_uids = {item["uid"]: item["kind"] for item in ledger.items}
        # Published lines, by cis message id.
        lines: list[tuple[str, dict]] = []
        if self.options.backend == "embedded":
            for route in ROUTES:
                path = self.data_dir / "topics" / f"{route}.jsonl"
                if path.exists():
                    for text in path.read_text().splitlines():
                        if text.strip():
                            lines.append((route, json.loads(text)))
        else:
            for route in ROUTES:
                for message in self.world.drain(self.world.subscribers[route]):
                    lines.append((route, json.loads(message["Body"])))
        by_id: dict[str, list[tuple[str, dict]]] = {}
        for route, line in lines:
            by_id.setdefault(published_message_id(line) or "?", []).append((route, line))
        duplicates = {mid: len(found) for mid, found in by_id.items() if len(found) > 1}
        copies_by_uid = Counter(published_original_uid(line) for _, line in lines)
        # Every 250: stored (with its UID) and published exactly once, on the right topic.
        lost, wrong_route, not_stored = [], [], []
        stored_keys = self.stored_keys()
        for uid, message_id in ledger.accepted.items():
            key = f"inbound/{message_id}"
            if key not in stored_keys or uid.encode() not in self.stored_body(key):
                not_stored.append(uid)
            found = by_id.get(message_id, [])
            if not found:
                lost.append(uid)
                continue
            route, line = found[0]
            if sent_uids[uid] == "invite":
                # `update` only when an earlier copy of the same UID (stored, its 250 lost to a
                # kill, sent again by the sender) was published first and entered the event index.
                right = published_original_uid(line) == uid and (
                    route == "create" or (route == "update" and copies_by_uid[uid] > 1))
            else:
                right = route == "failure"
            if not right:
                wrong_route.append((uid, route))
        # Every published line comes from a message that was sent.
        accepted_ids = set(ledger.accepted.values())
        extra = [mid for mid in by_id if mid not in accepted_ids]
        strangers = []
        for mid in extra:
            for route, line in by_id[mid]:
                original = published_original_uid(line)
                if route == "create" and original not in sent_uids:
                    strangers.append(mid)
        dead = self.dead_letters()
        if lost:
            problems.append(f"{len(lost)} messages answered 250 were never published, e.g. {lost[:3]}")
        if not_stored:
            problems.append(f"{len(not_stored)} messages answered 250 are not stored, e.g. {not_stored[:3]}")
        if duplicates:
            problems.append(f"{len(duplicates)} message ids published more than once, e.g. {list(duplicates.items())[:3]}")
        if wrong_route:
            problems.append(f"{len(wrong_route)} messages on the wrong topic, e.g. {wrong_route[:3]}")
        if strangers:
            problems.append(f"{len(strangers)} published lines of messages nobody sent")
        if dead:
            problems.append(f"{len(dead)} dead letters: {dead[:3]}")
        if ledger.given_up:
            problems.append(f"{len(ledger.given_up)} messages never got 250 in {self.options.max_attempts} attempts")
        if ledger.permanent:
            problems.append(f"{len(ledger.permanent)} permanent (5xx) rejections of good messages: {ledger.permanent[:3]}")
        disk_full_replies = Counter()
        for fault in self.faults:
            disk_full_replies.update(fault.get("replies", {}))
        return {
            "messages": len(ledger.items), "of them without a calendar part": sum(1 for k in sent_uids.values() if k != "invite"),
            "attempts": ledger.attempts, "answered 250": len(ledger.accepted),
            "retried (messages)": len(ledger.retried_uids), "outcomes of all attempts": dict(ledger.replies),
            "replies during disk-full episodes": dict(disk_full_replies),
            "published lines": len(lines), "published without a 250 seen by the sender (stored before a kill or "
            "an outage cut the reply; the sender retried)": len(extra),
            "UIDs published from two stored copies (a sender retry after a lost 250)": sum(
                1 for uid, count in copies_by_uid.items() if uid and count > 1),
            "stored objects": len(stored_keys), "lost": len(lost), "duplicates": len(duplicates),
            "dead letters": dead, "given up by senders": len(ledger.given_up), "problems": problems}

    def stored_keys(self) -> set[str]:
        if self.options.backend == "aws":
            return self.world.stored_keys()
        inbound = self.data_dir / "objects" / "inbound"
        return {f"inbound/{path.name}" for path in inbound.iterdir()} if inbound.exists() else set()

    def stored_body(self, key: str) -> bytes:
        if self.options.backend == "aws":
            return self.world.stored_body(key)
        return (self.data_dir / "objects" / key).read_bytes()

    def dead_letters(self) -> list[str]:
        if self.options.backend == "aws":
            return [message["Body"][:200] for message in self.world.drain(self.world.dead_letters)]
        result = subprocess.run([self.binary(), "dlq", "list", "--data-dir", str(self.data_dir)], capture_output=True,
                                text=True, timeout=60, env={k: v for k, v in os.environ.items() if not k.startswith("CIS_")})
        if result.returncode != 0:
            return [f"cis dlq list failed: {result.stderr.strip()}"]
        return [line for line in result.stdout.splitlines() if line.strip()]

    def cleanup(self) -> None:
        if self.immutable:
            set_immutable(self.immutable, False)
        if self.moto is not None:
            try:
                os.kill(self.moto.pid, signal.SIGCONT)
            except OSError:
                pass
        if self.proxy is not None:
            self.proxy.down()
        if self.moto is not None:
            self.moto.terminate()
            try:
                self.moto.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.moto.kill()
        if self.mounted:
            if not self.options.keep:
                unmount(self.data_dir)
            self.mounted = False
        if not self.options.keep and not self.failed:
            shutil.rmtree(self.work, ignore_errors=True)


def consumer_retries(events: list[dict]) -> dict:
    """Transient consumer failures in these log events, by the stage that failed."""
    stages = Counter(event.get("consumer.stage", "?") for event in events
                     if event.get("message") == "Message processing failed; retrying later")
    return dict(stages)


def queue_rows(data_dir: pathlib.Path) -> int:
    """Messages (not dead letters) in the embedded queue."""
    path = data_dir / "queue.sqlite"
    if not path.exists():
        return 0
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=15)
    try:
        return connection.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
    finally:
        connection.close()


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["embedded", "aws"], default="embedded")
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--senders", type=int, default=8)
    parser.add_argument("--kills", type=int, default=10, help="SIGKILLs of cis (besides the one of each topics-unwritable episode)")
    parser.add_argument("--disk-full", type=int, default=2, help="disk-full episodes")
    parser.add_argument("--topic-outages", type=int, default=2,
                        help="embedded: topics-unwritable episodes; aws: moto-unreachable (proxy closed) episodes")
    parser.add_argument("--moto-stops", type=int, default=1, help="aws: SIGSTOP/SIGCONT episodes of moto")
    parser.add_argument("--hold", type=float, default=4.0, help="seconds each disk-full / unwritable / outage episode lasts")
    parser.add_argument("--failure-share", type=float, default=0.02, help="share of messages without a calendar part")
    parser.add_argument("--max-attempts", type=int, default=40, help="attempts per message before a sender gives up")
    parser.add_argument("--tmpfs-mb", type=int, default=64)
    parser.add_argument("--time-limit", type=float, default=900, help="seconds for sending; draining gets at most --drain-seconds more")
    parser.add_argument("--drain-seconds", type=float, default=600,
                        help="seconds for the consumer to empty the queue after sending (moto on a loaded VM is slow)")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--binary", default=None, help="cis binary (default $CIS_BINARY or .build/debug/cis)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs, data) and its tmpfs mounted")
    options = parser.parse_args(argv)
    if options.seed is None:
        options.seed = random.randrange(1 << 30)
    return options


def print_summary(summary: dict) -> None:
    print("\n=== fault soak summary ===")
    for key, value in summary.items():
        if key == "faults":
            print(f"faults injected ({len(value)}):")
            for fault in value:
                print(f"  - {fault}")
        elif key != "problems":
            print(f"{key}: {value}")
    if summary["problems"]:
        print("FAILED:")
        for problem in summary["problems"]:
            print(f"  - {problem}")
    else:
        print("PASSED: every 250 stored and published exactly once; nothing lost, nothing duplicated, no dead letters")


def main(argv: list[str] | None = None) -> int:
    import faulthandler
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    options = parse(argv)
    log(f"seed {options.seed}")
    try:
        summary = Soak(options).run()
    except SoakEnvironmentError as error:
        print(f"fault soak: cannot run here: {error}", file=sys.stderr)
        return 2
    print_summary(summary)
    return 1 if summary["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
