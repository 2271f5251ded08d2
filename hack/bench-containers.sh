#!/usr/bin/env bash
# bench-containers.sh — containers end to end, berth against containerd
# (ctr), Docker and podman on the same busybox image (hack/make-image.sh,
# loaded into each engine from a docker-archive; no registry):
#
#   1. latency of `run --rm busybox true`: berth run, ctr run (containerd
#      1.6 + containerd-shim-runc-v2 + runc), docker run, podman run.
#      hyperfine, ROUNDS rounds of RUNS/ROUNDS runs per engine, the engines
#      alternating round by round (a busy spell on this shared 2-core
#      machine then hits them alike); median over all runs, and berth's
#      median over ctr's (the issue's target: at most 1/3).
#   2. MANY (100) detached `sleep 1000` containers started one after another
#      (berth run -d, ctr run -d, docker run -d, podman run -d): total time,
#      median time per start, and memory per container = (daemon + every
#      per-container monitor) / MANY, for RSS (/proc/PID/status VmRSS) and
#      PSS (/proc/PID/smaps_rollup Pss), read SETTLE s after the last start:
#        berth   berthd + containerd-shim-berth-v2 (one per container)
#        ctr     containerd + containerd-shim-runc-v2
#        docker  dockerd + its containerd + containerd-shim-runc-v2
#        podman  conmon (no daemon)
#      then the time to remove them all (berth/docker/podman: one `rm -f` of
#      all; ctr has no such verb: `task kill` + `task delete -f` +
#      `containers rm` per container). MANY_ROUNDS rounds, engines alternating
#      (one engine's containers at a time); medians over the rounds.
#
# Each engine runs with private state in a temp dir: berthd with its own
# --root/--state/--address; containerd with its own root/state/socket
# (config.toml, CRI off, as shared/peers/bench-containerd.sh runs it),
# namespace $CTR_NS; dockerd as shared/peers/bench-docker.sh runs it
# (--data-root, --exec-root, -H, --bridge=none --iptables=false, its own
# managed containerd); podman with its own containers.conf/storage.conf
# (overlay, runc, cgroupfs). Only berth gives its containers a network: its
# default bridge (a veth pair on the bridge, an address, resolv.conf and
# hosts), as `docker run` does by default; the others get a namespace with
# lo only (ctr's default, docker's --bridge=none, podman --network none),
# which only makes them cheaper. Everything (containers, daemons — stopped by PID —,
# leftover monitors of ours, mounts, ctr's cgroup parent and runc root, the
# temp dir) is removed at exit, on failure and on Ctrl-C too.
#
# Env: RUNS (30) ROUNDS (3) WARMUP (2) MANY (100) MANY_ROUNDS (3) SETTLE (5 s)
#      ENGINES ("berth ctr docker podman") NICE (-10) BERTH_BIN_DIR (<repo>/bin)
#      QUIET_IDLE (85 %) QUIET_MAX (60 s): before each round, wait up to
#      QUIET_MAX for that much idle CPU (then measure anyway; logged)
# Results: hack/.cache/bench-containers/{*.json,*.ms,run-rm.tsv,many.tsv,summary.md}
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${BENCH_NICED:-}" ] && [ "${NICE:--10}" != 0 ]; then
  export BENCH_NICED=1; exec nice -n "${NICE:--10}" "$0" "$@"
