#!/usr/bin/env bash
# bench-pull.sh — cold pull + unpack from a local docker-registry: berth
# against ctr (containerd, pull with unpack; and fetch only), podman pull,
# and skopeo copy to an OCI layout (fetch only, no unpack).
#
# Images come from an OCI layout with tags busybox and debian
# (IMAGES_OCI, default /var/tmp/peers-cache/oci: shared/peers/make-images.sh
# builds it — debootstrap minbase + python3-minimal, about 60 MB
# compressed); if debian is missing only busybox is measured.
#
# Each run is cold: the image is removed (blobs and snapshots too) in
# hyperfine's --prepare. Daemon CPU (berthd, containerd) is read from
# /proc/PID/stat around each series and divided by the runs (it includes
# the removal in --prepare). Every --prepare ends with sync: this ext4 is
# mounted with discard, and the removal's writeback otherwise lands in the
# next pull (seen: tar -xz of the same layer 1.2 s to 2.7 s). Medians of PULL_RUNS (default 10) runs.
#
# This ext4 has no journal: its inode allocator then skips every inode
# freed in the last 60 s, one buffer-cache lookup each, from the start of
# the block group, for every new inode. A layer unpacked into the block
# group of the layer removed just before pays that for each file (0.5 ms a
# file, seconds per image: perf shows recently_deleted under
# __ext4_new_inode). berthd marks its snapshot directory chattr +T so that
# each layer gets a block group of its own; containerd and podman keep
# their layers under one parent and pay it in full. PEERS_TOPDIR=1 marks
# their snapshot directories +T too, for the comparison without that
# effect.
# Env: PULL_RUNS, REG_PORT (5055), BERTH_BIN_DIR (<repo>/bin), NICE (-10),
# PULL_ONLY (a regex of benchmark names to run, e.g. '^berth'),
# PEERS_TOPDIR (0).
# Results: hack/.cache/bench-pull/{*.json,summary.md}
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${BENCH_NICED:-}" ] && [ "${NICE:--10}" != 0 ]; then
  export BENCH_NICED=1; exec nice -n "${NICE:--10}" "$0" "$@"
fi
BIN=${BERTH_BIN_DIR:-$REPO/bin}
RUNS=${PULL_RUNS:-10}
PORT=${REG_PORT:-5055}
REG=127.0.0.1:$PORT
L=${IMAGES_OCI:-/var/tmp/peers-cache/oci}
RES=$REPO/hack/.cache/bench-pull
mkdir -p "$RES"
rm -f "$RES"/*.json "$RES"/*.txt # no stale results in the ratios (PULL_ONLY)
W=$(mktemp -d /var/tmp/berth-bench-pull.XXXXXX)
PIDS=()
log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "FATAL: $*"; exit 1; }
cleanup() {
  set +e
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  umount -R "$W"/ctd/root/io.containerd.snapshotter.v1.overlayfs/snapshots/*/fs 2>/dev/null
  rm -rf "$W"
}
trap cleanup EXIT
for t in hyperfine jq skopeo docker-registry; do command -v $t >/dev/null || die "need $t"; done
[ -x "$BIN/berthd" ] && [ -x "$BIN/berth" ] || die "build first (make build)"

have_tag() { [ -f "$L/index.json" ] && jq -e --arg r "$1" '.manifests[]|select(.annotations["org.opencontainers.image.ref.name"]==$r)' "$L/index.json" >/dev/null; }
if ! have_tag busybox; then
  log "no $L with busybox: building it with hack/make-image.sh"
  "$REPO/hack/make-image.sh" "$L"
fi
TAGS=busybox
have_tag debian && TAGS="busybox debian" || log "no debian image in $L (shared/peers/make-images.sh builds it): busybox only"

# ---- registry ----
mkdir -p "$W/reg"
cat >"$W/reg/config.yml" <<EOC
version: 0.1
log: {level: warn, accesslog: {disabled: true}}
storage: {cache: {blobdescriptor: inmemory}, filesystem: {rootdirectory: $W/reg/data}, delete: {enabled: true}}
http: {addr: $REG}
health: {storagedriver: {enabled: false}}
EOC
docker-registry serve "$W/reg/config.yml" >"$W/reg/log" 2>&1 &
PIDS+=($!)
for i in $(seq 100); do curl -fsS "http://$REG/v2/" >/dev/null 2>&1 && break; sleep 0.1; done
declare -A SIZE
for t in $TAGS; do
  skopeo copy --quiet --dest-tls-verify=false "oci:$L:$t" "docker://$REG/bench/$t:latest"
  m=$(jq -r --arg r "$t" '.manifests[]|select(.annotations["org.opencontainers.image.ref.name"]==$r).digest' "$L/index.json")
  SIZE[$t]=$(jq '[.layers[].size]|add' "$L/blobs/sha256/${m#sha256:}")
done

# ---- berthd ----
B="$BIN/berth --address $W/berthd.sock"
"$BIN/berthd" --root "$W/berth/root" --state "$W/berth/state" --address "$W/berthd.sock" --log-level warn 2>"$W/berthd.log" &
BERTHD=$!; PIDS+=($BERTHD)
for i in $(seq 100); do [ -S "$W/berthd.sock" ] && break; sleep 0.05; done

# ---- containerd (optional) ----
CTD=
if command -v containerd >/dev/null && command -v ctr >/dev/null; then
  d=$W/ctd; mkdir -p "$d"
  cat >"$d/config.toml" <<EOC
