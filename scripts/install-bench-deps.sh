#!/usr/bin/env bash
# Installs the benchmark's peers and tools (make bench): Postfix for smtp-source and
# smtp-sink, aiosmtpd for the fsync'ing Python peer, matplotlib for the plots, perf for
# profiles. Postfix is installed without configuration and its service is stopped and
# disabled, so no system MTA is left running or starting at boot. Idempotent.
set -euo pipefail

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

if [ ! -x /usr/sbin/smtp-source ] || [ ! -x /usr/sbin/smtp-sink ]; then
  echo "install-bench-deps: installing postfix (No configuration) for smtp-source and smtp-sink"
  echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends postfix
fi
# Whatever the install did: no postfix master running, enabled or startable at boot.
if command -v systemctl >/dev/null 2>&1; then
  [ -d /run/systemd/system ] && { $SUDO systemctl stop postfix.service >/dev/null 2>&1 || true; }
  $SUDO systemctl disable postfix.service >/dev/null 2>&1 || true
  $SUDO systemctl mask postfix.service >/dev/null 2>&1 || true
fi
$SUDO service postfix stop >/dev/null 2>&1 || true
if command -v update-rc.d >/dev/null 2>&1; then
  $SUDO update-rc.d postfix disable >/dev/null 2>&1 || true
fi
if [ -e /var/spool/postfix/pid/master.pid ]; then
  $SUDO postfix stop >/dev/null 2>&1 || true
fi

PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c "import aiosmtpd, matplotlib" >/dev/null 2>&1; then
  echo "install-bench-deps: installing pip packages: aiosmtpd matplotlib"
  "$PYTHON" -m pip install -q aiosmtpd matplotlib
fi

if [ "${1:-}" = "--with-perf" ] && ! command -v perf >/dev/null 2>&1; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends linux-perf
fi
