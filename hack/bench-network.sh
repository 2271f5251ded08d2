#!/usr/bin/env bash
# bench-network.sh — network throughput of berth's bridge against podman's
# (netavark) on this machine, side by side:
#   host->container  127.0.0.1:PORT published with -p, to a container
#   ctr->ctr         one container to another on the default bridge, by IP
# Each transfer is SIZE bytes of zeros (1 GiB), sent by hack/netbench (a
# static Go binary bind-mounted into both engines' containers; Debian's
# busybox nc stops after a few kilobytes). The receiver runs in a busybox
# container; the ctr->ctr sender is `exec`ed in a second, idle container,
# and netbench times only the transfer. Reported: median seconds and MB/s
# per path and engine, and berth/podman throughput ratios.
#
# Everything lives in a mktemp dir under /tmp: berthd with its own root,
# state and socket; podman with its own --root/--runroot and config
# (CONTAINERS_CONF, network_config_dir). Traffic goes only to loopback and
# to the two engines' containers. Daemons and containers are stopped, and
# netavark's iptables chains removed if this script created them.
# Env: RUNS (5) SIZE (1073741824) BIN (bin/) OUT (hack/.cache/bench-network)
# Needs: root, busybox (static), podman, go.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH
RUNS=${RUNS:-5}
SIZE=${SIZE:-1073741824}
BIN=$(realpath "${BIN:-bin}")
OUT=${OUT:-hack/.cache/bench-network}
mkdir -p "$OUT"
log() { printf 'bench-network: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root"
for t in busybox podman go nft; do command -v $t >/dev/null || die "needs $t"; done
[ -x "$BIN/berthd" ] && [ -x "$BIN/berth" ] || die "build first (make build), or set BIN"

W=$(mktemp -d /tmp/bench-net.XXXXXX)
BERTHD_PID=
had_netavark=0
iptables-save 2>/dev/null | grep -q NETAVARK && had_netavark=1
had_run_networks=0; [ -e /run/containers/networks ] && had_run_networks=1
had_ipt=""; for t in nat filter; do nft list table ip $t >/dev/null 2>&1 && had_ipt="$had_ipt $t"; done

cleanup() {
  set +e
  if [ -n "$BERTHD_PID" ]; then
    $B rm -f rx tx >/dev/null 2>&1
    kill -TERM "$BERTHD_PID"; wait "$BERTHD_PID"
  fi
  $P rm -f -t 0 rx tx >/dev/null 2>&1
  $P rmi -a -f >/dev/null 2>&1
  awk -v w="$W" '$2 ~ "^"w {print $2}' /proc/self/mounts | sort -r | while read -r m; do umount "$m"; done
  if [ $had_netavark = 0 ]; then
    iptables -D FORWARD -m comment --comment "netavark firewall plugin rules" -j NETAVARK_FORWARD 2>/dev/null
    iptables -F NETAVARK_FORWARD 2>/dev/null; iptables -X NETAVARK_FORWARD 2>/dev/null
    iptables -t nat -D PREROUTING -m addrtype --dst-type LOCAL -j NETAVARK-HOSTPORT-DNAT 2>/dev/null
    iptables -t nat -D OUTPUT -m addrtype --dst-type LOCAL -j NETAVARK-HOSTPORT-DNAT 2>/dev/null
    iptables -t nat -D POSTROUTING -j NETAVARK-HOSTPORT-MASQ 2>/dev/null
    for c in NETAVARK-HOSTPORT-DNAT NETAVARK-HOSTPORT-MASQ NETAVARK-HOSTPORT-SETMARK; do
      iptables -t nat -F $c 2>/dev/null; iptables -t nat -X $c 2>/dev/null; done
    for c in $(iptables -t nat -S 2>/dev/null | awk '/^-N NETAVARK-/ {print $2}'); do
      iptables -t nat -F "$c"; iptables -t nat -X "$c"; done
    ip link del podman0 2>/dev/null
    # iptables-nft's own tables, if podman made them for this run
    for t in nat filter; do case " $had_ipt " in *" $t "*) ;; *) nft delete table ip $t 2>/dev/null ;; esac; done
  fi
  [ $had_run_networks = 0 ] && rm -rf /run/containers/networks
  rm -rf "$W"
}
trap cleanup EXIT

# ---- the tools: netbench, and a busybox image for both engines
CGO_ENABLED=0 go build -o "$W/netbench" ./hack/netbench
mkdir -p "$W/img/bin" "$W/img/etc" "$W/img/proc" "$W/img/sys" "$W/img/dev" "$W/img/tmp"
cp "$(command -v busybox)" "$W/img/bin/busybox"
for a in sh ip sleep cat; do ln -s busybox "$W/img/bin/$a"; done
tar -C "$W/img" -cf "$W/img.tar" .
MNT="$W/netbench:/netbench:ro"
RECV='ip -4 -o addr show eth0; exec /netbench recv :5001'

