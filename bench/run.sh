#!/usr/bin/env bash
# Builds cis-bench in release and measures DropBox throughput with group commit on and
# off in the same run. Extra arguments go to cis-bench (--messages, --concurrency,
# --size, --rounds, --directory). The data directory defaults to the system temp dir;
# pass --directory to measure another disk.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product cis-bench
exec .build/release/cis-bench "$@"
