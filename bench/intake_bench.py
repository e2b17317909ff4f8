#!/usr/bin/env python3
"""End-to-end intake benchmark against real peers, all in one run (`make bench`).

Servers on loopback, each measured with the same client in the same run:
  cis             release build, embedded backends (durable: journal fdatasync before 250)
  smtp-sink       Postfix's sink: answers 250 and stores nothing (the ceiling)
  aiosmtpd-fsync  aiosmtpd writing and fsyncing each message before 250 (bench/intake/fsync_smtpd.py)

Sections (all by default, or name some):
  throughput  smtp-source: sessions × msgs/session for each size, median of --repeats, ratios
  tls         STARTTLS sessions per second, cis vs aiosmtpd with TLS (Python clients)
  latency     end of DATA → 250 and 250 → event on its topic (cis serve, JSONL topics) at 20 sessions
  idle        resident memory of cis holding 10,000 idle sessions
  large       peak resident memory of cis receiving 100 messages of 40 MB at once

Prints tables with ratios, writes the results as JSON (--json) and PNG plots (--plots).
--quick is a smoke run (< 30 s): one size, two cells, small counts, no plots.
"""

import argparse
import asyncio
import datetime
import json
import os
import pathlib
import resource
import shutil
import subprocess
import sys
import threading
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from intake import clients, report, servers, smtp_source  # noqa: E402
from intake.topic_watch import TopicWatch  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
SECTIONS = ("throughput", "tls", "latency", "idle", "large")
CELLS = [(1, 1), (1, 10), (20, 1), (20, 10), (100, 1), (100, 10)]
SIZES = [2048, 10240, 102400]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sections", nargs="*", help=f"sections to run: {', '.join(SECTIONS)} (default: all)")
    parser.add_argument("--binary", help="the cis binary (default $CIS_BINARY, else .build/release/cis)")
    parser.add_argument("--quick", action="store_true", help="smoke run: one size, two cells, small counts, no plots")
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], help="message payload sizes in bytes (2048,10240,102400)")
    parser.add_argument("--messages", type=int, help="messages per throughput cell, at least (200; at least one round of sessions × msgs/session)")
    parser.add_argument("--repeats", type=int, help="throughput runs per cell; the median counts (3)")
    parser.add_argument("--tls-seconds", type=float, help="seconds per STARTTLS measurement (5)")
    parser.add_argument("--tls-clients", type=int, default=4, help="client processes for STARTTLS (4)")
    parser.add_argument("--latency-sessions", type=int, default=20)
    parser.add_argument("--latency-messages", type=int, help="messages per latency session (25)")
    parser.add_argument("--latency-rate", type=float, default=50, help="messages/s offered in all in the paced latency run (50)")
    parser.add_argument("--idle-sessions", type=int, help="idle sessions held open (10000)")
    parser.add_argument("--large-count", type=int, help="large messages sent at once (100)")
    parser.add_argument("--large-size", type=int, default=40_000_000, help="bytes per large message (40000000)")
    parser.add_argument("--corpus", help="invites for the latency run (default $CIS_SHARED_DIR/corpus/imip, else the test fixtures)")
    parser.add_argument("--work", help="work directory (default .build-benchdata/intake-<time>; removed unless --keep)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--json", help="results file (default .build-benchdata/intake-bench-<time>.json)")
    parser.add_argument("--plots", help="directory for the PNG plots (default docs/; none with --quick)")
    args = parser.parse_args()
    quick = args.quick
    defaults = {"sizes": [10240] if quick else SIZES, "messages": 40 if quick else 200, "repeats": 1 if quick else 3,
                "tls_seconds": 1.5 if quick else 5, "latency_messages": 3 if quick else 25,
                "idle_sessions": 300 if quick else 10000, "large_count": 2 if quick else 100}
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if quick:
        args.large_size = min(args.large_size, 4_000_000)
    args.cells = [(1, 1), (20, 10)] if quick else CELLS
    unknown = [s for s in args.sections if s not in SECTIONS]
    if unknown:
        parser.error(f"unknown section {unknown[0]!r}: choose from {', '.join(SECTIONS)}")
    args.sections = args.sections or list(SECTIONS)
    return args