fi
export PATH=$PATH:/usr/sbin:/sbin
BIN=${BERTH_BIN_DIR:-$REPO/bin}
RUNS=${RUNS:-30}
ROUNDS=${ROUNDS:-5}
WARMUP=${WARMUP:-2}
MANY=${MANY:-100}
MANY_ROUNDS=${MANY_ROUNDS:-3}
SETTLE=${SETTLE:-5}
QUIET_IDLE=${QUIET_IDLE:-85}
QUIET_MAX=${QUIET_MAX:-60}
ENGINES=${ENGINES:-berth ctr docker podman}
CTR_NS=bbcbench
CTR_IMAGE=docker.io/library/busybox:latest
RES=$REPO/hack/.cache/bench-containers
mkdir -p "$RES"
rm -f "$RES"/*.ms "$RES"/*.json "$RES"/*.txt "$RES"/*.tsv
# short: shim sockets and overlay mount options must fit
W=$(mktemp -d /tmp/bbc.XXXXXX)
PIDS=()
# the script's own stdout/stderr, for cleanup: a signal's trap runs with the
# redirections of the command it interrupted (often >/dev/null)
exec 8>&1 9>&2
log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "FATAL: $*"; exit 1; }

# ---------------------------------------------------------------- helpers
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
# median [DECIMALS]: median of one number per line on stdin (1 decimal)
median() { sort -n | awk -v d="${1:-1}" '{v[NR]=$1} END {if (!NR) {print "n/a"; exit}; m=(NR%2)?v[(NR+1)/2]:(v[NR/2]+v[NR/2+1])/2; printf "%.*f\n", d, m}'; }
# wait_idle: let the 2-core machine settle before measuring; prints idle %
wait_idle() {
  local a b idle t0=$SECONDS
  while :; do
    read -r -a a </proc/stat; sleep 1; read -r -a b </proc/stat
    idle=$(( ( (b[4]-a[4]) + (b[5]-a[5]) ) * 100 / ( (b[1]+b[2]+b[3]+b[4]+b[5]+b[6]+b[7]) - (a[1]+a[2]+a[3]+a[4]+a[5]+a[6]+a[7]) + 1 ) ))
    [ "$idle" -ge "$QUIET_IDLE" ] && break
    [ $((SECONDS - t0)) -ge "$QUIET_MAX" ] && { log "machine busy (idle $idle%), measuring anyway"; break; }
  done
  echo "$idle"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a+0 > 0 && b+0 > 0) printf "%.2f", a/b; else printf "n/a" }'; }
C() { ctr -a "$W/ctd/c.sock" -n "$CTR_NS" "$@"; }
D() { docker -H "unix://$W/docker/d.sock" "$@"; }

had_ctr_cg=0; ls -d /sys/fs/cgroup/*/"$CTR_NS" >/dev/null 2>&1 && had_ctr_cg=1
had_ctr_runc=0; [ -e "/run/containerd/runc/$CTR_NS" ] && had_ctr_runc=1

# ---------------------------------------------------------- per engine
# run_rm_cmd ENGINE: the command line hyperfine runs
run_rm_cmd() {
  case $1 in
  berth) echo "$BIN/berth run --rm busybox true" ;;
  ctr) echo "ctr -a $W/ctd/c.sock -n $CTR_NS run --rm $CTR_IMAGE bbc-rm true" ;;
  docker) echo "docker -H unix://$W/docker/d.sock run --rm busybox true" ;;
  podman) echo "podman run --rm --network none busybox true" ;;
  esac
}
# run_d ENGINE I: start detached sleeper number I
run_d() {
  case $1 in
  berth) "$BIN/berth" run -d --name "bbc$2" busybox sleep 1000 ;;
  ctr) C run -d "$CTR_IMAGE" "bbc$2" sleep 1000 ;;
  docker) D run -d --name "bbc$2" busybox sleep 1000 ;;
  podman) podman run -d --network none --name "bbc$2" busybox sleep 1000 ;;
  esac
}
# rm_all ENGINE: remove every container of the engine (running or not)
rm_all() {
  local ids id
  case $1 in
  berth)
    [ -S "$W/berth/b.sock" ] || return 0
    ids=$("$BIN/berth" ps -aq) && [ -n "$ids" ] && "$BIN/berth" rm -f $ids >/dev/null
    ;;
  ctr)
    [ -S "$W/ctd/c.sock" ] || return 0
    for id in $(C tasks ls -q 2>/dev/null); do C tasks kill -s SIGKILL "$id" >/dev/null 2>&1 || true; done
    for id in $(C tasks ls -q 2>/dev/null); do C tasks delete -f "$id" >/dev/null 2>&1 || true; done
    for id in $(C containers ls -q 2>/dev/null); do C containers rm "$id" >/dev/null 2>&1 || true; done
    ;;
  docker)
    [ -S "$W/docker/d.sock" ] || return 0
    ids=$(D ps -aq) && [ -n "$ids" ] && D rm -f $ids >/dev/null
    ;;
  podman)
    [ -n "${CONTAINERS_CONF:-}" ] || return 0
    # podman's rm -f would wait the stop timeout first; the others kill at once
    podman rm -f -a -t 0 >/dev/null
    ;;
  esac
  return 0
}
# daemon_pids ENGINE: the engine's long-lived processes
daemon_pids() {
  case $1 in
  berth) echo "$BERTHD_PID" ;;
  ctr) echo "$CTD_PID" ;;
  docker) echo "$DOCKERD_PID"; pids_of containerd "$W/docker/" ;;
  podman) ;;
  esac
}
# monitor_pids ENGINE: one process per container
monitor_pids() {
  case $1 in
  berth) pids_of containerd-shim-berth-v2 "$W/berth/" ;;
  ctr) pids_of containerd-shim-runc-v2 "$W/ctd/" ;;
  docker) pids_of containerd-shim-runc-v2 "$W/docker/" ;;
  podman) pids_of conmon "$W/podman/" ;;
  esac
}
monitor_name() {
  case $1 in
  berth) echo containerd-shim-berth-v2 ;;
  ctr | docker) echo containerd-shim-runc-v2 ;;
  podman) echo conmon ;;
  esac
}
daemon_name() {
  case $1 in
  berth) echo berthd ;;
  ctr) echo containerd ;;
  docker) echo "dockerd + containerd" ;;
  podman) echo "none" ;;
  esac
}
# sum_mem PIDS...: "rss_kb pss_kb n"
sum_mem() {
  local p r q rss=0 pss=0 n=0
  for p in "$@"; do
    read -r r q < <(proc_mem "$p"); rss=$((rss + r)); pss=$((pss + q)); n=$((n + 1))
  done
  echo "$rss $pss $n"
}

