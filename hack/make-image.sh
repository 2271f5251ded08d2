#!/usr/bin/env bash
# make-image.sh [OUT] — build a busybox image from Debian's busybox-static,
# with no network: one layer (busybox + one symlink per applet, /etc/passwd,
# /etc/group), Cmd /bin/sh.
#
#   OUT            OCI image layout dir (default /var/tmp/berth-images/oci),
#                  the image tagged $TAG (default busybox)
#   ARCHIVE=FILE   also write a docker-archive of it (via skopeo)
#   REF=NAME       the name recorded in that archive (default busybox:latest)
#   BASE=TAG       start from the image TAG of OUT instead of building the
#                  busybox layer again (same base layer, for sharing tests)
#   EXTRA=TEXT     add a layer with /etc/berth-extra holding TEXT
# Needs: umoci, busybox-static, jq; skopeo for ARCHIVE.
set -euo pipefail

OUT=${1:-/var/tmp/berth-images/oci}
TAG=${TAG:-busybox}
BUSYBOX=${BUSYBOX:-/bin/busybox}
die() { printf 'make-image: %s\n' "$*" >&2; exit 1; }

command -v umoci >/dev/null || die "need umoci (apt-get install umoci)"
[ -x "$BUSYBOX" ] || die "need $BUSYBOX (apt-get install busybox-static)"
if LC_ALL=C ldd "$BUSYBOX" >/dev/null 2>&1; then
  die "$BUSYBOX is dynamically linked; need busybox-static"
fi

W=$(mktemp -d /var/tmp/berth-mkimg.XXXXXX)
trap 'rm -rf "$W"' EXIT

[ -f "$OUT/index.json" ] || { mkdir -p "$(dirname "$OUT")"; umoci init --layout "$OUT"; }
if [ -n "${BASE:-}" ]; then
  umoci tag --image "$OUT:$BASE" "$TAG"
else
umoci new --image "$OUT:$TAG"
umoci unpack --image "$OUT:$TAG" "$W/b" >/dev/null
R=$W/b/rootfs
mkdir -p "$R"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,var,run,home}
cp "$BUSYBOX" "$R/bin/busybox"
"$BUSYBOX" --list-full | while read -r applet; do
  [ -e "$R/$applet" ] || ln -s /bin/busybox "$R/$applet"
done
chmod 1777 "$R/tmp"
chmod 700 "$R/root"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n' >"$R/etc/passwd"
printf 'root:x:0:\ntty:x:5:\nnogroup:x:65534:\n' >"$R/etc/group"
umoci repack --image "$OUT:$TAG" "$W/b" >/dev/null
fi
if [ -n "${EXTRA:-}" ]; then
  # a second layer on top of the same base
  rm -rf "$W/b"
  umoci unpack --image "$OUT:$TAG" "$W/b" >/dev/null
  printf '%s\n' "$EXTRA" >"$W/b/rootfs/etc/berth-extra"
  umoci repack --image "$OUT:$TAG" "$W/b" >/dev/null
fi
umoci config --image "$OUT:$TAG" --config.cmd /bin/sh \
  --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
umoci gc --layout "$OUT"
if [ -n "${ARCHIVE:-}" ]; then
  command -v skopeo >/dev/null || die "need skopeo for ARCHIVE"
  rm -f "$ARCHIVE"
  skopeo copy --quiet "oci:$OUT:$TAG" "docker-archive:$ARCHIVE:${REF:-busybox:latest}"
fi
printf 'make-image: %s:%s\n' "$OUT" "$TAG" >&2
