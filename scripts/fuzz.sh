#!/usr/bin/env bash
# Builds the fuzz targets with libFuzzer and AddressSanitizer (.build-fuzz/) and runs each for
# a bounded time; fails on a crash, a sanitizer or leak report, a violated invariant or a
# timeout. See docs/fuzzing.md.
#
#   scripts/fuzz.sh [target ...]        default: every target
#   FUZZ_SECONDS=60                     seconds per target
#   FUZZ_CORPUS_OUT=<dir>               keep the inputs found (one directory per target);
#                                       default: a temporary directory, removed afterwards
#
# Inputs found and crash artifacts never go into the tree: they are written under a
# temporary directory, which is kept (and named) when a target fails.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

ALL_TARGETS="command-parser session line-decoder data-decoder journal-record notification invite-mime invite-calendar proxy-header"
TARGETS="${*:-$ALL_TARGETS}"
SECONDS_EACH="${FUZZ_SECONDS:-60}"

# Per target: the longest input worth trying, and whether LeakSanitizer runs (see docs/fuzzing.md).
max_len() {
  case "$1" in
    command-parser) echo 600 ;;
    line-decoder) echo 160 ;;
    data-decoder) echo 256 ;;
    proxy-header) echo 400 ;;
    session | journal-record) echo 4096 ;;
    notification) echo 8192 ;;
    invite-mime | invite-calendar) echo 16384 ;;
    *) echo "fuzz: unknown target $1 (targets: $ALL_TARGETS)" >&2; exit 64 ;;
  esac
}
dictionary() {
  case "$1" in
    command-parser | session | line-decoder | data-decoder) echo "$ROOT/Tests/Fuzz/smtp.dict" ;;
    notification) echo "$ROOT/Tests/Fuzz/notification.dict" ;;
    invite-mime | invite-calendar) echo "$ROOT/Tests/Fuzz/invite.dict" ;;
    proxy-header) echo "$ROOT/Tests/Fuzz/proxy.dict" ;;
    *) echo "" ;;
  esac
}
for target in $TARGETS; do max_len "$target" >/dev/null; done

bash scripts/install-deps.sh
build_started=$(date +%s)
swift build --scratch-path .build-fuzz -c debug --product cis-fuzz \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -D -Xswiftc FUZZING
echo "fuzz: built cis-fuzz with libFuzzer and ASan in $(( $(date +%s) - build_started )) s"
BINARY="$(swift build --scratch-path .build-fuzz -c debug --show-bin-path)/cis-fuzz"

WORK="$(mktemp -d /tmp/cis-fuzz.XXXXXX)"
keep_work=0
cleanup() { [ "$keep_work" -eq 1 ] || rm -rf "$WORK"; }
trap cleanup EXIT

# libFuzzer, not Swift's backtracer, must see traps so that it writes the crashing input.
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_stack_use_after_return=1}"

failed=""
for target in $TARGETS; do
  corpus="${FUZZ_CORPUS_OUT:-$WORK/found}/$target"
  mkdir -p "$corpus" "$WORK/artifacts"
  dict="$(dictionary "$target")"
  log="$WORK/$target.log"
  set +e
  "$BINARY" "$target" "$corpus" "$ROOT/Tests/Fuzz/corpus/$target" \
    -max_total_time="$SECONDS_EACH" -timeout=60 -rss_limit_mb=2048 -max_len="$(max_len "$target")" \
    -detect_leaks=1 -print_final_stats=1 -artifact_prefix="$WORK/artifacts/$target-" \
    ${dict:+-dict="$dict"} >"$log" 2>&1
  status=$?
  set -e
  runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
  coverage="$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2 || true)"
  found="$(find "$corpus" -type f | wc -l)"
  if [ "$status" -eq 0 ]; then
    printf 'fuzz: %-16s ok: %s executions in %s s, coverage %s, %s new inputs\n' \
      "$target" "${runs:-?}" "$SECONDS_EACH" "${coverage:-?}" "$found"
  else
    keep_work=1
    failed="$failed $target"
    echo "fuzz: $target FAILED (exit $status) after ${runs:-?} executions; log $log, artifacts:" >&2
    ls "$WORK/artifacts/$target-"* >&2 2>/dev/null || true
    grep -E 'ERROR|invariant violated|SUMMARY|Fatal error|deadly signal' "$log" | head -20 >&2 || true
    echo "fuzz: reproduce with: swift build --product cis-fuzz && .build/debug/cis-fuzz $target <artifact>" >&2
  fi
done

if [ -n "$failed" ]; then
  echo "fuzz: FAILED:$failed (everything is in $WORK)" >&2
  exit 1
fi
echo "fuzz: all targets passed"
