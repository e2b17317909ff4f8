"""Connection limits and timeouts (421 replies)."""
import time


def test_per_ip_connection_limit(start_cis, raw_smtp):
    cis = start_cis("--max-connections-per-ip", "2")
    first, second = raw_smtp(cis.port), raw_smtp(cis.port)
    assert first.read_code() == "220"
    assert second.read_code() == "220"
    third = raw_smtp(cis.port)
    code, text = third.read_reply()
    assert code == 421 and text.startswith("421 4.7.0"), text
    assert third.closed_by_server()
    # A closed connection frees its place.
    first.send("QUIT\r\n")
    assert first.read_code() == "221 2.0.0"
    assert first.closed_by_server()
    deadline = time.monotonic() + 10
    while True:
        fourth = raw_smtp(cis.port)
        if fourth.read_code() == "220":
            break
        assert time.monotonic() < deadline, "the freed place was never reused"
        time.sleep(0.05)


def test_total_connection_limit(start_cis, raw_smtp):
    cis = start_cis("--max-connections", "1")
    first = raw_smtp(cis.port)
    assert first.read_code() == "220"
    second = raw_smtp(cis.port)
    assert second.read_code() == "421 4.7.0"
    assert second.closed_by_server()


def test_idle_command_timeout(start_cis, raw_smtp):
    cis = start_cis("--command-timeout", "1")
    client = raw_smtp(cis.port)
    assert client.read_code() == "220"
    client.send("EHLO client.example\r\n")
    assert client.read_code() == "250"
    started = time.monotonic()
    assert client.read_code() == "421 4.4.2"
    assert 0.5 < time.monotonic() - started < 5
    assert client.closed_by_server()


def test_data_timeout(start_cis, raw_smtp):
    cis = start_cis("--data-timeout", "1", "--command-timeout", "30")
    client = raw_smtp(cis.port)
    assert client.read_code() == "220"
    client.send("EHLO client.example\r\nMAIL FROM:<organizer@example.com>\r\nRCPT TO:<create@localhost>\r\nDATA\r\n")
    assert [client.read_code() for _ in range(4)] == ["250", "250 2.1.0", "250 2.1.5", "354"]
    client.send("Subject: stalled\r\n\r\nhalf a message")
    assert client.read_code() == "421 4.4.2"
    assert client.closed_by_server()
    assert cis.queue_rows() == []
