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
  libspf2-dev
  libopendkim-dev
  libopendmarc-dev
  libunbound-dev
  publicsuffix
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
  "dnslib"
  "dkimpy"
  "pyspf"
  "authheaders"
  "dnspython"
  "pynacl"
)
# The status page's browser test (Tests/integration/test_status_page_browser.py).
# promtool (Debian's prometheus package) checks deploy/prometheus/ and the /metrics output.
TEST_APT_PACKAGES=(
  chromium
  chromium-driver
  prometheus
)
# pyspf's source distribution carries the RFC 7208 test suite (rfc7208-tests.yml, BSD licence);
# Tests/integration/test_spf_rfc7208_suite.py reads it from here.
PYSPF_SDIST_VERSION="2.0.14"
RFC7208_SUITE_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/cis/pyspf-$PYSPF_SDIST_VERSION"

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
  "$PYTHON" -c "import moto, boto3, botocore, pytest, flask_cors, selenium, dnslib, dkim, spf, authheaders, dns, nacl" >/dev/null 2>&1 || need_pip=1
  command -v moto_server >/dev/null 2>&1 || need_pip=1
  command -v cfn-lint >/dev/null 2>&1 || need_pip=1
  if [ "$need_pip" -eq 1 ]; then
    echo "install-deps: installing pip packages: ${PIP_PACKAGES[*]}"
    "$PYTHON" -m pip install -q "${PIP_PACKAGES[@]}"
  fi
  if [ ! -f "$RFC7208_SUITE_DIR/test/rfc7208-tests.yml" ]; then
    echo "install-deps: fetching pyspf $PYSPF_SDIST_VERSION's source distribution for the RFC 7208 test suite"
    download="$(mktemp -d)"
    "$PYTHON" -m pip download -q "pyspf==$PYSPF_SDIST_VERSION" --no-binary pyspf --no-deps -d "$download"
    mkdir -p "$(dirname "$RFC7208_SUITE_DIR")"
    tar -xzf "$download/pyspf-$PYSPF_SDIST_VERSION.tar.gz" -C "$(dirname "$RFC7208_SUITE_DIR")"
    rm -rf "$download"
  fi
fi

command -v swift >/dev/null 2>&1 || { echo "install-deps: swift is not on PATH; install the Swift 6 toolchain (https://www.swift.org/install/linux/) and retry" >&2; exit 1; }
