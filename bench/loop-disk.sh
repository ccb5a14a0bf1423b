#!/usr/bin/env bash
# A disk image loop-mounted and formatted ext4 (issue 30, "Speed"): the same 8 GiB image backed three ways in one
# run, a sparse raw file on the host file system (no FUSE: the baseline), a thinfs volume (a file on a thinfs
# mount), and a qcow2 image through qemu-storage-daemon's FUSE export. For each, on a fresh image every round:
#   mkfs      mkfs.ext4 -q -E lazy_itable_init=0,lazy_journal_init=0 on the loop device
#   untar     mount, untar a tree of files taken from /usr/share and /usr/lib (made once, cached), sync
#   read      drop_caches, then read the whole tree back (tar cf - . | cat > /dev/null)
#   rm+trim   rm -rf the tree, then fstrim the mount point
# Prints the median seconds of each step (over --rounds) and the ratios qcow2/thinfs and raw/thinfs (above 1 =
# thinfs faster), the space each image maps after mkfs, and writes the same as markdown to --out, and a chart of
# the ratios to --chart when gnuplot is there. The order of the backings rotates round by round.
#
#   bench/loop-disk.sh [--rounds 2] [--mkfs-rounds N] [--fuse-floor] [--size 8G] [--work DIR] [--out FILE.md]
#                      [--chart FILE.png] [--tiny]
#
# --mkfs-rounds N: mkfs alone is timed N times per backing (the --rounds above, then more rounds of mkfs only, each
# on a fresh image, the order rotating as above): a step of 20-40 ms is decided by the machine's noise at 2-5
# samples, so its median is taken over more. Default: --rounds.
# --fuse-floor: a fourth backing, qemu-raw: the raw file through qemu-storage-daemon's FUSE export, a FUSE server in
# C that passes every request to the file and does nothing else. What it costs above the raw file is the FUSE
# transport itself, the floor under any FUSE server; the table gains its column and qemu-raw/thinfs.
#
# On a VM that gives free memory back to its host, bench/steady-memory.sh pauses that for the run (see there).
# --tiny: a 1 GiB image, a tree of 20 MB, one round: only proves the harness runs.
# Needs root, losetup, e2fsprogs, qemu-utils and qemu-system-common (installed when missing).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rounds=2; mkfs_rounds=""; floor=0; tiny=0; size=8G; work=/var/tmp/thinfs-loopdisk; out=""; chart=""; tree_mb=320
stamp=$(date +%Y%m%d-%H%M%S); cmdline="bench/loop-disk.sh${*:+ $*}"
while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) rounds=$2; shift 2 ;;
        --mkfs-rounds) mkfs_rounds=$2; shift 2 ;;
        --fuse-floor) floor=1; shift ;;
        --size) size=$2; shift 2 ;;
        --work) work=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        --chart) chart=$2; shift 2 ;;
        --tiny) size=1G; tree_mb=20; rounds=1; tiny=1; shift ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done
mkfs_rounds=${mkfs_rounds:-$rounds}
[ "$mkfs_rounds" -ge "$rounds" ] || { echo "loop-disk.sh: --mkfs-rounds must be at least --rounds ($rounds)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "loop-disk.sh: needs root (losetup, mount, drop_caches)" >&2; exit 1; }
out=${out:-$root/bench/results/loop-disk-$stamp.md}
pool_size=$(( $(numfmt --from=iec "$size") * 3 / 2 ))     # 12G for the 8G image: room for ext4 and the tree
chart=${chart:-${out%.md}.png}

need=()
command -v qemu-storage-daemon >/dev/null || need+=(qemu-system-common)
command -v qemu-img >/dev/null || need+=(qemu-utils)
command -v mkfs.ext4 >/dev/null || need+=(e2fsprogs)
ldconfig -p | grep -q libfuse.so.2 || need+=(libfuse2 fuse)
if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
"$root/thinfs" --help >/dev/null            # builds the jar when needed

# The tree: every third regular file under 2 MiB of /usr/share and /usr/lib in path order, up to $tree_mb MB
# (about 19k files on a Debian 12 VM). Made once and kept beside the work directory.
tarball="${work%/}-tree-${tree_mb}M.tar"
if [ ! -s "$tarball" ]; then
    echo "making the tree $tarball ..." >&2
    find /usr/share /usr/lib -xdev -type f -readable -size -2M -printf '%s %p\n' 2>/dev/null | LC_ALL=C sort -k2 |
        awk -v cap=$(( tree_mb * 1000000 )) 'NR % 3 == 0 && b < cap { b += $1; print substr($0, index($0, " ") + 1) }' \
        >"$tarball.list"
    tar cf "$tarball.tmp" --no-recursion -T "$tarball.list" 2>/dev/null || true
    mv "$tarball.tmp" "$tarball"; rm -f "$tarball.list"
fi
tree_files=$(tar tvf "$tarball" | grep -c "^-")
tree_bytes=$(tar tvf "$tarball" | awk '{b += $3} END {print b}')

source "$root/bench/loop-backings.sh"
source "$root/bench/steady-memory.sh"
cleanup() {
    set +e
    steady_memory_restore
    teardown_backings
    # Only remove the work directory when nothing is mounted under it any more.
    grep -q " ${work%/}/" /proc/mounts || rm -rf "$work"
}
trap cleanup EXIT
[ "$tiny" = 1 ] || steady_memory     # not for --tiny, the harness's smoke run
rm -rf "$work"; mkdir -p "$work"

now() { date +%s.%N; }
secs() { awk -v s="$1" -v e="$2" 'BEGIN { printf "%.3f", e - s }'; }
# Before each timed step: the page cache dropped, then (steady-memory.sh) the memory it freed touched once, so the
# step's new page cache is memory the host backs, whichever backing comes after which.
cold() { sync; echo 3 > /proc/sys/vm/drop_caches; steady_memory_refresh; }

# KiB the backing holds on the host after mkfs: the raw file's blocks, the pool's used data blocks, the qcow2 file.
mapped_kib() {
    local d="$work/$1"
    case $1 in
        raw|qemu-raw) du -k "$d/disk.img" | cut -f1 ;;
        thinfs) "$root/thinfs" status "$d/pool" --json |
            python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["dataBlocksUsed"] * j["dataBlockSize"] // 1024)' ;;
        qcow2) du -k "$d/disk.qcow2" | cut -f1 ;;
    esac
}

