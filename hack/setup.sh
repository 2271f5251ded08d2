#!/usr/bin/env bash
# setup.sh — set berth up on a fresh Debian 12 machine (as root), the way a
# new user would, and run a first container. Idempotent: run it again after
# pulling new code and it rebuilds, reinstalls and restarts berthd (running
# containers survive that).
#
#   1. Debian packages and Go (make deps), the four binaries (make build)
#   2. install them into $PREFIX/bin (default /usr/local)
#   3. start berthd in the background if it is not running (or runs an
#      older binary); its log goes to /var/log/berthd.log
#   4. make the default busybox image from Debian's busybox-static (there is
#      no registry to pull from here) and load it as busybox:latest
#   5. berth run --rm busybox echo hello from berth
set -euo pipefail
cd "$(dirname "$0")/.."
PREFIX=${PREFIX:-/usr/local}
LOG=${BERTHD_LOG:-/var/log/berthd.log}
IMAGES=${IMAGES:-/var/tmp/berth-images}
export PATH=/usr/local/go/bin:$PREFIX/bin:$PATH

say() { printf 'setup: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root (berthd mounts filesystems and creates namespaces)"

say "installing dependencies and building (make deps build)"
make deps build >&2
# --init mounts a static init into the container; Debian's tini ships one.
if [ ! -x /usr/bin/tini-static ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q tini >&2 || say "tini not installed: --init will not work"
fi

say "installing into $PREFIX/bin"
for b in berth berthd berth-runtime containerd-shim-berth-v2; do
  cmp -s "bin/$b" "$PREFIX/bin/$b" && continue
  # A new file, not a rewrite: running shims keep their binary.
  install -D -m 0755 "bin/$b" "$PREFIX/bin/$b.new"
  mv -f "$PREFIX/bin/$b.new" "$PREFIX/bin/$b"
done
if [ -x /usr/bin/tini-static ] && [ ! -e "$PREFIX/bin/docker-init" ]; then
  ln -s /usr/bin/tini-static "$PREFIX/bin/docker-init"
fi

# berthd_pid prints the pid of the running berthd (its lock file), if any.
berthd_pid() {
  local pid
  pid=$(cat /var/lib/berth/berthd.lock 2>/dev/null || true)
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
  return 0
}

pid=$(berthd_pid)
if [ -n "$pid" ] && [ "$(readlink "/proc/$pid/exe")" != "$(readlink -f "$PREFIX/bin/berthd")" ]; then
  # An older binary (replaced by the install above): restart it. The
  # containers keep running and berthd reconnects to them.
  say "restarting berthd (pid $pid runs an older binary)"
  kill "$pid"
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  pid=
fi
if [ -z "$pid" ]; then
  say "starting berthd (log: $LOG)"
  mkdir -p "$(dirname "$LOG")"
  setsid nohup "$PREFIX/bin/berthd" >>"$LOG" 2>&1 </dev/null &
  for _ in $(seq 100); do berth ps >/dev/null 2>&1 && break; sleep 0.1; done
  berth ps >/dev/null || { tail -20 "$LOG" >&2; die "berthd did not start"; }
fi

if ! berth image inspect busybox >/dev/null 2>&1; then
  say "making the busybox image from Debian's busybox-static"
  rm -rf "$IMAGES/oci" "$IMAGES/busybox.tar"
  mkdir -p "$IMAGES"
  bash hack/make-image.sh "$IMAGES/oci" >&2
  skopeo copy --quiet "oci:$IMAGES/oci:busybox" "docker-archive:$IMAGES/busybox.tar:busybox:latest"
  berth load -i "$IMAGES/busybox.tar"
fi

berth run --rm busybox echo hello from berth