version = 2
root = "$d/root"
state = "$d/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$d/containerd.sock"
[ttrpc]
  address = "$d/containerd.sock.ttrpc"
[debug]
  level = "warn"
[plugins."io.containerd.internal.v1.opt"]
  path = "$d/opt"
EOC
  containerd -c "$d/config.toml" >"$d/log" 2>&1 &
  CTD=$!; PIDS+=($CTD)
  for i in $(seq 100); do ctr -a "$d/containerd.sock" version >/dev/null 2>&1 && break; sleep 0.1; done
  [ "${PEERS_TOPDIR:-0}" = 1 ] && chattr +T "$d/root/io.containerd.snapshotter.v1.overlayfs/snapshots"
  C="ctr -a $d/containerd.sock -n bench"
fi

cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)

# hf NAME DAEMON_PID|- BYTES hyperfine-args... : one summary row
hf() {
  local name=$1 pid=$2 bytes=$3; shift 3
  [[ $name =~ ${PULL_ONLY:-.} ]] || return 0
  sync
  local c0=0; [ "$pid" != - ] && c0=$(cpu_ticks "$pid")
  hyperfine --style basic -N --runs "$RUNS" --export-json "$RES/$name.json" "$@" >"$RES/$name.txt" 2>&1 ||
    { echo "| $name | FAILED | | | | | |"; tail -5 "$RES/$name.txt" >&2; return 0; }
  local dcpu=0; [ "$pid" != - ] && dcpu=$(( ($(cpu_ticks "$pid") - c0) * 1000 / HZ / RUNS ))
  jq -r --arg n "$name" --argjson b "$bytes" --argjson d "$dcpu" '.results[0] |
    [$n, (.median*1000|round|tostring), (.min*1000|round|tostring), (.max*1000|round|tostring),
     (($b/1e6)/.median*10|round/10|tostring),
     (((.user+.system)*1000+$d)|round|tostring), (if $d > 0 then ($d|tostring) else "" end)] | "| " + join(" | ") + " |"' "$RES/$name.json"
}

SUM=$RES/summary.md
{
  echo "# cold pull + unpack from a local registry ($(date -u +%FT%TZ), $(nproc) cpus, $RUNS runs)"
  echo
  echo "MB/s = compressed image size / median. CPU = client user+sys (hyperfine mean) + daemon CPU per run;"
  echo "daemon CPU = berthd's or containerd's user+sys per run, the removal in --prepare included."
  [ "${PEERS_TOPDIR:-0}" = 1 ] && echo "PEERS_TOPDIR=1: containerd's and podman's snapshot directories are chattr +T, as berthd's."
  echo
  echo "| benchmark | median ms | min ms | max ms | MB/s | CPU ms | daemon CPU ms |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
} >"$SUM"
for t in $TAGS; do
  ref=$REG/bench/$t:latest
  printf '#!/bin/sh\n%s rmi -f %s >/dev/null 2>&1; %s image prune -a -f >/dev/null 2>&1; sync; exit 0\n' "$B" "$ref" "$B" >"$W/berth-rm"
  chmod +x "$W/berth-rm"
  hf "berth_pull_$t" "$BERTHD" "${SIZE[$t]}" --prepare "$W/berth-rm" "$B pull -q $ref" >>"$SUM"
  if [ -n "$CTD" ]; then
    printf '#!/bin/sh\n%s images rm --sync $(%s images ls -q) >/dev/null 2>&1; sync; exit 0\n' "$C" "$C" >"$W/ctr-rm"
    chmod +x "$W/ctr-rm"
    hf "ctr_pull_$t" "$CTD" "${SIZE[$t]}" --prepare "$W/ctr-rm" "$C images pull --plain-http $ref" >>"$SUM"
    hf "ctr_fetch_only_$t" "$CTD" "${SIZE[$t]}" --prepare "$W/ctr-rm" "$C content fetch --plain-http $ref" >>"$SUM"
  fi
  if command -v podman >/dev/null; then
    P="podman --root $W/podman/root --runroot $W/podman/run --storage-driver overlay"
    if [ "${PEERS_TOPDIR:-0}" = 1 ]; then mkdir -p "$W/podman/root/overlay"; chattr +T "$W/podman/root/overlay"; fi
    hf "podman_pull_$t" - "${SIZE[$t]}" --prepare "sh -c '$P rmi -a -f >/dev/null; sync'" "$P pull -q --tls-verify=false $ref" >>"$SUM"
  fi
  hf "skopeo_fetch_only_$t" - "${SIZE[$t]}" --prepare "sh -c 'rm -rf $W/o; sync'" "skopeo copy --quiet --src-tls-verify=false docker://$ref oci:$W/o:$t" >>"$SUM"
done
# ratios against ctr pull
{
  echo
  for t in $TAGS; do
    b=$(jq '.results[0].median' "$RES/berth_pull_$t.json" 2>/dev/null || echo null)
    for other in ctr_pull podman_pull; do
      o=$(jq '.results[0].median' "$RES/${other}_$t.json" 2>/dev/null || echo null)
      [ "$b" != null ] && [ "$o" != null ] && echo "- $t: berth / ${other%_pull} = $(jq -n "$b/$o*100|round/100")"
    done
  done
} >>"$SUM"
cat "$SUM"
