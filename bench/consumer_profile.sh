#!/usr/bin/env bash
# CPU profile of `cis consume` on the shared corpus: delivers N messages with `cis smtp`, then
# runs `perf record -e cpu-clock -g` on `cis consume` (and its parse workers) until the queue
# is empty, and prints the rate, the topic lines and the load. Read the profile with
# `perf report -i OUT --sort pid` (samples per process) and `--pid PID --children --sort sym`.
#
#   bash bench/consumer_profile.sh BINARY OUT [MESSAGES] [in-process]
set -euo pipefail
cd "$(dirname "$0")/.."
BINARY=$1; OUT=$2; MESSAGES=${3:-2000}; ISOLATION=${4:-}
CORPUS="${CIS_SHARED_DIR:-$PWD/../shared}/corpus/imip"
BASE="$PWD/.build-benchdata/profile-$(date +%Y%m%d%H%M%S)-$$"
mkdir -p "$BASE"
trap 'rm -rf "$BASE"' EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BINARY" smtp --listen "127.0.0.1:$PORT" --data-dir "$BASE/pristine" >"$BASE/smtp.log" 2>&1 &
SMTP_PID=$!
for _ in $(seq 1 200); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1',$PORT),1)" 2>/dev/null && break
    sleep 0.1
done
python3 bench/deliver_corpus.py "$PORT" "$MESSAGES" "$CORPUS"
kill -TERM "$SMTP_PID"; wait "$SMTP_PID" || true
cp -a "$BASE/pristine" "$BASE/run"
start=$(date +%s.%N)
CIS_PARSE_ISOLATION="$ISOLATION" perf record -e cpu-clock -g -o "$OUT" -- "$BINARY" consume --data-dir "$BASE/run" \
    --poll-wait 1 --consumer-concurrency 4 >"$BASE/consume.log" 2>&1 &
PERF_PID=$!
CONSUME_PID=
for _ in $(seq 1 100); do
    CONSUME_PID=$(pgrep -P "$PERF_PID" || true)
    [ -n "$CONSUME_PID" ] && break
    sleep 0.05
done
[ -n "$CONSUME_PID" ] || { echo "cis consume did not start under perf" >&2; exit 1; }
end=$(python3 bench/wait_queue_empty.py "$BASE/run" "$CONSUME_PID" 600)
kill -TERM "$CONSUME_PID"; wait "$PERF_PID" || true
echo "$MESSAGES messages: $(python3 -c "print(round($MESSAGES / ($end - $start), 1))") msg/s under perf, $(cat "$BASE"/run/topics/*.jsonl | wc -l) topic lines"
echo "uptime: $(uptime)"
