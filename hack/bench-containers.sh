#!/usr/bin/env bash
# bench-containers.sh — containers end to end, berth against Docker and
# podman on the same busybox image (hack/make-image.sh, loaded into each
# engine from a docker-archive; no registry, no network):
#   * latency of `run --rm busybox true` (hyperfine, median of RUNS)
#   * N detached `run -d busybox sleep 1000` one after the other: total
#     time, per-container median, memory per container (the monitor
#     processes' RSS and PSS: berth's shim, Docker's
#     containerd-shim-runc-v2, podman's conmon), the daemon's RSS growth,
#     and the time of one `rm -f` of all of them
# Each engine runs with private state in a temp dir: berthd with its own
# --root/--state/--address; dockerd as shared/peers/bench-docker.sh runs it
# (--data-root, --exec-root, -H, --bridge=none --iptables=false, its own
# managed containerd); podman with its own containers.conf/storage.conf
# (overlay, runc, cgroupfs). Every engine runs its containers without a
# network (berth's default, docker's --bridge=none, podman --network none).
# Env: RUNS (20), WARMUP (3), MANY (20), ENGINES ("berth docker podman"),
#      NICE (-10), BERTH_BIN_DIR (<repo>/bin)
# Results: hack/.cache/bench-containers/{*.json,summary.md}
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${BENCH_NICED:-}" ] && [ "${NICE:--10}" != 0 ]; then
  export BENCH_NICED=1; exec nice -n "${NICE:--10}" "$0" "$@"
fi
BIN=${BERTH_BIN_DIR:-$REPO/bin}
RUNS=${RUNS:-20}
WARMUP=${WARMUP:-3}
MANY=${MANY:-20}
ENGINES=${ENGINES:-berth docker podman}
RES=$REPO/hack/.cache/bench-containers
mkdir -p "$RES"
W=$(mktemp -d /tmp/bbc.XXXXXX)
PIDS=()
log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "FATAL: $*"; exit 1; }

cleanup() {
  set +e
  [ -n "${DOCKER_HOST:-}" ] && docker ps -aq | xargs -r docker rm -f >/dev/null 2>&1
  [ -n "${CONTAINERS_CONF:-}" ] && podman rm -f -a -t 0 >/dev/null 2>&1
  if [ -S "$W/berth/b.sock" ]; then
    ids=$(BERTH_ADDRESS=$W/berth/b.sock "$BIN/berth" ps -aq)
    [ -n "$ids" ] && BERTH_ADDRESS=$W/berth/b.sock "$BIN/berth" rm -f $ids >/dev/null 2>&1
  fi
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done; kill -9 "$p" 2>/dev/null; done
  awk -v w="$W" '$2 ~ "^"w {print $2}' /proc/self/mounts | sort -r | while read -r m; do umount -l "$m"; done
  rm -rf "$W"
}
trap cleanup EXIT
for t in hyperfine jq skopeo umoci; do command -v $t >/dev/null || die "need $t"; done
[ -x "$BIN/berthd" ] && [ -x "$BIN/berth" ] || die "build first (make build)"

# ---- the image ----
"$REPO/hack/make-image.sh" "$W/oci" 2>/dev/null
skopeo copy --quiet "oci:$W/oci:busybox" "docker-archive:$W/busybox.tar:busybox:latest"

# ---- helpers ----
# proc_mem PID: "rss_kb pss_kb"
proc_mem() {
  local rss pss
  rss=$(awk '/^VmRSS:/{print $2}' "/proc/$1/status" 2>/dev/null)
  pss=$(awk '/^Pss:/{print $2}' "/proc/$1/smaps_rollup" 2>/dev/null)
  echo "${rss:-0} ${pss:-0}"
}
# pids_of NAME SUBSTR: pids whose argv[0] ends with NAME and whose argv has SUBSTR
pids_of() {
  local p c
  for p in /proc/[0-9]*; do
    c=$(tr '\0' ' ' 2>/dev/null <"$p/cmdline") || continue
    [[ "${c%% *}" == *"$1" && "$c" == *"$2"* ]] && echo "${p#/proc/}"
  done
  return 0
}
# median FILE: median of one number per line
median() { sort -n "$1" | awk '{v[NR]=$1} END {if (!NR) {print "n/a"; exit}; m=(NR%2)?v[(NR+1)/2]:(v[NR/2]+v[NR/2+1])/2; printf "%.1f\n", m}'; }
# wait_idle: let the 2-core machine settle before measuring
wait_idle() {
  local a b i idle
  for i in $(seq 30); do
    read -r -a a </proc/stat; sleep 1; read -r -a b </proc/stat
    idle=$(( ( (b[4]-a[4]) + (b[5]-a[5]) ) * 100 / ( (b[1]+b[2]+b[3]+b[4]+b[5]+b[6]+b[7]) - (a[1]+a[2]+a[3]+a[4]+a[5]+a[6]+a[7]) + 1 ) ))
    [ "$idle" -ge 85 ] && return 0
  done
  log "machine busy (idle $idle%), measuring anyway"
}

