#!/usr/bin/env bash
# Runs every test of thinfs: unit, randomized model, thin-provisioning-tools oracle, real FUSE mounts and the
# real Linux kernel (under QEMU). Installs what the tests need when it is missing (needs root for apt-get).
set -euo pipefail
cd "$(dirname "$0")"

need=()
command -v thin_check >/dev/null 2>&1 || need+=(thin-provisioning-tools)
command -v fusermount >/dev/null 2>&1 || need+=(fuse)
ldconfig -p 2>/dev/null | grep -q 'libfuse.so.2' || need+=(libfuse2)
command -v mkfs.ext4 >/dev/null 2>&1 || need+=(e2fsprogs)
command -v losetup >/dev/null 2>&1 || need+=(mount)
command -v fallocate >/dev/null 2>&1 || need+=(util-linux)
command -v mvn >/dev/null 2>&1 || need+=(maven)
# The benchmark harness smoke test (BenchHarnessIT) needs fio and qemu-storage-daemon.
command -v fio >/dev/null 2>&1 || need+=(fio)
command -v qemu-storage-daemon >/dev/null 2>&1 || need+=(qemu-system-common)
command -v qemu-img >/dev/null 2>&1 || need+=(qemu-utils)
command -v fsfreeze >/dev/null 2>&1 || need+=(util-linux)
command -v python3 >/dev/null 2>&1 || need+=(python3)
# ControlIT talks to the control socket as another user through socat.
command -v socat >/dev/null 2>&1 || need+=(socat)
# NbdIT uses real NBD clients: nbdinfo and nbdcopy (libnbd-bin), qemu-img and qemu-io (qemu-utils).
command -v nbdcopy >/dev/null 2>&1 || need+=(libnbd-bin)
# BenchHarnessIT runs bench/nbd-compare.sh tiny, which compares with nbdkit serving a raw file.
command -v nbdkit >/dev/null 2>&1 || need+=(nbdkit)
# RbdDiffIT checks every rbd diff stream with the real `rbd merge-diff` (works offline, no cluster).
command -v rbd >/dev/null 2>&1 || need+=(ceph-common)
# CopySharingIT copies volumes with rsync as users do.
command -v rsync >/dev/null 2>&1 || need+=(rsync)
# CephIT starts a one-node Ceph cluster (mon, mgr, a memstore OSD on 127.0.0.1) for thinfs send and receive.
command -v ceph-mon >/dev/null 2>&1 || need+=(ceph-mon)
command -v ceph-osd >/dev/null 2>&1 || need+=(ceph-osd)
command -v ceph-mgr >/dev/null 2>&1 || need+=(ceph-mgr)
# ControlSurfaceIT checks the metrics with promtool (Debian's prometheus package) and scrapes them with curl.
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v curl >/dev/null 2>&1 || need+=(curl)
# InstallIT renders the man pages and checks the systemd unit.
command -v man >/dev/null 2>&1 || need+=(man-db)
command -v col >/dev/null 2>&1 || need+=(bsdextrautils)
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
if [ ${#need[@]} -gt 0 ]; then
  echo "test.sh: installing ${need[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "test.sh: need root to install ${need[*]}" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
[ -e /dev/fuse ] || modprobe fuse 2>/dev/null || true

exec mvn -B -ntp verify "$@"
