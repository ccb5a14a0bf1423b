# Sourced by the loop-device benchmarks (bash; loop-disk.sh, loop-requests.sh): one image behind each backing they
# compare, loop-mounted, and the teardown of all of it. The caller sets $root (the repository) and $work.
#   raw       a sparse file on the host file system (no FUSE: the baseline)
#   thinfs    a volume of a fresh pool (a file on a thinfs mount)
#   qcow2     a qcow2 image behind qemu-storage-daemon's FUSE export
#   qemu-raw  a raw file behind the same export: a FUSE server in C that only passes requests on (the FUSE floor)
# What it makes is kept in mounts (ext4 mounts at paths ending /ext4 first), loops and pids.
mounts=(); loops=(); pids=()

wait_mount() {
    for _ in $(seq 200); do grep -q " $1 " /proc/mounts && return 0; sleep 0.1; done
    echo "no mount at $1" >&2; exit 1
}

# backing_file NAME SIZE POOL_SIZE: a fresh SIZE image of backing NAME in $work/NAME (POOL_SIZE: the thinfs pool's
# size); sets $file to the file to loop-mount.
backing_file() {
    local d="$work/$1" size=$2 nodes
    mkdir -p "$d"
    case $1 in
        raw) truncate -s "$size" "$d/disk.img"; file="$d/disk.img" ;;
        thinfs)
            "$root/thinfs" create "$d/pool" --size "$3" >/dev/null
            mkdir -p "$d/mnt"; "$root/thinfs" mount "$d/pool" "$d/mnt" >/dev/null; mounts+=("$d/mnt")
            truncate -s "$size" "$d/mnt/disk"; file="$d/mnt/disk" ;;
        qemu-raw|qcow2)
            if [ "$1" = qemu-raw ]; then
                truncate -s "$size" "$d/disk.img"; nodes=(--blockdev "driver=file,node-name=q,filename=$d/disk.img")
            else
                qemu-img create -q -f qcow2 "$d/disk.qcow2" "$size"
                nodes=(--blockdev "driver=file,node-name=f,filename=$d/disk.qcow2" --blockdev "driver=qcow2,node-name=q,file=f")
            fi
            touch "$d/export"
            qemu-storage-daemon "${nodes[@]}" --export "type=fuse,id=e,node-name=q,mountpoint=$d/export,writable=on" \
                >>"$work/qsd.log" 2>&1 & pids+=($!)
            wait_mount "$d/export"; mounts+=("$d/export"); file="$d/export" ;;
        *) echo "unknown backing $1" >&2; exit 2 ;;
    esac
}

# Undoes everything above: ext4 mounts, then loop devices, then the FUSE mounts under them and their daemons.
teardown_backings() {
    local m l p
    for m in "${mounts[@]}"; do
        case $m in */ext4) grep -q " $m " /proc/mounts && { umount "$m" 2>/dev/null || umount -l "$m"; } ;; esac
    done
    for l in "${loops[@]}"; do losetup -d "$l" 2>/dev/null; done
    for m in "${mounts[@]}"; do
        grep -q " $m " /proc/mounts || continue
        case $m in
            */ext4) ;;
            */mnt) "$root/thinfs" umount "$m" >/dev/null 2>&1 || fusermount -u -z "$m" 2>/dev/null ;;
            *) fusermount -u "$m" 2>/dev/null || umount -l "$m" 2>/dev/null ;;
        esac
    done
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    mounts=(); loops=(); pids=()
}

# The order of round $2 over the backings $1... (an array name): rotated by one each round, so no backing always
# comes first (after another's teardown) or last. Sets the array order.
rotate_backings() {
    local -n list=$1
    local n=${#list[@]} i
    order=()
    for i in $(seq 0 $(( n - 1 ))); do order+=("${list[$(( (i + $2 - 1) % n ))]}"); done
}
