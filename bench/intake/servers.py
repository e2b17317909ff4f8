"""The servers under test, each a child process on 127.0.0.1 with a port of its own:
cis (release build, embedded backends), Postfix's smtp-sink (stores nothing) and the
fsync'ing aiosmtpd peer. Each can report its resident memory and is stopped by its pid."""

import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
SMTP_SINK = "/usr/sbin/smtp-sink"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port, process, name, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.settimeout(2)
                if sock.recv(64).startswith(b"220"):
                    sock.sendall(b"QUIT\r\n")
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{name} did not answer on port {port} within {timeout} s")


class Server:
    name = "server"
    process = None
    port = None

    def rss_kib(self):
        try:
            with open(f"/proc/{self.process.pid}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except OSError:
            pass
        return 0

    def stop(self, timeout=30):
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class Cis(Server):
    """`cis smtp` (intake only) or `cis serve` (intake and consumer in one process)."""

    name = "cis"

    def __init__(self, binary, data_dir, log_path, command="smtp", tls=None, extra=()):
        self.data_dir = pathlib.Path(data_dir)
        self.log_path = pathlib.Path(log_path)
        self.log = open(self.log_path, "wb")
        env = {k: v for k, v in os.environ.items() if not k.startswith("CIS_")}
        argv = [binary, command, "--listen", "127.0.0.1:0", "--hostname", "bench.test",
                "--data-dir", str(self.data_dir), "--log-format", "json",
                "--max-connections", "20000", "--max-connections-per-ip", "20000"]
        if tls:
            argv += ["--tls-cert", str(tls[0]), "--tls-key", str(tls[1])]
        argv += list(extra)
        self.argv = argv
        self.process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=self.log, env=env)
        self.port = self._port_from_log()
        wait_for_port(self.port, self.process, "cis")

    def _port_from_log(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.log_path.read_bytes().splitlines():
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                if event.get("message") == "listening":
                    return int(event["smtp.listen.port"])
            if self.process.poll() is not None:
                raise RuntimeError(f"cis exited ({self.process.returncode}): {self.log_path.read_text()[-2000:]}")
            time.sleep(0.05)
        raise RuntimeError(f"cis did not listen within {timeout} s")

    def stop(self, timeout=30):
        super().stop(timeout)
        self.log.close()


class SmtpSink(Server):
    """Postfix's smtp-sink: answers every command, stores nothing."""

    name = "smtp-sink"

    def __init__(self):
        self.port = free_port()
        self.process = subprocess.Popen([SMTP_SINK, "-u", "nobody", f"127.0.0.1:{self.port}", "1024"],
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        wait_for_port(self.port, self.process, "smtp-sink")


class FsyncAiosmtpd(Server):
    """bench/intake/fsync_smtpd.py: writes and fsyncs each message before its 250."""

    name = "aiosmtpd-fsync"

    def __init__(self, directory, tls=None):
        argv = [sys.executable, str(HERE / "fsync_smtpd.py"), "--port", "0", "--directory", str(directory)]
        if tls:
            argv += ["--tls-cert", str(tls[0]), "--tls-key", str(tls[1])]
        self.process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
        line = self.process.stdout.readline().decode().split()
        if len(line) != 2 or line[0] != "listening":
            self.stop()
            raise RuntimeError("the aiosmtpd peer did not start")
        self.port = int(line[1])
        wait_for_port(self.port, self.process, "aiosmtpd peer")


def make_certificate(directory):
    """A throwaway self-signed P-256 certificate for 127.0.0.1 (what certs/make-dev-cert.sh makes)."""
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key