declare -A RUN_MS MANY_S PER_MS RSS PSS DAEMON RM_S

# measure ENGINE CLI... : CLI is the engine's command prefix; DAEMON_PID and
# MONITOR (argv[0] suffix of the per-container process, and a substring
# of its argv) are set by the caller.
measure() {
  local e=$1; shift
  local cli="$*"
  log "$e: run --rm latency"
  sync; wait_idle
  hyperfine --style basic -N --warmup "$WARMUP" --runs "$RUNS" --export-json "$RES/$e-run-rm.json" \
    "$cli run --rm $NETFLAG busybox true" >"$RES/$e-run-rm.txt" 2>&1 || { tail "$RES/$e-run-rm.txt" >&2; die "$e run --rm failed"; }
  RUN_MS[$e]=$(jq -r '.results[0].median*1000*10|round/10' "$RES/$e-run-rm.json")

  log "$e: $MANY detached containers"
  sync; wait_idle
  local d0 t0 t1 s e2 rss=0 pss=0 k=0 p r q
  d0=$(proc_mem "$DAEMON_PID" | cut -d' ' -f1)
  : >"$W/$e.ms"
  t0=$EPOCHREALTIME
  for i in $(seq "$MANY"); do
    s=$EPOCHREALTIME
    $cli run -d $NETFLAG --name "bench$i" busybox sleep 1000 >/dev/null
    e2=$EPOCHREALTIME
    awk -v a="$s" -v b="$e2" 'BEGIN{printf "%.1f\n", (b-a)*1000}' >>"$W/$e.ms"
  done
  t1=$EPOCHREALTIME
  sleep 2
  for p in $(pids_of "$MONITOR" "$MONITOR_ARG"); do
    read -r r q < <(proc_mem "$p"); rss=$((rss + r)); pss=$((pss + q)); k=$((k + 1))
  done
  [ "$k" -gt 0 ] || k=1
  MANY_S[$e]=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}')
  PER_MS[$e]=$(median "$W/$e.ms")
  RSS[$e]=$(awk -v s="$rss" -v k="$k" 'BEGIN{printf "%.1f", s/k/1024}')
  PSS[$e]=$(awk -v s="$pss" -v k="$k" 'BEGIN{printf "%.1f", s/k/1024}')
  if [ -n "$DAEMON_PID" ]; then
    DAEMON[$e]=$(( ($(proc_mem "$DAEMON_PID" | cut -d' ' -f1) - d0) / 1024 ))
  else
    DAEMON[$e]=n/a
  fi
  t0=$EPOCHREALTIME
  $cli rm -f $RMFLAGS $($cli ps -aq) >/dev/null
  RM_S[$e]=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.2f", b-a}')
}

