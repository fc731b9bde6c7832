# zkchaos — see README.md. Every target works on a fresh machine after `.ci/run`'s
# installs (Docker engine, debootstrap); `make images` builds what is missing.
SHELL := /bin/bash
GO ?= go
GINKGO := $(GO) tool ginkgo
REPORTS := reports/out
# Specs of the long experiments carry the label "slow"; `make test` leaves them to `make slow`.
TEST_LABELS ?= !slow

export TESTCONTAINERS_RYUK_DISABLED := true

.PHONY: all build images demo test unit scenarios slow upgrade matrix workshop report bench fuzz vet clean

all: build

# CGO off: the same binary runs in client containers of every Debian suite.
build:
	CGO_ENABLED=0 $(GO) build -o bin/zkchaos ./cmd/zkchaos

## images: build the ZooKeeper node images from Debian's packages and the client image (only what is missing or changed)
images: build
	bin/zkchaos images

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

## report: render reports/out/html from the run records in reports/out/runs (make test does this too)
report:
	$(GO) run ./cmd/zkchaos report --dir $(REPORTS)

## test: what CI runs — vet, unit tests (no Docker), then the Ginkgo scenarios (not "slow")
test: vet unit scenarios

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l .)" || { echo "gofmt would change:"; gofmt -l .; exit 1; }

unit:
	$(GO) test -short $$($(GO) list ./... | grep -v /scenarios)

scenarios: images
	@mkdir -p $(REPORTS)
	$(GINKGO) -v --label-filter='$(TEST_LABELS)' --junit-report=junit.xml --json-report=report.json \
		--output-dir=$(REPORTS) --timeout=40m ./scenarios; status=$$?; \
		$(GO) run ./cmd/zkchaos report --dir $(REPORTS) || true; exit $$status

## slow: the long experiments (restart-order matrices, upgrades, soak)
slow: images
	@mkdir -p $(REPORTS)
	$(GINKGO) -v --label-filter='slow' --junit-report=junit-slow.xml --output-dir=$(REPORTS) --timeout=3h ./scenarios; status=$$?; \
		$(GO) run ./cmd/zkchaos report --dir $(REPORTS) || true; exit $$status

## bench: start-up time and memory per version (median and max of 10 starts), and the other benchmarks
bench: images
	$(GO) test -run='^$$' -bench=. -benchtime=1x -timeout=30m ./harness/...

## fuzz: run every fuzz target for FUZZTIME each
FUZZTIME ?= 30s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
			echo "== $$pkg $$f"; $(GO) test -run='^$$' -fuzz="^$$f$$" -fuzztime=$(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

## clean: remove every zkchaos container and network (also of killed runs) and build output
clean:
	-$(GO) run ./cmd/zkchaos clean
	rm -rf bin $(REPORTS)
