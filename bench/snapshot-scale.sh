#!/usr/bin/env bash
# Snapshot time and daemon memory against the number of mapped blocks.
#
#   bench/snapshot-scale.sh [--sizes "1000 1000000 10000000"] [--work DIR] [--tiny]
#
# For each size N it builds a pool whose one volume maps N data blocks (written as metadata with 'thinfs restore'
# from a one-line range mapping, over a sparse data file, so 10 M mappings cost seconds, not 640 GiB of writes),
# mounts it and measures:
#   - `mkdir snapshots/sK`, five times: the median and the slowest (one may wait behind the periodic commit);
#   - the daemon's resident memory after reading one 4 KiB block per btree leaf over the whole volume (every leaf
#     passes through the metadata cache) and then 10 s of random 4 KiB writes across the volume after the
#     snapshots (copy-on-write: leaves are shadowed all over the tree between commits);
#   - the time to delete the snapshots and the volume, and the resident memory after it.
# --tiny: one size of 1000 blocks and 1 s of writes; only proves the harness runs (CI uses it).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
sizes="1000 1000000 10000000"; work=/tmp/thinfs-snapscale; write_secs=10
while [ $# -gt 0 ]; do
    case "$1" in
        --sizes) sizes=$2; shift 2 ;;
        --work) work=$2; shift 2 ;;
        --tiny) sizes=1000; write_secs=1; shift ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done
command -v fio >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fio >/dev/null; }
"$root/thinfs" --help >/dev/null            # builds the jar when needed

rm -rf "$work"; mkdir -p "$work"
mnt="$work/mnt"; mkdir -p "$mnt"
cleanup() { set +e; "$root/thinfs" umount "$mnt" >/dev/null 2>&1 || fusermount -u -z "$mnt" 2>/dev/null; }
trap cleanup EXIT

block=65536
printf '%-12s %14s %14s %14s %16s %10s %10s\n' mapped snap-median-ms snap-max-ms rss-after-read rss-after-writes \
    rm-all-s rss-after-rm
for n in $sizes; do
    pool="$work/pool-$n"
    nr_data=$(( 2 * n + 300000 ))     # room for the copy-on-write writes (sparse: costs nothing)
    "$root/thinfs" create "$pool" --size $(( nr_data * block )) >/dev/null
    cat >"$work/map.xml" <<EOF
<superblock uuid="" time="1" transaction="1" flags="0" version="2" data_block_size="$(( block / 512 ))" nr_data_blocks="$nr_data">
  <device dev_id="1" mapped_blocks="$n" transaction="0" creation_time="0" snap_time="0">
    <range_mapping origin_begin="0" data_begin="0" length="$n" time="0"/>
  </device>
</superblock>
EOF
    "$root/thinfs" restore -i "$work/map.xml" -o "$pool/metadata" >/dev/null
    "$root/thinfs" mount "$pool" "$mnt" >/dev/null
    mv "$mnt/lost+found/dev-1" "$mnt/vol"
    # Timed inside one process (python's os.mkdir), so the figure is the file system's, not fork and exec's.
    read -r median max < <(python3 - "$mnt/snapshots" <<'PY'
import os, sys, time
ts = []
for k in range(5):
    start = time.perf_counter()
    os.mkdir(os.path.join(sys.argv[1], "s%d" % k))
    ts.append((time.perf_counter() - start) * 1000)
ts.sort()
print("%.1f %.1f" % (ts[2], ts[4]))
PY
)
    pid=$(cat "$pool/thinfs.pid")
    # A leaf holds at most 252 mappings: one read every 126 blocks reaches each leaf at least once.
    python3 - "$mnt/vol" $(( n * block )) $(( 126 * block )) <<'PY'
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
for off in range(0, int(sys.argv[2]), int(sys.argv[3])):
    os.pread(fd, 4096, off)
os.close(fd)
PY
    rss_read=$(awk '/VmRSS/ {print int($2 / 1024)}' "/proc/$pid/status")
    fio --name=cow --filename="$mnt/vol" --rw=randwrite --bs=4k --size=$(( n * block )) --norandommap \
        --time_based --runtime="$write_secs" --ioengine=psync --end_fsync=1 --output=/dev/null
    rss_write=$(awk '/VmRSS/ {print int($2 / 1024)}' "/proc/$pid/status")
    # Deleting the snapshots and the volume: the last one walks the whole tree and frees every block in one
    # metadata operation (this once ran out of heap at 10 M mappings).
    start=$(date +%s%N)
    rm "$mnt"/snapshots/s*/vol "$mnt/vol"
    rm_s=$(awk -v ns=$(( $(date +%s%N) - start )) 'BEGIN { printf "%.1f", ns / 1e9 }')
    rss_rm=$(awk '/VmRSS/ {print int($2 / 1024)}' "/proc/$pid/status")
    printf '%-12s %14s %14s %13sM %15sM %10s %9sM\n' "$n" "$median" "$max" "$rss_read" "$rss_write" "$rm_s" \
        "$rss_rm"
    "$root/thinfs" umount "$mnt" >/dev/null
    "$root/thinfs" check "$pool" >/dev/null
    rm -rf "$pool"
done
