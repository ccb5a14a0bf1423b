#!/usr/bin/env bash
# A thinfs volume as a disk: loop device, ext4, files, a consistent snapshot, and the snapshot mounted
# read-only beside the live file system. Needs root and a mounted pool.
#
#   examples/ext4-walkthrough.sh MOUNTPOINT
set -euo pipefail
mnt=${1:?usage: $0 MOUNTPOINT}
work=$(mktemp -d)
live=""; snap=""
cleanup() {
    set +e
    mountpoint -q "$work/snap" && umount "$work/snap"
    mountpoint -q "$work/live" && umount "$work/live"
    [ -n "$snap" ] && losetup -d "$snap"
    [ -n "$live" ] && losetup -d "$live"
    rm -rf "$work"
}
trap cleanup EXIT

truncate -s 1G "$mnt/disk1"                         # a 1 GiB thin volume: nothing allocated yet
live=$(losetup --find --show "$mnt/disk1")
mkfs.ext4 -q "$live"
mkdir -p "$work/live" "$work/snap"
mount "$live" "$work/live"
echo "hello from before the snapshot" > "$work/live/greeting"
du -h --apparent-size "$mnt/disk1"; du -h "$mnt/disk1"  # virtual size vs. what is really provisioned

fsfreeze -f "$work/live"                            # quiesce: the file system is consistent on disk
mkdir "$mnt/snapshots/before-change"               # O(1) snapshot of every volume in the pool
fsfreeze -u "$work/live"

echo "changed after the snapshot" > "$work/live/greeting"
sync

snap=$(losetup --find --show --read-only "$mnt/snapshots/before-change/disk1")
mount -o ro,noload "$snap" "$work/snap"            # noload: do not replay the journal on a read-only device
echo "live:     $(cat "$work/live/greeting")"
echo "snapshot: $(cat "$work/snap/greeting")"
[ "$(cat "$work/snap/greeting")" = "hello from before the snapshot" ] || { echo "the snapshot changed" >&2; exit 1; }
