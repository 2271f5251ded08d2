#!/usr/bin/env bash
# bench-shim.sh — containerd-shim-berth-v2 vs containerd-shim-runc-v2 (and
# conmon), side by side, under Debian's containerd 1.6 (needs root).
#
# Configurations (shim + OCI runtime):
#   runc-v2      containerd-shim-runc-v2 + runc        (containerd's default)
#   berth+runc   containerd-shim-berth-v2 + runc       (the shim alone differs)
#   berth        containerd-shim-berth-v2 + berth-runtime
#   conmon       conmon + runc, started directly (podman's monitor; no podman)
#
# Per configuration:
#   mem   N detached `sleep 1000` containers (one configuration at a time, so
#         the N monitors share their binary's pages as they would on a node):
#         VmRSS (/proc/PID/status) and PSS (smaps_rollup) of every monitor,
#         median and sum; containerd's RSS with them.
#   run   `ctr run --rm IMAGE ID /bin/true` end to end, hyperfine (not conmon).
#
# One containerd (own root/state/sockets in a temp dir, CRI off) serves the
# ctr configurations; the berth shim is given by absolute path (--runtime
# /path/containerd-shim-berth-v2), one copy per runtime with a berth-runtime
# symlink next to it (the shim's default lookup). The image is busybox-static
# packed with umoci + skopeo and imported with `ctr images import`.
#
# Env: N (20) RUNS (30) ROUNDS (3) WARMUP (3) SETTLE (130 s) BENCH_OUT (/var/tmp/berth-bench)
#      BERTH_SHIM (<repo>/bin/containerd-shim-berth-v2)
#      BERTH_RUNTIME (<repo>/bin/berth-runtime) RUNC (runc in PATH)
#      BENCH_NICE (-10; 0 = off) QUIET_IDLE (80 %) QUIET_MAX (60 s)
# Output: BENCH_OUT/shim-<date>/{summary.md,*.json,*.txt,mem-*.tsv}, and
#         BENCH_OUT/shim-latest pointing at it; summary.md is also printed.
# Everything it creates (containers, daemons, mounts, cgroups, temp dirs)
# is removed on exit; processes are stopped by PID.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
SELF=$REPO/hack/$(basename "$0")
export PATH=/usr/local/go/bin:/usr/sbin:/sbin:$PATH
N=${N:-20}
RUNS=${RUNS:-30}
ROUNDS=${ROUNDS:-3}
# Go forces a GC cycle every 2 minutes, and a shim's first GC cycles map a
# few hundred KiB of GC metadata for good: measuring before that flatters
# any Go shim (both shims here are Go), so memory is read after SETTLE s.
SETTLE=${SETTLE:-130}
WARMUP=${WARMUP:-3}
BENCH_NICE=${BENCH_NICE:--10}
QUIET_IDLE=${QUIET_IDLE:-80}
QUIET_MAX=${QUIET_MAX:-60}
BERTH_SHIM=${BERTH_SHIM:-$REPO/bin/containerd-shim-berth-v2}
BERTH_RUNTIME=${BERTH_RUNTIME:-$REPO/bin/berth-runtime}
RUNC=${RUNC:-$(command -v runc || echo /usr/sbin/runc)}
IMAGE=docker.io/library/berth-bench-busybox:latest
NS=bshimbench
CONFIGS="runc-v2 berth+runc berth"

log() { printf '[%s] bench-shim: %s\n' "$(date +%T)" "$*" >&2; }
die() { log "FATAL: $*"; exit 1; }

# idle_pct: % of CPU time idle over one second.
idle_pct() {
  local a b i ta=0 tb=0
  read -r -a a </proc/stat; sleep 1; read -r -a b </proc/stat
  for i in 1 2 3 4 5 6 7 8; do ta=$((ta + a[i])); tb=$((tb + b[i])); done
  [ $((tb - ta)) -gt 0 ] || { echo 100; return; }
  echo $((100 * ((b[4] - a[4]) + (b[5] - a[5])) / (tb - ta)))
}

# wait_quiet: wait up to QUIET_MAX s for QUIET_IDLE % idle CPU (the machine
# is shared), then print the idle % seen last.
wait_quiet() {
  local t0=$SECONDS idle
  while :; do
    idle=$(idle_pct)
    [ "$idle" -ge "$QUIET_IDLE" ] && break
    [ $((SECONDS - t0)) -ge "$QUIET_MAX" ] && { log "still busy (${idle}% idle), measuring anyway"; break; }
  done
  echo "$idle"
}