# ---------------------------------------------------------- start engines
start_berth() {
  mkdir -p "$W/berth"
  "$BIN/berthd" --root "$W/berth/root" --state "$W/berth/state" --address "$W/berth/b.sock" >"$W/berth/log" 2>&1 8>&- 9>&- &
  BERTHD_PID=$!; PIDS+=("$BERTHD_PID")
  for _ in $(seq 100); do [ -S "$W/berth/b.sock" ] && break; sleep 0.1; done
  [ -S "$W/berth/b.sock" ] || { tail "$W/berth/log" >&2; die "berthd did not start"; }
  export BERTH_ADDRESS=$W/berth/b.sock
  "$BIN/berth" load -q -i "$W/busybox.tar" >/dev/null
}
start_ctr() {
  local d=$W/ctd
  mkdir -p "$d"
  cat >"$d/config.toml" <<EOF
version = 2
root = "$d/root"
state = "$d/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$d/c.sock"
[ttrpc]
  address = "$d/c.sock.ttrpc"
[debug]
  level = "warn"
[plugins."io.containerd.internal.v1.opt"]
  path = "$d/opt"
EOF
  containerd -c "$d/config.toml" >"$d/log" 2>&1 8>&- 9>&- &
  CTD_PID=$!; PIDS+=("$CTD_PID")
  for _ in $(seq 100); do ctr -a "$d/c.sock" version >/dev/null 2>&1 && break; sleep 0.1; done
  ctr -a "$d/c.sock" version >/dev/null 2>&1 || { tail "$d/log" >&2; die "containerd did not start"; }
  C images import "$W/busybox.tar" >/dev/null
  C images ls -q | grep -qx "$CTR_IMAGE" || die "ctr import did not give $CTR_IMAGE: $(C images ls -q)"
}
start_docker() {
  mkdir -p "$W/docker/data" "$W/docker/exec"
  dockerd --data-root "$W/docker/data" --exec-root "$W/docker/exec" -H "unix://$W/docker/d.sock" \
    --pidfile "$W/docker/d.pid" --userland-proxy=false --bridge=none --iptables=false --ip-masq=false \
    >"$W/docker/log" 2>&1 8>&- 9>&- &
  DOCKERD_PID=$!; PIDS+=("$DOCKERD_PID")
  for _ in $(seq 150); do D version >/dev/null 2>&1 && break; sleep 0.2; done
  D version >/dev/null 2>&1 || { tail -20 "$W/docker/log" >&2; die "dockerd did not start"; }
  D load -q -i "$W/busybox.tar" >/dev/null
}
start_podman() {
  local hn hu
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
}

