#!/usr/bin/env bash
# Latency of `mkdir snapshots/sK` (and of stat) while a writer keeps provisioning a fresh volume at full speed, so
# the periodic commit always has a large data flush to do. Snapshots and namespace calls must not wait for that
# flush.
#
#   bench/mkdir-under-load.sh [--seconds 12] [--work DIR] [--tiny]
#
# Prints the median, 90th percentile and slowest of 16 mkdirs (and 16 stats) timed inside one process, half a
# second apart, and the writer's MiB/s. --tiny: 3 s, 4 mkdirs; only proves the harness runs.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
secs=12; work=/tmp/thinfs-mkdirload; count=16
while [ $# -gt 0 ]; do
    case "$1" in
        --seconds) secs=$2; shift 2 ;;
        --work) work=$2; shift 2 ;;
        --tiny) secs=3; count=4; shift ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done
command -v fio >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fio >/dev/null; }
"$root/thinfs" --help >/dev/null            # builds the jar when needed

rm -rf "$work"; mkdir -p "$work/mnt"
cleanup() { "$root/thinfs" umount "$work/mnt" >/dev/null 2>&1 || fusermount -u "$work/mnt" 2>/dev/null || true; }
trap cleanup EXIT
"$root/thinfs" create "$work/pool" --size 40G >/dev/null
"$root/thinfs" mount "$work/pool" "$work/mnt" >/dev/null
truncate -s 32G "$work/mnt/fresh"
sync; echo 3 > /proc/sys/vm/drop_caches
fio --name=w --filename="$work/mnt/fresh" --rw=write --bs=1M --size=32G --time_based --runtime="$secs" \
    --ioengine=psync --output-format=json > "$work/fio.json" &
writer=$!
sleep 2
python3 - "$work/mnt" "$count" <<'PY'
import os, sys, time
mnt, count = sys.argv[1], int(sys.argv[2])
mk, st = [], []
for k in range(count):
    s = time.perf_counter(); os.mkdir(os.path.join(mnt, "snapshots", "s%d" % k)); mk.append((time.perf_counter() - s) * 1e3)
    s = time.perf_counter(); os.stat(os.path.join(mnt, "fresh")); st.append((time.perf_counter() - s) * 1e3)
    time.sleep(0.5)
for name, t in (("mkdir", mk), ("stat", st)):
    t.sort()
    print("%-6s median %6.1f ms   p90 %6.1f ms   slowest %6.1f ms" % (name, t[len(t) // 2], t[int(len(t) * 0.9)], t[-1]))
PY
wait "$writer"
python3 -c 'import json,sys; j=json.load(open(sys.argv[1]))["jobs"][0]; print("writer %.0f MiB/s" % (j["write"]["bw_bytes"] / 1048576))' "$work/fio.json"
