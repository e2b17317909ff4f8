"""Throughput with Postfix's smtp-source as the client.

A cell is S sessions at once, each carrying M messages before QUIT. M = 1 is one
`smtp-source -s S -m N` (every message on a new connection); M > 1 runs rounds of
`smtp-source -d -s S -m S*M` (each of the S connections carries about M messages) until N
messages were sent. The rate is messages over the wall-clock time of the smtp-source
processes."""

import subprocess
import time

SMTP_SOURCE = "/usr/sbin/smtp-source"


class SourceFailed(RuntimeError):
    pass


def cell_message_count(sessions, per_session, at_least):
    """N: at least `at_least`, a whole number of rounds of sessions × per_session."""
    round_size = sessions * per_session
    rounds = max(1, -(-at_least // round_size))
    return rounds * round_size


def _source(port, sessions, count, size, keep_connection, timeout):
    argv = [SMTP_SOURCE, "-s", str(sessions), "-m", str(count), "-l", str(size),
            "-f", "bench@example.com", "-t", "create@localhost", "-M", "bench.test"]
    if keep_connection:
        argv.append("-d")
    argv.append(f"127.0.0.1:{port}")
    result = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
    if result.returncode != 0 or result.stderr.strip():
        raise SourceFailed(f"{' '.join(argv)}: exit {result.returncode}: {result.stderr.decode(errors='replace')[-500:]}")


def measure_cell(port, sessions, per_session, size, messages, timeout=300):
    """Messages per second for one cell; raises SourceFailed on any SMTP error."""
    count = cell_message_count(sessions, per_session, messages)
    started = time.monotonic()
    deadline = started + timeout
    if per_session == 1:
        _source(port, sessions, count, size, False, timeout)
    else:
        round_size = sessions * per_session
        for _ in range(count // round_size):
            _source(port, sessions, round_size, size, True, max(1, deadline - time.monotonic()))
    elapsed = time.monotonic() - started
    return {"messages": count, "seconds": elapsed, "rate": count / elapsed}