# runtime_arg CONFIG: ctr's --runtime value for a configuration.
runtime_arg() {
  case $1 in
    runc-v2) echo io.containerd.runc.v2 ;;
    berth+runc) echo "$W/shim-runc/containerd-shim-berth-v2" ;;
    berth) echo "$W/shim-berth/containerd-shim-berth-v2" ;;
  esac
}

# monitor_exe CONFIG: the binary whose processes are the monitors.
monitor_exe() {
  case $1 in
    runc-v2) readlink -f "$(command -v containerd-shim-runc-v2)" ;;
    berth+runc) echo "$W/shim-runc/containerd-shim-berth-v2" ;;
    berth) echo "$W/shim-berth/containerd-shim-berth-v2" ;;
    conmon) readlink -f "$(command -v conmon)" ;;
  esac
}

# pids_of_exe EXE [SUBSTR]: pids running EXE (and with SUBSTR in argv).
pids_of_exe() {
  local p e
  for p in /proc/[0-9]*; do
    e=$(readlink "$p/exe" 2>/dev/null) || continue
    [ "$e" = "$1" ] || continue
    if [ -n "${2:-}" ] && ! tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -qF -- "$2"; then continue; fi
    echo "${p#/proc/}"
  done
}

# mem PID: "rss_kib pss_kib peak_rss_kib"
mem() {
  local rss pss hwm
  rss=$(awk '/^VmRSS:/{print $2}' "/proc/$1/status" 2>/dev/null)
  hwm=$(awk '/^VmHWM:/{print $2}' "/proc/$1/status" 2>/dev/null)
  pss=$(awk '/^Pss:/{print $2}' "/proc/$1/smaps_rollup" 2>/dev/null)
  echo "${rss:-0} ${pss:-0} ${hwm:-0}"
}

# stats FILE: "median sum n" of one integer per line.
stats() {
  sort -n "$1" | awk '{ v[NR] = $1; s += $1 } END {
    if (NR == 0) { print "- - 0"; exit }
    m = NR % 2 ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2)
    printf "%d %d %d\n", m, s, NR }'
}

C() { ctr -a "$W/c.sock" -n "$NS" "$@"; }

start_containerd() {
  cat >"$W/config.toml" <<EOF
version = 2
root = "$W/root"
state = "$W/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$W/c.sock"
[ttrpc]
  address = "$W/c.sock.ttrpc"
[debug]
  level = "warn"
[plugins."io.containerd.internal.v1.opt"]
  path = "$W/opt"
EOF
  containerd -c "$W/config.toml" >"$W/containerd.log" 2>&1 &
  CTD_PID=$!
  local i
  for i in $(seq 100); do
    ctr -a "$W/c.sock" version >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  tail "$W/containerd.log" >&2
  die "containerd did not start"
}

teardown_tasks() {
  local id
  for id in $(C task ls -q 2>/dev/null); do C task kill -s SIGKILL "$id" >/dev/null 2>&1 || true; done
  for id in $(C task ls -q 2>/dev/null); do C task delete -f "$id" >/dev/null 2>&1 || true; done
  for id in $(C containers ls -q 2>/dev/null); do C containers rm "$id" >/dev/null 2>&1 || true; done
}

# build_image: busybox-static rootfs -> OCI archive -> ctr images import.
build_image() {
  local r=$W/rootfs d
  mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,root,tmp}
  chmod 1777 "$r/tmp"
  cp /bin/busybox "$r/bin/busybox"
  for d in $(/bin/busybox --list-full); do [ "$d" = bin/busybox ] || ln -sf /bin/busybox "$r/$d"; done
  printf 'root:x:0:0:root:/root:/bin/sh\n' >"$r/etc/passwd"
  printf 'root:x:0:\n' >"$r/etc/group"
  umoci init --layout "$W/oci" >/dev/null
  umoci new --image "$W/oci:latest" >/dev/null
  umoci unpack --image "$W/oci:latest" "$W/ub" >/dev/null
  cp -a "$r/." "$W/ub/rootfs/"
  umoci repack --image "$W/oci:latest" "$W/ub" >/dev/null
  umoci config --image "$W/oci:latest" --os linux --architecture amd64 --config.cmd /bin/sh \
    --config.env PATH=/usr/sbin:/usr/bin:/sbin:/bin >/dev/null
  umoci gc --layout "$W/oci"
  rm -rf "$W/ub"
  skopeo copy --quiet "oci:$W/oci:latest" "oci-archive:$W/image.tar:$IMAGE"
  C images import "$W/image.tar" >/dev/null
}

