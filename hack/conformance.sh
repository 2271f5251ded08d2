#!/usr/bin/env bash
# conformance.sh — the OCI runtime-tools validation suite against
# bin/berth-runtime and, side by side, runc (`make conformance`; needs root).
#
# Build: the validation programs (one per validation/<name>) and runtimetest
# come from module github.com/opencontainers/runtime-tools at RT_VERSION. The
# module proxy refuses @master, so a pseudo-version is pinned. They are built
# in a throwaway module under WORK/build (outside the repo, so berth's go.mod
# never sees runtime-tools) into WORK/bin/RT_VERSION/, and only rebuilt when a
# binary is missing.
#
# Run: like upstream's `make localvalidation`. Every program reads the
# runtime from $RUNTIME and untars rootfs-<arch>.tar.gz and copies runtimetest
# from its working directory, so each runs from WORK/run, which holds both.
# RUNTIME points at a two-line wrapper that execs the real binary with
# --root set to a fresh directory per program: a program that times out or
# dies leaves containers behind, and those are then force-deleted from that
# directory alone, never from /run/runc or /run/berth-runtime, which others
# may be using. TMPDIR is per program too, for the bundles it leaves.
#
# Counting: top-level TAP test points ("ok N" / "not ok N" at the start of a
# line; "# SKIP" counts as passed). A program that times out, crashes (exits
# non-zero), prints no plan, or reports an error with no test point at all
# adds one failure (see TAP_AWK).
#
# Scheduling: the cgroup programs share fixed cgroup paths (/cgrouptest,
# pids/cgrouptest), so they run one at a time after the others; the rest run
# JOBS at a time. The runtimes run one after the other.
#
# Output: RESULTS/<runtime>/<program>.{tap,stderr,rc}; then a per-program
# table, berth-runtime's failing test points that runc passes (with their
# diagnostics), every berth-runtime failure in RESULTS/berth-runtime.failures,
# and one line per runtime: "<runtime>: N passed, M failed". The report is
# also kept in RESULTS/summary.txt.
#
# Env: BERTH_RUNTIME (<repo>/bin/berth-runtime) RUNC (/usr/sbin/runc)
#      RUNTIMES ("berth-runtime runc") PROGRAMS (all; space-separated names)
#      TIMEOUT (60 s per program) JOBS (2) WORK (/var/tmp/berth-conformance)
#      RESULTS (WORK/results) RT_VERSION (the pinned pseudo-version)
#      NORUN=1: only print the report from the results already there
# Exit status: 0 when berth-runtime fails no point that runc passes, else 1.
# shellcheck disable=SC2016 # awk programs and bash -c bodies are quoted on purpose
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
export PATH=/usr/local/go/bin:/usr/sbin:/sbin:$PATH
RT_MODULE=github.com/opencontainers/runtime-tools
RT_VERSION=${RT_VERSION:-v0.9.1-0.20260316125833-8a4db579f5c8}
BERTH_RUNTIME=${BERTH_RUNTIME:-$REPO/bin/berth-runtime}
RUNC=${RUNC:-/usr/sbin/runc}
RUNTIMES=${RUNTIMES:-berth-runtime runc}
TIMEOUT=${TIMEOUT:-60}
JOBS=${JOBS:-2}
WORK=${WORK:-/var/tmp/berth-conformance}
RESULTS=${RESULTS:-$WORK/results}
BINDIR=$WORK/bin/$RT_VERSION
RUNDIR=$WORK/run

log() { printf '[%s] conformance: %s\n' "$(date +%T)" "$*" >&2; }
die() { log "FATAL: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root"
command -v go >/dev/null || die "need go"
command -v timeout >/dev/null || die "need timeout (coreutils)"

# rt_path NAME: the binary under test for runtime NAME.
rt_path() {
  case $1 in
    berth-runtime) echo "$BERTH_RUNTIME" ;;
    runc) echo "$RUNC" ;;
    *) die "unknown runtime $1 (want berth-runtime or runc)" ;;
  esac
}

