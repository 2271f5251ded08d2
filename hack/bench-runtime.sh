#!/usr/bin/env bash
# shellcheck disable=SC2317  # cleanup, kill_tree... run from traps
# bench-runtime.sh — berth-runtime vs runc vs crun, side by side, on one
# busybox bundle running /bin/true (`make bench` runs it; needs root).
#
# Per runtime it measures, with hyperfine -N:
#   run     `RT run --bundle B ID`: the whole lifecycle in one command
#   cycle   create + start + wait for the init to exit + delete, four calls
#           of RT from a small bash script (the script itself costs a few ms,
#           the same for every runtime)
#   rss     peak RSS of `RT run` (GNU time %M: the largest of the runtime and
#           the children it waited for), median of RSS_RUNS
#
# Layouts: this machine has cgroup v1 plus a cgroup2 mount with controllers
# at /sys/fs/cgroup/unified, which crun 1.8 refuses ("cgroups in hybrid mode
# not supported"). So all three runtimes run in a private mount namespace
# where that mount is gone ("v1ns"), and berth and runc also run on the host
# layout as it is ("host"). On a host without that hybrid layout there is one
# pass, "host", with all three.
#
# berth-runtime may be missing or broken: its rows then say FAILED and the
# others are still measured. Everything the script creates (containers,
# state roots, the bundle) is removed on exit.
#
# Env: RUNS (30) WARMUP (3) RSS_RUNS (10) BENCH_OUT (/var/tmp/berth-bench)
#      BERTH_RUNTIME (<repo>/bin/berth-runtime) RUNC, CRUN (from PATH)
#      BENCH_NICE (-10; 0 = off) QUIET_IDLE (80 %) QUIET_MAX (60 s)
#      STEP_TIMEOUT (600 s per hyperfine call)
# Output: BENCH_OUT/<date>/{summary.md,results.tsv,*.json,*.txt}, and
#         BENCH_OUT/latest pointing at it; summary.md is also printed.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
SELF=$REPO/hack/$(basename "$0")
export PATH=/usr/local/go/bin:/usr/sbin:/sbin:$PATH
RUNS=${RUNS:-30}
WARMUP=${WARMUP:-3}
RSS_RUNS=${RSS_RUNS:-10}
BENCH_NICE=${BENCH_NICE:--10}
QUIET_IDLE=${QUIET_IDLE:-80}
QUIET_MAX=${QUIET_MAX:-60}
STEP_TIMEOUT=${STEP_TIMEOUT:-600}

log() { printf '[%s] bench: %s\n' "$(date +%T)" "$*" >&2; }
die() { log "FATAL: $*"; exit 1; }

# rt_path NAME: the binary of runtime NAME (berth, runc, crun).
rt_path() {
  case $1 in
    berth) echo "${BERTH_RUNTIME:-$REPO/bin/berth-runtime}" ;;
    runc) echo "${RUNC:-$(command -v runc || echo /usr/sbin/runc)}" ;;
    crun) echo "${CRUN:-$(command -v crun || echo /usr/bin/crun)}" ;;
  esac
}

# Per pass and runtime: its own state root and container id, so runtimes and
# passes never see each other's containers and cleanup knows what to delete.
rt_root() { echo "$W/root/$1-$2"; }            # ENV NAME
rt_id() { echo "berth-bench-$BENCH_PID-$1-$2"; } # ENV NAME

