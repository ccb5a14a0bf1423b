#!/usr/bin/env bash
# Nightly snapshots, rolling a volume back, pruning old snapshots — on a mounted thinfs pool.
#
#   examples/snapshot-restore.sh MOUNTPOINT nightly            take snapshots/nightly-YYYYmmdd-HHMMSS of every volume
#   examples/snapshot-restore.sh MOUNTPOINT restore SNAP VOL    roll VOL back to its state in snapshots/SNAP
#   examples/snapshot-restore.sh MOUNTPOINT prune KEEP          keep the newest KEEP nightly snapshots, delete the rest
#   examples/snapshot-restore.sh MOUNTPOINT demo                all of the above on a scratch volume
#
# Every step is an ordinary file operation: mkdir snapshots/NAME is one metadata transaction covering every
# volume; ln makes an O(1) writable clone; mv replaces a volume atomically.
set -euo pipefail
mnt=${1:?usage: $0 MOUNTPOINT nightly|restore|prune|demo ...}
cmd=${2:?usage: $0 MOUNTPOINT nightly|restore|prune|demo ...}
shift 2

nightly() {
    local name="nightly-$(date +%Y%m%d-%H%M%S)"
    while [ -e "$mnt/snapshots/$name" ]; do   # one already this second: take the next second's name
        sleep 0.2
        name="nightly-$(date +%Y%m%d-%H%M%S)"
    done
    sync                                  # make what the volumes' users wrote durable first
    mkdir "$mnt/snapshots/$name"
    echo "took snapshots/$name: $(ls "$mnt/snapshots/$name" | tr '\n' ' ')"
}

restore() {
    local snap=${1:?snapshot name} vol=${2:?volume name}
    [ -f "$mnt/snapshots/$snap/$vol" ] || { echo "no volume $vol in snapshots/$snap" >&2; exit 1; }
    ln "$mnt/snapshots/$snap/$vol" "$mnt/$vol.restoring"     # writable clone of the snapshot, O(1)
    mv "$mnt/$vol.restoring" "$mnt/$vol"                     # atomically replaces the live volume
    echo "rolled $vol back to snapshots/$snap"
}

prune() {
    local keep=${1:?how many to keep}
    ls -1d "$mnt"/snapshots/nightly-* 2>/dev/null | sort -r | tail -n +"$((keep + 1))" | while read -r old; do
        rm -r "$old"
        echo "pruned ${old#"$mnt"/}"
    done
}

demo() {
    truncate -s 64M "$mnt/demo-vol"
    echo "version 1" | dd of="$mnt/demo-vol" conv=notrunc status=none
    nightly
    local first; first=$(ls -1 "$mnt/snapshots" | grep '^nightly-' | sort | tail -1)
    sleep 1
    echo "version 2 (a mistake)" | dd of="$mnt/demo-vol" conv=notrunc status=none
    echo "live now:     $(head -c 22 "$mnt/demo-vol" | tr -d '\0')"
    restore "$first" demo-vol
    echo "after restore: $(head -c 22 "$mnt/demo-vol" | tr -d '\0')"
    [ "$(head -c 9 "$mnt/demo-vol")" = "version 1" ] || { echo "restore did not roll back" >&2; exit 1; }
    nightly
    prune 1
    rm -f "$mnt/demo-vol"
}

"$cmd" "$@"
