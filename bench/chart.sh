#!/usr/bin/env bash
# Draws a benchmark table (TSV: job, target, MiB/s, IOPS, vs-ceiling, vs-qcow2) as a PNG bar chart of the thinfs
# rows' two ratios, with the 1.0 line marked: a bar above it is ahead of that baseline.
#
#   bench/chart.sh TABLE.tsv OUT.png [TITLE] [FIRST_RATIO_LABEL] [SECOND_RATIO_LABEL]
set -euo pipefail
tsv=$1; out=$2; title=${3:-thinfs}
first=${4:-vs ceiling (jnr-fuse passthrough)}; second=${5:-vs qcow2 (qemu-storage-daemon)}
command -v gnuplot >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gnuplot-nox >/dev/null; }
rows=$(mktemp); trap 'rm -f "$rows"' EXIT
# Only the thinfs rows, with "-" (no baseline) drawn as no bar.
awk -F'\t' 'NR > 1 && $2 ~ /^thinfs/ { c = ($5 == "-") ? "NaN" : $5; q = ($6 == "-") ? "NaN" : $6;
    printf "\"%s %s\"\t%s\t%s\n", $1, substr($2, 8), c, q }' "$tsv" >"$rows"
n=$(wc -l <"$rows")
[ "$n" -gt 0 ] || { echo "chart.sh: no thinfs rows in $tsv" >&2; exit 1; }
gnuplot <<GP
set terminal pngcairo size $(( 260 + n * 46 )),520 font "sans,10"
set output "$out"
set title "$title"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set ylabel "ratio (1.0 = same speed as the baseline)"
set yrange [0:*]
set grid ytics
set xtics rotate by -40 left noenhanced
set key outside bottom center horizontal
set arrow from graph 0, first 1 to graph 1, first 1 nohead lw 2 dt 2 lc rgb "#444444"
plot "$rows" using 2:xtic(1) title "$first" lc rgb "#3b6ea8", \
     "" using 3 title "$second" lc rgb "#d08a2c"
GP
