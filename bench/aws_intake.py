#!/usr/bin/env python3
"""AWS-mode intake throughput: `cis smtp --backend aws` against moto_server (verifying every
SigV4 signature), directly and through bench/aws_latency_proxy.py adding 20 ms to every AWS
call, at 1, 20 and 100 SMTP sessions (Postfix's smtp-source, 10 KB messages, one session
per connection sending its share of the messages).

moto is a Python server on one core: beside each cis run the same run measures moto's
ceiling, a parallel boto3 loop doing what the intake does per message (one PutObject of the
same size, one SendMessageBatch per 10 messages) at the same concurrency, and prints cis as
a ratio of it. Every run checks that each message it sent is in the bucket and its
notification in the queue. A third run per session count goes to a "null AWS": the proxy
answers PutObject and SendMessageBatch itself after the same delay, storing nothing (it
counts what it answered instead), which shows what cis does beyond moto's ceiling.

Usage: aws_intake.py [--cis .build/release/cis] [--sessions 1,20,100] [--size 10240]
                     [--delay-ms 20] [--messages-per-session 10] [--min-messages 100]
(`make bench-aws` builds cis in release and runs this.)
"""
import argparse
import concurrent.futures
import json
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid

ROOT = pathlib.Path(__file__).resolve().parents[1]
REGION = "us-east-1"
CLK = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise SystemExit(f"aws_intake: {what} did not happen within {timeout} s")


def cpu_seconds(pid):
    """User + system CPU of a process and its threads so far."""
    fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK


class Moto:
    """moto_server on a loopback port, verifying signatures with an IAM user's keys."""

    def __init__(self, work, command=("moto_server",)):
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.log = open(work / "moto.log", "w")
        env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "3"}
        self.process = subprocess.Popen([*command, "-H", "127.0.0.1", "-p", str(self.port)],
                                        stdout=self.log, stderr=subprocess.STDOUT, env=env)

        def up():
            try:
                urllib.request.urlopen(self.endpoint + "/moto-api/data.json", timeout=1)
                return True
            except OSError:
                return False

        wait_until(up, 60, "moto_server start")
        keys = subprocess.run([sys.executable, str(ROOT / "scripts/moto_iam_user.py"), self.endpoint],
                              capture_output=True, text=True, check=True, timeout=120).stdout
        values = dict(part.split("=", 1) for part in keys.replace("export ", "").split())
        self.key_id = values["AWS_ACCESS_KEY_ID"].strip("'")
        self.secret = values["AWS_SECRET_ACCESS_KEY"].strip("'")

    def client(self, service, endpoint=None):
        import boto3
        import botocore.config

        return boto3.client(service, endpoint_url=endpoint or self.endpoint, region_name=REGION,
                            aws_access_key_id=self.key_id, aws_secret_access_key=self.secret,
                            config=botocore.config.Config(max_pool_connections=200, retries={"max_attempts": 1}))

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=20)


class Proxy:
    def __init__(self, work, upstream, delay_ms, answers_locally=False):
        self.answers_locally = answers_locally
        port_file = work / f"proxy-{delay_ms}-{answers_locally}.port"
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "bench/aws_latency_proxy.py"), "--upstream", upstream,
             "--delay-ms", str(delay_ms), "--port-file", str(port_file), "--lifetime", "7200",
             *(["--answer-locally"] if answers_locally else [])],
            stderr=open(work / f"proxy-{answers_locally}.log", "w"))
        wait_until(port_file.exists, 20, "proxy start")
        self.endpoint = f"http://127.0.0.1:{port_file.read_text()}"

    def stats(self):
        with urllib.request.urlopen(self.endpoint + "/__proxy__/stats", timeout=10) as response:
            return json.loads(response.read())

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=20)


def new_stack(moto):
    s3, sqs = moto.client("s3"), moto.client("sqs")
    bucket = f"bench-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    queue_url = sqs.create_queue(QueueName=f"bench-{uuid.uuid4().hex[:12]}")["QueueUrl"]
    return bucket, queue_url