# install_shim DIR RUNTIME: a copy of the shim (not a link: it looks for
# berth-runtime next to its resolved executable) and berth-runtime -> RUNTIME.
install_shim() {
  mkdir -p "$1"
  cp "$BERTH_SHIM" "$1/containerd-shim-berth-v2"
  ln -sf "$2" "$1/berth-runtime"
}

# row CONFIG KEY VALUE: one result, in results.tsv.
row() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$OUT/results.tsv"; }

# latency CONFIG ROUND: one hyperfine round of ctr run --rm /bin/true; the
# rounds of all configurations alternate (ROUNDS of RUNS/ROUNDS runs each),
# so that a busy spell on this shared machine hits them alike.
latency() {
  local cfg=$1 round=$2 rt base=$OUT/run-$1-$2
  rt=$(runtime_arg "$cfg")
  sync
  if ! timeout -k 10 600 hyperfine -N --style basic --time-unit millisecond --warmup "$WARMUP" --runs "$((RUNS / ROUNDS))" \
    --export-json "$base.json" "ctr -a $W/c.sock -n $NS run --rm --runtime $rt $IMAGE bench-run /bin/true" >"$base.txt" 2>&1; then
    log "$cfg: hyperfine failed, see $base.txt"
    C task delete -f bench-run >/dev/null 2>&1 || true
    C containers rm bench-run >/dev/null 2>&1 || true
    return 0
  fi
  jq -r '.results[0].times[] * 1000' "$base.json" >>"$OUT/run-$cfg.ms"
}

# latency_rows CONFIG: the median over all rounds, or FAILED.
latency_rows() {
  local f=$OUT/run-$1.ms
  if [ ! -s "$f" ]; then row "$1" run_ms FAILED; return 0; fi
  row "$1" run_ms "$(sort -n "$f" | awk '{ v[NR] = $1 } END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.1f", m }')"
  row "$1" run_n "$(wc -l <"$f")"
}

# memory CONFIG: N sleepers, RSS/PSS of each monitor.
memory() {
  local cfg=$1 rt i p f=$OUT/mem-$1.tsv t0 t1
  rt=$(runtime_arg "$cfg")
  wait_quiet >/dev/null
  t0=$EPOCHREALTIME
  for i in $(seq "$N"); do
    if ! C run -d --runtime "$rt" "$IMAGE" "bench-s$i" sleep 1000 >/dev/null 2>"$OUT/mem-$cfg.err"; then
      log "$cfg: container $i failed: $(head -c 200 "$OUT/mem-$cfg.err")"
      row "$cfg" rss FAILED; row "$cfg" pss FAILED
      teardown_tasks
      return 0
    fi
  done
  t1=$EPOCHREALTIME
  sleep "$SETTLE"
  : >"$f"
  for p in $(pids_of_exe "$(monitor_exe "$cfg")" "$W/c.sock"); do
    echo "$p $(mem "$p")" >>"$f"
  done
  monitor_rows "$cfg" "$f"
  row "$cfg" start_ms_per_container "$(awk -v a="$t0" -v b="$t1" -v n="$N" 'BEGIN{printf "%.1f", (b-a)*1000/n}')"
  row "$cfg" containerd_rss "$(mem "$CTD_PID" | cut -d' ' -f1)"
  teardown_tasks
}

# monitor_rows CONFIG FILE: rows from "pid rss pss peak" lines.
monitor_rows() {
  local cfg=$1 f=$2 med sum n
  read -r med sum n < <(cut -d' ' -f2 "$f" | stats /dev/stdin)
  row "$cfg" rss "$med"; row "$cfg" rss_sum "$sum"; row "$cfg" monitors "$n"
  read -r med sum n < <(cut -d' ' -f3 "$f" | stats /dev/stdin)
  row "$cfg" pss "$med"; row "$cfg" pss_sum "$sum"
  read -r med sum n < <(cut -d' ' -f4 "$f" | stats /dev/stdin)
  row "$cfg" rss_peak "$med"
}

