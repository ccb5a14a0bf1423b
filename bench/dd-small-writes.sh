#!/usr/bin/env bash
# Small buffered writes: dd bs=4k (page cache, fsync at the end) into a plain file of the host, a provisioned
# thinfs volume, and the same file through the jnr-fuse passthrough (the FUSE round trip alone, no thinfs work);
# targets alternate round by round, each after sync and an emptied page cache. Prints MiB/s and each ratio to the
# plain file.
#
#   bench/dd-small-writes.sh [--size 512M] [--rounds 3] [--work DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
size=512M; rounds=3; work=/tmp/thinfs-dd
while [ $# -gt 0 ]; do
    case "$1" in
        --size) size=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        --work) work=$2; shift 2 ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done
"$root/thinfs" --help >/dev/null
count=$(( $(numfmt --from=iec "$size") / 4096 ))
rm -rf "$work"; mkdir -p "$work/mnt" "$work/pt"
pt_pid=""
cleanup() {
    set +e
    umount "$work/mnt" 2>/dev/null || fusermount -u -z "$work/mnt" 2>/dev/null
    umount "$work/pt" 2>/dev/null || fusermount -u -z "$work/pt" 2>/dev/null
    [ -n "$pt_pid" ] && kill "$pt_pid" 2>/dev/null
}
trap cleanup EXIT
"$root/thinfs" create "$work/pool" --size "$(( 2 * $(numfmt --from=iec "$size") ))" >/dev/null
"$root/thinfs" mount "$work/pool" "$work/mnt" >/dev/null
truncate -s "$size" "$work/pt.img"
java --add-opens java.base/java.nio=ALL-UNNAMED -cp "$root/fs/target/thinfs.jar" org.thinfs.fs.bench.PassthroughFuse \
    "$work/pt.img" "$work/pt" >"$work/pt.log" 2>&1 & pt_pid=$!
for _ in $(seq 100); do grep -q " $work/pt " /proc/mounts && break; sleep 0.1; done
truncate -s "$size" "$work/mnt/vol"
dd if=/dev/zero of="$work/mnt/vol" bs=1M count=$(( count / 256 )) conv=notrunc,fsync status=none
truncate -s "$size" "$work/plain.img"
run() {  # file
    sync; echo 3 > /proc/sys/vm/drop_caches
    local s e; s=$(date +%s%N)
    dd if=/dev/zero of="$1" bs=4k count="$count" conv=notrunc,fsync status=none
    e=$(date +%s%N)
    awk -v b="$(( count * 4096 ))" -v ns="$(( e - s ))" 'BEGIN { printf "%.1f", b / 1048576 / (ns / 1e9) }'
}
declare -A r
for round in $(seq "$rounds"); do
    r[plain]="${r[plain]:-} $(run "$work/plain.img")"
    r[ceiling]="${r[ceiling]:-} $(run "$work/pt/disk")"
    r[thinfs]="${r[thinfs]:-} $(run "$work/mnt/vol")"
done
mean() { echo "$1" | awk '{s=0; for(i=1;i<=NF;i++) s+=$i; printf "%.1f", s/NF}'; }
p=$(mean "${r[plain]}")
printf '%-26s %10s %10s   %s\n' target MiB/s vs-plain rounds
for t in plain ceiling thinfs; do
    m=$(mean "${r[$t]}")
    printf '%-26s %10s %10s  %s\n' "$t" "$m" "$(awk -v a="$m" -v p="$p" 'BEGIN{printf "%.2f", a/p}')" "${r[$t]}"
done
