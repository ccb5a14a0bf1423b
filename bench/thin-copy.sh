#!/usr/bin/env bash
# What copying costs when files look thin: `cp --sparse=always` out of the mount of a large volume holding little,
# thinfs against qcow2 through qemu-storage-daemon's FUSE export holding the same data; and a clone in place of a
# fully written volume (`cp`, which thinfs turns into block sharing) against `mkdir snapshots/x` and `dd`.
# Ratios are measured in the same run.
#
#   bench/thin-copy.sh [--size 64G] [--data 256M] [--clone 4G] [--work DIR] [--tiny]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
size=64G; data=256M; clone=4G; work=/tmp/thinfs-thincopy
while [ $# -gt 0 ]; do
    case "$1" in
        --size) size=$2; shift 2 ;;
        --data) data=$2; shift 2 ;;
        --clone) clone=$2; shift 2 ;;
        --work) work=$2; shift 2 ;;
        --tiny) size=1G; data=8M; clone=64M; shift ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done
command -v qemu-storage-daemon >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-system-common qemu-utils >/dev/null; }
"$root/thinfs" --help >/dev/null            # builds the jar when needed
rm -rf "$work"; mkdir -p "$work/mnt"
qsd=""
cleanup() {
    "$root/thinfs" umount "$work/mnt" >/dev/null 2>&1 || fusermount -u "$work/mnt" 2>/dev/null || true
    [ -n "$qsd" ] && kill "$qsd" 2>/dev/null; wait 2>/dev/null || true
}
trap cleanup EXIT
secs() { local s e; s=$(date +%s.%N); "$@"; e=$(date +%s.%N); echo "$e - $s" | bc; }
mib=$(( $(numfmt --from=iec "$data") >> 20 )); pieces=4; piece=$(( mib / pieces ))
stride=$(( ($(numfmt --from=iec "$size") >> 20) / pieces ))
fill() { for i in $(seq 0 $(( pieces - 1 ))); do
    dd if=/dev/urandom of="$1" bs=1M count=$piece seek=$(( i * stride )) conv=notrunc,fsync status=none; done; }

"$root/thinfs" create "$work/pool" --size "$(( $(numfmt --from=iec "$clone") * 3 + $(numfmt --from=iec "$data") * 2 ))" >/dev/null
"$root/thinfs" mount "$work/pool" "$work/mnt" >/dev/null
truncate -s "$size" "$work/mnt/sparse"; fill "$work/mnt/sparse"
qemu-img create -q -f qcow2 "$work/img.qcow2" "$size"; touch "$work/qcow2.disk"
qemu-storage-daemon --blockdev driver=file,node-name=f,filename="$work/img.qcow2" \
    --blockdev driver=qcow2,node-name=q,file=f --export type=fuse,id=e,node-name=q,mountpoint="$work/qcow2.disk",writable=on \
    >"$work/qsd.log" 2>&1 & qsd=$!
for _ in $(seq 50); do grep -q " $work/qcow2.disk " /proc/mounts && break; sleep 0.1; done
fill "$work/qcow2.disk"

sync; echo 3 > /proc/sys/vm/drop_caches
t_thin=$(secs cp --sparse=always "$work/mnt/sparse" "$work/out.thinfs")
sync; echo 3 > /proc/sys/vm/drop_caches
t_qcow=$(secs cp --sparse=always "$work/qcow2.disk" "$work/out.qcow2")
printf 'copy-out %s holding %s: thinfs %.3f s, qcow2 %.3f s, thinfs/qcow2 speed %.2fx; copies hold %s and %s MiB\n' \
    "$size" "$data" "$t_thin" "$t_qcow" "$(echo "$t_qcow / $t_thin" | bc -l)" \
    "$(du -m "$work/out.thinfs" | cut -f1)" "$(du -m "$work/out.qcow2" | cut -f1)"
rm -f "$work/out.thinfs" "$work/out.qcow2" "$work/mnt/sparse"

dd if=/dev/urandom of="$work/mnt/full" bs=1M count=$(( $(numfmt --from=iec "$clone") >> 20 )) conv=fsync status=none
t_snap=$(secs mkdir "$work/mnt/snapshots/x")
t_cp1=$(secs cp "$work/mnt/full" "$work/mnt/c1")
t_cp2=$(secs cp "$work/mnt/full" "$work/mnt/c2")
t_dd=$(secs dd if="$work/mnt/full" of="$work/mnt/d1" bs=1M status=none)
printf 'clone %s in place: mkdir snapshots/x %.3f s, cp %.3f s then %.3f s (%.0fx the snapshot), dd %.3f s (cp %.0fx faster)\n' \
    "$clone" "$t_snap" "$t_cp1" "$t_cp2" "$(echo "$t_cp2 / $t_snap" | bc -l)" "$t_dd" "$(echo "$t_dd / $t_cp2" | bc -l)"
df -m "$work/mnt" | tail -1 | awk '{print "pool used after the clones:", $3, "MiB"}'