# conmon_memory: N conmon + runc sleepers started directly.
conmon_memory() {
  local i b f=$OUT/mem-conmon.tsv p
  command -v conmon >/dev/null || { row conmon rss "n/a"; return 0; }
  wait_quiet >/dev/null
  mkdir -p "$W/conmon/exit" "$W/conmon/sock" "$W/conmon/root"
  : >"$f"
  for i in $(seq "$N"); do
    b=$W/conmon/b$i
    mkdir -p "$b"
    (cd "$b" && "$RUNC" spec)
    jq --arg r "$W/rootfs" --arg cg "/$NS-conmon/c$i" \
      '.process.terminal=false | .process.args=["sleep","1000"] | .root={path:$r, readonly:true} | .linux.cgroupsPath=$cg' \
      "$b/config.json" >"$b/c.json" && mv "$b/c.json" "$b/config.json"
    conmon --api-version 1 -c "c$i" -u "c$i" -n "c$i" -r "$RUNC" -b "$b" -p "$b/pid" -P "$b/conmon.pid" \
      -l "k8s-file:$b/ctr.log" --exit-dir "$W/conmon/exit" --socket-dir-path "$W/conmon/sock" \
      --runtime-arg --root --runtime-arg "$W/conmon/root" >/dev/null 2>&1 || { log "conmon $i failed"; continue; }
    # conmon returns before `runc create` is done; the pid file says it is.
    for _ in $(seq 100); do [ -s "$b/pid" ] && break; sleep 0.05; done
    "$RUNC" --root "$W/conmon/root" start "c$i" || log "runc start c$i failed"
  done
  sleep "$SETTLE"
  for i in $(seq "$N"); do
    p=$(cat "$W/conmon/b$i/conmon.pid" 2>/dev/null) || continue
    echo "$p $(mem "$p")" >>"$f"
  done
  monitor_rows conmon "$f"
  conmon_teardown
}

conmon_teardown() {
  local i
  [ -d "$W/conmon/root" ] || return 0
  for i in $(seq "$N"); do
    "$RUNC" --root "$W/conmon/root" kill "c$i" KILL >/dev/null 2>&1 || true
  done
  sleep 0.5
  for i in $(seq "$N"); do
    "$RUNC" --root "$W/conmon/root" delete -f "c$i" >/dev/null 2>&1 || true
  done
}