def find_binary(args):
    for candidate in (args.binary, os.environ.get("CIS_BINARY"), ROOT / ".build/release/cis"):
        if candidate and pathlib.Path(candidate).is_file():
            return str(candidate)
    sys.exit("intake_bench: no cis binary: run `swift build -c release --product cis` or set CIS_BINARY")


def find_corpus(args):
    """(directory, [message bytes]) of real invites the parser routes (outcome "requests" in
    corpus-expected.json: every one ends as an event on a topic), from the shared corpus; the
    project's own fixtures when it is absent."""
    fixtures = ROOT / "Tests" / "InvitesTests" / "Fixtures"
    shared = pathlib.Path(os.environ.get("CIS_SHARED_DIR", ROOT.parent / "shared")) / "corpus" / "imip"
    candidates = [(pathlib.Path(args.corpus) if args.corpus else shared, fixtures / "corpus-expected.json"),
                  (fixtures / "cases", fixtures / "cases" / "expected.json")]
    for directory, expectations in candidates:
        if not directory.is_dir() or not expectations.is_file():
            continue
        bodies = [(directory / entry["file"]).read_bytes() for entry in json.loads(expectations.read_text())
                  if entry["outcome"] == "requests" and entry["file"].endswith(".eml") and (directory / entry["file"]).exists()]
        if bodies:
            return directory, bodies
    sys.exit("intake_bench: no invites found: set CIS_SHARED_DIR or --corpus")


def load():
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def log(text):
    print(text, flush=True)


def check_tools():
    missing = [tool for tool in (smtp_source.SMTP_SOURCE, servers.SMTP_SINK) if not os.access(tool, os.X_OK)]
    try:
        import aiosmtpd  # noqa: F401
    except ImportError:
        missing.append("aiosmtpd (pip)")
    if missing:
        sys.exit(f"intake_bench: missing {', '.join(missing)}: run scripts/install-bench-deps.sh")


# Sections.

def run_throughput(args, binary, work, results):
    out = results["throughput"] = {}
    names = ["cis", "smtp-sink", "aiosmtpd-fsync"]
    results["servers"] = names
    results["cells"] = args.cells
    results["sizes"] = args.sizes
    for size in args.sizes:
        runs = {name: {report.cell_name(c): [] for c in args.cells} for name in names}
        with servers.Cis(binary, work / f"cis-{size}", work / f"cis-{size}.log") as cis, \
                servers.SmtpSink() as sink, \
                servers.FsyncAiosmtpd(work / f"aiosmtpd-{size}") as peer:
            order = [cis, sink, peer]
            for repeat in range(args.repeats):
                for cell in args.cells:
                    for server in order[repeat % 3:] + order[:repeat % 3]:
                        measured = smtp_source.measure_cell(server.port, cell[0], cell[1], size, args.messages)
                        runs[server.name][report.cell_name(cell)].append(measured["rate"])
                log(f"  {report.size_name(size)} round {repeat + 1}/{args.repeats} done (load {load()})")
        medians = {name: {cell: report.median(rates) for cell, rates in cells.items()} for name, cells in runs.items()}
        out[str(size)] = {"runs": runs, "median": medians}
        log("")
        log(report.throughput_table(size, args.cells, names, medians))
        log("")


def run_tls(args, binary, work, results, tls):
    rates = {"cis": [], "aiosmtpd-fsync": []}
    with servers.Cis(binary, work / "cis-tls", work / "cis-tls.log", tls=tls) as cis, \
            servers.FsyncAiosmtpd(work / "aiosmtpd-tls", tls=tls) as peer:
        for repeat in range(max(1, args.repeats)):
            for server in ([cis, peer] if repeat % 2 == 0 else [peer, cis]):
                rates[server.name].append(clients.tls_sessions_per_second(server.port, args.tls_clients, args.tls_seconds)["rate"])
    medians = {name: report.median(values) for name, values in rates.items()}
    results["tls"] = {"runs": rates, "median": medians, "clients": args.tls_clients, "seconds": args.tls_seconds}
    log(f"| STARTTLS sessions/s ({args.tls_clients} client processes) | cis | aiosmtpd-fsync | cis / aiosmtpd |")
    log("|---|---|---|---|")
    log(f"| median of {len(rates['cis'])} | {medians['cis']:.0f} | {medians['aiosmtpd-fsync']:.0f} | "
        f"**{medians['cis'] / medians['aiosmtpd-fsync']:.2f}×** |")
    log("")


