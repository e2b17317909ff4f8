#!/usr/bin/env bash
# The fault-injection soak (issue 9, item 6): builds cis, then runs bench/fault_soak.py on the
# embedded backends and on the AWS backends against moto (started by the script on loopback).
# Needs root (tmpfs mount, chattr). Extra arguments go to both runs, e.g. --messages 500 --seed 7.
# Exits non-zero if either run finds a lost or duplicated message, a dead letter, or cannot run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --with-test-tools
swift build --product cis
export CIS_BINARY="${CIS_BINARY:-$PWD/.build/debug/cis}"
status=0
python3 bench/fault_soak.py --backend embedded "$@" || status=1
python3 bench/fault_soak.py --backend aws "$@" || status=1
exit "$status"
