#!/usr/bin/env bash
# Consumer throughput: delivers N messages once with `cis smtp` into a data directory (the
# shared corpus of real invites repeated, or with --synthetic one simple invite template),
# then for each peer copies that directory and times `cis consume` from its start until the
# queue is empty (a message is deleted only after its publishes are durable). Prints each
# round, the medians, their ratios to the first peer, to the issue's target (2,000 msg/s) and
# to the figure before the consumer work (290 msg/s, issue 12). Each round also prints the CPU
# per message (user + system time of `cis consume` and its reaped parse workers, from
# /usr/bin/time), less sensitive than the rate to other processes on a shared machine.
#
#   bash bench/consumer_throughput.sh [--messages N] [--rounds R] [--concurrency C]
#       [--corpus DIR | --synthetic] PEER...
#
# PEER is LABEL=BINARY or LABEL=BINARY:in-process. `:in-process` sets
# CIS_PARSE_ISOLATION=in-process, which parses in the consumer's own process (for
# measurement only: no deadline can stop a runaway libical call there). Example:
#   bash bench/consumer_throughput.sh in-process=.build/release/cis:in-process \
#       pool=.build/release/cis spawn=/tmp/cis-spawn-per-message
set -euo pipefail
cd "$(dirname "$0")/.."
MESSAGES=4000
ROUNDS=3
CONCURRENCY=4
CORPUS="${CIS_SHARED_DIR:-$PWD/../shared}/corpus/imip"
SYNTHETIC=0
TARGET=2000
OLD_FIGURE=290
PEERS=()
while [ $# -gt 0 ]; do
    case "$1" in
        --messages) MESSAGES="$2"; shift 2 ;;
        --rounds) ROUNDS="$2"; shift 2 ;;
        --concurrency) CONCURRENCY="$2"; shift 2 ;;
        --corpus) CORPUS="$2"; shift 2 ;;
        --synthetic) SYNTHETIC=1; shift ;;
        *=*) PEERS+=("$1"); shift ;;
        *) echo "unknown argument: $1" >&2; exit 64 ;;
    esac
done
[ ${#PEERS[@]} -gt 0 ] || { echo "name at least one peer: LABEL=BINARY[:in-process]" >&2; exit 64; }

BASE="$PWD/.build-benchdata/consumer-$(date +%Y%m%d%H%M%S)-$$"
mkdir -p "$BASE"
cleanup() {
    [ -n "${SMTP_PID:-}" ] && kill "$SMTP_PID" 2>/dev/null || true
    [ -n "${CONSUME_PID:-}" ] && kill "$CONSUME_PID" 2>/dev/null || true
    rm -rf "$BASE"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Deliver once, with the first peer's binary.
FIRST_BINARY="${PEERS[0]#*=}"; FIRST_BINARY="${FIRST_BINARY%%:*}"
PORT=$(free_port)
"$FIRST_BINARY" smtp --listen "127.0.0.1:$PORT" --data-dir "$BASE/pristine" >"$BASE/smtp.log" 2>&1 &
SMTP_PID=$!
for _ in $(seq 1 200); do
    python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$PORT),1)" 2>/dev/null && break
    sleep 0.1
done
if [ "$SYNTHETIC" = 0 ] && [ ! -d "$CORPUS" ]; then
    echo "no corpus at $CORPUS (set CIS_SHARED_DIR): the consumer runs on synthetic invites instead"
    SYNTHETIC=1
fi
if [ "$SYNTHETIC" = 1 ]; then
    python3 bench/deliver_invites.py "$PORT" "$MESSAGES"
    echo "delivered $MESSAGES synthetic invites"
else
    echo "delivered $MESSAGES messages cycling $(python3 bench/deliver_corpus.py "$PORT" "$MESSAGES" "$CORPUS")"
fi
kill -TERM "$SMTP_PID"; wait "$SMTP_PID" || true; SMTP_PID=
echo "uptime: $(uptime)"

# Prints the seconds one consume run took to publish every message.
consume_once() {
    local binary="$1" isolation="$2" directory="$BASE/run"
    rm -rf "$directory"; cp -a "$BASE/pristine" "$directory"
    local start end
    start=$(date +%s.%N)
    CIS_PARSE_ISOLATION="$isolation" /usr/bin/time -f "%U %S" -o "$BASE/time" "$binary" consume --data-dir "$directory" \
        --poll-wait 1 --consumer-concurrency "$CONCURRENCY" >"$BASE/consume.log" 2>&1 &
    TIME_PID=$!
    CONSUME_PID=
    for _ in $(seq 1 100); do
        CONSUME_PID=$(pgrep -P "$TIME_PID" || true)
        [ -n "$CONSUME_PID" ] && break
        sleep 0.05
    done
    [ -n "$CONSUME_PID" ] || { echo "cis consume did not start" >&2; exit 1; }
    end=$(python3 bench/wait_queue_empty.py "$directory" "$CONSUME_PID" 600) || {
        echo "consume did not empty the queue; log: $(tail -3 "$BASE/consume.log")" >&2
        exit 1
    }
    echo "$(cat "$directory"/topics/*.jsonl | wc -l) topic lines" >"$BASE/lines"
    kill -TERM "$CONSUME_PID"; wait "$TIME_PID" || true; CONSUME_PID=
    read -r user system <"$BASE/time"
    echo "$(python3 -c "print(round(($user + $system) * 1000 / $MESSAGES, 3))")" >"$BASE/cpu"
    python3 -c "print($end - $start)"
}

declare -A RATES CPUS
for round in $(seq 1 "$ROUNDS"); do
    for peer in "${PEERS[@]}"; do
        label="${peer%%=*}"; spec="${peer#*=}"; binary="${spec%%:*}"; isolation=""
        [ "$spec" != "$binary" ] && isolation="${spec#*:}"
        seconds=$(consume_once "$binary" "$isolation")
        rate=$(python3 -c "print(round($MESSAGES / $seconds, 1))")
        RATES[$label]="${RATES[$label]:-} $rate"
        CPUS[$label]="${CPUS[$label]:-} $(cat "$BASE/cpu")"
        echo "round $round $label: $MESSAGES messages in ${seconds:0:6} s = $rate msg/s, $(cat "$BASE/cpu") ms CPU/msg ($(cat "$BASE/lines"))"
    done
done

echo "medians (concurrency $CONCURRENCY, $MESSAGES messages, $ROUNDS rounds):"
first_median=""
for peer in "${PEERS[@]}"; do
    label="${peer%%=*}"
    median=$(python3 -c "import statistics; print(statistics.median([float(x) for x in '${RATES[$label]}'.split()]))")
    [ -z "$first_median" ] && first_median="$median"
    ratio=$(python3 -c "print(round($median / $first_median, 3))")
    target_ratio=$(python3 -c "print(round($median / $TARGET, 3))")
    old_ratio=$(python3 -c "print(round($median / $OLD_FIGURE, 2))")
    cpu=$(python3 -c "import statistics; print(statistics.median([float(x) for x in '${CPUS[$label]}'.split()]))")
    echo "  $label: $median msgs/s (x$ratio of ${PEERS[0]%%=*}; x$target_ratio of the $TARGET msgs/s target; x$old_ratio of the old $OLD_FIGURE msgs/s); $cpu ms CPU/msg"
done
