"""`cis smtp --backend aws` gathering notifications into SQS SendMessageBatch calls, against
moto_server verifying every signature ($CIS_TEST_MOTO_ENDPOINT, started by `make test`), through
bench/aws_latency_proxy.py, which passes every request to moto unchanged, counts the calls by
operation, and can report chosen batch entries as failed."""
import json
import os
import pathlib
import smtplib
import subprocess
import threading
import time
import urllib.request

import pytest

from conftest import queued_id
from test_aws_intake import Stack, aws_env

ROOT = pathlib.Path(__file__).resolve().parents[2]
PROXY = ROOT / "bench" / "aws_latency_proxy.py"
# The event names the client's address: the proxy picks the session to fail by it.
FAILING_CLIENT = "127.0.0.2"
FAILING_MARKER = f'"sourceIPAddress":"{FAILING_CLIENT}"'


@pytest.fixture(scope="module")
def moto():
    endpoint = os.environ.get("CIS_TEST_MOTO_ENDPOINT")
    if not endpoint:
        pytest.fail("CIS_TEST_MOTO_ENDPOINT is not set: run `make test` (it starts moto_server), "
                    "or start `moto_server -H 127.0.0.1 -p <port>` and export CIS_TEST_MOTO_ENDPOINT")
    return endpoint


@pytest.fixture
def proxy(moto, tmp_path):
    """Starts aws_latency_proxy.py in front of moto with extra arguments; returns its URL."""
    processes = []

    def start(*args):
        port_file = tmp_path / f"proxy-{len(processes)}.port"
        process = subprocess.Popen(["python3", str(PROXY), "--upstream", moto, "--delay-ms", "0",
                                    "--port-file", str(port_file), "--lifetime", "600", *args])
        processes.append(process)
        deadline = time.monotonic() + 20
        while not port_file.exists():
            assert process.poll() is None, "the proxy exited"
            assert time.monotonic() < deadline, "the proxy did not start"
            time.sleep(0.05)
        return f"http://127.0.0.1:{port_file.read_text()}"

    yield start
    for process in processes:
        process.terminate()
        process.wait(timeout=10)


def proxy_stats(url):
    with urllib.request.urlopen(url + "/__proxy__/stats", timeout=10) as response:
        return json.loads(response.read())


