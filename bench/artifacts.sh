#!/bin/sh
# The per-step cost of small outputs before and after file artifacts and
# streamed writes: a chain of N steps each passing a small output (an
# int, 64 bytes, a 64-byte file), zenc of revision BENCH_BEFORE against
# this tree, both in Release.  Writes bench/results-artifacts.md.
#
#   bench/artifacts.sh [N] [RUNS]        (defaults 500 and 15)
#
# Environment: BENCH_BEFORE (a git revision of this repository, default
# where this branch left main: git merge-base HEAD main), BENCH_WORK (scratch, default /tmp/zenc-bench-artifacts, wiped
# unless BENCH_REUSE=1, which keeps the two builds of a previous run).
# Runs are interleaved, one round being every case once in a shuffled
# order, so that a slower minute of a shared machine falls on all of them;
# the figures are medians, of wall time and of CPU time (user + sys of the
# program and every process it waited for), and the ratios are medians of
# the ratios within a round, with a 95 % bootstrap interval: a ratio whose
# interval holds 1 is no difference this bench can see.
# Needs GNU time (/usr/bin/time).  About 5 minutes on 2 CPUs.
set -eu

BENCH=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$BENCH/.." && pwd)
N=${1:-500}
RUNS=${2:-15}
BEFORE=${BENCH_BEFORE:-$(git -C "$SRC" merge-base HEAD main)}
WORK=${BENCH_WORK:-/tmp/zenc-bench-artifacts}
JOBS=$(nproc 2>/dev/null || echo 2)
[ "$JOBS" -gt 2 ] && JOBS=2

if [ "${BENCH_REUSE:-0}" != 1 ]; then
	rm -rf "$WORK"
fi

build() { # build SRC DIR [CFLAGS...]
	_src=$1 _dir=$2
	shift 2
	echo "artifacts bench: building $_src in $_dir" >&2
	cmake -S "$_src" -B "$_dir" -DCMAKE_BUILD_TYPE=Release \
		-DZENC_TESTS=OFF -DZENC_EXAMPLES=OFF -DZENC_DOCS=OFF >/dev/null
	nice cmake --build "$_dir" -j "$JOBS" >/dev/null
	cc -O2 -std=c11 -Wall -Wextra "$@" -I"$_src/include" \
		-o "$_dir/art_pipe" "$BENCH/art_pipe.c" \
		-L"$_dir" -lzenc -Wl,-rpath,"$_dir"
}
if [ "${BENCH_REUSE:-0}" != 1 ] || [ ! -x "$WORK/after/art_pipe" ]; then
	rm -rf "$WORK/before-src"
	mkdir -p "$WORK/before-src"
	git -C "$SRC" archive "$BEFORE" | tar -x -C "$WORK/before-src"
	git -C "$SRC" rev-parse --short "$BEFORE" >"$WORK/before.rev"
	_rev=$(git -C "$SRC" rev-parse --short HEAD)
	if [ -n "$(git -C "$SRC" status --porcelain -- src include)" ]; then
		_rev="$_rev+changes"
	fi
	echo "$_rev" >"$WORK/after.rev"
	build "$WORK/before-src" "$WORK/before"
	build "$SRC" "$WORK/after" -DART_FILE
fi
before_rev=$(cat "$WORK/before.rev")
after_rev=$(cat "$WORK/after.rev")

# One run: prints "wall user sys maxrss_kb".
one() { # one BUILD KIND
	_d=$WORK/run
	rm -rf "$_d"
	mkdir -p "$_d"
	(cd "$_d" && ZENC_HOME=$_d/home ZENC_DATA=$_d/data HOME=$_d \
		/usr/bin/time -f "%e %U %S %M" -o "$_d/time" \
		"$WORK/$1/art_pipe" "$2" "$N" run --quiet >/dev/null 2>&1)
	cat "$_d/time"
}

: >"$WORK/times"
i=0
while [ "$i" -lt "$RUNS" ]; do
	for case in $(printf '%s\n' before:int after:int before:bytes \
		after:bytes after:file | shuf); do
		echo "$i $case $(one "${case%%:*}" "${case#*:}")" >>"$WORK/times"
	done
	i=$((i + 1))
done

/usr/bin/python3 - "$WORK/times" "$N" "$RUNS" "$before_rev" "$after_rev" \
	>"$BENCH/results-artifacts.md" <<\PY
import random, statistics, sys
path, n, runs, before, after = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
wall, cpu, mem = {}, {}, {}
for line in open(path):
    rnd, case, e, u, s, kb = line.split()
    wall.setdefault(case, {})[rnd] = float(e)
    cpu.setdefault(case, {})[rnd] = float(u) + float(s)
    mem[case] = max(mem.get(case, 0), int(kb))

def ms(d, case):
    return statistics.median(d[case].values()) * 1000 / n

def ratio(d, a, b):
    """The median of the ratios within a round, and its 95 % bootstrap
    interval, as "1.02 (0.99-1.05)"."""
    xs = [d[a][r] / d[b][r] for r in d[a] if d[b].get(r)]
    rng = random.Random(1)
    boot = sorted(statistics.median(rng.choices(xs, k=len(xs)))
                  for _ in range(2000))
    return "%.2f (%.2f-%.2f)" % (statistics.median(xs), boot[50], boot[1949])

print("# Small outputs per step: before and after file artifacts\n")
print("A chain of %d steps, each reading the previous step's output and "
      "writing its own; isolation process, `-j 1`, %s rounds, each running "
      "every case once, in a shuffled order. Before: %s; after: %s. "
      "Written by `bench/artifacts.sh`. Wall and CPU (user + sys, all "
      "processes) are medians in ms per step; a ratio is the median of the "
      "ratios within a round, with its 95 %% bootstrap interval in "
      "parentheses.\n" % (n, runs, before, after))
print("| output | wall before | wall after | wall after / before | CPU before | CPU after | CPU after / before | peak memory after (MB) |")
print("|---|---|---|---|---|---|---|---|")
for kind in ("int", "bytes"):
    b, a = "before:" + kind, "after:" + kind
    print("| %s | %.2f | %.2f | %s | %.2f | %.2f | %s | %.1f |" % (
        kind, ms(wall, b), ms(wall, a), ratio(wall, a, b),
        ms(cpu, b), ms(cpu, a), ratio(cpu, a, b), mem[a] / 1024))
a, b = "after:file", "before:bytes"
print("| file (new; ratios ÷ bytes before) | — | %.2f | %s | — | %.2f | %s | %.1f |" % (
    ms(wall, a), ratio(wall, a, b), ms(cpu, a), ratio(cpu, a, b), mem[a] / 1024))
PY
cat "$BENCH/results-artifacts.md"