for e in $ENGINES; do
  case $e in
  berth)
    mkdir -p "$W/berth"
    "$BIN/berthd" --root "$W/berth/root" --state "$W/berth/state" --address "$W/berth/b.sock" >"$W/berth/log" 2>&1 &
    PIDS+=($!); DAEMON_PID=$!
    for _ in $(seq 100); do [ -S "$W/berth/b.sock" ] && break; sleep 0.1; done
    export BERTH_ADDRESS=$W/berth/b.sock
    "$BIN/berth" load -q -i "$W/busybox.tar"
    MONITOR=containerd-shim-berth-v2 MONITOR_ARG=$W/berth NETFLAG= RMFLAGS=
    measure berth "$BIN/berth"
    ;;
  docker)
    command -v dockerd >/dev/null || { log "no dockerd: skipped"; continue; }
    mkdir -p "$W/docker/data" "$W/docker/exec"
    dockerd --data-root "$W/docker/data" --exec-root "$W/docker/exec" -H "unix://$W/docker/d.sock" \
      --pidfile "$W/docker/d.pid" --userland-proxy=false --bridge=none --iptables=false --ip-masq=false \
      >"$W/docker/log" 2>&1 &
    PIDS+=($!); DAEMON_PID=$!
    export DOCKER_HOST=unix://$W/docker/d.sock
    for _ in $(seq 150); do docker version >/dev/null 2>&1 && break; sleep 0.2; done
    docker version >/dev/null 2>&1 || { tail -20 "$W/docker/log" >&2; die "dockerd did not start"; }
    docker load -q -i "$W/busybox.tar" >/dev/null
    MONITOR=containerd-shim-runc-v2 MONITOR_ARG=$W/docker NETFLAG= RMFLAGS=
    measure docker docker
    ;;
  podman)
    command -v podman >/dev/null || { log "no podman: skipped"; continue; }
    mkdir -p "$W/podman"
    hn=$(ulimit -Hn); hu=$(ulimit -Hu)
    [ "$hn" = unlimited ] && hn=1048576; [ "$hu" = unlimited ] && hu=32768
    [ "$hn" -gt 1048576 ] && hn=1048576; [ "$hu" -gt 32768 ] && hu=32768
    cat >"$W/podman/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=$hn:$hn", "nproc=$hu:$hu"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
tmp_dir = "$W/podman/tmp"
EOF
    cat >"$W/podman/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$W/podman/storage"
runroot = "$W/podman/run"
EOF
    export CONTAINERS_CONF=$W/podman/containers.conf CONTAINERS_STORAGE_CONF=$W/podman/storage.conf
    podman load -q -i "$W/busybox.tar" >/dev/null
    podman tag localhost/busybox:latest busybox:latest 2>/dev/null || true
    # podman's rm -f would wait the stop timeout first; docker's and
    # berth's kill at once.
    DAEMON_PID= MONITOR=conmon MONITOR_ARG=$W/podman NETFLAG="--network none" RMFLAGS="-t 0"
    measure podman podman
    ;;
  esac
done

SUM=$RES/summary.md
{
  echo "# containers end to end: berth vs Docker vs podman"
  echo
  echo "$(date -u +%FT%TZ), kernel $(uname -r), $(nproc) cpus; busybox from hack/make-image.sh; no network; RUNS=$RUNS, MANY=$MANY"
  echo
  echo "| | $(for e in $ENGINES; do printf '%s | ' "$e"; done)"
  echo "|---|$(for e in $ENGINES; do printf -- '---:|'; done)"
  row() { local label=$1; shift; local -n arr=$1; printf '| %s | ' "$label"; for e in $ENGINES; do printf '%s | ' "${arr[$e]:-n/a}"; done; echo; }
  row "\`run --rm busybox true\`, median ms" RUN_MS
  row "$MANY x \`run -d\`, total s" MANY_S
  row "\`run -d\`, median ms per container" PER_MS
  row "monitor RSS per container, MiB" RSS
  row "monitor PSS per container, MiB" PSS
  row "daemon RSS growth for $MANY containers, MiB" DAEMON
  row "\`rm -f\` of all $MANY, s" RM_S
  echo
  echo "Ratios (berth / peer; below 1 means berth is faster):"
  echo
  for e in $ENGINES; do
    [ "$e" = berth ] && continue
    [ -n "${RUN_MS[$e]:-}" ] && [ -n "${RUN_MS[berth]:-}" ] || continue
    echo "- vs $e: run --rm $(awk -v a="${RUN_MS[berth]}" -v b="${RUN_MS[$e]}" 'BEGIN{printf "%.2f", a/b}'), run -d $(awk -v a="${PER_MS[berth]}" -v b="${PER_MS[$e]}" 'BEGIN{printf "%.2f", a/b}')"
  done
  echo
  echo "Monitor: berth's containerd-shim-berth-v2, Docker's containerd-shim-runc-v2, podman's conmon. podman has no daemon (its growth is n/a)."
} >"$SUM"
cat "$SUM"