declare -A t mapped
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
steps=(mkfs untar read rmtrim)
backings=(raw thinfs qcow2)
[ "$floor" = 1 ] && backings+=(qemu-raw)
for round in $(seq "$mkfs_rounds"); do
    rotate_backings backings "$round"       # raw thinfs qcow2, thinfs qcow2 raw, qcow2 raw thinfs, ...
    for b in "${order[@]}"; do
        echo "round $round: $b" >&2
        backing_file "$b" "$size" "$pool_size"
        loop=$(losetup --find --show --direct-io=off "$file"); loops+=("$loop")
        mnt="$work/$b/ext4"; mkdir -p "$mnt"
        cold
        s=$(now); mkfs.ext4 -q -E lazy_itable_init=0,lazy_journal_init=0 "$loop"; e=$(now)
        t[$b/mkfs]="${t[$b/mkfs]:-} $(secs "$s" "$e")"
        if [ "$round" -gt "$rounds" ]; then     # a round of mkfs alone (--mkfs-rounds)
            teardown_backings; rm -rf "${work:?}/$b"; continue
        fi
        sync; mapped[$b]="${mapped[$b]:-} $(mapped_kib "$b")"
        mount "$loop" "$mnt"; mounts=("$mnt" "${mounts[@]}"); mkdir "$mnt/tree"
        cold
        s=$(now); tar xf "$tarball" -C "$mnt/tree"; sync; e=$(now)
        t[$b/untar]="${t[$b/untar]:-} $(secs "$s" "$e")"
        cold
        # through cat: GNU tar writing straight to /dev/null skips reading the files
        s=$(now); (cd "$mnt/tree" && tar cf - . | cat >/dev/null); e=$(now)
        t[$b/read]="${t[$b/read]:-} $(secs "$s" "$e")"
        cold
        s=$(now); rm -rf "$mnt/tree"; fstrim "$mnt"; e=$(now)
        t[$b/rmtrim]="${t[$b/rmtrim]:-} $(secs "$s" "$e")"
        teardown_backings
        rm -rf "${work:?}/$b"
    done
done

