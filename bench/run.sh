#!/usr/bin/env bash
# Builds cis-bench in release and measures DropBox throughput with group commit on and
# off in the same run. Extra arguments go to cis-bench (--messages, --concurrency,
# --size, --rounds, --component, --modes, --directory).
#
# The data goes under .build-benchdata/ (pass --directory to measure another disk), one
# directory per run, removed at the end. On ext4 that parent is marked with `chattr +T`
# so that each run's directory is placed in a block group of its own: without a
# file-system journal, ext4 makes every new file scan past the inodes deleted there in
# the last minutes, so a run right after another would pay for the one before it.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product cis-bench
BASE="$PWD/.build-benchdata"
mkdir -p "$BASE"
chattr +T "$BASE" 2>/dev/null || true
exec .build/release/cis-bench --directory "$BASE/run-$(date +%Y%m%d%H%M%S)-$$" "$@"