def run_latency(args, binary, work, results, corpus):
    """Two runs at --latency-sessions: back to back (end of DATA → 250 under full load), then
    at --latency-rate messages/s in all, below what the consumer handles, for 250 → topic."""
    directory, bodies = corpus
    sessions, per_session = args.latency_sessions, args.latency_messages
    out = results["latency"] = {"sessions": sessions, "messages": sessions * per_session, "corpus": str(directory),
                                "rate": args.latency_rate}
    with servers.Cis(binary, work / "cis-latency", work / "cis-latency.log", command="serve") as cis:
        watch = TopicWatch(cis.data_dir / "topics")
        watch.start()
        try:
            full = asyncio.run(clients.latency_run(cis.port, bodies, sessions, per_session))
            # The consumer catches up before the paced run.
            watch.wait_for([i for i, _, _ in full], timeout=300)
            paced = asyncio.run(clients.latency_run(cis.port, bodies, sessions, per_session, rate=args.latency_rate))
            complete = watch.wait_for([i for i, _, _ in full + paced], timeout=120)
        finally:
            watch.stop()
    with servers.FsyncAiosmtpd(work / "aiosmtpd-latency") as peer:
        peer_full = asyncio.run(clients.latency_run(peer.port, bodies, sessions, per_session))
    ms = lambda sent: [(answered - end) * 1000 for _, end, answered in sent]  # noqa: E731
    to_topic = [(watch.seen[i] - answered) * 1000 for i, _, answered in paced if i in watch.seen]
    to_topic_full = [(watch.seen[i] - answered) * 1000 for i, _, answered in full if i in watch.seen]
    out["cis"] = {"data_to_250_ms": ms(full), "paced_data_to_250_ms": ms(paced), "250_to_topic_ms": to_topic,
                  "full_load_250_to_topic_ms": to_topic_full,
                  "missing_on_topic": len(full) + len(paced) - len(to_topic) - len(to_topic_full)}
    out["aiosmtpd-fsync"] = {"data_to_250_ms": ms(peer_full)}
    log(f"| {sessions} sessions × {per_session} invites | p50 | p99 | max |")
    log("|---|---|---|---|")
    for label, values in ((f"cis: end of DATA → 250, back to back", ms(full)),
                          (f"aiosmtpd-fsync: end of DATA → 250, back to back", ms(peer_full)),
                          (f"cis: end of DATA → 250, {args.latency_rate:g} msgs/s offered", ms(paced)),
                          (f"cis: 250 → event on its topic, {args.latency_rate:g} msgs/s offered", to_topic),
                          (f"cis: 250 → event on its topic, back to back (backlog)", to_topic_full)):
        if values:
            log(f"| {label} | {report.percentile(values, 0.5):.1f} ms | {report.percentile(values, 0.99):.1f} ms | "
                f"{max(values):.1f} ms |")
    log(f"(events on their topics: {len(to_topic) + len(to_topic_full)} of {len(full) + len(paced)})")
    log("")
    if not complete:
        results.setdefault("problems", []).append(
            f"latency: {out['cis']['missing_on_topic']} accepted invites were not on a topic in time")


