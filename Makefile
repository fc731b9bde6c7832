# zkchaos — see README.md. Every target that needs the engine runs `make setup`
# first (scripts/setup.sh: a Docker engine and debootstrap where missing, from
# Debian's packages, as root or through sudo); `make images` builds what is missing.
SHELL := /bin/bash
GO ?= go
GINKGO := $(GO) tool ginkgo
REPORTS := reports/out
# Specs of the long experiments carry the label "slow"; `make test` leaves them to `make slow`.
# A filter that does not name "slow" leaves them out too: TEST_LABELS='v3.9.3' is
# one version without its 20-minute restart-order matrix ('slow && v3.9.3' has it).
TEST_LABELS ?= !slow
LABEL_FILTER = $(if $(findstring slow,$(TEST_LABELS)),$(TEST_LABELS),($(TEST_LABELS)) && !slow)

# testcontainers' reaper image cannot be pulled without a registry; zkchaos removes
# what it creates itself (the harness library never changes this setting).
export TESTCONTAINERS_RYUK_DISABLED := true

.PHONY: all build setup images demo explore test unit examples scenarios portable engine-only outside-module slow upgrade matrix workshop report profile bench fuzz vet clean

all: build

# CGO off: the same binary runs in client containers of every Debian suite.
build:
	CGO_ENABLED=0 $(GO) build -o bin/zkchaos ./cmd/zkchaos

## setup: install what is missing (a Docker engine, debootstrap), saying what; nothing when all is there
setup: build
	@scripts/setup.sh

## images: build the ZooKeeper node images from Debian's packages and the client image (only what is missing or changed)
# IMAGE_VERSIONS=3.9.3 builds one version's node image (a CI shard); default: all.
# IMAGE_PATH=engine|debootstrap forces a recipe (default: the engine's where it has
# debian:<suite>, docs/images.md).
images: setup
	bin/zkchaos images $(if $(IMAGE_VERSIONS),--versions $(IMAGE_VERSIONS)) $(if $(IMAGE_PATH),--path $(IMAGE_PATH))

## demo: F3 end to end on a real ensemble — trigger, evidence, detector, fix, verdict — then everything removed; prints the HTML report's path
demo: images build
	bin/zkchaos demo

## upgrade: rolling upgrades and a downgrade under load, checked with porcupine (3.8.0→3.9.3 also runs in make test)
upgrade: images
	@mkdir -p $(REPORTS)
	$(GINKGO) -v --label-filter='upgrade' --junit-report=junit-upgrade.xml --output-dir=$(REPORTS) --timeout=1h ./scenarios; status=$$?; \
		$(GO) run ./cmd/zkchaos report --dir $(REPORTS) || true; exit $$status

## matrix: the qualification matrix — every failure on every version (about 10 min per version) → reports/out/html/{index.html,matrix.md}
VERSIONS ?= 3.4.13,3.8.0,3.9.3
matrix: images build
	bin/zkchaos qualify --versions $(VERSIONS)

## workshop: teaching mode, e.g. `make workshop F=F4` (waits for Enter between steps; NO_PAUSE=1 for a projector)
F ?= F3
workshop: images build
	bin/zkchaos workshop $(F) $(if $(NO_PAUSE),--no-pause)

## explore: a seeded exploratory run — random faults under a porcupine-checked workload (VERSION=3.9.3 SEED=7 DURATION=60s FAULTS=partition,kill; docs/explore.md)
explore: images build
	bin/zkchaos explore --version $(or $(VERSION),3.9.3) --duration $(or $(DURATION),60s) $(if $(SEED),--seed $(SEED)) $(if $(FAULTS),--faults $(FAULTS))

## profile: where the last run's time went — per run and per phase (start, trigger, evidence, detect, fix, check, teardown)
profile:
	$(GO) run ./cmd/zkchaos profile --dir $(REPORTS)

## report: render reports/out/html from the run records in reports/out/runs (make test does this too)
report:
	$(GO) run ./cmd/zkchaos report --dir $(REPORTS)

## test: what CI runs — vet, unit tests (no Docker), the harness's runnable examples and engine tests, then the Ginkgo scenarios (not "slow")
test: vet unit examples scenarios

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l .)" || { echo "gofmt would change:"; gofmt -l .; exit 1; }

unit:
	$(GO) test -short -skip '^Example' $$($(GO) list ./... | grep -v /scenarios)

# The harness's runnable examples (godoc) and its TestEngine* tests start real
# ensembles: they run here, on the engine (unit skips them).
examples: images
	$(GO) test -count=1 -run '^(Example|TestEngine)' ./harness/...

## portable: the specs from a container that reaches Docker only through the engine's socket, and the harness used from a module of its own (.ci/run runs it)
portable: engine-only outside-module

# Smoke specs and F3 on one version, the 3.8.0→3.9.3 upgrade (and the checker on a
# real history): from a --network none container, through the engine's API only.
ENGINE_ONLY_LABELS ?= ((smoke || F3) && v3.9.3) || (upgrade && !slow)
engine-only: images
	scripts/engine-only.sh '$(ENGINE_ONLY_LABELS)'

# testdata/outside: a module of its own (replace ../..) running the README's failover example.
outside-module: images
	cd testdata/outside && $(GO) test -count=1 -v ./...

# Parallel by default: every ensemble has its own network (/24) and run id, and the
# specs mostly wait on servers, so more processes than cores pay off. PROCS=1 runs
# them one at a time.
PROCS ?= 4
scenarios: images
	@rm -rf $(REPORTS)/runs && mkdir -p $(REPORTS)
	$(GINKGO) -v --procs=$(PROCS) --randomize-all --label-filter='$(LABEL_FILTER)' --junit-report=junit.xml --json-report=report.json \
		--output-dir=$(REPORTS) --timeout=40m ./scenarios; status=$$?; \
		$(GO) run ./cmd/zkchaos report --dir $(REPORTS) || true; \
		$(GO) run ./cmd/zkchaos profile --dir $(REPORTS) || true; exit $$status

## slow: the long experiments (restart-order matrices, upgrades, soak)
slow: images
	@mkdir -p $(REPORTS)
	$(GINKGO) -v --label-filter='slow' --junit-report=junit-slow.xml --output-dir=$(REPORTS) --timeout=3h ./scenarios; status=$$?; \
		$(GO) run ./cmd/zkchaos report --dir $(REPORTS) || true; exit $$status

## bench: start-up time and memory per version (median and max of 10 starts), the other benchmarks, then the README's table (with the last suite's wall time)
bench: images
	@mkdir -p $(REPORTS); rm -f $(REPORTS)/bench-start.jsonl
	ZKCHAOS_BENCH_OUT=$(abspath $(REPORTS))/bench-start.jsonl $(GO) test -run='^$$' -bench=. -benchtime=1x -timeout=30m ./harness/...
	$(GO) run ./cmd/zkchaos profile --dir $(REPORTS) --bench $(REPORTS)/bench-start.jsonl --readme README.md

## fuzz: run every fuzz target for FUZZTIME each
FUZZTIME ?= 30s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
			echo "== $$pkg $$f"; $(GO) test -run='^$$' -fuzz="^$$f$$" -fuzztime=$(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

## clean: remove what killed runs left (containers, networks; live runs are kept) and build output; `bin/zkchaos clean --all` removes every zkchaos container
clean:
	-$(GO) run ./cmd/zkchaos clean
	rm -rf bin $(REPORTS)
