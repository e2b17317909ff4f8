"""A short run of the fault-injection soak (bench/fault_soak.py, the full one is `make
fault-soak`): 200 invites into `cis serve` on the embedded backends while cis is killed with
SIGKILL three times, its data directory (a tmpfs) is filled once, and its topics are made
unwritable once around a restart. Every message answered 250 must be stored and published
exactly once, nothing may be dead-lettered, and every fault must really have bitten: the full
disk was answered with 4xx (never 250 without storing) and the publishes to the immutable
topics failed and were retried."""

import os
import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "bench"))
import fault_soak  # noqa: E402

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="mounts a tmpfs and uses chattr: needs root (CI runs as root)")


def test_short_fault_soak_on_the_embedded_backends_loses_and_duplicates_nothing():
    options = fault_soak.parse(["--backend", "embedded", "--messages", "200", "--senders", "6", "--kills", "3",
                                "--disk-full", "1", "--topic-outages", "1", "--hold", "3", "--tmpfs-mb", "32",
                                "--time-limit", "150", "--drain-seconds", "90", "--seed", "20261202"])
    summary = fault_soak.Soak(options).run()
    fault_soak.print_summary(summary)
    assert summary["problems"] == []
    assert summary["answered 250"] == 200
    assert summary["lost"] == 0 and summary["duplicates"] == 0 and summary["dead letters"] == []
    assert summary["kills"] == 4  # three plus the one of the topics-unwritable episode
    # The full disk was refused with a transient reply, never a 5xx, and never hidden.
    disk_full = summary["replies during disk-full episodes"]
    assert any(code in disk_full for code in ("451", "452")), disk_full
    assert not any(code.startswith("5") for code in disk_full), disk_full
    # The immutable topics made publishes fail, and they were retried until published.
    [unwritable] = [f for f in summary["faults"] if f["fault"].startswith("topics unwritable")]
    assert unwritable["publish failures seen"] >= 1, unwritable
