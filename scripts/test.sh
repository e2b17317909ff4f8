#!/usr/bin/env bash
# Installs what is missing, then runs every test: the Swift suites (unit, loopback
# integration, moto-backed AWS) and the Python end-to-end tests against the real `cis`
# binary. Starts moto_server on a loopback port for the run and stops it afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

# Third-party test data (the iMIP corpus, AWS's SigV4 test suite) lives outside the repository.
# Without it the suites that read it are skipped (one line at the end says so); under CI
# (CI=true) its absence is a failure, before anything runs.
export CIS_SHARED_DIR="${CIS_SHARED_DIR:-$ROOT/../shared}"
SHARED_PARTS="corpus/imip vectors/aws-sigv4"
shared_missing=""
for part in $SHARED_PARTS; do
  [ -d "$CIS_SHARED_DIR/$part" ] || shared_missing="$shared_missing $part"
done
if [ -n "$shared_missing" ] && [ "${CI:-}" = "true" ]; then
  echo "test: FAILED: shared test data missing in $CIS_SHARED_DIR:$shared_missing;" \
    "CI must run the iMIP corpus and AWS SigV4 vector suites (set CIS_SHARED_DIR to the shared directory)" >&2
  exit 1
fi

bash scripts/install-deps.sh --with-test-tools

# Only loopback, never the real instance-metadata address.
export AWS_EC2_METADATA_DISABLED=true
export AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:9/"

WORK="$(mktemp -d /tmp/cis-test.XXXXXX)"
cleanup() {
  if [ -n "${MOTO_PID:-}" ]; then kill "$MOTO_PID" 2>/dev/null || true; wait "$MOTO_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# moto_server: S3/SQS/SNS/DynamoDB-compatible server on a free loopback port, verifying SigV4
# (a server that accepts any signature proves nothing). With INITIAL_NO_AUTH_ACTION_COUNT=3 its
# first three actions need no valid signature: scripts/moto_iam_user.py spends them creating an
# IAM user with an allow-all policy and an access key, checks that a wrong secret is now refused,
# and the tests sign with that user's keys (exported as AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY).
# What moto 5 verifies: every action of SNS, SQS and DynamoDB (and IAM, STS, ...) dispatched
# through its common call_action, the signature recomputed by botocore's SigV4Auth over the
# signed headers and the body (a form body parsed and re-encoded as botocore encodes it); on S3
# ListBuckets, every bucket operation and GET/PUT/HEAD/DELETE/POST of objects, with
# S3SigV4Auth, which takes the payload hash from x-amz-content-sha256 as sent (an S3 body is
# not compared with it) and the path as werkzeug re-quotes it, not as sent: an object key with
# any of !"$%&'()*+,:;<=>@[\]^`{|}` or non-ASCII text is refused even from boto3, so the
# moto-backed tests use keys of unreserved characters and spaces. Not checked: the request
# time (no clock-skew limit), headers left out of SignedHeaders, and presigned URLs beyond
# their header list; a request without an Authorization header is answered 500, not 403.
MOTO_PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"
INITIAL_NO_AUTH_ACTION_COUNT=3 moto_server -H 127.0.0.1 -p "$MOTO_PORT" >"$WORK/moto.log" 2>&1 &
MOTO_PID=$!
export CIS_TEST_MOTO_ENDPOINT="http://127.0.0.1:$MOTO_PORT"
for _ in $(seq 1 100); do
  if python3 -c "import urllib.request,sys; urllib.request.urlopen('$CIS_TEST_MOTO_ENDPOINT/moto-api/data.json', timeout=1)" 2>/dev/null; then break; fi
  sleep 0.2
done
python3 -c "import urllib.request; urllib.request.urlopen('$CIS_TEST_MOTO_ENDPOINT/moto-api/data.json', timeout=2)" \
  || { echo "test: moto_server did not start; its log:" >&2; cat "$WORK/moto.log" >&2; exit 1; }
moto_keys="$(python3 scripts/moto_iam_user.py "$CIS_TEST_MOTO_ENDPOINT")" \
  || { echo "test: could not set up moto's IAM user; its log:" >&2; cat "$WORK/moto.log" >&2; exit 1; }
eval "$moto_keys"
echo "test: moto_server on $CIS_TEST_MOTO_ENDPOINT, verifying signatures (IAM user $AWS_ACCESS_KEY_ID)"

swift build --build-tests
swift build --product cis
export CIS_BINARY="$ROOT/.build/debug/cis"

# Both suites always run; the script fails at the end if either failed.
set +e
# Serially: on 2 cores, parallel suites starve each other's waits (long polls, child processes) into timeouts.
swift test --skip-build --no-parallel 2>&1 | tee "$WORK/swift-test.log"
swift_status=${PIPESTATUS[0]}
python3 -m pytest -q Tests/integration
py_status=$?
# Short fuzz runs (docs/fuzzing.md; `make fuzz` runs them longer): a crash, a sanitizer or
# leak report, a violated invariant or a hang fails the test run.
FUZZ_SECONDS="${FUZZ_TEST_SECONDS:-15}" bash scripts/fuzz.sh
fuzz_status=$?
set -e
[ "$py_status" -eq 5 ] && { echo "test: pytest found no tests" >&2; py_status=1; }

if [ -n "$shared_missing" ]; then
  skipped="$(grep -c ' Test ".*" skipped: "needs [a-z0-9/-]* in CIS_SHARED_DIR' "$WORK/swift-test.log" || true)"
  echo "test: shared test data not found in $CIS_SHARED_DIR (${shared_missing# }): skipped the iMIP corpus" \
    "and AWS SigV4 vector suites ($skipped tests); set CIS_SHARED_DIR or place shared/ beside the project to run them" >&2
fi

if [ "$swift_status" -ne 0 ] || [ "$py_status" -ne 0 ] || [ "$fuzz_status" -ne 0 ]; then
  echo "test: FAILED (swift test exit $swift_status, pytest exit $py_status, fuzz exit $fuzz_status)" >&2
  exit 1
fi
echo "test: all suites passed"
