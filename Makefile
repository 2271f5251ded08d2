# berth — `make help` lists the targets.
GO ?= go
export PATH := /usr/local/go/bin:$(PATH)
export GOFLAGS ?= -buildvcs=false
BIN := bin
# Each binary is built from its folder; folders that do not exist yet are skipped.
BINARIES := $(BIN)/berth-runtime \
	$(if $(wildcard shim/main.go),$(BIN)/containerd-shim-berth-v2) \
	$(if $(wildcard supervisor/main.go),$(BIN)/berthd) \
	$(if $(wildcard ctl/main.go),$(BIN)/berth)
GOSRC := $(shell find . -name '*.go' -not -path './integration/*' -o -name '*.c' -o -name '*.h') go.mod go.sum
LDFLAGS := -s -w

.PHONY: all build deps generate test unit integration bench bench-runtime bench-pull bench-shim bench-containers bench-network conformance fmt vet help clean

all: build ## build every binary into bin/

build: $(BINARIES) ## build the binaries

# berth-runtime starts a process or two on every container's start, exec
# and delete: a static binary skips the dynamic loader (about half a
# millisecond each here). cgo stays for nsenter and libseccomp, linked from
# their archives; netgo and osusergo keep glibc's NSS (which needs shared
# libraries at run time) out.
$(BIN)/berth-runtime: $(GOSRC)
	$(GO) build -trimpath -tags netgo,osusergo -ldflags '$(LDFLAGS) -linkmode external -extldflags "-static"' -o $@ ./runtime
# The shim runs once per container for its whole life: a static, cgo-free
# binary keeps its private memory lower (no libc, no dynamic loader pages).
$(BIN)/containerd-shim-berth-v2: $(GOSRC)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $@ ./shim
$(BIN)/berthd: $(GOSRC)
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $@ ./supervisor
# The CLI starts for every command: static and cgo-free, it skips the
# dynamic loader.
$(BIN)/berth: $(GOSRC)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $@ ./ctl

deps: ## install the Debian packages the build and tests need (idempotent)
	bash hack/install-deps.sh

test: deps build ## unit and integration tests (needs root)
	$(GO) vet ./...
	$(GO) test -count=1 $$($(GO) list ./... | grep -v /integration)
	$(GO) test -count=1 -timeout 25m ./integration/...

unit: ## unit tests only
	$(GO) test $$($(GO) list ./... | grep -v /integration)

integration: build ## integration tests only
	$(GO) test -count=1 -timeout 25m ./integration/...

bench: bench-runtime bench-shim bench-pull bench-containers bench-network ## all benchmarks against the peers, side by side

bench-runtime: deps build ## berth-runtime vs runc and crun: lifecycle time, peak RSS
	bash hack/bench-runtime.sh

bench-pull: deps build ## berth pull vs ctr, podman and skopeo
	bash hack/bench-pull.sh

bench-shim: deps build ## containerd-shim-berth-v2 vs containerd-shim-runc-v2 and conmon: memory, ctr run latency
	bash hack/bench-shim.sh

bench-containers: deps build ## berth run vs docker and podman
	bash hack/bench-containers.sh

bench-network: deps build ## published-port and bridge throughput vs podman
	bash hack/bench-network.sh

conformance: deps build ## OCI runtime-tools validation suite, berth-runtime and runc side by side
	bash hack/conformance.sh

generate: ## regenerate the protobuf Go code of supervisor/api
	bash hack/generate.sh

fmt: ## gofmt the tree
	gofmt -w $$(git ls-files '*.go')

vet: ## go vet
	$(GO) vet ./...

clean: ## remove build output
	rm -rf $(BIN)

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' Makefile | sed 's/:.*## /\t/'
