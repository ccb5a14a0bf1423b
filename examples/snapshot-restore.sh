#!/usr/bin/env bash
# Nightly snapshots, rolling a volume back, pruning old snapshots — on a mounted thinfs pool.
#
#   examples/snapshot-restore.sh MOUNTPOINT nightly            take snapshots/nightly-YYYYmmdd-HHMMSS of every volume
#   examples/snapshot-restore.sh MOUNTPOINT restore SNAP VOL    roll VOL back to its state in snapshots/SNAP
#   examples/snapshot-restore.sh MOUNTPOINT prune KEEP          keep the newest KEEP nightly snapshots, delete the rest
#   examples/snapshot-restore.sh MOUNTPOINT demo                all of the above on a scratch volume
#
# mkdir snapshots/NAME is one metadata transaction covering every volume; `thinfs rollback` restores a volume in
# place (same device id, open readers see the old bytes next); `thinfs prune` applies a retention policy and never
# removes a set someone holds (`thinfs hold`).
set -euo pipefail
mnt=${1:?usage: $0 MOUNTPOINT nightly|restore|prune|demo ...}
cmd=${2:?usage: $0 MOUNTPOINT nightly|restore|prune|demo ...}
shift 2
# The thinfs command (installed, or this checkout's launcher) and the pool mounted on MOUNTPOINT.
thinfs=${THINFS:-$(command -v thinfs || echo "$(dirname "$0")/../thinfs")}
pool=$(awk -v m="$(realpath "$mnt")" '$2 == m && $1 ~ /^thinfs:/ { sub(/^thinfs:/, "", $1); print $1 }' /proc/mounts)
[ -n "$pool" ] || { echo "$mnt is not a mounted thinfs pool" >&2; exit 1; }

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
    "$thinfs" rollback "$pool" "$snap" "$vol"        # in place; refused while someone has it open for writing
}

prune() {
    local keep=${1:?how many to keep}
    "$thinfs" prune "$pool" --keep "last=$keep" --match 'nightly-*'     # held sets are never removed
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
