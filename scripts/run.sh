#!/usr/bin/env bash
# Installs what is missing, builds the release binary, and runs `cis serve`.
# Extra arguments go to `cis serve` (see `cis serve --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build -c release --product cis
exec .build/release/cis serve "$@"
