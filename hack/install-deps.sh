#!/usr/bin/env bash
# install-deps.sh — install what berth's build, tests and benchmarks need on
# Debian 12 (run as root; `make deps` calls it). Idempotent and quick when
# nothing is missing: one dpkg-query, no apt-get at all.
#
# Go is not a Debian package here (bookworm's golang is too old): it is
# expected at /usr/local/go (or $GO_DIR). If it is missing, the release that
# go.mod names (toolchain line, else go line) is fetched from the Go module
# proxy, which serves Go toolchains as the module golang.org/toolchain (what
# GOTOOLCHAIN uses). HTTPS only: sum.golang.org is not reachable here.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
GO_DIR=${GO_DIR:-/usr/local/go}   # where Go lives or is installed
export PATH=$GO_DIR/bin:$PATH
cd "$(dirname "$0")/.."

PKGS=(
  # build (berth-runtime links glibc and libseccomp statically: libc6-dev
  # and libseccomp-dev have the archives); protoc for hack/generate.sh
  gcc libc6-dev make pkg-config libseccomp-dev git protobuf-compiler
  # test bundles and tests
  busybox-static jq iproute2 strace nftables iptables tini
  # peers the runtime is compared with and tested under
  runc crun containerd podman docker.io
  # images and registry
  skopeo umoci docker-registry debootstrap curl unzip
  # benchmarks
  hyperfine time tmux
)

log() { printf 'install-deps: %s\n' "$*" >&2; }

# missing_pkgs: the PKGS whose dpkg status is not "installed". dpkg-query
# prints nothing for a package it has never heard of, so compare by name.
missing_pkgs() {
  local -A ok=()
  local name status
  while read -r name status; do
    [ "$status" = installed ] && ok[$name]=1
  done < <(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${PKGS[@]}" 2>/dev/null || true)
  for name in "${PKGS[@]}"; do
    [ -n "${ok[$name]:-}" ] || echo "$name"
  done
}

install_pkgs() {
  local missing
  mapfile -t missing < <(missing_pkgs)
  if [ ${#missing[@]} -eq 0 ]; then
    return 0
  fi
  [ "$(id -u)" = 0 ] || { log "missing ${missing[*]}; run as root"; exit 1; }
  log "installing ${missing[*]}"
  apt-get update -q
  # Recommends stay on: podman needs its recommended helpers (catatonit,
  # slirp4netns, uidmap, containernetworking-plugins) for the peer benchmarks.
  apt-get install -y -q "${missing[@]}"
  mapfile -t missing < <(missing_pkgs)
  [ ${#missing[@]} -eq 0 ] || { log "still missing after apt-get: ${missing[*]}"; exit 1; }
}

# go_version_wanted: the toolchain go.mod asks for, e.g. 1.26.8.
go_version_wanted() {
  awk '$1 == "toolchain" { sub(/^go/, "", $2); t = $2 } $1 == "go" { g = $2 }
       END { print (t != "" ? t : g) }' go.mod
}

install_go() {
  if go version >/dev/null 2>&1; then
    return 0
  fi
  local want arch proxy zip tmp
  want=$(go_version_wanted)
  [ -n "$want" ] || { log "no go version in go.mod"; exit 1; }
  case $(uname -m) in
    x86_64) arch=amd64 ;;
    aarch64) arch=arm64 ;;
    *) log "no Go at $GO_DIR and no toolchain for $(uname -m); install Go $want by hand"; exit 1 ;;
  esac
  proxy=${GOPROXY:-https://proxy.golang.org}
  proxy=${proxy%%,*}
  [[ $proxy == http* ]] || proxy=https://proxy.golang.org
  zip=$proxy/golang.org/toolchain/@v/v0.0.1-go$want.linux-$arch.zip
  log "Go not found; fetching go$want from $zip"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  curl -fsSL -o "$tmp/go.zip" "$zip"
  unzip -q "$tmp/go.zip" -d "$tmp/x"
  rm -rf "$GO_DIR"
  mkdir -p "$(dirname "$GO_DIR")"
  mv "$tmp/x/golang.org/toolchain@v0.0.1-go$want.linux-$arch" "$GO_DIR"
  # Module zips carry no file modes; the tools must be executable.
  chmod -R u+w,go-w "$GO_DIR"
  chmod +x "$GO_DIR"/bin/* "$GO_DIR"/pkg/tool/*/*
  go version >&2
}

install_pkgs
install_go