# build_tools: fill BINDIR with runtimetest and one binary per validation
# program, building only what is missing; sets MODDIR and ALL_PROGRAMS.
build_tools() {
  mkdir -p "$WORK/build" "$BINDIR"
  cd "$WORK/build"
  if ! grep -qs "$RT_MODULE $RT_VERSION" go.mod; then
    rm -f go.mod go.sum
    printf 'module berth-conformance\n\ngo 1.21\n\nrequire %s %s\n' \
      "$RT_MODULE" "$RT_VERSION" >go.mod
  fi
  # -mod=mod lets go record the suite's own dependencies in go.sum here.
  export GOFLAGS=-mod=mod CGO_ENABLED=0
  MODDIR=$(go mod download -json "$RT_MODULE@$RT_VERSION" | jq -r .Dir)
  [ -d "$MODDIR/validation" ] || die "no validation/ in $MODDIR"
  ALL_PROGRAMS=$(cd "$MODDIR/validation" &&
    for d in */; do if [ -f "$d${d%/}.go" ]; then echo "${d%/}"; fi; done)
  local pkgs=() p
  [ -x "$BINDIR/runtimetest" ] || pkgs+=("$RT_MODULE/cmd/runtimetest")
  for p in $ALL_PROGRAMS; do
    [ -x "$BINDIR/$p" ] || pkgs+=("$RT_MODULE/validation/$p")
  done
  if [ ${#pkgs[@]} -gt 0 ]; then
    log "building ${#pkgs[@]} programs of $RT_MODULE@$RT_VERSION"
    # runtimetest runs inside the container's rootfs, so it must be static:
    # CGO_ENABLED=0 gives that (upstream uses netgo/osusergo and -static).
    go build -trimpath -o "$BINDIR/" "${pkgs[@]}"
  fi
  cd "$REPO"
}

# setup_rundir: the working directory the programs expect, plus one wrapper
# per runtime that adds a per-program --root (CONF_ROOT).
setup_rundir() {
  mkdir -p "$RUNDIR"
  cp -f "$BINDIR/runtimetest" "$RUNDIR/runtimetest"
  cp -f "$MODDIR/rootfs-amd64.tar.gz" "$RUNDIR/rootfs-amd64.tar.gz"
  chmod u+w "$RUNDIR/rootfs-amd64.tar.gz"
  local rt
  for rt in $RUNTIMES; do
    # shellcheck disable=SC2016 # $CONF_ROOT and $@ are the wrapper's own.
    printf '#!/bin/sh\nexec %q --root "$CONF_ROOT" "$@"\n' "$(rt_path "$rt")" \
      >"$RUNDIR/wrap-$rt"
    chmod +x "$RUNDIR/wrap-$rt"
  done
}

# run_one RUNTIME PROGRAM: run one validation program; writes
# RESULTS/RUNTIME/PROGRAM.{tap,stderr,rc}. Exported for xargs.
# shellcheck disable=SC2317 # only called through xargs
run_one() {
  local rt=$1 prog=$2 out=$RESULTS/$1 rc=0
  local root=/run/berth-conformance/$rt/$prog tmp=/tmp/berth-conformance/$rt/$prog
  rm -rf "$root" "$tmp"
  mkdir -p "$root" "$tmp" "$out"
  local t0=$SECONDS
  (cd "$RUNDIR" && CONF_ROOT=$root TMPDIR=$tmp RUNTIME=$RUNDIR/wrap-$rt \
    timeout -k 5 "$TIMEOUT" "$BINDIR/$prog" </dev/null \
    >"$out/$prog.tap" 2>"$out/$prog.stderr") || rc=$?
  echo "$rc" >"$out/$prog.rc"
  # Leftovers of a program that died: only its own --root is touched.
  local c
  for c in "$root"/*/; do
    [ -d "$c" ] || continue
    c=$(basename "$c")
    CONF_ROOT=$root timeout 30 "$RUNDIR/wrap-$rt" delete --force "$c" \
      >/dev/null 2>&1 || true
  done
  # A container without a mount namespace (linux_ns_itype) gets its mounts
  # made in ours, and runc leaves them there: unmount them before removing
  # the bundles, or rm would walk into them (mounts binds host dirs).
  awk -v d="$tmp/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo |
    sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  if awk -v d="$tmp/" 'index($5, d) == 1 { found = 1 } END { exit !found }' \
    /proc/self/mountinfo; then
    echo "conformance: $tmp still has mounts; not removed" >&2
  else
    rm -rf "$tmp"
  fi
  rm -rf "$root"
  printf '[%s] conformance: %-14s %-36s rc=%-3s %3ss\n' "$(date +%T)" \
    "$rt" "$prog" "$rc" $((SECONDS - t0)) >&2
}
export -f run_one
export RESULTS WORK RUNDIR BINDIR TIMEOUT

# TAP_AWK reads one program's TAP (rc = its exit status, errf = its stderr)
# and, with mode=count, prints "passed failed"; with mode=fail, prints one
# block per failure: "N<TAB>text" and the diagnostic lines after it. On top
# of the "not ok" points, one failure (N "-") is added for a program that
#   - timed out (124), was killed (>128), or exited non-zero: upstream's
#     util.Fatal, e.g. "failed to create the container", or an assertion
#     made outside TAP such as process_capabilities_fail's;
#   - printed no plan; or
#   - printed no test point but an "error" diagnostic: the hook programs
#     (prestart, poststart, poststop_fail, hooks, ...) report their verdict
#     only as a YAML block under a "1..0" plan.
TAP_AWK='
  function flush() { if (mode == "fail" && held != "") printf "%s", held; held = "" }
  /^(not )?ok [0-9]+/ || /^1\.\.[0-9]+/ { flush(); infail = 0 }
  /^1\.\.[0-9]+/ { plan = 1 }
  /^ok [0-9]+/ { pass++; points++ }
  /^not ok [0-9]+/ {
    fail++; points++
    n = $3; sub(/^not ok [0-9]+ *(- )?/, "")
    held = n "\t" $0 "\n"; infail = 1; next
  }
  infail { held = held "      " $0 "\n" }
  /^ +"error": "./ { errline = errline "      " $0 "\n" }
  END {
    flush()
    why = ""
    if (rc == 124) why = "timed out"
    else if (rc > 128) why = "killed by signal " (rc - 128)
    else if (rc != 0) why = "exited " rc
    else if (!plan) why = "printed no plan"
    else if (!points && errline != "") why = "reported an error without a test point"
    if (why != "") fail++
    if (mode == "count") { printf "%d %d\n", pass, fail; exit }
    if (why == "") exit
    printf "-\t(program %s)\n%s", why, errline
    while ((getline line < errf) > 0 && k < 12) { print "      stderr: " line; k++ }
  }'

# tapcount RUNTIME PROGRAM: "passed failed" for one program's result.
tapcount() {
  local f=$RESULTS/$1/$2
  awk -v mode=count -v rc="$(cat "$f.rc" 2>/dev/null || echo 255)" \
    "$TAP_AWK" "$f.tap" 2>/dev/null || echo "0 1"
}

# failures RUNTIME PROGRAM: the failure blocks of one program's result.
failures() {
  local f=$RESULTS/$1/$2
  awk -v mode=fail -v rc="$(cat "$f.rc" 2>/dev/null || echo 255)" \
    -v errf="$f.stderr" "$TAP_AWK" "$f.tap" 2>/dev/null ||
    printf -- '-\t(no result)\n'
}

build_tools
setup_rundir
for p in ${PROGRAMS:-}; do
  grep -qx "$p" <<<"$ALL_PROGRAMS" || die "no validation program $p"
done
PROGS=${PROGRAMS:-$ALL_PROGRAMS}
SERIAL=$(tr ' ' '\n' <<<"$PROGS" | grep -E '^(linux_cgroups_|delete_resources$|delete_only_create_resources$)' || true)
PARALLEL=$(tr ' ' '\n' <<<"$PROGS" | grep -vxF -f <(echo "$SERIAL") | grep . || true)

START=$SECONDS
[ "${NORUN:-0}" = 1 ] && RUNTIMES_TO_RUN="" || RUNTIMES_TO_RUN=$RUNTIMES
for rt in $RUNTIMES_TO_RUN; do
  bin=$(rt_path "$rt")
  if [ ! -x "$bin" ]; then
    log "$rt: $bin is missing; every program counts as failed"
  fi
  log "$rt: $(wc -w <<<"$PROGS") programs, $JOBS at a time (cgroup ones alone), timeout ${TIMEOUT}s"
  rm -rf "${RESULTS:?}/$rt"
  mkdir -p "$RESULTS/$rt"
  [ -z "$PARALLEL" ] || xargs -n1 -P "$JOBS" bash -c 'run_one "$0" "$1"' "$rt" <<<"$PARALLEL"
  [ -z "$SERIAL" ] || xargs -n1 -P 1 bash -c 'run_one "$0" "$1"' "$rt" <<<"$SERIAL"
done
# The runtimes remove a container's cgroup but not the parents they made for
# the suite's relative cgroupsPath (testdir/cgrouptest/container, placed
# under the caller's cgroup). rmdir only removes cgroups that are unused.
find /sys/fs/cgroup -maxdepth 8 -type d -path '*/testdir/cgrouptest' 2>/dev/null |
  while read -r d; do rmdir "$d" "${d%/cgrouptest}" 2>/dev/null || true; done
rmdir /run/berth-conformance/* /run/berth-conformance /tmp/berth-conformance/* \
  /tmp/berth-conformance 2>/dev/null || true
[ -z "$RUNTIMES_TO_RUN" ] || log "ran in $((SECONDS - START))s; results in $RESULTS"

# report: the per-program table ("*" marks a program whose counts differ
# between the runtimes), berth-runtime's failures (all of them to a file,
# those runc passes on the screen) and the totals. Returns 1 when
# berth-runtime fails a point that runc passes.
report() {
  local rt p np nf row first status=0
  declare -A TP TF
  printf '\n%-36s' program
  for rt in $RUNTIMES; do printf ' %14s' "$rt"; TP[$rt]=0; TF[$rt]=0; done
  printf '\n'
  for p in $PROGS; do
    row="" first=""
    for rt in $RUNTIMES; do
      read -r np nf < <(tapcount "$rt" "$p")
      TP[$rt]=$((TP[$rt] + np)); TF[$rt]=$((TF[$rt] + nf))
      row+=$(printf ' %14s' "$np/$nf")
      [ -n "$first" ] || first=$np/$nf
      [ "$first" = "$np/$nf" ] || first=differs
    done
    printf '%-36s%s%s\n' "$p" "$row" "$([ "$first" = differs ] && echo ' *')"
  done
  printf '(passed/failed)\n'

  if grep -qw berth-runtime <<<"$RUNTIMES"; then
    local all=$RESULTS/berth-runtime.failures regress="" block keep clean
    : >"$all"
    for p in $PROGS; do
      block=$(failures berth-runtime "$p")
      [ -n "$block" ] || continue
      printf '== %s\n%s\n' "$p" "$block" >>"$all"
      grep -qw runc <<<"$RUNTIMES" || continue
      # Keep the blocks whose point runc passed; a whole-program failure
      # ("-") is kept when runc's run of the program had none.
      clean=1
      if failures runc "$p" | grep -q '^-'; then clean=0; fi
      keep=$(awk -F'\t' -v runc="$RESULTS/runc/$p.tap" -v clean="$clean" '
        function passed(n,   line, ok) {
          if (n == "-") return clean
          ok = 0
          while ((getline line < runc) > 0)
            if (line ~ ("^ok " n "( |$)")) ok = 1
          close(runc)
          return ok
        }
        /^[0-9-]+\t/ { show = passed($1) }
        show' <<<"$block")
      [ -z "$keep" ] || regress+=$(printf '== %s\n%s\n' "$p" "$keep")$'\n'
    done
    if grep -qw runc <<<"$RUNTIMES"; then
      if [ -n "$regress" ]; then
        printf '\nberth-runtime fails these points that runc passes:\n%s' "$regress"
        status=1
      else
        printf '\nberth-runtime fails no point that runc passes.\n'
      fi
    fi
    printf '\nAll berth-runtime failures: %s\n' "$all"
  fi

  printf '\n'
  for rt in $RUNTIMES; do
    printf '%s: %d passed, %d failed\n' "$rt" "${TP[$rt]}" "${TF[$rt]}"
  done
  return "$status"
}

mkdir -p "$RESULTS"
status=0
report >"$RESULTS/summary.txt" || status=$?
cat "$RESULTS/summary.txt"
exit "$status"
