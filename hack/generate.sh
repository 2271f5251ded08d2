#!/usr/bin/env bash
# generate.sh — regenerate the Go code for berthd's API (supervisor/api/*.proto).
# Needs protoc (Debian: protobuf-compiler); installs protoc-gen-go and
# protoc-gen-go-ttrpc into $(go env GOPATH)/bin from the module proxy at the
# versions go.mod pins, so the generated code matches the libraries we link.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$(go env GOPATH)/bin:$PATH

command -v protoc >/dev/null || { echo "generate: need protoc (apt-get install protobuf-compiler)" >&2; exit 1; }
pb=$(go list -m -f '{{.Version}}' google.golang.org/protobuf)
tt=$(go list -m -f '{{.Version}}' github.com/containerd/ttrpc)
GOFLAGS=-mod=mod go install "google.golang.org/protobuf/cmd/protoc-gen-go@$pb"
GOFLAGS=-mod=mod go install "github.com/containerd/ttrpc/cmd/protoc-gen-go-ttrpc@$tt"

protoc -I supervisor/api \
  --go_out=paths=source_relative:supervisor/api \
  --go-ttrpc_out=paths=source_relative,prefix=TTRPC:supervisor/api \
  supervisor/api/*.proto
gofmt -w supervisor/api/*.go
echo "generate: supervisor/api regenerated (protoc-gen-go $pb, protoc-gen-go-ttrpc $tt)" >&2