# ---- berth: berthd on its own root, no resolvers to relay to
mkdir -p "$W/berth"
: >"$W/berth/resolv.conf"
printf '{"resolv-conf": "%s"}\n' "$W/berth/resolv.conf" >"$W/berth/config.json"
"$BIN/berthd" --config "$W/berth/config.json" --root "$W/berth/root" --state "$W/berth/state" \
  --address "$W/berth/berthd.sock" >"$W/berth/berthd.log" 2>&1 &
BERTHD_PID=$!
B="$BIN/berth --address $W/berth/berthd.sock"
for _ in $(seq 100); do [ -S "$W/berth/berthd.sock" ] && break; sleep 0.1; done
$B import "$W/img.tar" bench-net:latest >/dev/null

# ---- podman: own storage, run dirs and network config
hn=$(ulimit -Hn); hu=$(ulimit -Hu)
[ "$hn" = unlimited ] && hn=1048576; [ "$hu" = unlimited ] && hu=32768
[ "$hn" -gt 1048576 ] && hn=1048576; [ "$hu" -gt 32768 ] && hu=32768
mkdir -p "$W/pm"
cat >"$W/pm/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=$hn:$hn", "nproc=$hu:$hu"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
tmp_dir = "$W/pm/tmp"
[network]
network_config_dir = "$W/pm/networks"
EOF
export CONTAINERS_CONF=$W/pm/containers.conf
P="podman --root $W/pm/root --runroot $W/pm/run --storage-driver overlay"
$P import -q "$W/img.tar" localhost/bench-net:latest >/dev/null

median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

# setup ENGINE CLI IMAGE: a receiver "rx" published on a free loopback
# port and an idle sender "tx", both with netbench; sets HP_engine and
# IP_engine.
setup() {
  local engine=$1 cli=$2 img=$3 hp ip
  hp=$((20000 + RANDOM % 20000))
  $cli run -d --name rx -p "127.0.0.1:$hp:5001" -v "$MNT" "$img" sh -c "$RECV" >/dev/null
  $cli run -d --name tx -v "$MNT" "$img" sleep 100000 >/dev/null
  "$W/netbench" wait "127.0.0.1:$hp"
  ip=$($cli logs rx 2>&1 | busybox awk '/inet / {sub("/.*", "", $4); print $4; exit}')
  [ -n "$ip" ] || die "$engine: no container address in: $($cli logs rx 2>&1)"
  log "$engine: receiver at $ip, published on 127.0.0.1:$hp"
  printf -v "HP_$engine" %s "$hp"
  printf -v "IP_$engine" %s "$ip"
  : >"$OUT/${engine}_h2c.txt"; : >"$OUT/${engine}_c2c.txt"
}

setup berth "$B" bench-net:latest
setup podman "$P" localhost/bench-net:latest

# Rounds alternate between the engines, so that the machine's drift
# (noisy neighbours, frequency) hits both alike. Round 0 is a warm-up.
sync
for round in $(seq 0 "$RUNS"); do
  for engine in berth podman; do
    cli=$B; [ $engine = podman ] && cli=$P
    hp_var=HP_$engine ip_var=IP_$engine
    h=$(nice -n -5 "$W/netbench" send "127.0.0.1:${!hp_var}" "$SIZE")
    c=$($cli exec tx /netbench send "${!ip_var}:5001" "$SIZE")
    if [ "$round" -gt 0 ]; then
      echo "$h" >>"$OUT/${engine}_h2c.txt"
      echo "$c" >>"$OUT/${engine}_c2c.txt"
    fi
  done
done

{
  echo "# network throughput: berth vs podman $(podman --version | awk '{print $3}') (netavark)"
  echo
  echo "date $(date -u +%FT%TZ), kernel $(uname -r), $(nproc) cpus; $RUNS transfers of $SIZE bytes per path and engine, rounds alternating between the engines after one warm-up round; medians."
  echo
  echo "| path | berth s | berth MB/s | podman s | podman MB/s | berth/podman |"
  echo "|---|---|---|---|---|---|"
  for path in h2c c2c; do
    bs=$(median <"$OUT/berth_$path.txt"); ps=$(median <"$OUT/podman_$path.txt")
    name=$([ $path = h2c ] && echo "host->container (-p 127.0.0.1)" || echo "container->container (bridge)")
    awk -v n="$name" -v b="$bs" -v p="$ps" -v s="$SIZE" 'BEGIN {
      printf "| %s | %.3f | %.0f | %.3f | %.0f | %.2f |\n", n, b, s/b/1e6, p, s/p/1e6, p/b }'
  done
} | tee "$OUT/summary.md"
