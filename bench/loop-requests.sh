#!/usr/bin/env bash
# The two kinds of request a loop device sends its backing file during mkfs.ext4, timed one by one (issue 30):
#   zeroout   BLKZEROOUT of 2 MiB on the loop device over space never written (mkfs's inode tables: the loop
#             driver makes it fallocate(ZERO_RANGE) on the file, through FUSE one FUSE_FALLOCATE)
#   write512  a 512 KiB O_DIRECT write to the loop device into space never written (the size of mkfs's largest
#             writes; through FUSE one FUSE_WRITE), each at a new place (up to 2730 of them; more wrap around)
# Backings, a fresh 8 GiB image each round: a sparse raw file on the host (no FUSE), a thinfs volume, the same kind
# of raw file through qemu-storage-daemon's FUSE export (qemu-raw: the same requests answered by a FUSE server in C
# with nothing behind it but the file, so the FUSE transport's own cost), and qcow2 through that export. Prints the
# median latency per request (us, the median over rounds of each round's median) and the ratios other/thinfs (above
# 1 = thinfs faster); writes the same as markdown to --out.
#
#   bench/loop-requests.sh [--count 2000] [--rounds 3] [--work DIR] [--out FILE.md] [--tiny]
#
# --tiny: 50 requests of each kind, one round: only proves the harness runs.
# Needs root, losetup, python3, qemu-utils and qemu-system-common (installed when missing).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
count=2000; rounds=3; work=/var/tmp/thinfs-looprequests; out=""; tiny=0
stamp=$(date +%Y%m%d-%H%M%S); cmdline="bench/loop-requests.sh${*:+ $*}"
while [ $# -gt 0 ]; do
    case "$1" in
        --count) count=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        --work) work=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        --tiny) count=50; rounds=1; tiny=1; shift ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done
[ "$(id -u)" = 0 ] || { echo "loop-requests.sh: needs root (losetup)" >&2; exit 1; }
out=${out:-$root/bench/results/loop-requests-$stamp.md}
need=()
command -v qemu-storage-daemon >/dev/null || need+=(qemu-system-common)
command -v qemu-img >/dev/null || need+=(qemu-utils)
command -v python3 >/dev/null || need+=(python3)
ldconfig -p | grep -q libfuse.so.2 || need+=(libfuse2 fuse)
if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
"$root/thinfs" --help >/dev/null            # builds the jar when needed

# Times $3 requests of kind $2 on the loop device $1; prints the median in microseconds.
timer() {
    python3 - "$@" <<'EOF'
import fcntl, mmap, os, struct, sys, time
dev, kind, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
BLKZEROOUT = 0x127f                             # _IO(0x12, 127)
half = 4 << 30                                  # zeroouts in the first half of the device, writes in the second
if kind == "zeroout":
    fd, step = os.open(dev, os.O_RDWR), 2 << 20
    def one(i):
        fcntl.ioctl(fd, BLKZEROOUT, struct.pack("QQ", (i * step) % half, step))
else:
    fd, size = os.open(dev, os.O_RDWR | os.O_DIRECT), 512 << 10
    buf = mmap.mmap(-1, size)                   # page-aligned, as O_DIRECT wants
    buf.write(os.urandom(size))
    def one(i):                                 # every third 512 KiB: never a block written before
        os.pwritev(fd, [buf], half + (i * 3 * size) % half)
times = []
for i in range(n):
    t0 = time.perf_counter_ns()
    one(i)
    times.append(time.perf_counter_ns() - t0)
os.fsync(fd)
times.sort()
print("%.1f" % (times[n // 2] / 1000))
EOF
}

source "$root/bench/loop-backings.sh"
source "$root/bench/steady-memory.sh"
cleanup() { set +e; steady_memory_restore; teardown_backings; grep -q " ${work%/}/" /proc/mounts || rm -rf "$work"; }
trap cleanup EXIT
[ "$tiny" = 1 ] || steady_memory
rm -rf "$work"; mkdir -p "$work"

declare -A t
kinds=(zeroout write512)
backings=(raw thinfs qemu-raw qcow2)
for round in $(seq "$rounds"); do
    rotate_backings backings "$round"
    for b in "${order[@]}"; do
        echo "round $round: $b" >&2
        backing_file "$b" 8G 12G
        loop=$(losetup --find --show --direct-io=off "$file"); loops+=("$loop")
        udevadm settle 2>/dev/null || sleep 1  # the new device's probe reads are over before the timing
        for k in "${kinds[@]}"; do
            steady_memory_refresh 1
            t[$b/$k]="${t[$b/$k]:-} $(timer "$loop" "$k" "$count")"
        done
        teardown_backings
        rm -rf "${work:?}/$b"
    done
done

median() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{v[NR] = $1} END {
    if (NR % 2) printf "%.1f", v[(NR + 1) / 2]; else printf "%.1f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v c="$2" 'BEGIN { if (c > 0) printf "%.2f", a / c; else printf "-" }'; }
declare -A label=([zeroout]="BLKZEROOUT 2 MiB (FUSE_FALLOCATE)" [write512]="512 KiB O_DIRECT write, new space (FUSE_WRITE)")
mkdir -p "$(dirname "$out")"
{
    echo "# A loop device's requests one by one: raw file, thinfs, qemu-raw, qcow2 ($(date -u +%Y-%m-%dT%H:%MZ))"
    echo
    echo "\`$cmdline\` at $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?'): $count requests of each kind" \
        "per round on a fresh 8 GiB image (\`losetup --direct-io=off\`), $rounds round(s); median microseconds per request;" \
        "ratio = the other's time / thinfs's time, above 1 = thinfs faster."
    echo
    echo "| request | raw | thinfs | qemu-raw | qcow2 | raw/thinfs | qemu-raw/thinfs | qcow2/thinfs |"
    echo "|---|---|---|---|---|---|---|---|"
    for k in "${kinds[@]}"; do
        r=$(median "${t[raw/$k]}"); th=$(median "${t[thinfs/$k]}"); qr=$(median "${t[qemu-raw/$k]}"); q=$(median "${t[qcow2/$k]}")
        echo "| ${label[$k]} | $r | $th | $qr | $q | $(ratio "$r" "$th") | $(ratio "$qr" "$th") | $(ratio "$q" "$th") |"
    done
    echo
    echo "Every round's median (raw / thinfs / qemu-raw / qcow2):"
    for k in "${kinds[@]}"; do echo "- $k:${t[raw/$k]} /${t[thinfs/$k]} /${t[qemu-raw/$k]} /${t[qcow2/$k]}"; done
    echo
    echo "Machine: $(nproc) cores, kernel $(uname -r), work dir on $(df --output=source "$work" | tail -1)" \
        "($(df --output=fstype "$work" | tail -1 | tr -d ' ')), $(qemu-storage-daemon --version | head -1); load average" \
        "$(cut -d' ' -f1-3 /proc/loadavg) at the end."
} | tee "$out"
