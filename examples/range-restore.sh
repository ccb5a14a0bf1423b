#!/usr/bin/env bash
# Thin-aware copies on a mounted thinfs pool: copying, backing up and restoring cost what a volume holds.
#
#   examples/range-restore.sh MOUNTPOINT backup VOL DEST         copy VOL out of the pool, holes kept (SEEK_DATA/HOLE)
#   examples/range-restore.sh MOUNTPOINT restore SNAP VOL        restore VOL in place from snapshots/SNAP (shared blocks)
#   examples/range-restore.sh MOUNTPOINT range SNAP VOL OFF LEN  restore only bytes [OFF, OFF+LEN) of VOL from SNAP
#   examples/range-restore.sh MOUNTPOINT demo                    all of the above on a scratch volume
#
# cp finds the data with lseek(SEEK_DATA/SEEK_HOLE), which thinfs answers from the mapping tree, so a backup reads
# only what the volume holds. Inside the pool, copy_file_range(2) is block sharing: whole blocks aligned on both
# sides are remapped, not copied, and copy on write afterwards as after a snapshot. GNU cat calls it for any file;
# GNU cp (9.1) only for a file without holes (a file with holes it reads and writes itself), so restore uses cat and
# range calls copy_file_range directly. (`cp --reflink=always` fails: FICLONE is an ioctl FUSE does not pass on.)
set -euo pipefail
mnt=${1:?usage: $0 MOUNTPOINT backup|restore|range|demo ...}
cmd=${2:?usage: $0 MOUNTPOINT backup|restore|range|demo ...}
shift 2

backup() {
    local vol=${1:?volume} dest=${2:?destination file}
    cp --sparse=always "$mnt/$vol" "$dest"
    echo "copied $vol to $dest: $(du -h "$dest" | cut -f1) on disk of $(du -h --apparent-size "$dest" | cut -f1)"
}

restore() {
    local snap=${1:?snapshot} vol=${2:?volume}
    # In place: the volume keeps its name, handles and clones; every block is shared with the snapshot
    # (cat calls copy_file_range; cp would copy the data of a volume with holes).
    cat "$mnt/snapshots/$snap/$vol" > "$mnt/$vol"
    sync "$mnt/$vol"
    echo "restored $vol from snapshots/$snap"
}

range() {
    local snap=${1:?snapshot} vol=${2:?volume} off=${3:?offset} len=${4:?length}
    python3 - "$mnt/snapshots/$snap/$vol" "$mnt/$vol" "$off" "$len" <<'PY'
import os, sys
src, dst, off, left = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
a, b = os.open(src, os.O_RDONLY), os.open(dst, os.O_WRONLY)
while left > 0:
    n = os.copy_file_range(a, b, left, off, off)
    if n == 0:
        break
    off, left = off + n, left - n
os.fsync(b)
PY
    echo "restored bytes $off..$((off + len)) of $vol from snapshots/$snap"
}

demo() {
    local vol="range-demo-$$"
    truncate -s 4G "$mnt/$vol"
    dd if=/dev/urandom of="$mnt/$vol" bs=1M count=16 seek=100 conv=notrunc,fsync status=none
    mkdir "$mnt/snapshots/$vol-before"
    dd if=/dev/zero of="$mnt/$vol" bs=1M count=16 seek=100 conv=notrunc,fsync status=none   # "damage"
    range "$vol-before" "$vol" $((100 << 20)) $((8 << 20))
    cmp -n $((8 << 20)) "$mnt/$vol" "$mnt/snapshots/$vol-before/$vol" $((100 << 20)) $((100 << 20))
    local used; used=$(df -B1M --output=used "$mnt" | tail -1)
    restore "$vol-before" "$vol"
    cmp -n $((128 << 20)) "$mnt/$vol" "$mnt/snapshots/$vol-before/$vol"
    echo "identical to the snapshot"
    # the 16 MiB of zeros are freed and nothing is copied: the pool uses no more than before the restore
    [ "$(df -B1M --output=used "$mnt" | tail -1)" -le "$used" ] || { echo "restore copied instead of sharing" >&2; exit 1; }
    backup "$vol" "/tmp/$vol.img"
    rm -f "/tmp/$vol.img" "$mnt/$vol"
    rm -r "$mnt/snapshots/$vol-before"
}

case "$cmd" in
    backup) backup "$@" ;;
    restore) restore "$@" ;;
    range) range "$@" ;;
    demo) demo ;;
    *) echo "unknown command $cmd" >&2; exit 2 ;;
esac
