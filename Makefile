SHELL := /bin/bash
GO ?= go
BIN := bin
TOOLS := $(CURDIR)/bin/tools
PROTOC_GEN_GO_VERSION := v1.36.12
PROTOC_GEN_GO_GRPC_VERSION := v1.5.1
# The whole test run is bounded well under CI's limit.
TEST_TIMEOUT ?= 18m

.PHONY: all build test test-unit vet demo bench loadtest soak proto image clean

all: build

## build: the raftcron binary and its lease guard, raftcron-guard (static), in bin/
build:
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN)/raftcron ./cmd/raftcron
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN)/raftcron-guard ./cmd/raftcron-guard

## vet: gofmt and go vet
vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...

## test: everything: vet, unit and in-process cluster tests with -race, then the
## integration suite (real processes and Docker containers; it builds its own
## binary and test image)
test: vet
	$(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) ./...

## test-unit: the fast tiers only
test-unit:
	$(GO) test -race -count=1 -short ./...

## demo: a 3-server cluster and 2 workers running a real nightly report
demo: build
	./deploy/demo.sh

## soak: loop random faults for DURATION (default 30m) and print the tick figures
DURATION ?= 30m
soak: build
	RAFTCRON_SOAK=$(DURATION) $(GO) test -count=1 -v -timeout 0 -run TestSoak ./integration/ 2>&1 | grep -E 'soak|PASS|FAIL|ok'

## fuzz: each fuzz target for FUZZTIME (default 30s); `make test` runs only
## their seed corpora (in the code and testdata/fuzz). A crash found is
## written to the package's testdata/fuzz/<target>/: commit it as a test case.
FUZZTIME ?= 30s
FUZZ_TARGETS := FuzzFSMApply:./raft FuzzParseCronJobSchedule:./scheduler FuzzValidateManifests:./client FuzzDecodeManifests:./client
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
	  echo "fuzz $${t%%:*} ($(FUZZTIME))"; \
	  $(GO) test -run '^$$' -fuzz "^$${t%%:*}$$" -fuzztime $(FUZZTIME) $${t##*:}; \
	done

## bench: benchmarks (figures recorded in BENCHMARKS.md)
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./raft/ ./scheduler/
	$(GO) test -run '^$$' -bench Burst -benchtime 3x ./cluster/

## loadtest: raftcron bench on a throwaway 3-server cluster on loopback;
## BENCH_ARGS picks the run (figures and modes in BENCHMARKS.md)
BENCH_ARGS ?= --cronjobs 200 --duration 60s
loadtest: build
	$(BIN)/raftcron bench $(BENCH_ARGS)

## image: the raftcron image, FROM scratch, built locally
image: build
	rm -rf $(BIN)/image && mkdir -p $(BIN)/image/tmp
	cp $(BIN)/raftcron $(BIN)/raftcron-guard $(BIN)/image/
	cp /etc/ssl/certs/ca-certificates.crt $(BIN)/image/ 2>/dev/null || touch $(BIN)/image/ca-certificates.crt
	docker build -q -t raftcron/raftcron:dev -f deploy/Dockerfile $(BIN)/image

## proto: regenerate proto/raftcron/v1/*.pb.go with pinned plugins (protoc from
## Debian's protobuf-compiler, installed if missing)
proto:
	@command -v protoc >/dev/null || (apt-get update -qq && apt-get install -y -qq protobuf-compiler)
	GOBIN=$(TOOLS) $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)
	GOBIN=$(TOOLS) $(GO) install google.golang.org/grpc/cmd/protoc-gen-go-grpc@$(PROTOC_GEN_GO_GRPC_VERSION)
	PATH=$(TOOLS):$$PATH protoc -I proto \
		--go_out=. --go_opt=module=github.com/raftcron/raftcron \
		--go-grpc_out=. --go-grpc_opt=module=github.com/raftcron/raftcron \
		proto/raftcron/v1/*.proto

clean:
	rm -rf $(BIN)
