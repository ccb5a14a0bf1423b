#!/usr/bin/env bash
# The same benchmarks on two versions of the code, in one run, in alternation (base, this, base, this...), so the
# machine's drift cancels: JMH benchmarks of the engine (mapping lookups and inserts, snapshot creation, commits)
# and fio through a FUSE mount (sequential 1 MiB writes to a fresh volume, random 4 KiB writes and reads). The
# order flips every round (base, this, this, base, ...); use an even number of rounds. Each fio job starts after
# sync and an emptied page cache. Needs root.
# Prints each figure for both and the ratio this/base (above 1 is faster for throughput, slower for times).
#
#   bench/code-compare.sh --base REV [--rounds 2] [--size 1G] [--runtime 10] [--work DIR] [--no-fio] [--no-jmh]
#                         [--only seqwrite,randwrite,randread]
#
# REV is any git revision; it is built in a temporary worktree. "This" is the working tree as it stands.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
base=""; rounds=2; size=1G; runtime=10; work=/tmp/thinfs-code-compare; fio=1; jmh=1; only=""
while [ $# -gt 0 ]; do
    case "$1" in
        --base) base=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        --size) size=$2; shift 2 ;;
        --runtime) runtime=$2; shift 2 ;;
        --work) work=$2; shift 2 ;;
        --no-fio) fio=0; shift ;;
        --no-jmh) jmh=0; shift ;;
        --only) only=",$2,"; shift 2 ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done
[ -n "$base" ] || { echo "usage: bench/code-compare.sh --base REV [options]" >&2; exit 2; }
command -v fio >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fio >/dev/null; }

rm -rf "$work"; mkdir -p "$work"
tree="$work/base-src"
git -C "$root" worktree add -f -q --detach "$tree" "$base"
mounts=()
cleanup() {
    set +e
    for m in "${mounts[@]}"; do fusermount -u "$m" 2>/dev/null; done
    git -C "$root" worktree remove -f "$tree" 2>/dev/null
}
trap cleanup EXIT
echo "building $base and the working tree" >&2
(cd "$tree" && mvn -B -q -ntp package -DskipTests) >"$work/build-base.log" 2>&1
(cd "$root" && mvn -B -q -ntp package -DskipTests) >"$work/build-this.log" 2>&1
declare -A dir=([base]="$tree" [this]="$root")
results="$work/results.tsv"; : >"$results"

run_jmh() {  # version
    java -jar "${dir[$1]}/bench/target/benchmarks.jar" 'MappingBenchmark|SnapshotBenchmark|CommitBenchmark' \
        -p mappings=1000000 -p mappedBlocks=1000,1000000 -wi 1 -w 2 -i 3 -r 2 -f 1 -rf csv \
        -rff "$work/jmh-$1.csv" >"$work/jmh-$1.log" 2>&1
    # "Benchmark","Mode","Threads","Samples","Score","Score Error (99.9%)","Unit","Param: ..."
    tail -n +2 "$work/jmh-$1.csv" | tr -d '\r' | while IFS=, read -r name mode _ _ score _ unit p1 p2 p3; do
        params=$(echo "$p1$p2$p3" | tr -d '"')
        echo -e "$1\tjmh ${name//\"/} ${params}\t${score}\t${unit//\"/}" >>"$results"
    done
}

run_fio() {  # version
    local jar="${dir[$1]}/fs/target/thinfs.jar" pool="$work/pool-$1" mnt="$work/mnt-$1"
    rm -rf "$pool"; mkdir -p "$mnt"
    java -jar "$jar" create "$pool" --size 8G >/dev/null
    java -jar "$jar" mount "$pool" "$mnt" >/dev/null; mounts+=("$mnt")
    truncate -s 4G "$mnt/vol"
    for job in "seqwrite write 1M" "randwrite randwrite 4k" "randread randread 4k"; do
        set -- $job
        [ -z "$only" ] || [[ "$only" == *",$1,"* ]] || continue
        local out="$work/fio-$1-$(basename "$pool").json"
        # Each job starts from clean caches: a page cache full of the previous target's pages slows the next
        # target's writes (seen in fio-compare.sh).
        sync; echo 3 >/proc/sys/vm/drop_caches
        fio --name="$1" --filename="$mnt/vol" --rw="$2" --bs="$3" --size="$size" --ioengine=psync --direct=1 \
            --time_based --runtime="$runtime" --end_fsync=1 --output-format=json >"$out"
        local key=write; [ "$2" = randread ] && key=read
        bw=$(python3 -c "import json,sys; j=json.load(open('$out'))['jobs'][0]['$key']; print(j['bw']/1024)")
        echo -e "${pool##*-}\tfio $1 $3\t${bw}\tMiB/s" >>"$results"
    done
    java -jar "$jar" umount "$pool" >/dev/null || fusermount -u "$mnt"
    rm -rf "$pool"
}

for round in $(seq "$rounds"); do
    # ABBA: the order flips every round, so a machine that slows (or speeds up) during the run favours neither.
    order="base this"; [ $((round % 2)) = 0 ] && order="this base"
    for v in $order; do
        echo "round $round: $v" >&2
        [ "$jmh" = 1 ] && run_jmh "$v"
        [ "$fio" = 1 ] && run_fio "$v"
    done
done

# Mean per figure and version, then this/base.
python3 - "$results" "$base" <<'PY'
import sys, collections
rows = collections.defaultdict(lambda: collections.defaultdict(list))
units = {}
for line in open(sys.argv[1]):
    v, what, score, unit = line.rstrip('\n').split('\t')
    rows[what][v].append(float(score)); units[what] = unit
print(f"{'benchmark':60} {'base ' + sys.argv[2][:10]:>18} {'this':>14} {'this/base':>10}")
for what in sorted(rows):
    b = sum(rows[what]['base']) / len(rows[what]['base']); t = sum(rows[what]['this']) / len(rows[what]['this'])
    print(f"{what:60} {b:14.2f} {units[what]:>3} {t:14.2f} {t / b:10.2f}")
PY