load_end=$(cut -d' ' -f1-3 /proc/loadavg)
median() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{v[NR] = $1} END {
    if (NR % 2) printf "%.3f", v[(NR + 1) / 2]; else printf "%.3f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v c="$2" 'BEGIN { if (c > 0) printf "%.2f", a / c; else printf "-" }'; }
declare -A label=(
    [mkfs]="\`mkfs.ext4 -E lazy_itable_init=0,lazy_journal_init=0\`"
    [untar]="untar $tree_files files ($(( tree_bytes / 1000000 )) MB) + sync"
    [read]="cold read of the tree (drop_caches, \`tar cf -\` into \`cat\`)"
    [rmtrim]="\`rm -rf\` + \`fstrim\`")
mkdir -p "$(dirname "$out")"
tsv="${out%.md}.tsv"
{
    echo "# Loop-mounted disk: raw file, thinfs, qcow2$([ "$floor" = 1 ] && echo ", qemu-raw") ($(date -u +%Y-%m-%dT%H:%MZ))"
    echo
    echo "\`$cmdline\` at $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?'): ext4 on a $size loop device" \
        "(\`losetup --direct-io=off\`), medians of $rounds round(s)$([ "$mkfs_rounds" != "$rounds" ] && echo " ($mkfs_rounds for mkfs)")," \
        "each on a fresh image; seconds; ratio = the other's time / thinfs's time, above 1 = thinfs faster."
    [ "$floor" = 1 ] && echo "qemu-raw: the raw file through qemu-storage-daemon's FUSE export (a FUSE server in C that only" \
        "passes requests on): the FUSE transport's own cost."
    echo
    if [ "$floor" = 1 ]; then
        echo "| step | raw | thinfs | qcow2 | qcow2/thinfs | raw/thinfs | qemu-raw | qemu-raw/thinfs |"
        echo "|---|---|---|---|---|---|---|---|"
    else
        echo "| step | raw | thinfs | qcow2 | qcow2/thinfs | raw/thinfs |"
        echo "|---|---|---|---|---|---|"
    fi
    for st in "${steps[@]}"; do
        r=$(median "${t[raw/$st]}"); th=$(median "${t[thinfs/$st]}"); q=$(median "${t[qcow2/$st]}")
        more=""
        if [ "$floor" = 1 ]; then qr=$(median "${t[qemu-raw/$st]}"); more=" $qr | $(ratio "$qr" "$th") |"; fi
        echo "| ${label[$st]} | $r | $th | $q | $(ratio "$q" "$th") | $(ratio "$r" "$th") |$more"
        printf '%s\t%s\t%s\t%s\t%s\t%s%s\n' "$st" "$r" "$th" "$q" "$(ratio "$q" "$th")" "$(ratio "$r" "$th")" \
            "$([ "$floor" = 1 ] && printf '\t%s\t%s' "$qr" "$(ratio "$qr" "$th")")" >>"$tsv.tmp"
    done
    echo
    echo "Space held on the host after mkfs (MiB, median): raw file $(( $(median "${mapped[raw]}" | cut -d. -f1) / 1024 )), thinfs" \
        "provisioned $(( $(median "${mapped[thinfs]}" | cut -d. -f1) / 1024 )), qcow2 file $(( $(median "${mapped[qcow2]}" | cut -d. -f1) / 1024 ))."
    echo "Every round's seconds (raw / thinfs / qcow2$([ "$floor" = 1 ] && echo " / qemu-raw")):"
    for st in "${steps[@]}"; do
        echo "- $st:${t[raw/$st]} /${t[thinfs/$st]} /${t[qcow2/$st]}$([ "$floor" = 1 ] && echo " /${t[qemu-raw/$st]}")"
    done
    echo
    echo "Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), kernel $(uname -r)," \
        "work dir on $(df --output=source "$work" | tail -1) ($(df --output=fstype "$work" | tail -1 | tr -d ' '))," \
        "$(qemu-storage-daemon --version | head -1), $(mkfs.ext4 -V 2>&1 | head -1), $(java -version 2>&1 | head -1); load average (1, 5, 15 min) $load_start at the start, $load_end at the end" \
        "(2 cores: anything above 0.5 means something else was running)."
} | tee "$out"
mv "$tsv.tmp" "$tsv"

if command -v gnuplot >/dev/null; then
    ymax=$(awk -F'\t' '{ for (i = 5; i <= NF; i += (i == 6 ? 2 : 1)) if ($i + 0 > m) m = $i + 0 } END { printf "%.2f", m < 1.15 ? 1.3 : m * 1.15 }' "$tsv")
    samples="$rounds$([ "$mkfs_rounds" != "$rounds" ] && echo " (mkfs $mkfs_rounds)")"
    if [ "$floor" = 1 ]; then
        # three bars a step: qcow2, the raw file and qemu-raw (the FUSE floor), each over thinfs
        bars="plot \"$tsv\" using 5:xtic(1) title \"qcow2 / thinfs\" lc rgb \"#d08a2c\", \"\" using 6 title \"raw file / thinfs\" lc rgb \"#3b6ea8\", \"\" using 8 title \"qemu-raw (FUSE floor) / thinfs\" lc rgb \"#7a9a4a\", \"\" using (\$0 - 0.27):5:5 with labels offset 0,0.7 notitle, \"\" using (\$0):6:6 with labels offset 0,0.7 notitle, \"\" using (\$0 + 0.27):8:8 with labels offset 0,0.7 notitle"
    else
        bars="plot \"$tsv\" using 5:xtic(1) title \"qcow2 / thinfs\" lc rgb \"#d08a2c\", \"\" using 6 title \"raw file / thinfs\" lc rgb \"#3b6ea8\", \"\" using (\$0 - 1.0/6):5:5 with labels offset 0,0.7 notitle, \"\" using (\$0 + 1.0/6):6:6 with labels offset 0,0.7 notitle"
    fi
    gnuplot <<GP
set terminal pngcairo size 780,460 font "sans,10"
set output "$chart"
set title "ext4 on a $size loop device, medians of $samples: thinfs against qcow2 (FUSE export) and a raw file (no FUSE)" noenhanced
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set ylabel "other's time / thinfs's time (above 1 = thinfs faster)"
set yrange [0:$ymax]
set grid ytics
set key outside bottom center horizontal
set arrow from graph 0, first 1 to graph 1, first 1 nohead lw 2 dt 2 lc rgb "#444444"
set arrow from graph 0, first 0.8 to graph 1, first 0.8 nohead lw 1 dt 3 lc rgb "#3b6ea8"
$bars
GP
    echo "results: $out; chart: $chart" >&2
else
    echo "results: $out (no gnuplot: no chart)" >&2
fi
