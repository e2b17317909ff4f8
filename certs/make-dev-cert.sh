#!/usr/bin/env bash
# Creates a self-signed development certificate and key for localhost and 127.0.0.1 in
# certs/dev/ (git-ignored), for `cis serve --tls-cert certs/dev/cert.pem --tls-key certs/dev/key.pem`.
# Never use it in production: see certs/README.md.
# Usage: certs/make-dev-cert.sh [output-directory] [extra host name ...]
set -euo pipefail
cd "$(dirname "$0")"
OUT="${1:-dev}"
shift || true

SAN="DNS:localhost,IP:127.0.0.1,IP:::1"
for name in "$@"; do SAN="$SAN,DNS:$name"; done

command -v openssl >/dev/null 2>&1 || { echo "make-dev-cert: openssl is not installed (apt-get install openssl)" >&2; exit 1; }
umask 077
mkdir -p "$OUT"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -keyout "$OUT/key.pem" -out "$OUT/cert.pem" -days 365 \
  -subj "/CN=localhost" -addext "subjectAltName=$SAN" \
  -addext "extendedKeyUsage=serverAuth" 2>/dev/null
chmod 600 "$OUT/key.pem"
chmod 644 "$OUT/cert.pem"
echo "make-dev-cert: wrote $(cd "$OUT" && pwd)/cert.pem and key.pem (valid 365 days for $SAN)"