# hybrid: cgroup v1 (tmpfs at /sys/fs/cgroup) with a cgroup2 mount at
# /sys/fs/cgroup/unified that has controllers (its cgroup.controllers file
# reads non-empty; stat reports size 0, so read it).
hybrid() {
  [ "$(stat -fc %T /sys/fs/cgroup 2>/dev/null)" = tmpfs ] &&
    [ "$(stat -fc %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ] &&
    [ -n "$(cat /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null)" ]
}

# in_env ENV CMD...: run CMD in pass ENV's mount namespace. For v1ns that is
# a new private one (so the umount stays in it) without the cgroup2 mount;
# unshare and sh exec into CMD.
in_env() {
  local env=$1; shift
  if [ "$env" = v1ns ]; then
    unshare -m --propagation private sh -c 'umount /sys/fs/cgroup/unified && exec "$@"' sh "$@"
  else
    "$@"
  fi
}

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

# row ENV BENCH RT STATUS MEDIAN MIN MAX MEAN SD N NOTE: one line of
# results.tsv (times in ms, RSS in KiB).
row() {
  local IFS=$'\t'
  echo "$*" >>"$OUT/results.tsv"
}

# failed ENV BENCH RT WHY
failed() { row "$1" "$2" "$3" FAILED - - - - - - "$4"; }

# hf ENV BENCH RT [hyperfine args...]: time one runtime, record one row.
hf() {
  local env=$1 bench=$2 rt=$3; shift 3
  local base=$OUT/$env-$bench-$rt idle
  sync # writeback from earlier steps would otherwise land in this one
  idle=$(wait_quiet)
  if ! timeout -k 10 "$STEP_TIMEOUT" hyperfine -N --style basic --time-unit millisecond \
    --warmup "$WARMUP" --runs "$RUNS" --export-json "$base.json" "$@" >"$base.txt" 2>&1; then
    log "$env $bench $rt: hyperfine failed, see $base.txt"
    failed "$env" "$bench" "$rt" "hyperfine failed: $(grep -m1 -i error "$base.txt" | cut -c1-120)"
    return 0
  fi
  jq -r --arg env "$env" --arg b "$bench" --arg rt "$rt" --arg idle "idle ${idle}%" '
    def ms: . * 10000 | round / 10;
    .results[0] | [$env, $b, $rt, "ok", (.median|ms), (.min|ms), (.max|ms),
                   (.mean|ms), ((.stddev // 0)|ms), (.times|length), $idle]
    | map(tostring) | join("\t")' "$base.json" >>"$OUT/results.tsv"
}

# q ARGS...: ARGS quoted into one command line for hyperfine -N, which
# splits it the way a shell would (paths may hold spaces).
q() { printf '%q ' "$@"; }

# median_of FILE: "median min max n" of one number per line.
median_of() {
  sort -n "$1" | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "- - - 0"; exit }
    m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "%d %d %d %d\n", m, v[1], v[NR], NR }'
}

# pass ENV NAME...: everything measured in one mount namespace. Runs as its
# own process (the script re-executed) so that in_env can wrap it.
pass() {
  local env=$1; shift
  local name rt root id err rc
  for name in "$@"; do
    rt=$(rt_path "$name")
    root=$(rt_root "$env" "$name")
    id=$(rt_id "$env" "$name")
    mkdir -p "$root" && chmod 700 "$root"
    log "$env: $name ($rt)"

    # One run first: a runtime that cannot run the bundle gets FAILED rows
    # at once instead of a hyperfine error (or hang) per benchmark.
    err="" rc=0
    if [ ! -x "$rt" ]; then
      err="$rt not found (make build)"
    else
      timeout -k 5 60 "$rt" --root "$root" run --bundle "$B" "$id" </dev/null >"$OUT/$env-smoke-$name.txt" 2>&1 || rc=$?
      if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
        err="run timed out after 60 s"
        "$W/reset" "$rt" "$root" "$id"
      elif [ "$rc" != 0 ]; then
        err="run failed (exit $rc): $(head -c 160 "$OUT/$env-smoke-$name.txt" | tr '\n\t|' '  /')"
        "$W/reset" "$rt" "$root" "$id"
      fi
    fi
    if [ -n "$err" ]; then
      log "$env $name: $err"
      failed "$env" run "$name" "$err"
      failed "$env" cycle "$name" "$err"
      failed "$env" rss "$name" "$err"
      continue
    fi

    hf "$env" run "$name" --prepare "$(q "$W/reset" "$rt" "$root" "$id")" \
      "$(q "$rt" --root "$root" run --bundle "$B" "$id")"
    hf "$env" cycle "$name" --prepare "$(q "$W/reset" "$rt" "$root" "$id")" \
      "$(q "$W/cycle" "$rt" "$root" "$id")"

    local i f=$OUT/$env-rss-$name.txt med mn mx n
    : >"$f"
    for i in $(seq "$RSS_RUNS"); do
      "$W/reset" "$rt" "$root" "$id"
      # time writes only %M on success; keep failed runs out of the figures
      if timeout -k 5 60 /usr/bin/time -f %M -o "$W/rss" "$rt" --root "$root" run --bundle "$B" "$id" </dev/null >/dev/null 2>&1; then
        cat "$W/rss" >>"$f"
      else
        log "$env $name: rss run $i failed"
      fi
    done
    read -r med mn mx n < <(median_of "$f")
    if [ "$n" -gt 0 ]; then
      row "$env" rss "$name" ok "$med" "$mn" "$mx" - - "$n" KiB
    else
      failed "$env" rss "$name" "every run failed"
    fi
    "$W/reset" "$rt" "$root" "$id"
  done
}

# summary: results.tsv -> markdown.
summary() {
  local rt v
  echo "# berth-runtime vs runc vs crun: busybox bundle running /bin/true"
  echo
  echo "$(date -u +%FT%TZ), kernel $(uname -r), $(nproc) cpus, RUNS=$RUNS WARMUP=$WARMUP RSS_RUNS=$RSS_RUNS, nice $BENCH_NICE."
  for rt in berth runc crun; do
    v=$(timeout 10 "$(rt_path "$rt")" --version 2>/dev/null | head -1) || v="(no --version)"
    echo "- $rt: \`$(rt_path "$rt")\` $v"
  done
  echo "- v1ns: private mount namespace without /sys/fs/cgroup/unified (crun 1.8 refuses the hybrid layout); host: the layout as it is."
  echo "- run: \`RT run --bundle B ID\`; cycle: create + start + wait for exit + delete from a bash script; rss: peak RSS of \`RT run\`."
  echo
  echo "## medians, side by side (ms; rss in KiB)"
  echo
  echo "| benchmark | layout | berth | runc | crun | berth/runc | berth/crun |"
  echo "|---|---|---:|---:|---:|---:|---:|"
  awk -F'\t' '
    { k = $1 SUBSEP $2
      if (!(k in seen)) { seen[k] = 1; order[++n] = k }
      v[k, $3] = ($4 != "ok") ? "FAILED" : sprintf($2 == "rss" ? "%d" : "%.1f", $5) }
    function cell(k, rt) { return ((k, rt) in v) ? v[k, rt] : "–" }
    function ratio(k, a, b) {
      if (cell(k, a) + 0 > 0 && cell(k, b) + 0 > 0 && cell(k, a) != "FAILED" && cell(k, b) != "FAILED")
        return sprintf("%.2f", cell(k, a) / cell(k, b))
      return "–" }
    END { for (i = 1; i <= n; i++) { split(order[i], p, SUBSEP)
      printf "| %s | %s | %s | %s | %s | %s | %s |\n", p[2], p[1],
        cell(order[i], "berth"), cell(order[i], "runc"), cell(order[i], "crun"),
        ratio(order[i], "berth", "runc"), ratio(order[i], "berth", "crun") } }' "$OUT/results.tsv"
  echo
  echo "## details"
  echo
  echo "| layout | benchmark | runtime | median | min | max | mean | sd | n | note |"
  echo "|---|---|---|---:|---:|---:|---:|---:|---:|---|"
  awk -F'\t' '{ if ($4 == "FAILED") printf "| %s | %s | %s | FAILED | | | | | | %s |\n", $1, $2, $3, $11
                else if ($2 == "rss") printf "| %s | %s | %s | %d | %d | %d | | | %d | %s |\n", $1, $2, $3, $5, $6, $7, $10, $11
                else printf "| %s | %s | %s | %.1f | %.1f | %.1f | %.1f | %.1f | %d | %s |\n", $1, $2, $3, $5, $6, $7, $8, $9, $10, $11 }' \
    "$OUT/results.tsv"
}

# kill_tree PID: stop PID, end its descendants, then end it. Used on
# SIGINT/TERM for the passes: timeout(1) gives hyperfine its own process
# group, so a signal to our group would not reach it.
kill_tree() {
  local c
  kill -STOP "$1" 2>/dev/null || return 0
  for c in $(pgrep -P "$1"); do kill_tree "$c"; done
  kill -TERM "$1" 2>/dev/null
  kill -CONT "$1" 2>/dev/null
  return 0
}

# run_pass ARGS...: run a pass in the background and wait for it; bash runs
# traps only between commands, but a `wait` returns at once on a signal.
PASS_PID=
run_pass() {
  "$@" &
  PASS_PID=$!
  wait "$PASS_PID"
  PASS_PID=
}

interrupted() {
  log "interrupted; stopping and cleaning up"
  [ -z "$PASS_PID" ] || kill_tree "$PASS_PID"
  wait 2>/dev/null
  exit 130
}

cleanup() {
  local d base env name
  [ -n "${W:-}" ] && [ -d "$W" ] || return 0
  for d in "$W"/root/*; do
    [ -d "$d" ] || continue
    base=${d##*/}; env=${base%%-*}; name=${base#*-}
    in_env "$env" timeout -k 5 30 "$(rt_path "$name")" --root "$d" delete -f "$(rt_id "$env" "$name")" >/dev/null 2>&1 || true
  done
  rm -rf "$W"
}

# ---- re-executed inside a pass's namespace ---------------------------------
if [ "${1:-}" = --pass ]; then
  shift
  trap 'exit 130' INT TERM
  pass "$@"
  exit 0
fi

# ---- main -----------------------------------------------------------------
# One function, called on the last line: bash parses it whole before running
# it, so editing this file during a run cannot change what the run does.
main() {
  [ "$(id -u)" = 0 ] || die "run as root (the runtimes create namespaces and cgroups)"
  for tool in hyperfine jq unshare /usr/bin/time; do
    command -v "$tool" >/dev/null || die "need $tool (hack/install-deps.sh)"
  done
  if [ -z "${BENCH_NICED:-}" ] && [ "$BENCH_NICE" != 0 ]; then
    export BENCH_NICED=1 # children inherit the niceness; less noise from other jobs
    exec nice -n "$BENCH_NICE" bash "$SELF" "$@"
  fi

  export BENCH_PID=$$
  export W
  W=$(mktemp -d /var/tmp/berth-bench.XXXXXX)
  trap cleanup EXIT
  trap interrupted INT TERM

  export OUT
  OUT=${BENCH_OUT:-/var/tmp/berth-bench}/$(date +%Y%m%d-%H%M%S)
  mkdir -p "$OUT"
  ln -sfn "$OUT" "$(dirname "$OUT")/latest"
  : >"$OUT/results.tsv"

  # The bundle. ociVersion is pinned to 1.1.0 because crun 1.8.1 rejects
  # anything newer ("unknown version specified") and the config uses nothing
  # from later versions; every runtime gets the same file.
  export B=$W/bundle
  "$REPO/hack/make-bundle.sh" "$B" /bin/true
  jq --tab '.ociVersion = "1.1.0"' "$B/config.json" >"$B/config.json.new"
  mv "$B/config.json.new" "$B/config.json"

  # reset RT ROOT ID: no container ID left (hyperfine --prepare must succeed).
  cat >"$W/reset" <<'EOF'
#!/bin/bash
timeout -k 5 30 "$1" --root "$2" delete -f "$3" >/dev/null 2>&1
exit 0
EOF
  # wait-exit PIDFILE: spin until the init is gone or a zombie. Nobody waits
  # for it (its parent exited), and PID 1 here reaps slowly, so a zombie
  # counts as exited.
  cat >"$W/wait-exit" <<'EOF'
#!/bin/bash
pid=$(<"$1")
while [ -e "/proc/$pid" ]; do
  read -r _ _ st _ <"/proc/$pid/stat" 2>/dev/null || break
  [ "$st" = Z ] && break
done
EOF
  # cycle RT ROOT ID: the lifecycle as a container engine drives it.
  cat >"$W/cycle" <<EOF
#!/bin/bash
set -e
"\$1" --root "\$2" create --bundle "$B" --pid-file "$W/pid.\$3" "\$3" </dev/null
"\$1" --root "\$2" start "\$3"
"$W/wait-exit" "$W/pid.\$3"
"\$1" --root "\$2" delete "\$3"
EOF
  chmod +x "$W/reset" "$W/wait-exit" "$W/cycle"

  if hybrid; then
    run_pass in_env v1ns bash "$SELF" --pass v1ns berth runc crun
    run_pass bash "$SELF" --pass host berth runc
  else
    run_pass bash "$SELF" --pass host berth runc crun
  fi

  summary >"$OUT/summary.md"
  cat "$OUT/summary.md"
  log "results in $OUT"
}

main "$@"
exit
