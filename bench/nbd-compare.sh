#!/usr/bin/env bash
# NBD export against qemu-nbd serving a qcow2 and nbdkit serving a raw file, on the same disk, in one run:
# qemu-img bench (read and write, 4 KiB and 1 MiB, queue depth 1 and 16) and nbdcopy of SIZE in (also with the
# FLUSH that makes it durable) and out.
# Prints a TSV row per test with MiB/s per server and the ratios thinfs/qemu-nbd and thinfs/nbdkit.
#   bench/nbd-compare.sh [--dir DIR] [--size 2G] [--repeat 3] [--cold] [--tiny]
# Before the timed rows every server gets the same untimed requests (4 KiB and 1 MiB at queue depth 16; reads before
# nbdcopy in, writes after it, so nbdcopy in still fills fresh images),
# as benchmarks of long-running servers do: a JVM runs new code slowly until it is compiled, and the timed rows are
# meant to show the steady state. --cold skips it (what the first requests to a fresh server see). --tiny: 16M and a
# tenth of the requests, for a smoke test of the harness only.
# Every timed run starts after a `sync` (untimed), so no server pays for the write-back of another's dirty pages,
# and the order of the servers rotates row by row in the qemu-img bench rows. Each of those rows is run --repeat
# times per server (default 3, interleaved, the order rotating each time) and its median taken: a 1 MiB row lasts
# 0.2-0.4 s, and one write-back or commit in the window moved a single run by a third. The nbdcopy rows are
# repeated the same way, each copy in into a freshly discarded image.
# On a VM that gives free memory back to its host, bench/steady-memory.sh pauses that for the run (see there).
# Needs qemu-utils (qemu-img, qemu-nbd), libnbd-bin (nbdcopy) and nbdkit; builds thinfs if needed.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=/var/tmp/thinfs-nbd-bench
size=2G; warm=1; scale=1; repeat=3
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) dir=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --cold) warm=0; shift ;;
    --tiny) size=16M; scale=10; repeat=1; shift ;;
    --repeat) repeat=$2; shift 2 ;;
    *) echo "usage: $0 [--dir DIR] [--size SIZE] [--repeat N] [--cold] [--tiny]" >&2; exit 2 ;;
  esac
done
[ -f fs/target/thinfs.jar ] || mvn -B -q -ntp -DskipTests package
T="java -jar $PWD/fs/target/thinfs.jar"
bytes=$(numfmt --from=iec "$size")
source "$PWD/bench/steady-memory.sh"
rm -rf "$dir"; mkdir -p "$dir"; cd "$dir"

cleanup() {
  steady_memory_restore
  $T umount pool >/dev/null 2>&1 || true
  [ -n "${qpid:-}" ] && kill "$qpid" 2>/dev/null || true
  [ -n "${kpid:-}" ] && kill "$kpid" 2>/dev/null || true
}
trap cleanup EXIT
[ "$scale" = 1 ] && steady_memory     # not for --tiny, the harness's smoke run

# thinfs: a pool with one volume, served without FUSE
$T create pool --size $(( bytes * 2 / 1048576 ))M >/dev/null
mkdir mnt && $T mount pool mnt >/dev/null && truncate -s "$size" mnt/vm && $T umount mnt >/dev/null
$T serve pool --nbd "unix:$dir/thinfs.sock" >/dev/null
# qemu-nbd with a fresh qcow2, several clients allowed
qemu-img create -q -f qcow2 img.qcow2 "$size"
qemu-nbd -k "$dir/qemu.sock" -f qcow2 -x vm -t -e 16 --cache=writeback --aio=threads --discard=unmap img.qcow2 & qpid=$!
# nbdkit with a sparse raw file
truncate -s "$size" raw.img
nbdkit -f -U "$dir/nbdkit.sock" file file=raw.img & kpid=$!
sleep 2

uri() { echo "nbd+unix:///${2:-vm}?socket=$dir/$1.sock"; }
servers=(thinfs qemu nbdkit)

mibs() { # bytes seconds -> MiB/s
  awk -v b="$1" -v s="$2" 'BEGIN { printf "%.1f", b / 1048576 / s }'
}

printf 'test\tthinfs_MiBs\tqemu-nbd_qcow2_MiBs\tnbdkit_raw_MiBs\tthinfs/qemu-nbd\tthinfs/nbdkit\n'
row() { # name and three rates
  awk -v n="$1" -v a="$2" -v q="$3" -v k="$4" 'BEGIN { printf "%s\t%s\t%s\t%s\t%.2f\t%.2f\n", n, a, q, k, a / q, a / k }'
}