def deliver_together(server, sources):
    """One session per source address, each up to its DATA, then all ending DATA at once;
    returns [(source, code, reply)] in the order of `sources`."""
    barrier = threading.Barrier(len(sources), timeout=60)
    results = [None] * len(sources)

    def session(index, source):
        try:
            with smtplib.SMTP(server.host, server.port, timeout=60, source_address=(source, 0)) as smtp:
                smtp.ehlo("client.test")
                smtp.mail("alice@example.com")
                smtp.rcpt("create@localhost")
                barrier.wait()
                code, reply = smtp.data(f"Subject: batch {index}\r\n\r\nhello {index}\r\n".encode())
                results[index] = (source, code, reply.decode())
        except Exception as error:  # reported below, with the session it happened in
            results[index] = (source, None, repr(error))

    threads = [threading.Thread(target=session, args=(i, s)) for i, s in enumerate(sources)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert all(r is not None and r[1] is not None for r in results), results
    return results


def queued_events(stack, expected, timeout=30):
    """Every notification in the stack's queue, once at least `expected` arrived (then drained)."""
    events = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        batch = stack.receive(stack.queue_url, wait=1)
        for message in batch:
            events.append(json.loads(message["Body"])["Records"][0])
            stack.sqs.delete_message(QueueUrl=stack.queue_url, ReceiptHandle=message["ReceiptHandle"])
        if len(events) >= expected and not batch:
            break
    return events


def event_keys(events):
    return sorted(e["s3"]["object"]["key"] for e in events)


def test_concurrent_deliveries_share_one_send_message_batch(moto, proxy, start_cis):
    stack = Stack(moto)
    url = proxy()
    # A window far longer than ten parallel puts take: the tenth notification fills the batch,
    # which leaves at once (full), not when the window ends.
    server = start_cis(*stack.args("--queue-batch-window", "1000"), env=aws_env(url), command="smtp")
    results = deliver_together(server, ["127.0.0.1"] * 10)
    assert [code for _, code, _ in results] == [250] * 10, results

    stats = proxy_stats(url)
    assert stats["operations"].get("PutObject") == 10, stats
    assert stats["operations"].get("SendMessageBatch") == 1, stats
    assert stats["batch_entries"] == [10], stats
    assert "SendMessage" not in stats["operations"], stats

    keys = sorted(f"inbound/{queued_id(reply)}" for _, _, reply in results)
    assert sorted(stack.keys()) == keys
    assert event_keys(queued_events(stack, 10)) == keys, "every notification arrives exactly once"


def test_window_zero_sends_each_notification_with_send_message(moto, proxy, start_cis):
    stack = Stack(moto)
    url = proxy()
    server = start_cis(*stack.args("--queue-batch-window", "0"), env=aws_env(url), command="smtp")
    results = deliver_together(server, ["127.0.0.1"] * 3)
    assert [code for _, code, _ in results] == [250] * 3, results
    stats = proxy_stats(url)
    assert stats["operations"].get("SendMessage") == 3, stats
    assert "SendMessageBatch" not in stats["operations"], stats
    keys = sorted(f"inbound/{queued_id(reply)}" for _, _, reply in results)
    assert event_keys(queued_events(stack, 3)) == keys


def test_an_entry_failed_by_sqs_is_451_for_its_session_only(moto, proxy, start_cis):
    stack = Stack(moto)
    url = proxy("--fail-entry-containing", FAILING_MARKER)
    server = start_cis(*stack.args("--queue-batch-window", "1000"), env=aws_env(url), command="smtp")
    sources = ["127.0.0.1", FAILING_CLIENT, "127.0.0.1", "127.0.0.1", "127.0.0.1"]
    results = deliver_together(server, sources)

    assert [(source, code) for source, code, _ in results] == [
        ("127.0.0.1", 250), (FAILING_CLIENT, 451), ("127.0.0.1", 250), ("127.0.0.1", 250), ("127.0.0.1", 250)], results
    assert results[1][2].startswith("4.3.0"), results[1]
    stats = proxy_stats(url)
    assert stats["batch_entries"] == [5], stats
    assert stats["failed_entries"] == 1, stats

    # The proxy only rewrote the answer: moto holds the failed session's notification too.
    events = queued_events(stack, 5)
    accepted = sorted(f"inbound/{queued_id(reply)}" for _, code, reply in results if code == 250)
    assert event_keys([e for e in events if e["requestParameters"]["sourceIPAddress"] != FAILING_CLIENT]) == accepted
    assert len(events) == 5, events


def test_an_entry_failed_with_a_server_fault_is_sent_again_and_accepted(moto, proxy, start_cis):
    stack = Stack(moto)
    url = proxy("--fail-entry-containing", FAILING_MARKER, "--fail-entry-retryable", "--fail-entry-times", "1")
    server = start_cis(*stack.args("--queue-batch-window", "1000"), env=aws_env(url), command="smtp")
    sources = [FAILING_CLIENT, "127.0.0.1", "127.0.0.1"]
    results = deliver_together(server, sources)
    assert [code for _, code, _ in results] == [250, 250, 250], results

    stats = proxy_stats(url)
    assert stats["failed_entries"] == 1, stats
    # The retry travels in a batch of its own, after the first batch answered.
    assert stats["batch_entries"] == [3, 1], stats
    events = queued_events(stack, 4)
    retried = f"inbound/{queued_id(results[0][2])}"
    # Once as the proxy's falsely failed entry, once as the retry: at least once, never lost.
    assert event_keys(events).count(retried) == 2
    others = sorted(f"inbound/{queued_id(reply)}" for _, _, reply in results[1:])
    assert [k for k in event_keys(events) if k != retried] == others
