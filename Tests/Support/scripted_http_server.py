#!/usr/bin/env python3
"""A loopback HTTP/1.1 server that answers from a script, for the AWS tests.

Usage: scripted_http_server.py <plan.json> <log.jsonl> <port-file>
Writes the port to <port-file> (atomically) once listening on 127.0.0.1. The plan is a list of rules:
  {"method": "GET", "path": "/x", "times": 2, "status": 503, "headers": {...}, "body": "...",
   "delay": 0.0, "proxy": "http://127.0.0.1:<port>"}
A request takes the first rule with matching method and path (path "*" matches any) whose
"times" is not used up (no "times": unlimited). With "proxy" the request is forwarded there
unchanged and the upstream answer returned. Unmatched requests get 599. Every request is
appended to the log: method, path, headers, body length and SHA-256, client port.
Exits by itself after 300 seconds (SIGTERM ends it sooner).
"""
import hashlib, http.client, json, signal, sys, threading, time, urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# A child of a Swift test inherits that thread's blocked signals: let SIGTERM stop us again.
signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])

plan = json.load(open(sys.argv[1]))
log_path = sys.argv[2]
lock = threading.Lock()
for rule in plan:
    rule.setdefault("used", 0)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle_any(self):
        length = int(self.headers.get("Content-Length", "0") or 0)
        body = self.rfile.read(length) if length else b""
        with lock:
            with open(log_path, "a") as log:
                log.write(json.dumps({
                    "method": self.command, "path": self.path,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body_length": len(body), "body_sha256": hashlib.sha256(body).hexdigest(),
                    "body": body[:4096].decode("utf-8", "replace"),
                    "client_port": self.client_address[1],
                }) + "\n")
            rule = None
            for candidate in plan:
                if candidate.get("method", self.command) != self.command:
                    continue
                if candidate.get("path", "*") not in ("*", self.path.split("?")[0]):
                    continue
                if "times" in candidate and candidate["used"] >= candidate["times"]:
                    continue
                candidate["used"] += 1
                rule = candidate
                break
        if rule is None:
            self.answer(599, {}, b"no rule")
            return
        if rule.get("delay"):
            time.sleep(rule["delay"])
        if "proxy" in rule:
            upstream = urllib.parse.urlsplit(rule["proxy"])
            connection = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=60)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection",)}
            connection.request(self.command, self.path, body=body, headers=headers)
            response = connection.getresponse()
            payload = response.read()
            passed = {k: v for k, v in response.getheaders()
                      if k.lower() not in ("content-length", "connection", "transfer-encoding", "date", "server")}
            self.answer(response.status, passed, payload)
            connection.close()
            return
        self.answer(rule.get("status", 200), rule.get("headers", {}), rule.get("body", "").encode())

    def answer(self, status, headers, payload):
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = handle_any


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
threading.Timer(300, server.shutdown).start()
import os
with open(sys.argv[3] + ".tmp", "w") as port_file:
    port_file.write(str(server.server_address[1]))
os.rename(sys.argv[3] + ".tmp", sys.argv[3])
server.serve_forever()
