#!/usr/bin/env bash
# make-bundle.sh [DIR] [ARGS...] — build a busybox OCI bundle for trying and
# benchmarking runtimes; no network and no runc needed.
#
#   DIR/rootfs       Debian's busybox-static plus one symlink per applet
#   DIR/config.json  `bin/berth-runtime spec` (or, while that is not built or
#                    fails, specs/testdata/default.json: the golden file the
#                    specs tests keep equal to specs.Default()), then
#                    process.terminal=false and process.args=ARGS
#
# DIR defaults to /var/tmp/berth-bundle, ARGS to /bin/true. An existing DIR is
# rebuilt only if it looks like a bundle (or is empty), so a typo cannot wipe
# an unrelated directory. Env: BUSYBOX (/bin/busybox), BERTH_RUNTIME
# (<repo>/bin/berth-runtime).
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
B=${1:-/var/tmp/berth-bundle}
shift || true
ARGS=("$@")
[ ${#ARGS[@]} -gt 0 ] || ARGS=(/bin/true)
BUSYBOX=${BUSYBOX:-/bin/busybox}
RUNTIME=${BERTH_RUNTIME:-$REPO/bin/berth-runtime}

die() { printf 'make-bundle: %s\n' "$*" >&2; exit 1; }

command -v jq >/dev/null || die "need jq (hack/install-deps.sh)"
[ -x "$BUSYBOX" ] || die "need $BUSYBOX (apt-get install busybox-static)"
# A dynamic busybox would need the host's libc inside the rootfs; ldd fails
# on a static binary ("not a dynamic executable").
if LC_ALL=C ldd "$BUSYBOX" >/dev/null 2>&1; then
  die "$BUSYBOX is dynamically linked; need busybox-static"
fi

if [ -e "$B" ]; then
  [ -d "$B" ] || die "$B exists and is not a directory"
  if [ -n "$(ls -A "$B")" ] && [ ! -e "$B/config.json" ] && [ ! -d "$B/rootfs" ]; then
    die "$B is not empty and not a bundle; refusing to overwrite it"
  fi
fi
mkdir -p "$B"
B=$(cd "$B" && pwd)
rm -rf "$B/rootfs" "$B/config.json"

R=$B/rootfs
mkdir -p "$R"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,var,run,home}
cp "$BUSYBOX" "$R/bin/busybox"
# busybox --list-full prints each applet's install path (bin/ls,
# usr/bin/awk ...); link them all to /bin/busybox, which is what
# `busybox --install -s` would do, without running anything in a chroot.
"$BUSYBOX" --list-full | while read -r applet; do
  [ -e "$R/$applet" ] || ln -s /bin/busybox "$R/$applet"
done
chmod 1777 "$R/tmp"
chmod 700 "$R/root"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n' >"$R/etc/passwd"
printf 'root:x:0:\ntty:x:5:\nnogroup:x:65534:\n' >"$R/etc/group"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost\n' >"$R/etc/hosts"

src=
if [ -x "$RUNTIME" ] && "$RUNTIME" spec --bundle "$B" 2>"$B/spec.err"; then
  src="$RUNTIME spec"
else
  [ -s "$B/spec.err" ] && printf 'make-bundle: %s spec failed (%s); using the template\n' \
    "$RUNTIME" "$(head -c 200 "$B/spec.err")" >&2
  rm -f "$B/config.json"
  cp "$REPO/specs/testdata/default.json" "$B/config.json"
  src=specs/testdata/default.json
fi
rm -f "$B/spec.err"

jq --tab '.process.terminal = false | .process.args = $ARGS.positional' \
  --args "${ARGS[@]}" <"$B/config.json" >"$B/config.json.new"
mv "$B/config.json.new" "$B/config.json"

printf 'bundle %s: %s entries, %s, config from %s, args: %s\n' "$B" \
  "$(find "$R" | wc -l)" "$(du -sh "$R" | cut -f1)" "$src" "${ARGS[*]}" >&2
