.PHONY: run test build bench certs fault-soak

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

# Fault-injection soak: SIGKILLs, a full disk, unwritable topics, moto unreachable (needs root).
fault-soak:
	bash bench/fault_soak.sh
