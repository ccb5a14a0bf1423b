#!/usr/bin/env bash
# Side-by-side fio: the jnr-fuse passthrough ceiling, qcow2 through qemu-storage-daemon's FUSE export, and thinfs
# (fresh, provisioned, first writes after a snapshot, ext4 on a loop device). Prints MiB/s, IOPS and thinfs's
# ratio to the ceiling and to qcow2. Targets are measured in alternation, round by round, so drift cancels.
# A fresh thinfs volume is compared with ceiling-fresh (the passthrough over a file punched to holes before each
# job), since both make the host file system allocate blocks on every write.
#
#   bench/fio-compare.sh [--size 2G] [--runtime 15] [--rounds 2] [--tiny] [--work DIR] [--only JOB,...]
#                        [--chart FILE.png]
#
# --tiny: 64 MiB and 2 s per job, one round: only proves the harness runs (CI uses it).
# --only: run only these jobs (seqwrite, seqread, randwrite, randread, and the same with 4 for 4 jobs).
# The table also goes to WORK/fio-compare.tsv, and a chart of every row's ratios to the ceiling and to qcow2 to
# --chart (default WORK/fio-compare.png; needs gnuplot, installed when missing).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
size=2G; runtime=15; rounds=2; work=/tmp/thinfs-bench; only=""; chart=""
while [ $# -gt 0 ]; do
    case "$1" in
        --size) size=$2; shift 2 ;;
        --runtime) runtime=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        --work) work=$2; shift 2 ;;
        --tiny) size=64M; runtime=2; rounds=1; shift ;;
        --only) only=$2; shift 2 ;;
        --chart) chart=$2; shift 2 ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done

need=()
command -v fio >/dev/null || need+=(fio)
command -v qemu-storage-daemon >/dev/null || need+=(qemu-system-common)
command -v qemu-img >/dev/null || need+=(qemu-utils)
ldconfig -p | grep -q libfuse.so.2 || need+=(libfuse2 fuse)
command -v gnuplot >/dev/null || need+=(gnuplot-nox)
if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
"$root/thinfs" --help >/dev/null            # builds the jar when needed
jar="$root/fs/target/thinfs.jar"

rm -rf "$work"; mkdir -p "$work"
pids=(); mounts=(); loops=()
cleanup() {
    set +e
    for m in "${mounts[@]}"; do umount "$m" 2>/dev/null || fusermount -u -z "$m" 2>/dev/null; done
    for l in "${loops[@]}"; do losetup -d "$l" 2>/dev/null; done
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
}
trap cleanup EXIT

wait_mount() { for _ in $(seq 100); do grep -q " $1 " /proc/mounts && return 0; sleep 0.1; done; echo "no mount at $1" >&2; exit 1; }

bytes=$(numfmt --from=iec "$size")
fresh_size=$(( bytes * 32 ))
# The fresh volume is recreated before every job and is large enough that a job never wraps onto blocks it already
# provisioned: every write there provisions. Room for that is sparse and given back (hole punched) after each job.

# --- ceiling: passthrough of one file; ceiling-fresh: the same over a file whose blocks are all holes before
# each job, so the host file system allocates on every write as it does under a fresh thinfs volume.
passthrough() {  # backing file, mount point
    java --add-opens java.base/java.nio=ALL-UNNAMED -cp "$jar" org.thinfs.fs.bench.PassthroughFuse "$1" "$2" \
        >>"$work/pt.log" 2>&1 & pids+=($!)
    wait_mount "$2"; mounts+=("$2")
}
mkdir -p "$work/pt" "$work/ptf"; truncate -s "$size" "$work/pt.img"; truncate -s "$fresh_size" "$work/ptf.img"
passthrough "$work/pt.img" "$work/pt"
passthrough "$work/ptf.img" "$work/ptf"

# --- qcow2 through qemu-storage-daemon (fresh image, and an external snapshot overlay)
qemu-img create -q -f qcow2 "$work/base.qcow2" "$size"
touch "$work/qcow2.disk"
qemu-storage-daemon --blockdev driver=file,node-name=f,filename="$work/base.qcow2" \
    --blockdev driver=qcow2,node-name=q,file=f --export type=fuse,id=e,node-name=q,mountpoint="$work/qcow2.disk",writable=on \
    >"$work/qsd.log" 2>&1 & pids+=($!); qsd_pid=$!
