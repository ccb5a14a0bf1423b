#!/usr/bin/env bash
# Throwaway one-node Ceph (pacific 16.2.x) cluster for integration tests.
#   ceph-cluster.sh start DIR   -> mon+mgr+1 memstore OSD on 127.0.0.1, pool "rbd";
#                                 prints DIR/ceph.conf as the last stdout line
#   ceph-cluster.sh stop DIR    -> kills the daemons recorded in DIR/pid/*.pid (idempotent)
# Everything (conf, data, logs, sockets, pid files) lives under DIR; no auth (cephx off).
set -euo pipefail

TIMEOUT=${CEPH_START_TIMEOUT:-120}   # overall start timeout, seconds
die() { echo "ceph-cluster: $*" >&2; exit 1; }

[ $# -eq 2 ] || die "usage: $0 start|stop DIR"
CMD=$1
case $CMD in
  start) mkdir -p "$2" ;;
  stop)  [ -d "$2" ] || exit 0 ;;   # nothing was ever started there
  *)     die "usage: $0 start|stop DIR" ;;
esac
DIR=$(cd "$2" && pwd); CONF=$DIR/ceph.conf

# Kill the daemons listed in the given pid files: TERM all at once, KILL whatever
# is still alive after 5 s, wait until all are gone. Only pids whose command line
# still mentions our conf are touched (guards against pid reuse).
kill_pidfiles() {
  local f pid pids=() i
  for f in "$@"; do
    [ -e "$f" ] || continue
    pid=$(cat "$f")
    if [ -n "$pid" ] && grep -qF "$CONF" "/proc/$pid/cmdline" 2>/dev/null; then
      pids+=("$pid"); kill -TERM "$pid" 2>/dev/null || true
    fi
    rm -f "$f"
  done
  [ ${#pids[@]} -gt 0 ] || return 0
  # "alive" = /proc entry exists, so we also wait for the reaper to collect the zombie
  alive() { for pid in "${pids[@]}"; do [ -e "/proc/$pid" ] && return 0; done; return 1; }
  for i in $(seq 50); do alive || break; sleep 0.1; done
  kill -KILL "${pids[@]}" 2>/dev/null || true
  for i in $(seq 100); do alive || break; sleep 0.1; done   # bounded: never hang
}
# OSD/mgr first, mon last: an OSD shutting down talks to the mon (it would
# otherwise wait osd_mon_shutdown_timeout before giving up).
stop_cluster() {
  kill_pidfiles "$DIR"/pid/osd.*.pid "$DIR"/pid/mgr.*.pid
  kill_pidfiles "$DIR"/pid/*.pid
}

[ "$CMD" = stop ] && { stop_cluster; exit 0; }
[ -e "$CONF" ] && die "$DIR already holds a cluster; stop it and use a fresh DIR"

# Pick a free loopback port: nothing answers a connect on it.
while :; do
  PORT=$((20000 + RANDOM % 40000))
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null || break
done

mkdir -p "$DIR"/{mon/a,osd/0,mgr/x,log,run,pid}
FSID=$(uuidgen)
cat > "$CONF" <<CONF
[global]
fsid = $FSID
mon host = v2:127.0.0.1:$PORT
public addr = 127.0.0.1
ms bind msgr1 = false
auth cluster required = none
auth service required = none
auth client required = none
run dir = $DIR/run
admin socket = $DIR/run/\$name.asok
log file = $DIR/log/\$name.log
mon cluster log file = default=$DIR/log/ceph.\$channel.log cluster=$DIR/log/ceph.log
pid file = $DIR/run/\$name.pid
crash dir = $DIR/crash
mon data = $DIR/mon/\$id
osd data = $DIR/osd/\$id
mgr data = $DIR/mgr/\$id
keyring = /dev/null
# single OSD, single replica, few PGs
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
mon warn on insecure global id reclaim allowed = false
mon data avail warn = 1
mon data avail crit = 0
client mount timeout = 10
rados mon op timeout = 15
rados osd op timeout = 30
[osd]
osd objectstore = memstore
memstore device bytes = 1073741824
osd max object name len = 256
osd max object namespace len = 64
[client]
# tests may run many clients at once: no asok, shared log
admin socket =
log file = $DIR/log/client.log
CONF

C=(-c "$CONF"); QC=$(printf %q "$CONF")   # QC: conf path quoted for sh -c
# Run a daemon in the foreground under setsid, detached from our stdio; record its pid.
spawn() { # name, command...
  local name=$1; shift
  setsid "$@" "${C[@]}" -f </dev/null >>"$DIR/log/$name.out" 2>&1 &
  echo $! > "$DIR/pid/$name.pid"
}
DEADLINE=$((SECONDS + TIMEOUT)); WHAT=""
fail() { echo "ceph-cluster: timed out after ${TIMEOUT}s waiting for: $WHAT (logs: $DIR/log)" >&2; stop_cluster; exit 1; }
# Retry a command (each try capped at 20 s) until it succeeds or the deadline passes.
retry() { # what, command...
  WHAT=$1; shift
  until timeout 20 "$@" >>"$DIR/log/start.out" 2>&1; do
    [ $SECONDS -lt $DEADLINE ] || fail; sleep 0.5
  done
}
trap 'echo "ceph-cluster: start failed at: ${WHAT:-setup} (logs: $DIR/log)" >&2; stop_cluster' ERR

WHAT="mon mkfs"
monmaptool --create --fsid "$FSID" --addv a "[v2:127.0.0.1:$PORT]" "$DIR/monmap" >"$DIR/log/start.out" 2>&1
ceph-mon "${C[@]}" --mkfs -i a --monmap "$DIR/monmap" >>"$DIR/log/start.out" 2>&1
spawn mon.a ceph-mon -i a
retry "mon quorum" ceph "${C[@]}" --connect-timeout 5 quorum_status

spawn mgr.x ceph-mgr -i x

OSD_UUID=$(uuidgen)
retry "osd id allocation" ceph "${C[@]}" osd new "$OSD_UUID" 0
WHAT="osd mkfs"
ceph-osd "${C[@]}" -i 0 --mkfs --osd-uuid "$OSD_UUID" >>"$DIR/log/start.out" 2>&1
spawn osd.0 ceph-osd -i 0
retry "osd.0 up" sh -c "ceph -c $QC osd dump --format json | grep -q '\"up\":1'"
retry "mgr active" sh -c "ceph -c $QC mgr dump --format json | grep -q '\"available\":true'"

retry "pool rbd create" ceph "${C[@]}" osd pool create rbd 8
retry "rbd pool init" rbd "${C[@]}" pool init rbd
# end-to-end probe; a leftover probe from a half-failed try is removed first
retry "rbd create/rm probe" sh -c "rbd -c $QC rm rbd/probe >/dev/null 2>&1;
  rbd -c $QC create rbd/probe --size 64M && rbd -c $QC rm rbd/probe"
trap - ERR
echo "$CONF"
