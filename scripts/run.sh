#!/usr/bin/env bash
# Installs what is missing, builds the release binary, and runs `cis serve`.
# Extra arguments go to `cis serve` (see `cis serve --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build -c release --product cis
echo "run: the status page will be at http://127.0.0.1:9025/ (cis logs the address it bound: 'status page at …'; --http-listen changes it)"
exec .build/release/cis serve "$@"
