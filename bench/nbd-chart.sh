#!/usr/bin/env bash
# Draws bench/nbd-compare.sh's table (TSV: test, three MiB/s, thinfs/qemu-nbd, thinfs/nbdkit) as bench/chart.sh's
# bar chart of the two ratios per row, with the 1.0 line marked: a bar above it is ahead of that server.
#
#   bench/nbd-chart.sh TABLE.tsv OUT.png [TITLE]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
rows=$(mktemp); trap 'rm -f "$rows"' EXIT
# In chart.sh's columns: job, target (a thinfs row), MiB/s, IOPS, first ratio, second ratio.
awk -F'\t' 'BEGIN { OFS = "\t"; print "job", "target", "MiBs", "IOPS", "vs-qemu-nbd", "vs-nbdkit" }
    NR > 1 && NF >= 6 { print $1, "thinfs ", $2, "-", $5, $6 }' "$1" >"$rows"
"$here/chart.sh" "$rows" "$2" "${3:-thinfs NBD export}" "thinfs / qemu-nbd (qcow2)" "thinfs / nbdkit (raw file)"
