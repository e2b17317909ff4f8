.PHONY: run test build bench certs attack-soak fuzz fault-soak bench-aws

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

# One cis serve under six kinds of attack at once while 1,000 real invites arrive over
# STARTTLS (bench/attack_soak.py; ARGS="--messages 200" and so on to change it).
attack-soak:
	bash scripts/install-deps.sh
	swift build -c release --product cis
	CIS_BINARY="$(CURDIR)/.build/release/cis" python3 bench/attack_soak.py $(ARGS)

# Builds the fuzz targets with libFuzzer and ASan and runs each for FUZZ_SECONDS (default 60).
fuzz:
	bash scripts/fuzz.sh

# Fault-injection soak: SIGKILLs, a full disk, unwritable topics, moto unreachable (needs root).
fault-soak:
	bash bench/fault_soak.sh

# AWS-mode intake throughput against moto_server, directly and with 20 ms added to every AWS
# call (bench/aws_intake.py; ARGS="--sessions 1,20,100 --delay-ms 20" and so on to change it).
bench-aws:
	bash scripts/install-deps.sh --with-test-tools
	swift build -c release --product cis
	python3 bench/aws_intake.py --cis "$(CURDIR)/.build/release/cis" $(ARGS)