remove_cgroups() {
  local d
  for d in /sys/fs/cgroup/*/"$1" /sys/fs/cgroup/"$1"; do
    [ -d "$d" ] || continue
    find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  done
}

cleanup() {
  set +e
  [ -n "${W:-}" ] && [ -d "$W" ] || return 0
  if [ -n "${CTD_PID:-}" ]; then
    teardown_tasks
    kill "$CTD_PID" 2>/dev/null && wait "$CTD_PID" 2>/dev/null
  fi
  conmon_teardown
  local p cfg
  for cfg in berth+runc berth; do
    for p in $(pids_of_exe "$(monitor_exe "$cfg")"); do log "killing leftover shim $p"; kill -9 "$p"; done
  done
  awk -v w="$W" '$5 ~ "^"w"/" {print $5}' /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m"; done
  rm -rf "/run/berth-runtime/$NS" "/run/containerd/runc/$NS"
  remove_cgroups "$NS"; remove_cgroups "$NS-conmon"
  rm -rf "$W"
}

# ratio A B: A/B to two places, or – when either is missing.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a+0 > 0 && b+0 > 0) printf "%.2f", a/b; else printf "–" }'; }

get() { awk -F'\t' -v c="$1" -v k="$2" '$1 == c && $2 == k { v = $3 } END { print (v == "" ? "–" : v) }' "$OUT/results.tsv"; }

summary() {
  local k cfg
  echo "# containerd-shim-berth-v2 vs containerd-shim-runc-v2 vs conmon"
  echo
  echo "$(date -u +%FT%TZ), kernel $(uname -r), $(nproc) cpus, containerd $(containerd --version | awk '{print $3}'), N=$N sleepers per configuration, RUNS=$RUNS, nice $BENCH_NICE."
  echo "- berth shim: \`$BERTH_SHIM\` ($(stat -c %s "$BERTH_SHIM") bytes, $(file -b "$BERTH_SHIM" | grep -o 'statically linked\|dynamically linked'))"
  echo "- containerd-shim-runc-v2: $(stat -c %s "$(monitor_exe runc-v2)") bytes; runc: \`$RUNC\`; berth-runtime: \`$BERTH_RUNTIME\`"
  echo "- rss/pss: median over the N monitors of VmRSS and smaps_rollup Pss (KiB), $SETTLE s after the last start (past Go's 2-minute forced GC); pss counts a page shared by k processes as 1/k."
  echo "- rss_peak: median VmHWM, the most each monitor ever had resident (the berth shim unmaps its clean text pages when idle; this is before that)."
  echo "- run: median of \`ctr run --rm IMAGE ID /bin/true\` (ms, hyperfine; $ROUNDS alternating rounds of $((RUNS / ROUNDS)) runs per configuration)."
  echo
  echo "| metric | runc-v2 + runc | berth + runc | berth + berth-runtime | conmon + runc | berth+runc / runc-v2 | berth / runc-v2 |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  for k in rss pss rss_peak rss_sum pss_sum run_ms run_n start_ms_per_container containerd_rss monitors; do
    printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$k" "$(get runc-v2 $k)" "$(get berth+runc $k)" "$(get berth $k)" \
      "$(get conmon $k)" "$(ratio "$(get berth+runc $k)" "$(get runc-v2 $k)")" "$(ratio "$(get berth $k)" "$(get runc-v2 $k)")"
  done
  echo
  echo "Per-monitor figures (pid rss pss peak) are in mem-<config>.tsv; hyperfine output in run-<config>-<round>.{json,txt}."
}

main() {
  [ "$(id -u)" = 0 ] || die "run as root"
  local tool cfg
  for tool in containerd ctr containerd-shim-runc-v2 hyperfine jq umoci skopeo; do
    command -v "$tool" >/dev/null || die "need $tool"
  done
  [ -x "$BERTH_SHIM" ] || die "$BERTH_SHIM missing (make build)"
  if [ -z "${BENCH_NICED:-}" ] && [ "$BENCH_NICE" != 0 ]; then
    export BENCH_NICED=1
    exec nice -n "$BENCH_NICE" bash "$SELF" "$@"
  fi
  W=$(mktemp -d /tmp/bsb.XXXXXX) # short: shim socket paths must fit 108 bytes
  trap cleanup EXIT
  trap 'exit 130' INT TERM
  OUT=${BENCH_OUT:-/var/tmp/berth-bench}/shim-$(date +%Y%m%d-%H%M%S)
  mkdir -p "$OUT"
  ln -sfn "$OUT" "$(dirname "$OUT")/shim-latest"
  : >"$OUT/results.tsv"

  install_shim "$W/shim-runc" "$RUNC"
  install_shim "$W/shim-berth" "$BERTH_RUNTIME"
  start_containerd
  build_image
  local ok_cfgs="" round
  for cfg in $CONFIGS; do
    log "$cfg: smoke test"
    if ! out=$(C run --rm --runtime "$(runtime_arg "$cfg")" "$IMAGE" bench-smoke echo ok 2>&1) || [ "$out" != ok ]; then
      log "$cfg: FAILED: $out"
      row "$cfg" run_ms FAILED; row "$cfg" rss FAILED; row "$cfg" pss FAILED
      C containers rm bench-smoke >/dev/null 2>&1 || true
      continue
    fi
    ok_cfgs+=" $cfg"
    log "$cfg: $N sleepers"
    memory "$cfg"
  done
  log "ctr run --rm latency: $ROUNDS rounds over$ok_cfgs (cpu ${QUIET_IDLE}% idle wanted, saw $(wait_quiet)%)"
  for round in $(seq "$ROUNDS"); do
    for cfg in $ok_cfgs; do latency "$cfg" "$round"; done
  done
  for cfg in $ok_cfgs; do latency_rows "$cfg"; done
  log "conmon: $N sleepers"
  conmon_memory
  summary >"$OUT/summary.md"
  cat "$OUT/summary.md"
  log "results in $OUT"
}

main "$@"
exit
