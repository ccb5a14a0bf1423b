#!/usr/bin/env bash
# Draws bench/nbd-compare.sh's table (TSV: test, three MiB/s, thinfs/qemu-nbd, thinfs/nbdkit) as a PNG bar chart
# of the two ratios per row, with the 1.0 line marked: a bar above it is ahead of that server.
#
#   bench/nbd-chart.sh TABLE.tsv OUT.png [TITLE]
set -euo pipefail
tsv=$1; out=$2; title=${3:-thinfs NBD export}
command -v gnuplot >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gnuplot-nox >/dev/null; }
rows=$(mktemp); trap 'rm -f "$rows"' EXIT
awk -F'\t' 'NR > 1 && NF >= 6 { printf "\"%s\"\t%s\t%s\n", $1, $5, $6 }' "$tsv" >"$rows"
n=$(wc -l <"$rows")
[ "$n" -gt 0 ] || { echo "nbd-chart.sh: no rows in $tsv" >&2; exit 1; }
gnuplot <<GP
set terminal pngcairo size $(( 260 + n * 56 )),520 font "sans,10"
set output "$out"
set title "$title"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set ylabel "ratio (1.0 = as fast as the other server)"
set yrange [0:3]
set grid ytics
set key below
set xtics rotate by -35
set arrow from graph 0, first 1 to graph 1, first 1 nohead lw 2 dt 2
plot "$rows" using 2:xtic(1) title "thinfs / qemu-nbd (qcow2)", "" using 3 title "thinfs / nbdkit (raw file)"
GP