# ---------------------------------------------------------------- cleanup
cleanup() {
  set +e
  local e p
  trap - EXIT INT TERM
  exec 1>&8 2>&9
  log "cleaning up"
  for e in $ENGINES; do rm_all "$e" 2>/dev/null; done
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do
    for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null
  done
  # monitors of ours left behind (should be none): their argv names our temp dir
  for e in $ENGINES; do
    for p in $(monitor_pids "$e"); do log "killing leftover $(monitor_name "$e") $p"; kill -9 "$p" 2>/dev/null; done
  done
  for p in $(pids_of containerd "$W/docker/"); do kill -9 "$p" 2>/dev/null; done
  awk -v w="$W" '$2 ~ "^"w {print $2}' /proc/self/mounts | sort -r | while read -r m; do umount -l "$m"; done
  # ctr puts containers in the cgroup /<namespace>/<id> and runc's state in
  # /run/containerd/runc/<namespace>; both are ours unless they were there before
  if [ "$had_ctr_cg" = 0 ]; then
    for d in /sys/fs/cgroup/*/"$CTR_NS" /sys/fs/cgroup/"$CTR_NS"; do
      [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
    done
  fi
  [ "$had_ctr_runc" = 0 ] && rm -rf "/run/containerd/runc/$CTR_NS"
  rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for t in hyperfine jq skopeo umoci; do command -v $t >/dev/null || die "need $t"; done
[ -x "$BIN/berthd" ] && [ -x "$BIN/berth" ] || die "build first (make build)"

# ---- the image ----
"$REPO/hack/make-image.sh" "$W/oci" 2>/dev/null
skopeo copy --quiet "oci:$W/oci:busybox" "docker-archive:$W/busybox.tar:busybox:latest"

# ---- engines up, image loaded, smoke test ----
EN=""
for e in $ENGINES; do
  case $e in
  berth) ;;
  ctr) command -v containerd >/dev/null && command -v ctr >/dev/null || { log "no containerd/ctr: skipped"; continue; } ;;
  docker) command -v dockerd >/dev/null && command -v docker >/dev/null || { log "no dockerd: skipped"; continue; } ;;
  podman) command -v podman >/dev/null || { log "no podman: skipped"; continue; } ;;
  *) die "unknown engine $e" ;;
  esac
  log "$e: starting"
  "start_$e"
  out=$($(run_rm_cmd "$e" | sed 's/ true$/ echo ok/') 2>&1) || die "$e: smoke test failed: $out"
  [ "$out" = ok ] || die "$e: smoke test printed: $out"
  EN+=" $e"
done
ENGINES=${EN# }
[ -n "$ENGINES" ] || die "no engine to measure"

# ---------------------------------------------------- 1. run --rm latency
PER_ROUND=$(( (RUNS + ROUNDS - 1) / ROUNDS ))
printf 'engine\tround\tidle_pct\tmedian_ms\n' >"$RES/run-rm.tsv"
for r in $(seq "$ROUNDS"); do
  for e in $ENGINES; do
    sync; idle=$(wait_idle)
    log "run --rm: round $r/$ROUNDS, $e ($PER_ROUND runs, cpu $idle% idle before)"
    if ! hyperfine --style basic -N --warmup "$WARMUP" --runs "$PER_ROUND" --export-json "$RES/$e-run-rm-$r.json" \
      "$(run_rm_cmd "$e")" >"$RES/$e-run-rm-$r.txt" 2>&1; then
      tail "$RES/$e-run-rm-$r.txt" >&2; die "$e run --rm failed"
    fi
    jq -r '.results[0].times[] * 1000' "$RES/$e-run-rm-$r.json" >>"$RES/$e-run-rm.ms"
    printf '%s\t%s\t%s\t%s\n' "$e" "$r" "$idle" "$(jq -r '.results[0].median * 1000' "$RES/$e-run-rm-$r.json" | median)" >>"$RES/run-rm.tsv"
  done
done

# ------------------------------------------------ 2. MANY sleepers, memory
# many ENGINE ROUND: appends one line to many.tsv
printf 'engine\tround\ttotal_s\tstart_ms_median\tdaemon_idle_rss_kb\tdaemon_rss_kb\tdaemon_pss_kb\tmonitor_rss_kb\tmonitor_pss_kb\tmonitors\trm_s\tleft\n' >"$RES/many.tsv"
many() {
  local e=$1 r=$2 i s t0 t1 idle_rss dm mm rm_s left
  sync; local idle; idle=$(wait_idle)
  log "$MANY x run -d: round $r/$MANY_ROUNDS, $e (cpu $idle% idle before)"
  read -r idle_rss _ _ < <(sum_mem $(daemon_pids "$e"))
  : >"$W/$e-$r.ms"
  t0=$EPOCHREALTIME
  for i in $(seq "$MANY"); do
    s=$EPOCHREALTIME
    run_d "$e" "$i" >/dev/null 2>"$W/run-d.err" || die "$e: run -d $i failed: $(head -c 300 "$W/run-d.err")"
    awk -v a="$s" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.1f\n", (b-a)*1000}' >>"$W/$e-$r.ms"
  done
  t1=$EPOCHREALTIME
  sleep "$SETTLE"
  dm=$(sum_mem $(daemon_pids "$e"))
  mm=$(sum_mem $(monitor_pids "$e"))
  [ "${mm##* }" = "$MANY" ] || log "$e: $MANY containers but ${mm##* } $(monitor_name "$e") processes"
  cat "$W/$e-$r.ms" >>"$RES/$e-run-d.ms"
  s=$EPOCHREALTIME
  rm_all "$e"
  rm_s=$(awk -v a="$s" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.2f", b-a}')
  # the monitors should go with their containers
  for _ in $(seq 50); do left=$(monitor_pids "$e" | wc -l); [ "$left" = 0 ] && break; sleep 0.2; done
  [ "$left" = 0 ] || log "$e: $left monitors still alive 10 s after rm"
  read -r dr dp _ <<<"$dm"; read -r mr mp mn <<<"$mm"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$e" "$r" \
    "$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}')" "$(median <"$W/$e-$r.ms")" \
    "$idle_rss" "$dr" "$dp" "$mr" "$mp" "$mn" "$rm_s" "$left" >>"$RES/many.tsv"
}
for r in $(seq "$MANY_ROUNDS"); do
  for e in $ENGINES; do many "$e" "$r"; done
done

# ---------------------------------------------------------------- summary
# col ENGINE FIELD: median over the rounds of a many.tsv column
col() { awk -F'\t' -v e="$1" -v f="$2" 'NR==1 {for (i=1;i<=NF;i++) if ($i==f) c=i; next} $1==e {print $c}' "$RES/many.tsv" | median 2; }
# per_ctr ENGINE daemon|monitor|both rss|pss: median over rounds of the sum / MANY, MiB
per_ctr() {
  awk -F'\t' -v e="$1" -v w="$2" -v k="$3" -v n="$MANY" '
    NR==1 {for (i=1;i<=NF;i++) c[$i]=i; next}
    $1==e { v=0
      if (w!="monitor") v+=$c["daemon_" k "_kb"]
      if (w!="daemon") v+=$c["monitor_" k "_kb"]
      printf "%.3f\n", v/n/1024 }' "$RES/many.tsv" | median 2
}
declare -A M
for e in $ENGINES; do
  M[$e,runrm]=$(median <"$RES/$e-run-rm.ms")
  M[$e,runrm_n]=$(wc -l <"$RES/$e-run-rm.ms")
  M[$e,runrm_min]=$(sort -n "$RES/$e-run-rm.ms" | head -1 | awk '{printf "%.1f", $1}')
  M[$e,total]=$(col "$e" total_s)
  M[$e,rund]=$(median <"$RES/$e-run-d.ms")
  M[$e,rss]=$(per_ctr "$e" both rss)
  M[$e,pss]=$(per_ctr "$e" both pss)
  M[$e,mrss]=$(per_ctr "$e" monitor rss)
  M[$e,mpss]=$(per_ctr "$e" monitor pss)
  if [ "$e" = podman ]; then
    M[$e,didle]=n/a; M[$e,dload]=n/a
  else
    M[$e,didle]=$(awk -v k="$(col "$e" daemon_idle_rss_kb)" 'BEGIN{printf "%.1f", k/1024}')
    M[$e,dload]=$(awk -v k="$(col "$e" daemon_rss_kb)" 'BEGIN{printf "%.1f", k/1024}')
  fi
  M[$e,rm]=$(col "$e" rm_s)
done
PEERS=$(for e in $ENGINES; do [ "$e" != berth ] && printf '%s ' "$e"; done)
has_berth=0; [[ " $ENGINES " == *" berth "* ]] && has_berth=1

SUM=$RES/summary.md
{
  echo "# containers end to end: berth vs containerd (ctr) vs Docker vs podman"
  echo
  echo "$(date -u +%FT%TZ), kernel $(uname -r), $(nproc) cpus, nice ${NICE:--10}; busybox from hack/make-image.sh, already loaded in every engine; berth on its default bridge network, the others without a network."
  echo "containerd $(containerd --version 2>/dev/null | awk '{print $3}'), runc $(runc --version 2>/dev/null | awk 'NR==1{print $3}'), $(dockerd --version 2>/dev/null | cut -d, -f1), $(podman --version 2>/dev/null), conmon $(conmon --version 2>/dev/null | awk 'NR==1{print $3}')."
  echo
  echo "- \`run --rm busybox true\`: hyperfine, $ROUNDS alternating rounds of $PER_ROUND runs (+$WARMUP warm-up) per engine, median over all runs."
  echo "- $MANY sleepers: \`run -d busybox sleep 1000\` one after another, $MANY_ROUNDS alternating rounds, one engine's containers at a time; medians over the rounds."
  echo "  Memory per container = (daemon + every per-container monitor) / $MANY, VmRSS and smaps_rollup Pss, read $SETTLE s after the last start."
  echo "  Daemon / monitor: $(for e in $ENGINES; do printf '%s: %s / %s; ' "$e" "$(daemon_name "$e")" "$(monitor_name "$e")"; done)"
  echo
  printf '| |'; for e in $ENGINES; do printf ' %s |' "$e"; done
  [ $has_berth = 1 ] && for e in $PEERS; do printf ' berth/%s |' "$e"; done; echo
  printf '|---|'; for e in $ENGINES; do printf -- '---:|'; done
  [ $has_berth = 1 ] && for e in $PEERS; do printf -- '---:|'; done; echo
  row() {
    local label=$1 k=$2 e
    printf '| %s |' "$label"
    for e in $ENGINES; do printf ' %s |' "${M[$e,$k]}"; done
    if [ $has_berth = 1 ]; then for e in $PEERS; do printf ' %s |' "$(ratio "${M[berth,$k]}" "${M[$e,$k]}")"; done; fi
    echo
  }
  row "\`run --rm busybox true\`, median ms" runrm
  row "\`run --rm busybox true\`, min ms" runrm_min
  row "$MANY x \`run -d\` one after another, total s" total
  row "\`run -d\`, median ms per container" rund
  row "memory per container, RSS MiB (daemon + monitors) / $MANY" rss
  row "memory per container, PSS MiB (daemon + monitors) / $MANY" pss
  row "monitor alone, RSS MiB per container" mrss
  row "monitor alone, PSS MiB per container" mpss
  row "daemon RSS idle, MiB" didle
  row "daemon RSS with $MANY containers, MiB" dload
  row "remove all $MANY, s" rm
  echo
  if [ $has_berth = 1 ] && [ -n "${M[ctr,runrm]:-}" ]; then
    rr=$(ratio "${M[berth,runrm]}" "${M[ctr,runrm]}")
    verdict=$(awk -v r="$rr" 'BEGIN{print (r+0 > 0 && r <= 1/3) ? "met" : "NOT met"}')
    echo "Target (issue 6): berth \`run --rm\` at most a third of ctr's median: ${M[berth,runrm]} ms / ${M[ctr,runrm]} ms = $rr (≤ 0.33): $verdict."
    echo
  fi
  echo "\`run --rm\` median ms per round (cpu idle % before the round):"
  echo
  for e in $ENGINES; do
    echo "- $e: $(awk -F'\t' -v e="$e" '$1==e {printf "%s%s (%s%%)", (n++ ? ", " : ""), $4, $3}' "$RES/run-rm.tsv")"
  done
  echo
  echo "\`run -d\` x $MANY per round, total s: $(for e in $ENGINES; do printf '%s %s; ' "$e" "$(awk -F'\t' -v e="$e" '$1==e {printf "%s%s", (n++ ? "/" : ""), $3}' "$RES/many.tsv")"; done)"
  echo
  echo "Ratios are berth / peer (below 1: berth faster or smaller). Runs per engine for \`run --rm\`: $(for e in $ENGINES; do printf '%s %s; ' "$e" "${M[$e,runrm_n]}"; done)"
  echo "ctr has no \`rm -f\` of many containers: its removal is \`task kill\` + \`task delete -f\` + \`containers rm\` per container. podman has no daemon."
  echo "Per round: many.tsv (KiB); per run: <engine>-run-rm.ms, <engine>-run-d.ms; hyperfine: <engine>-run-rm-<round>.json."
} >"$SUM"
cat "$SUM"
