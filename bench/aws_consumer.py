#!/usr/bin/env python3
"""AWS-mode consumer throughput: `cis consume --backend aws` draining N preloaded
notifications (the shared corpus's invites repeated, each in the bucket with its S3 event in
the intake queue) against moto_server verifying every SigV4 signature, through
bench/aws_latency_proxy.py adding 0 or 20 ms to every AWS call and counting the calls by
operation. Each named binary (e.g. main's build before a change and the build after it) runs
in each mode in the same run, in turn.

Prints, per run, messages/s from the consumer's start until the intake queue is empty (a
message leaves it only when its publishes are done and it is deleted), CPU per message of
cis, moto and the proxy, and AWS calls per message by operation (DeleteMessage against
DeleteMessageBatch, with the entries per batch call). The sender policy is off (its checks
would ask the system's DNS), the rest is cis's defaults (4 parse workers, 40 messages in flight,
the local publish ledger).

moto is bench/moto_server_for_soak.py (moto_server with a fast clock and a locked
DeleteMessage; see there). The route topics have no subscribers: a publish costs moto
little, and the count of SNS publishes comes from the proxy.

Usage: aws_consumer.py --binary LABEL=PATH[,ARG...] [--binary LABEL=PATH[,ARG...] ...] [--messages 2000]
                       [--delays 0,20] [--corpus DIR] [--rounds 1] [--cis-args ARGS] [--json PATH]
(`make bench-aws-consumer` builds cis in release and runs this against it alone.)
"""
import argparse
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from aws_intake import REGION, Moto, Proxy, cpu_seconds, wait_until  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
ROUTES = {"create": "--topic-create", "update": "--topic-update", "cancel": "--topic-cancel",
          "reply": "--topic-reply", "failure": "--topic-failure"}
DRAIN_TIMEOUT = 1800


def corpus_messages(directory):
    files = sorted(p for p in pathlib.Path(directory).iterdir() if p.suffix == ".eml")
    if not files:
        raise SystemExit(f"aws_consumer: no .eml files in {directory}")
    return [p.read_bytes() for p in files]


class World:
    """The bucket with the objects (put once) and the route topics; a fresh intake queue per run."""

    def __init__(self, moto, corpus, messages):
        self.moto = moto
        self.s3, self.sqs, self.sns = moto.client("s3"), moto.client("sqs"), moto.client("sns")
        self.bucket = f"bench-consumer-{uuid.uuid4().hex[:10]}"
        self.s3.create_bucket(Bucket=self.bucket)
        self.topics = {route: self.sns.create_topic(Name=f"bench-{route}-{uuid.uuid4().hex[:8]}")["TopicArn"]
                       for route in ROUTES}
        self.keys = []
        for index in range(messages):
            key = f"inbound/bench-{index:06d}-{uuid.uuid4().hex[:8]}"
            self.s3.put_object(Bucket=self.bucket, Key=key, Body=corpus[index % len(corpus)],
                               ContentType="message/rfc822", Metadata={"mail-from": "alice@example.com"})
            self.keys.append(key)

    def fill_queue(self):
        """A new intake queue holding one S3 event per object; returns its URL."""
        queue_url = self.sqs.create_queue(QueueName=f"bench-intake-{uuid.uuid4().hex[:10]}",
                                          Attributes={"VisibilityTimeout": "60"})["QueueUrl"]
        bodies = [json.dumps({"Records": [{
            "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": REGION,
            "eventTime": "2026-12-02T08:00:00.000Z", "eventName": "ObjectCreated:Put",
            "s3": {"s3SchemaVersion": "1.0", "bucket": {"name": self.bucket, "arn": f"arn:aws:s3:::{self.bucket}"},
                   "object": {"key": key, "size": 1}}}]}) for key in self.keys]
        for start in range(0, len(bodies), 10):
            self.sqs.send_message_batch(QueueUrl=queue_url, Entries=[
                {"Id": str(i), "MessageBody": body} for i, body in enumerate(bodies[start:start + 10])])
        return queue_url

    def left(self, queue_url):
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def measure(binary, world, proxy, work, label, extra=()):
    queue_url = world.fill_queue()
    messages = len(world.keys)
    assert world.left(queue_url) == messages, "the intake queue holds every notification"
    data_dir = tempfile.mkdtemp(prefix="cis-bench-consume-", dir=work)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CIS_", "AWS_"))}
    env.update({"AWS_ACCESS_KEY_ID": world.moto.key_id, "AWS_SECRET_ACCESS_KEY": world.moto.secret,
                "AWS_REGION": REGION, "AWS_ENDPOINT_URL": proxy.endpoint, "AWS_EC2_METADATA_DISABLED": "true",
                "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent", "AWS_CONFIG_FILE": "/nonexistent"})
    args = [binary, "consume", "--backend", "aws", "--bucket", world.bucket, "--queue-url", queue_url,
            "--data-dir", data_dir, "--poll-wait", "1", "--log-level", "warning",
            # No DNS: the sender checks would ask the system's resolver.
            "--sender-policy", "off", *extra]
    for route, option in ROUTES.items():
        args += [option, world.topics[route]]
    log_path = work / f"consume-{label}-{uuid.uuid4().hex[:6]}.log"
    before = proxy.stats()
    moto_cpu, proxy_cpu = cpu_seconds(world.moto.process.pid), cpu_seconds(proxy.process.pid)
    started = time.monotonic()
    process = subprocess.Popen(args, stdout=open(log_path, "w"), stderr=subprocess.STDOUT, env=env)
    cis_cpu = 0.0
    try:
        deadline = started + DRAIN_TIMEOUT
        while world.left(queue_url) > 0:
            if process.poll() is not None:
                raise SystemExit(f"aws_consumer: {label}: cis exited with {process.returncode}:\n"
                                 + log_path.read_text()[-3000:])
            if time.monotonic() > deadline:
                raise SystemExit(f"aws_consumer: {label}: the queue was not drained within {DRAIN_TIMEOUT} s")
            cis_cpu = cpu_seconds(process.pid)
            time.sleep(0.25)
        elapsed = time.monotonic() - started
        cis_cpu = cpu_seconds(process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=120)
        shutil.rmtree(data_dir, ignore_errors=True)
    moto_cpu = cpu_seconds(world.moto.process.pid) - moto_cpu
    proxy_cpu = cpu_seconds(proxy.process.pid) - proxy_cpu
    after = proxy.stats()
    operations = {name: count - before["operations"].get(name, 0) for name, count in after["operations"].items()}
    operations = {name: count for name, count in operations.items() if count > 0}
    entries = {name: values[len(before["entries"].get(name, [])):] for name, values in after["entries"].items()}
    return {"label": label, "messages": messages, "seconds": elapsed, "rate": messages / elapsed,
            "cis_cpu": cis_cpu, "moto_cpu": moto_cpu, "proxy_cpu": proxy_cpu, "operations": operations,
            "entries": {name: values for name, values in entries.items() if values}}


