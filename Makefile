# berth — make help lists the targets.
GO ?= go
export GOFLAGS ?= -buildvcs=false
BIN := bin

.PHONY: all build deps test unit integration bench conformance fmt vet help clean

all: build ## build every binary into bin/

build: $(BIN)/berth-runtime ## build the binaries

$(BIN)/berth-runtime: $(shell find runtime specs -name '*.go' -o -name '*.c' -o -name '*.h') go.mod
	$(GO) build -trimpath -ldflags '-s -w' -o $@ ./runtime

deps: ## install the Debian packages the build and tests need (idempotent)
	bash hack/install-deps.sh

test: deps build ## run unit and integration tests (as root)
	$(GO) vet ./...
	$(GO) test ./runtime/... ./specs/...
	$(GO) test -count=1 -timeout 20m ./integration/...

unit: ## unit tests only
	$(GO) test ./runtime/... ./specs/...

integration: build ## integration tests only
	$(GO) test -count=1 -timeout 20m -v ./integration/...

bench: deps build ## benchmarks against the peers, side by side
	bash hack/bench-runtime.sh

fmt: ## gofmt the tree
	gofmt -w $$(git ls-files '*.go')

vet: ## go vet
	$(GO) vet ./...

clean: ## remove build output
	rm -rf $(BIN)

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' Makefile | sed 's/:.*## /\t/'
