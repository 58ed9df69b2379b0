SHELL := /bin/bash
GO ?= go
BIN := bin
TOOLS := $(CURDIR)/bin/tools
PROTOC_GEN_GO_VERSION := v1.36.12
PROTOC_GEN_GO_GRPC_VERSION := v1.5.1

.PHONY: build proto
build:
	CGO_ENABLED=0 $(GO) build -o $(BIN)/raftcron ./cmd/raftcron

# Regenerates proto/raftcron/v1/*.pb.go with pinned plugins; protoc comes from
# Debian's protobuf-compiler (installed here if missing).
proto:
	@command -v protoc >/dev/null || (apt-get update -qq && apt-get install -y -qq protobuf-compiler)
	GOBIN=$(TOOLS) $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)
	GOBIN=$(TOOLS) $(GO) install google.golang.org/grpc/cmd/protoc-gen-go-grpc@$(PROTOC_GEN_GO_GRPC_VERSION)
	PATH=$(TOOLS):$$PATH protoc -I proto \
		--go_out=. --go_opt=module=github.com/raftcron/raftcron \
		--go-grpc_out=. --go-grpc_opt=module=github.com/raftcron/raftcron \
		proto/raftcron/v1/*.proto