wait_mount "$work/qcow2.disk"; mounts+=("$work/qcow2.disk")
# qcow2-fresh: a new image (32 times the size, as the fresh thinfs volume) and a new daemon before every job, so
# every write allocates a cluster, as every write to the fresh thinfs volume provisions a block.
touch "$work/qcow2f.disk"; qsdf_pid=""
new_fresh_qcow2() {
    if [ -n "$qsdf_pid" ]; then
        fusermount -u "$work/qcow2f.disk"; kill "$qsdf_pid" 2>/dev/null; wait "$qsdf_pid" 2>/dev/null || true
    fi
    rm -f "$work/fresh.qcow2"; qemu-img create -q -f qcow2 "$work/fresh.qcow2" "$fresh_size"
    qemu-storage-daemon --blockdev driver=file,node-name=f,filename="$work/fresh.qcow2" \
        --blockdev driver=qcow2,node-name=q,file=f \
        --export type=fuse,id=e,node-name=q,mountpoint="$work/qcow2f.disk",writable=on \
        >>"$work/qsd.log" 2>&1 & pids+=($!); qsdf_pid=$!
    wait_mount "$work/qcow2f.disk"
}

# --- thinfs
"$root/thinfs" create "$work/pool" --size "$(( bytes * 6 + runtime * (3 << 30) ))" >/dev/null
mkdir -p "$work/mnt"
"$root/thinfs" mount "$work/pool" "$work/mnt"; mounts+=("$work/mnt")
truncate -s "$size" "$work/mnt/full"
dd if=/dev/zero of="$work/mnt/full" bs=1M count="$(( $(numfmt --from=iec "$size") >> 20 ))" conv=notrunc,fsync status=none
truncate -s "$(( bytes * 2 ))" "$work/mnt/ext4vol"     # room for ext4's own metadata
loop=$(losetup --find --show "$work/mnt/ext4vol"); loops+=("$loop")
mkfs.ext4 -q -E lazy_itable_init=0,lazy_journal_init=0 "$loop"; mkdir -p "$work/ext4"; mount "$loop" "$work/ext4"
mounts=("$work/ext4" "${mounts[@]}")

declare -A result
ratio() { awk -v a="$1" -v c="$2" 'BEGIN { if (c > 0) printf "%.2f", a / c; else printf "-" }'; }
run_job() {  # target file, job name, rw, bs, numjobs[, bytes to spread the jobs over]
    local file=$1 name=$2 rw=$3 bs=$4 jobs=$5 span=${6:-$bytes} out
    # With several jobs each gets its own slice of the file, as several writers of a disk image would.
    out=$(fio --name="$name" --filename="$file" --rw="$rw" --bs="$bs" --size="$(( span / jobs ))" \
        --offset_increment="$(( span / jobs ))" --numjobs="$jobs" \
        --time_based --runtime="$runtime" --ioengine=psync --end_fsync=1 --group_reporting --output-format=json)
    python3 -c 'import json,sys; j=json.load(sys.stdin)["jobs"][0]; s=j["write"] if j["write"]["io_bytes"] else j["read"]; print("%.1f %.0f" % (s["bw_bytes"]/1048576, s["iops"]))' <<<"$out"
}
new_fresh_ceiling() {
    fallocate -p -o 0 -l "$fresh_size" "$work/ptf.img"
}
new_fresh_volume() {
    rm -f "$work/mnt/fresh"
    truncate -s "$fresh_size" "$work/mnt/fresh"
}

all_jobs=("seqwrite write 1M 1" "seqread read 1M 1" "randwrite randwrite 4k 1" "randread randread 4k 1"
      "seqwrite4 write 1M 4" "seqread4 read 1M 4" "randwrite4 randwrite 4k 4" "randread4 randread 4k 4")
jobs=()
for j in "${all_jobs[@]}"; do
    name=${j%% *}
    if [ -z "$only" ] || [[ ",$only," == *",$name,"* ]]; then jobs+=("$j"); fi
done
[ ${#jobs[@]} -gt 0 ] || { echo "--only $only names no job" >&2; exit 2; }
targets=(ceiling ceiling-fresh qcow2 qcow2-fresh thinfs-fresh thinfs-full thinfs-ext4)
for round in $(seq "$rounds"); do
    for j in "${jobs[@]}"; do
        set -- $j
        for target in "${targets[@]}"; do
            span=$bytes
            case $target in
                ceiling) f="$work/pt/disk" ;;
                ceiling-fresh) f="$work/ptf/disk"; span=$fresh_size; new_fresh_ceiling ;;
                qcow2) f="$work/qcow2.disk" ;;
                qcow2-fresh) f="$work/qcow2f.disk"; span=$fresh_size; new_fresh_qcow2 ;;
                thinfs-fresh) f="$work/mnt/fresh"; span=$fresh_size; new_fresh_volume ;;
                thinfs-full) f="$work/mnt/full" ;;
                thinfs-ext4) f="$work/ext4/fio.dat" ;;
            esac
            sync    # the previous job's writeback (GiBs after a fresh target) must not run into this one
            # Every job starts from the same empty page cache: a cache left full of the previous target's pages
            # made the next target's writes copy into the page cache up to 10x slower (perf: kernel memcpy in
            # copy_folio_from_iter_atomic), which decided rows more than either file system did.
            echo 3 > /proc/sys/vm/drop_caches
            r=$(run_job "$f" "$1" "$2" "$3" "$4" "$span")
            result[$target/$1]="${result[$target/$1]:-} $r"
        done
    done