def stored_counts(moto, bucket, queue_url):
    s3, sqs = moto.client("s3"), moto.client("sqs")
    objects = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        objects += page.get("KeyCount", 0)
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"])
    return objects, int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def ceiling_worker(arguments):
    """One process of the boto3 loop: `threads` workers, each PutObject then, per 10 of its
    puts, one SendMessageBatch of 10 notification-sized bodies. Returns messages done."""
    endpoint, key_id, secret, bucket, queue_url, threads, per_thread, size, start_at = arguments
    import boto3
    import botocore.config

    # moto queues 100 connections' requests on one core: generous timeouts, the SDK's retries.
    config = botocore.config.Config(max_pool_connections=threads + 4, read_timeout=300, connect_timeout=60,
                                    retries={"max_attempts": 3, "mode": "standard"})
    session = boto3.session.Session()
    s3 = session.client("s3", endpoint_url=endpoint, region_name=REGION, aws_access_key_id=key_id,
                        aws_secret_access_key=secret, config=config)
    sqs = session.client("sqs", endpoint_url=endpoint, region_name=REGION, aws_access_key_id=key_id,
                         aws_secret_access_key=secret, config=config)
    body = b"x" * size
    notification = "n" * 1400
    prefix = uuid.uuid4().hex[:8]

    def loop(thread):
        for index in range(per_thread):
            s3.put_object(Bucket=bucket, Key=f"ceiling/{prefix}-{thread}-{index}", Body=body)
            if index % 10 == 9 or index == per_thread - 1:
                count = index % 10 + 1
                sqs.send_message_batch(QueueUrl=queue_url, Entries=[
                    {"Id": str(i), "MessageBody": notification} for i in range(count)])
        return per_thread

    while time.time() < start_at:
        time.sleep(0.005)
    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        return sum(pool.map(loop, range(threads)))


