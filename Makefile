.PHONY: run test build bench certs fuzz

# Installs what is missing, builds, and runs `cis serve` with the embedded backends.
run:
	bash scripts/run.sh

# Installs what is missing and runs every test.
test:
	bash scripts/test.sh

build:
	bash scripts/install-deps.sh
	swift build -c release --product cis

certs:
	bash certs/make-dev-cert.sh

bench:
	bash bench/run.sh

# Builds the fuzz targets with libFuzzer and ASan and runs each for FUZZ_SECONDS (default 60).
fuzz:
	bash scripts/fuzz.sh
