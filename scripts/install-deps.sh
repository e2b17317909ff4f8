#!/usr/bin/env bash
# Installs what cis needs to build, run and test on Debian. Idempotent: installs only what is missing.
set -euo pipefail

APT_PACKAGES=(
  pkg-config
  libical-dev
  libgmime-3.0-dev
  libcurl4-openssl-dev
  libssl-dev
  libsqlite3-dev
  sqlite3
  swaks
  openssl
)
PIP_PACKAGES=(
  "moto[server]"
  "cfn-lint"
  "botocore"
  "boto3"
  "pytest"
  "selenium"
)
# The status page's browser test (Tests/integration/test_status_page_browser.py).
# promtool (Debian's prometheus package) checks deploy/prometheus/ and the /metrics output.
# haproxy in front of cis for the PROXY protocol tests (test_proxy_protocol.py); logrotate runs
# deploy/cis.logrotate in the reload tests (test_reload.py).
TEST_APT_PACKAGES=(
  chromium
  chromium-driver
  prometheus
  haproxy
  logrotate
)

wanted=("${APT_PACKAGES[@]}")
[ "${1:-}" = "--with-test-tools" ] && wanted+=("${TEST_APT_PACKAGES[@]}")
missing=()
for pkg in "${wanted[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-deps: installing apt packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ "${1:-}" = "--with-test-tools" ]; then
  PYTHON="${PYTHON:-python3}"
  need_pip=0
  "$PYTHON" -c "import moto, boto3, botocore, pytest, flask_cors, selenium" >/dev/null 2>&1 || need_pip=1
  command -v moto_server >/dev/null 2>&1 || need_pip=1
  command -v cfn-lint >/dev/null 2>&1 || need_pip=1
  if [ "$need_pip" -eq 1 ]; then
    echo "install-deps: installing pip packages: ${PIP_PACKAGES[*]}"
    "$PYTHON" -m pip install -q "${PIP_PACKAGES[@]}"
  fi
fi

command -v swift >/dev/null 2>&1 || { echo "install-deps: swift is not on PATH; install the Swift 6 toolchain (https://www.swift.org/install/linux/) and retry" >&2; exit 1; }
