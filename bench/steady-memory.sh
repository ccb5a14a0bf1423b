# Sourced by the benchmarks (bash): makes the page cache cost the same for every server in a run.
#
# On a VM whose guest returns free memory to its host (virtio-balloon free page reporting, as the Firecracker VM of
# BENCHMARKS.md does), the first use of a page the host took back faults in the host: on the machine of BENCHMARKS.md,
# `dd bs=1M` of 2 GiB into a new file ran at 1.1-1.8 GB/s on such memory and at 6.2-6.8 GB/s on memory used
# before. Which server of a run gets the re-faulted memory is chance (whatever another freed a few seconds
# earlier), so rows swung by a third between runs. steady_memory stops the reporting for the run (the reporting
# order raised to the largest the kernel accepts, 10: on that machine reported_kib then stopped growing) and touches the
# free memory once, through a tmpfs, so every server's page cache comes from memory the host already backs. The
# setting is put back at exit. Nothing changes where the kernel has no page reporting (bare metal, most CI).
steady_memory() {
    local order=/sys/module/page_reporting/parameters/page_reporting_order
    [ "$(id -u)" = 0 ] && [ -w "$order" ] || return 0
    steady_memory_saved=$(cat "$order")
    echo 10 > "$order" 2>/dev/null || return 0       # MAX_PAGE_ORDER on x86-64
    local kib tmp
    kib=$(awk '/MemAvailable/ { print $2 }' /proc/meminfo)
    kib=$(( kib - 2 * 1024 * 1024 ))                 # leave 2 GiB
    [ "$kib" -gt 0 ] || return 0
    tmp=$(mktemp -d)
    mount -t tmpfs -o size=${kib}k none "$tmp" || { rmdir "$tmp"; return 0; }
    dd if=/dev/zero of="$tmp/fill" bs=1M count=$(( kib / 1024 )) status=none 2>/dev/null || true
    umount "$tmp"; rmdir "$tmp"
    echo "steady_memory: page reporting paused, $(( kib / 1024 / 1024 )) GiB of free memory touched once" >&2
}
# The order alone does not hold memory still everywhere: on the VM of session 15 (DAMON paging out cold page cache,
# and freed page-cache blocks coalescing to order 10) memory freed by one round (rm of a pool, a raw file) went back
# to the host within 2-3 s, and `dd bs=1M` of 1 GiB into a new file after `rm; sync; sleep 3` ran at 0.6-0.8 GB/s
# every time, against 6-8 GB/s right after touching 3 GiB through a tmpfs. So a timed step that writes into new page
# cache calls steady_memory_refresh just before it: the memory it touches is freed again at once, and the page
# allocator hands out the most recently freed memory first, so the step's page cache is memory the host backs.
steady_memory_refresh() {
    [ -n "${steady_memory_saved:-}" ] || return 0
    local tmp
    tmp=$(mktemp -d)
    mount -t tmpfs -o size=${1:-3}g none "$tmp" || { rmdir "$tmp"; return 0; }
    dd if=/dev/zero of="$tmp/fill" bs=1M count=$(( ${1:-3} * 1024 )) status=none 2>/dev/null || true
    umount "$tmp"; rmdir "$tmp"
}
steady_memory_restore() {
    [ -n "${steady_memory_saved:-}" ] &&
        echo "$steady_memory_saved" > /sys/module/page_reporting/parameters/page_reporting_order 2>/dev/null
    return 0
}
