.PHONY: run test build bench bench-dropbox certs attack-soak fuzz fault-soak bench-aws bench-aws-consumer

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

# The intake against real peers in one run (Postfix's smtp-sink, an fsync'ing aiosmtpd),
# with smtp-source as the client: throughput table, STARTTLS, latency, memory; plots in docs/
# (bench/intake_bench.py; ARGS="--quick", ARGS="throughput --sizes 10240" and so on).
bench:
	bash scripts/install-deps.sh --with-test-tools
	bash scripts/install-bench-deps.sh
	swift build -c release --product cis
	CIS_BINARY="$(CURDIR)/.build/release/cis" python3 bench/intake_bench.py $(ARGS)
	bash bench/consumer_throughput.sh --messages 4000 --rounds 3 cis="$(CURDIR)/.build/release/cis"
	python3 bench/aws_intake.py --cis "$(CURDIR)/.build/release/cis"

# The drop box alone, in process: group commit against one fsync per message (bench/run.sh).
bench-dropbox:
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
	bash scripts/install-bench-deps.sh
	swift build -c release --product cis
	python3 bench/aws_intake.py --cis "$(CURDIR)/.build/release/cis" $(ARGS)

# AWS-mode consumer: `cis consume --backend aws` draining 2,000 preloaded corpus invites from
# moto, with 0 and 20 ms added to every AWS call, and its AWS calls per message
# (bench/aws_consumer.py; ARGS="--messages 500 --binary before=/path/to/old/cis" and so on).
bench-aws-consumer:
	bash scripts/install-deps.sh --with-test-tools
	swift build -c release --product cis
	python3 bench/aws_consumer.py --binary "cis=$(CURDIR)/.build/release/cis" $(ARGS)