def describe(row):
    n = row["messages"]
    calls = ", ".join(f"{name} {count / n:.2f}" for name, count in sorted(row["operations"].items()))
    batches = ", ".join(f"{name} {sum(v) / len(v):.1f} entries/call" for name, v in sorted(row["entries"].items())
                        if name != "SendMessageBatch")
    return (f"{row['rate']:7.1f} msgs/s ({n} in {row['seconds']:.1f} s; CPU per message: cis "
            f"{1000 * row['cis_cpu'] / n:.2f} ms, moto {1000 * row['moto_cpu'] / n:.2f} ms, proxy "
            f"{1000 * row['proxy_cpu'] / n:.2f} ms); calls per message: {calls}" + (f"; {batches}" if batches else ""))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--binary", action="append", required=True,
                        help="LABEL=PATH[,ARG...]: a cis binary and arguments of its own (repeatable)")
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--delays", default="0,20", help="milliseconds added to every AWS call, one run each")
    parser.add_argument("--corpus", default=os.path.join(os.environ.get("CIS_SHARED_DIR", "/work/shared"), "corpus/imip"))
    parser.add_argument("--rounds", type=int, default=1, help="runs of each binary in each mode (alternating)")
    parser.add_argument("--cis-args", default="", help="more arguments for every cis consume, e.g. "
                        "'--consumer-concurrency 8'")
    parser.add_argument("--json", help="also write the results here")
    options = parser.parse_args()
    binaries = []
    for spec in options.binary:
        label, sep, rest = spec.partition("=")
        path, *arguments = rest.split(",")
        if not sep or not os.access(path, os.X_OK):
            raise SystemExit(f"aws_consumer: --binary {spec!r}: LABEL=PATH[,ARG...] of an executable cis")
        binaries.append((label, path, arguments))
    delays = [float(d) for d in options.delays.split(",")]

    work = pathlib.Path(tempfile.mkdtemp(prefix="cis-bench-aws-consumer-"))
    moto = Moto(work, command=(sys.executable, str(ROOT / "bench/moto_server_for_soak.py")))
    proxies = {}
    rows = []
    try:
        for delay in delays:
            proxies[delay] = Proxy(work, moto.endpoint, delay)
        loaded = time.monotonic()
        world = World(moto, corpus_messages(options.corpus), options.messages)
        print(f"preloaded {options.messages} objects in {time.monotonic() - loaded:.1f} s", flush=True)
        for round_number in range(options.rounds):
            for delay in delays:
                for label, path, arguments in binaries:
                    row = measure(path, world, proxies[delay], work, label, [*options.cis_args.split(), *arguments])
                    row["delay_ms"] = delay
                    row["round"] = round_number + 1
                    rows.append(row)
                    print(f"{label:>10} +{delay:g} ms: {describe(row)}", flush=True)
    finally:
        for proxy in proxies.values():
            proxy.stop()
        moto.stop()
    print()
    print("| binary | added latency | msgs/s | × first binary | AWS calls per message | DeleteMessage per message "
          "| DeleteMessageBatch per message (entries per call) | ReceiveMessage per message |")
    print("|---|---|---|---|---|---|---|---|")
    for delay in delays:
        for label, _, _ in binaries:
            mine = [r for r in rows if r["label"] == label and r["delay_ms"] == delay]
            first = [r for r in rows if r["label"] == binaries[0][0] and r["delay_ms"] == delay]
            rate = sorted(r["rate"] for r in mine)[len(mine) // 2]
            first_rate = sorted(r["rate"] for r in first)[len(first) // 2]
            row = mine[0]
            n = row["messages"]
            ops = row["operations"]
            batch = row["entries"].get("DeleteMessageBatch", [])
            print(f"| {label} | {delay:g} ms | {rate:.1f} | {rate / first_rate:.2f} | {sum(ops.values()) / n:.2f} | "
                  f"{ops.get('DeleteMessage', 0) / n:.2f} | {ops.get('DeleteMessageBatch', 0) / n:.2f}"
                  + (f" ({sum(batch) / len(batch):.1f})" if batch else "") + f" | {ops.get('ReceiveMessage', 0) / n:.2f} |")
    if options.json:
        pathlib.Path(options.json).write_text(json.dumps(rows, indent=2))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