def measure_ceiling(moto, endpoint, concurrency, messages, size):
    """Messages/s of the boto3 loop: several processes (boto3 is CPU-heavy under one GIL)."""
    bucket, queue_url = new_stack(moto)
    processes = min(4, concurrency)
    threads = concurrency // processes
    per_thread = max(1, messages // (processes * threads))
    start_at = time.time() + 3  # after every process has imported boto3 and built its clients
    arguments = [(endpoint, moto.key_id, moto.secret, bucket, queue_url, threads, per_thread, size, start_at)] * processes
    moto_cpu = cpu_seconds(moto.process.pid)
    with concurrent.futures.ProcessPoolExecutor(processes) as pool:
        futures = [pool.submit(ceiling_worker, a) for a in arguments]
        done = sum(f.result() for f in futures)
    elapsed = time.time() - start_at
    return {"messages": done, "seconds": elapsed, "rate": done / elapsed,
            "moto_cpu": cpu_seconds(moto.process.pid) - moto_cpu}


def measure_cis(cis, moto, endpoint, sessions, messages, size, work, proxy=None, window=None):
    bucket, queue_url = new_stack(moto)
    port = free_port()
    data_dir = tempfile.mkdtemp(prefix="cis-bench-aws-", dir=work)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CIS_", "AWS_"))}
    env.update({"AWS_ACCESS_KEY_ID": moto.key_id, "AWS_SECRET_ACCESS_KEY": moto.secret, "AWS_REGION": REGION,
                "AWS_ENDPOINT_URL": endpoint, "AWS_EC2_METADATA_DISABLED": "true",
                "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent", "AWS_CONFIG_FILE": "/nonexistent"})
    log = open(work / f"cis-{sessions}-{port}.log", "w")
    process = subprocess.Popen(
        [cis, "smtp", "--listen", f"127.0.0.1:{port}", "--hostname", "bench.test", "--data-dir", data_dir,
         "--backend", "aws", "--bucket", bucket, "--queue-url", queue_url,
         "--max-connections-per-ip", "1000", "--max-connections", "2000",
         *(["--queue-batch-window", window] if window else [])],
        stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        def listening():
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return True
            except OSError:
                return False

        wait_until(listening, 60, "cis start")
        before = proxy.stats() if proxy else None
        cis_cpu, moto_cpu = cpu_seconds(process.pid), cpu_seconds(moto.process.pid)
        proxy_cpu = cpu_seconds(proxy.process.pid) if proxy else 0.0
        started = time.monotonic()
        result = subprocess.run(
            ["smtp-source", "-s", str(sessions), "-m", str(messages), "-l", str(size), "-d",
             "-f", "alice@example.com", "-t", "create@localhost", "-M", "client.test", f"127.0.0.1:{port}"],
            capture_output=True, text=True, timeout=900)
        elapsed = time.monotonic() - started
        cis_cpu, moto_cpu = cpu_seconds(process.pid) - cis_cpu, cpu_seconds(moto.process.pid) - moto_cpu
        proxy_cpu = cpu_seconds(proxy.process.pid) - proxy_cpu if proxy else 0.0
        after = proxy.stats() if proxy else None
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
        shutil.rmtree(data_dir, ignore_errors=True)
    if proxy is not None and proxy.answers_locally:
        # Nothing reached moto: count what the null endpoint answered.
        objects = after["operations"].get("PutObject", 0) - before["operations"].get("PutObject", 0)
        queued = sum(after["batch_entries"][len(before["batch_entries"]):]) + (
            after["operations"].get("SendMessage", 0) - before["operations"].get("SendMessage", 0))
    else:
        objects, queued = stored_counts(moto, bucket, queue_url)
    if result.returncode != 0 or objects != messages or queued != messages:
        raise SystemExit(f"aws_intake: {sessions} sessions: smtp-source exit {result.returncode}, "
                         f"{objects} objects and {queued} notifications for {messages} messages\n{result.stderr[-2000:]}")
    row = {"messages": messages, "seconds": elapsed, "rate": messages / elapsed,
           "cis_cpu": cis_cpu, "moto_cpu": moto_cpu, "proxy_cpu": proxy_cpu}
    if before is not None:
        entries = after["batch_entries"][len(before["batch_entries"]):]
        row["batch_calls"] = len(entries)
        row["entries_per_batch"] = sum(entries) / len(entries) if entries else 0.0
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cis", default=str(ROOT / ".build/release/cis"))
    parser.add_argument("--sessions", default="1,20,100")
    parser.add_argument("--size", type=int, default=10240)
    parser.add_argument("--delay-ms", type=float, default=20.0)
    parser.add_argument("--messages-per-session", type=int, default=10)
    parser.add_argument("--min-messages", type=int, default=100)
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--modes", default="direct,delayed,null", help="which of direct,delayed,null to run "
                        "(the summary table needs all three)")
    parser.add_argument("--window", help="--queue-batch-window for cis (default: cis's own)")
    options = parser.parse_args()
    if shutil.which("smtp-source") is None:
        raise SystemExit("aws_intake: smtp-source not found: install Postfix's tools (apt-get install postfix)")
    if not os.access(options.cis, os.X_OK):
        raise SystemExit(f"aws_intake: {options.cis} is not an executable: swift build -c release --product cis")
    sessions_list = [int(s) for s in options.sessions.split(",")]

    work = pathlib.Path(tempfile.mkdtemp(prefix="cis-bench-aws-"))
    moto = Moto(work)
    proxy = Proxy(work, moto.endpoint, options.delay_ms)
    null = Proxy(work, moto.endpoint, options.delay_ms, answers_locally=True)
    delayed = f"+{options.delay_ms:g} ms"
    rows = []
    try:
        for sessions in sessions_list:
            messages = max(options.min_messages, sessions * options.messages_per_session)
            for mode, endpoint, through in (("direct", moto.endpoint, None), (delayed, proxy.endpoint, proxy),
                                            ("null " + delayed, null.endpoint, null)):
                if {None: "direct", proxy: "delayed", null: "null"}[through] not in options.modes.split(","):
                    continue
                ceiling = None if through is null else measure_ceiling(moto, endpoint, sessions, messages, options.size)
                cis = measure_cis(options.cis, moto, endpoint, sessions, messages, options.size, work, through,
                                  options.window)
                rows.append({"sessions": sessions, "mode": mode, "cis": cis, "ceiling": ceiling})
                print(f"{sessions:>4} sessions {mode:>14}: cis {cis['rate']:7.1f} msgs/s "
                      f"({cis['messages']} in {cis['seconds']:.2f} s, cis CPU {1000 * cis['cis_cpu'] / cis['messages']:.2f} ms/msg, "
                      f"moto CPU {1000 * cis['moto_cpu'] / cis['messages']:.2f} ms/msg, "
                      f"proxy CPU {1000 * cis['proxy_cpu'] / cis['messages']:.2f} ms/msg"
                      + (f", {cis['batch_calls']} SendMessageBatch of {cis['entries_per_batch']:.1f}" if "batch_calls" in cis else "")
                      + (f"); boto3 ceiling {ceiling['rate']:7.1f} msgs/s" if ceiling else ")"), flush=True)
    finally:
        null.stop()
        proxy.stop()
        moto.stop()

    if options.modes != "direct,delayed,null":
        shutil.rmtree(work, ignore_errors=True)
        return
    print()
    print(f"| sessions | cis direct | cis {delayed} | {delayed} / direct | moto ceiling direct | "
          f"moto ceiling {delayed} | cis / ceiling direct | cis / ceiling {delayed} | cis, null AWS {delayed} |")
    print("|---|---|---|---|---|---|---|---|---|")
    for sessions in sessions_list:
        direct, slow, null_row = [r for r in rows if r["sessions"] == sessions]
        print(f"| {sessions} | {direct['cis']['rate']:.0f} | {slow['cis']['rate']:.0f} | "
              f"{slow['cis']['rate'] / direct['cis']['rate']:.2f} | {direct['ceiling']['rate']:.0f} | "
              f"{slow['ceiling']['rate']:.0f} | {direct['cis']['rate'] / direct['ceiling']['rate']:.2f} | "
              f"{slow['cis']['rate'] / slow['ceiling']['rate']:.2f} | {null_row['cis']['rate']:.0f} |")
    if options.json:
        pathlib.Path(options.json).write_text(json.dumps(rows, indent=2))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
