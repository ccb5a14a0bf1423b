#!/usr/bin/env bash
# Sequential 1 MiB buffered writes to a provisioned volume, measured two ways on the same mounts in one run:
#   harness: sync and an emptied page cache before each job, end_fsync=1 (what fio-compare.sh does);
#   outside: the page cache left as the previous target left it, no fsync at the end, a 512 MiB file.
# Targets alternate job by job: the jnr-fuse passthrough ceiling, qcow2 through qemu-storage-daemon's FUSE export,
# and thinfs (a provisioned volume). Prints MiB/s and thinfs's ratio to qcow2 per method.
#
#   bench/seqwrite-methods.sh [--runtime 6] [--rounds 3] [--work DIR] [-- extra thinfs mount options]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runtime=6; rounds=3; work=/tmp/thinfs-seqwrite
while [ $# -gt 0 ]; do
    case "$1" in
        --runtime) runtime=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        --work) work=$2; shift 2 ;;
        --) shift; break ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done
mount_opts=("$@")
"$root/thinfs" --help >/dev/null
jar="$root/fs/target/thinfs.jar"
size=512M; bytes=$(numfmt --from=iec "$size")
rm -rf "$work"; mkdir -p "$work"
pids=(); mounts=()
cleanup() {
    set +e
    for m in "${mounts[@]}"; do umount "$m" 2>/dev/null || fusermount -u -z "$m" 2>/dev/null; done
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
}
trap cleanup EXIT
wait_mount() { for _ in $(seq 100); do grep -q " $1 " /proc/mounts && return 0; sleep 0.1; done; echo "no mount at $1" >&2; exit 1; }

mkdir -p "$work/pt"; truncate -s "$size" "$work/pt.img"
java --add-opens java.base/java.nio=ALL-UNNAMED -cp "$jar" org.thinfs.fs.bench.PassthroughFuse "$work/pt.img" "$work/pt" \
    >>"$work/pt.log" 2>&1 & pids+=($!); wait_mount "$work/pt"; mounts+=("$work/pt")
qemu-img create -q -f qcow2 "$work/base.qcow2" "$size"; touch "$work/qcow2.disk"
qemu-storage-daemon --blockdev driver=file,node-name=f,filename="$work/base.qcow2" \
    --blockdev driver=qcow2,node-name=q,file=f --export type=fuse,id=e,node-name=q,mountpoint="$work/qcow2.disk",writable=on \
    >"$work/qsd.log" 2>&1 & pids+=($!); wait_mount "$work/qcow2.disk"; mounts+=("$work/qcow2.disk")
"$root/thinfs" create "$work/pool" --size 2G >/dev/null; mkdir -p "$work/mnt"
"$root/thinfs" mount "$work/pool" "$work/mnt" "${mount_opts[@]}" >/dev/null; mounts+=("$work/mnt")
truncate -s "$size" "$work/mnt/vol"
# Provision every target the same way before measuring ("already provisioned"), with bytes that are not zeros:
# thinfs does not provision blocks for zero writes (--zeroes skip), so zeros would leave its volume all holes and
# the first pass of every job would map blocks.
for f in "$work/pt/disk" "$work/qcow2.disk" "$work/mnt/vol"; do
    head -c "$bytes" < <(yes thinfs-provisioned) | dd of="$f" bs=1M iflag=fullblock conv=notrunc,fsync status=none
done

job() {  # file, method
    local extra=()
    if [ "$2" = harness ]; then sync; echo 3 > /proc/sys/vm/drop_caches; extra=(--end_fsync=1); fi
    fio --name=seq --filename="$1" --rw=write --bs=1M --size="$size" --time_based --runtime="$runtime" \
        --ioengine=psync --numjobs=1 "${extra[@]}" --output-format=json |
        python3 -c 'import json,sys; print("%.1f" % (json.load(sys.stdin)["jobs"][0]["write"]["bw_bytes"]/1048576))'
}
declare -A sum
for round in $(seq "$rounds"); do
    for method in harness outside; do
        for target in ceiling qcow2 thinfs; do
            case $target in ceiling) f="$work/pt/disk" ;; qcow2) f="$work/qcow2.disk" ;; thinfs) f="$work/mnt/vol" ;; esac
            r=$(job "$f" "$method")
            sum[$method/$target]="${sum[$method/$target]:-} $r"
        done
    done
done
printf '%-8s %-8s %10s %10s\n' method target MiB/s vs-qcow2
for method in harness outside; do
    q=$(echo "${sum[$method/qcow2]}" | awk '{s=0; for(i=1;i<=NF;i++) s+=$i; printf "%.1f", s/NF}')
    for target in ceiling qcow2 thinfs; do
        a=$(echo "${sum[$method/$target]}" | awk '{s=0; for(i=1;i<=NF;i++) s+=$i; printf "%.1f", s/NF}')
        printf '%-8s %-8s %10s %10s   (rounds:%s)\n' "$method" "$target" "$a" \
            "$(awk -v a="$a" -v q="$q" 'BEGIN{printf "%.2f", a/q}')" "${sum[$method/$target]}"
    done
done