def run_idle(args, binary, work, results):
    raise_fd_limit(args.idle_sessions + 1000)
    with servers.Cis(binary, work / "cis-idle", work / "cis-idle.log") as cis:
        time.sleep(0.5)
        baseline = cis.rss_kib()
        held = asyncio.run(clients.hold_idle_sessions(cis.port, args.idle_sessions, 500,
                                                      lambda count: (count, cis.rss_kib())))
    count, rss = held
    results["idle"] = {"sessions": count, "baseline_rss_kib": baseline, "rss_kib": rss,
                       "per_session_kib": (rss - baseline) / max(1, count)}
    log(f"| idle sessions | RSS before | RSS with them open | per session |")
    log("|---|---|---|---|")
    log(f"| {count} | {baseline / 1024:.0f} MiB | **{rss / 1024:.0f} MiB** | {(rss - baseline) / max(1, count):.1f} KiB |")
    log("")


def run_large(args, binary, work, results):
    with servers.Cis(binary, work / "cis-large", work / "cis-large.log") as cis:
        time.sleep(0.5)
        baseline = cis.rss_kib()
        peak = [baseline]
        halt = threading.Event()

        def sample():
            while not halt.is_set():
                peak[0] = max(peak[0], cis.rss_kib())
                time.sleep(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            seconds = asyncio.run(clients.large_run(cis.port, args.large_count, args.large_size))
        finally:
            halt.set()
            sampler.join()
    results["large"] = {"count": args.large_count, "size": args.large_size, "seconds": seconds,
                        "baseline_rss_kib": baseline, "peak_rss_kib": peak[0]}
    log(f"| messages at once | size | RSS before | peak RSS | time |")
    log("|---|---|---|---|---|")
    log(f"| {args.large_count} | {args.large_size / 1e6:.0f} MB | {baseline / 1024:.0f} MiB | "
        f"**{peak[0] / 1024:.0f} MiB** | {seconds:.1f} s |")
    log("")
    shutil.rmtree(work / "cis-large", ignore_errors=True)


def raise_fd_limit(wanted):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(wanted, soft)), hard))


def main():
    args = parse_args()
    check_tools()
    binary = find_binary(args)
    corpus = find_corpus(args)
    raise_fd_limit(max(4096, args.idle_sessions + 1000))
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d%H%M%S")
    base = ROOT / ".build-benchdata"
    base.mkdir(exist_ok=True)
    subprocess.run(["chattr", "+T", str(base)], stderr=subprocess.DEVNULL, check=False)
    work = pathlib.Path(args.work) if args.work else base / f"intake-{stamp}-{os.getpid()}"
    work.mkdir(parents=True, exist_ok=True)
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    results = {"started": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
               "commit": commit, "binary": binary, "quick": args.quick, "load_before": load(),
               "argv": sys.argv[1:], "cpus": os.cpu_count()}
    log(f"intake_bench: {binary} at {commit}, {results['started']}, load {results['load_before']}, work {work}")
    started = time.monotonic()
    tls = servers.make_certificate(work / "tls")
    try:
        for section in args.sections:
            log(f"== {section} (load {load()})")
            if section == "throughput":
                run_throughput(args, binary, work, results)
            elif section == "tls":
                run_tls(args, binary, work, results, tls)
            elif section == "latency":
                run_latency(args, binary, work, results, corpus)
            elif section == "idle":
                run_idle(args, binary, work, results)
            elif section == "large":
                run_large(args, binary, work, results)
    finally:
        results["load_after"] = load()
        results["seconds"] = time.monotonic() - started
        json_path = pathlib.Path(args.json) if args.json else base / f"intake-bench-{stamp}.json"
        json_path.write_text(json.dumps(results, indent=1))
        log(f"intake_bench: {results['seconds']:.0f} s, load after {results['load_after']}; results in {json_path}")
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    plots = args.plots or (None if args.quick else str(ROOT / "docs"))
    if plots:
        pathlib.Path(plots).mkdir(parents=True, exist_ok=True)
        if "throughput" in results:
            report.plot_throughput(results, pathlib.Path(plots) / "bench-intake-throughput.png")
        if "latency" in results:
            report.plot_latency(results, pathlib.Path(plots) / "bench-intake-latency.png")
        log(f"intake_bench: plots in {plots}")
    for problem in results.get("problems", []):
        log(f"intake_bench: PROBLEM: {problem}")
    if results.get("problems"):
        sys.exit(1)


if __name__ == "__main__":
    main()