done

# First writes after a snapshot (copy-on-write) against qcow2's first writes after an external snapshot.
start=$(date +%s%N); mkdir "$work/mnt/snapshots/x"; snap_ms=$(( ($(date +%s%N) - start) / 1000000 ))
sync; echo 3 > /proc/sys/vm/drop_caches
cow=$(run_job "$work/mnt/full" cow randwrite 4k 1)
fusermount -u "$work/qcow2.disk"; kill "$qsd_pid" 2>/dev/null; wait "$qsd_pid" 2>/dev/null || true
qemu-img create -q -f qcow2 -b "$work/base.qcow2" -F qcow2 "$work/overlay.qcow2"
qemu-storage-daemon --blockdev driver=file,node-name=f,filename="$work/overlay.qcow2" \
    --blockdev driver=qcow2,node-name=q,file=f --export type=fuse,id=e,node-name=q,mountpoint="$work/qcow2.disk",writable=on \
    >>"$work/qsd.log" 2>&1 & pids+=($!)
wait_mount "$work/qcow2.disk"
sync; echo 3 > /proc/sys/vm/drop_caches
qcow=$(run_job "$work/qcow2.disk" cow randwrite 4k 1)
rss=$(awk '/VmRSS/ {print $2}' "/proc/$(cat "$work/pool/thinfs.pid")/status")
tsv="$work/fio-compare.tsv"
printf 'job\ttarget\tMiB/s\tIOPS\tvs-ceiling\tvs-qcow2\n' >"$tsv"
printf '\n%-12s %-14s %10s %10s %10s %10s\n' job target MiB/s IOPS vs-ceiling vs-qcow2
for j in "${jobs[@]}"; do
    set -- $j
    avg() { echo "$1" | awk '{b=0;i=0;n=0; for(k=1;k<=NF;k+=2){b+=$k;i+=$(k+1);n++} printf "%.1f %.0f", b/n, i/n}'; }
    read -r cb ci <<<"$(avg "${result[ceiling/$1]}")"
    read -r fb fiops <<<"$(avg "${result[ceiling-fresh/$1]}")"
    read -r qb qi <<<"$(avg "${result[qcow2/$1]}")"
    read -r qfb qfi <<<"$(avg "${result[qcow2-fresh/$1]}")"
    for target in "${targets[@]}"; do
        read -r b i <<<"$(avg "${result[$target/$1]}")"
        base=$cb; qbase=$qb
        # fresh against fresh: both make the host allocate on every write
        case $target in *-fresh) base=$fb; qbase=$qfb ;; esac
        printf '%-12s %-14s %10s %10s %10s %10s\n' "$1" "$target" "$b" "$i" \
            "$(ratio "$b" "$base")" "$(ratio "$b" "$qbase")"
        printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$target" "$b" "$i" "$(ratio "$b" "$base")" \
            "$(ratio "$b" "$qbase")" >>"$tsv"
    done
done
read -r tb ti <<<"$cow"; read -r qb qi <<<"$qcow"
printf '%-12s %-14s %10s %10s %10s %10s\n' cow4k thinfs-cow "$tb" "$ti" - "$(ratio "$tb" "$qb")"
printf '%-12s %-14s %10s %10s\n' cow4k qcow2-snap "$qb" "$qi"
echo
echo "mkdir snapshots/x: ${snap_ms} ms (volumes: $(ls "$work/mnt" | grep -vc -e snapshots -e lost+found))"
echo "thinfs daemon resident memory: $(( rss / 1024 )) MiB"
"$root/bench/chart.sh" "$tsv" "${chart:-$work/fio-compare.png}" \
    "thinfs vs ceiling and qcow2 (fio, $size, ${runtime}s x $rounds; fresh rows against fresh baselines)"
echo "table: $tsv; chart: ${chart:-$work/fio-compare.png}"
