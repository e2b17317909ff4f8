#!/usr/bin/env python3
"""Waits until the embedded queue of a data directory holds no message, then prints the
time (seconds since the epoch) it saw it empty:

    wait_queue_empty.py DATA_DIRECTORY PID DEADLINE_SECONDS

The consumer deletes a message only after everything it published for it is durable, so an
empty queue means every message was processed. Exits 1 when the deadline passes or the
process PID ends first, printing how many messages were left."""
import os
import sqlite3
import sys
import time


def main():
    directory, pid, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    deadline = time.monotonic() + seconds
    connection = sqlite3.connect(f"file:{directory}/queue.sqlite?mode=ro", uri=True, timeout=5)
    left = None
    while time.monotonic() < deadline:
        left = connection.execute("SELECT count(*) FROM messages").fetchone()[0]
        if left == 0:
            print(time.time())
            return
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.02)
    print(f"the queue still holds {left} messages", file=sys.stderr)
    sys.exit(1)


if __name__ == "__main__":
    main()
