# make bench's plots (bench/run.sh: gnuplot -e "dir='bench-results'" bench/plot.gp)
set terminal pngcairo size 900,480 font ",10"
# The link first: every run that has it (make bench BENCH_CASES=link, the
# fresh-check step) draws at least this plot.
set output dir.'/link.png'
set title 'make bench: ib_write_bw rxe0 -> rxe1 (Gb/s)'
set style data histograms
set style fill solid 0.8 border -1
set ylabel 'Gb/s'
set yrange [0:*]
set grid ytics
plot dir.'/link.dat' using 2:xtic(1) notitle
set yrange [*:*]
set output dir.'/total.png'
set title 'make bench: total migration time (s) per system and scenario (one test guest, soft-RoCE under TCG)'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set ylabel 'total time (s)'
set key top left
set grid ytics
set xtics rotate by -20
set datafile missing '?'
plot dir.'/total.dat' using 2:xtic(1) title '(a) 256 MiB idle', \
     '' using 3 title '(b) 2 GiB, 128 MiB written', \
     '' using 4 title '(c) 384 MiB, dst pin budget 64 MiB', \
     '' using 5 title '(d) 128 MiB abtest running'
set output dir.'/timeline.png'
set title 'scenario (d): remaining bytes and dirty rate during one live migration'
unset style
set style data linespoints
set xtics norotate
set xlabel 'time since the migration started (s)'
set ylabel 'remaining (MiB)'
set y2label 'dirty rate (MiB/s)'
set y2tics
set key top right
# rdmig's line is the one asked for; QEMU TCP's is beside it when its
# sampler got points (an empty file only draws a warning).
plot dir.'/timeline-rdmig.dat' using 1:2 title 'rdmig remaining' lw 2, \
     dir.'/timeline-rdmig.dat' using 1:3 axes x1y2 title 'rdmig dirty rate' dt 2, \
     dir.'/timeline-qemu-tcp.dat' using 1:2 title 'QEMU TCP remaining' lw 2, \
     dir.'/timeline-qemu-tcp.dat' using 1:3 axes x1y2 title 'QEMU TCP dirty rate' dt 2