warm_up() { # "" for reads, -w for writes: the same untimed requests to every server
  [ "$warm" = 1 ] || return 0
  for s in "${servers[@]}"; do
    qemu-img bench -f raw $1 -s 4k -d 16 -c $(( 20000 / scale )) -S 4k "$(uri $s)" >/dev/null
    qemu-img bench -f raw $1 -s 1M -d 16 -c $(( 256 / scale )) -S 1M "$(uri $s)" >/dev/null
  done
}
# Reads first (they change nothing, so nbdcopy in still writes into fresh images); writes after nbdcopy in.
[ "$warm" = 1 ] && echo "warming every server up (untimed; --cold skips this)" >&2
warm_up ""

median() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{v[NR] = $1} END { print v[int((NR + 1) / 2)] }'; }
# nbdcopy in: random data, then out to /dev/null
head -c "$bytes" /dev/urandom > src.img
# and then one FLUSH (qemu-io), timed on its own: nbdcopy sends none by default, so the first row ends with the copy
# in the server's page cache; the second row is the copy made durable (a server that flushed while copying, as
# thinfs's periodic commit does, has less left to flush). --repeat times per server, the order rotating, medians
# taken (single copies of 1 GiB moved by half between runs on the VM of session 15); before each repeat after the
# first every image is discarded whole (untimed), so every copy fills unallocated space again: thinfs unmaps,
# qemu-nbd (--discard=unmap) frees the qcow2's clusters, nbdkit punches the raw file's holes.
declare -A in_secs=() inflush_secs=() out_secs=()
for rep in $(seq "$repeat"); do
  for k in 0 1 2; do
    s=${servers[$(( (k + rep) % 3 ))]}
    [ "$rep" = 1 ] || qemu-io -f raw -c "discard 0 $bytes" "$(uri $s)" >/dev/null
    sync; steady_memory_refresh; t0=$(date +%s.%N); nbdcopy src.img "$(uri $s)"; t1=$(date +%s.%N)
    qemu-io -f raw -c flush "$(uri $s)" >/dev/null; t2=$(date +%s.%N)
    in_secs[$s]="${in_secs[$s]:-} $(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')"
    inflush_secs[$s]="${inflush_secs[$s]:-} $(awk -v a="$t0" -v b="$t2" 'BEGIN { print b - a }')"
  done
done
for s in "${servers[@]}"; do
  declare "in_$s=$(mibs "$bytes" "$(median "${in_secs[$s]}")")"
  declare "inflush_$s=$(mibs "$bytes" "$(median "${inflush_secs[$s]}")")"
done
row "nbdcopy-in-$size" "$in_thinfs" "$in_qemu" "$in_nbdkit"
row "nbdcopy-in+flush-$size" "$inflush_thinfs" "$inflush_qemu" "$inflush_nbdkit"
warm_up -w
for rep in $(seq "$repeat"); do
  for k in 0 1 2; do
    s=${servers[$(( (k + rep) % 3 ))]}
    sync; t0=$(date +%s.%N); nbdcopy "$(uri $s)" null:; t1=$(date +%s.%N)
    out_secs[$s]="${out_secs[$s]:-} $(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')"
  done
done
for s in "${servers[@]}"; do
  declare "out_$s=$(mibs "$bytes" "$(median "${out_secs[$s]}")")"
done
row "nbdcopy-out-$size" "$out_thinfs" "$out_qemu" "$out_nbdkit"

row_no=0   # the servers' order rotates row by row, so no server always runs first (or right after a sync)
for rw in read write; do
  for bs in 4k 1M; do
    for depth in 1 16; do
      if [ "$bs" = 4k ]; then count=$(( 20000 / scale )); else count=$(( 1024 / scale )); fi
      declare -A secs=()
      row_no=$(( row_no + 1 ))
      for rep in $(seq "$repeat"); do
        for k in 0 1 2; do
          s=${servers[$(( (k + row_no + rep) % 3 ))]}
          w=(); [ "$rw" = write ] && w=(-w)
          sync     # every server starts its run with no dirty pages of another's run being written back
          [ "$rw" = write ] && steady_memory_refresh
          out=$(qemu-img bench -f raw "${w[@]}" -s "$bs" -d "$depth" -c "$count" -S "$bs" "$(uri $s)" 2>&1)
          secs[$s]="${secs[$s]:-} $(echo "$out" | sed -n 's/.*Run completed in \([0-9.]*\) seconds.*/\1/p')"
        done
      done
      declare -A rate=()
      for s in "${servers[@]}"; do
        rate[$s]=$(mibs "$(( count * $(numfmt --from=iec "${bs^^}") ))" "$(median "${secs[$s]}")")
      done
      row "$rw-$bs-qd$depth" "${rate[thinfs]}" "${rate[qemu]}" "${rate[nbdkit]}"
      unset rate secs
    done
  done
done
