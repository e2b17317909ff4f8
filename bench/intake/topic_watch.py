"""Watches a cis data directory's JSONL topics and notes when each event first appears,
keyed by its request id (the `uid` message attribute: the id the 250 named)."""

import json
import pathlib
import threading
import time


class TopicWatch(threading.Thread):
    def __init__(self, topics_dir, interval=0.002):
        super().__init__(daemon=True)
        self.topics_dir = pathlib.Path(topics_dir)
        self.interval = interval
        self.seen = {}
        self.offsets = {}
        self.partial = {}
        self.halt = threading.Event()

    def run(self):
        while not self.halt.is_set():
            self.poll()
            time.sleep(self.interval)
        self.poll()

    def poll(self):
        if not self.topics_dir.is_dir():
            return
        now = time.monotonic()
        for path in self.topics_dir.glob("*.jsonl"):
            with open(path, "rb") as topic:
                topic.seek(self.offsets.get(path, 0))
                data = topic.read()
            if not data:
                continue
            self.offsets[path] = self.offsets.get(path, 0) + len(data)
            data = self.partial.pop(path, b"") + data
            lines = data.split(b"\n")
            if lines[-1]:
                self.partial[path] = lines[-1]
            for line in lines[:-1]:
                try:
                    uid = json.loads(line)["MessageAttributes"]["uid"]["Value"]
                except (ValueError, KeyError, TypeError):
                    continue
                self.seen.setdefault(uid, now)

    def wait_for(self, ids, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(i in self.seen for i in ids):
                return True
            time.sleep(0.05)
        return False

    def stop(self):
        self.halt.set()
        self.join(timeout=5)
