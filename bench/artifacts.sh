#!/bin/sh
# The per-step cost of small outputs before and after file artifacts and
# streamed writes: a chain of N steps each passing a small output (an
# int, 64 bytes, a 64-byte file), zenc of revision BENCH_BEFORE against
# this tree, both in Release.  Writes bench/results-artifacts.md.
#
#   bench/artifacts.sh [N] [RUNS]        (defaults 500 and 7)
#
# Environment: BENCH_BEFORE (a git revision of this repository, default
# main), BENCH_WORK (scratch, default /tmp/zenc-bench-artifacts, wiped).
# Runs are interleaved (before, after, before, ...) so that a slower
# minute of a shared machine falls on both; the figure is the median.
# Needs GNU time (/usr/bin/time).  About 3 minutes on 2 CPUs, most of it
# the two builds.
set -eu

BENCH=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$BENCH/.." && pwd)
N=${1:-500}
RUNS=${2:-7}
BEFORE=${BENCH_BEFORE:-main}
WORK=${BENCH_WORK:-/tmp/zenc-bench-artifacts}
JOBS=$(nproc 2>/dev/null || echo 2)
[ "$JOBS" -gt 2 ] && JOBS=2

rm -rf "$WORK"
mkdir -p "$WORK/before-src"
git -C "$SRC" archive "$BEFORE" | tar -x -C "$WORK/before-src"
before_rev=$(git -C "$SRC" rev-parse --short "$BEFORE")
after_rev=$(git -C "$SRC" rev-parse --short HEAD)
if [ -n "$(git -C "$SRC" status --porcelain -- src include)" ]; then
	after_rev="$after_rev+changes"
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
build "$WORK/before-src" "$WORK/before"
build "$SRC" "$WORK/after" -DART_FILE

# One run: prints "seconds maxrss_kb".
one() { # one BUILD KIND
	_d=$WORK/run
	rm -rf "$_d"
	mkdir -p "$_d"
	(cd "$_d" && ZENC_HOME=$_d/home ZENC_DATA=$_d/data HOME=$_d \
		/usr/bin/time -f "%e %M" -o "$_d/time" \
		"$WORK/$1/art_pipe" "$2" "$N" run --quiet >/dev/null 2>&1)
	cat "$_d/time"
}

: >"$WORK/times"
i=0
while [ "$i" -lt "$RUNS" ]; do
	for case in before:int after:int before:bytes after:bytes after:file; do
		echo "$case $(one "${case%%:*}" "${case#*:}")" >>"$WORK/times"
	done
	i=$((i + 1))
done

/usr/bin/python3 - "$WORK/times" "$N" "$RUNS" "$before_rev" "$after_rev" \
	>"$BENCH/results-artifacts.md" <<\PY
import statistics, sys
path, n, runs, before, after = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
t, m = {}, {}
for line in open(path):
    case, sec, kb = line.split()
    t.setdefault(case, []).append(float(sec))
    m[case] = max(m.get(case, 0), int(kb))
ms = {c: statistics.median(v) * 1000 / n for c, v in t.items()}
print("# Small outputs per step: before and after file artifacts\n")
print("A chain of %d steps, each reading the previous step's output and "
      "writing its own; isolation process, `-j 1`, median of %s runs "
      "(interleaved). Before: %s; after: %s. Written by "
      "`bench/artifacts.sh`.\n" % (n, runs, before, after))
print("| output | before (ms/step) | after (ms/step) | after / before | peak memory after (MB) |")
print("|---|---|---|---|---|")
for kind in ("int", "bytes"):
    b, a = ms["before:" + kind], ms["after:" + kind]
    print("| %s | %.3f | %.3f | %.2f | %.1f |" % (kind, b, a, a / b, m["after:" + kind] / 1024))
a = ms["after:file"]
print("| file (new) | — | %.3f | %.2f (÷ bytes before) | %.1f |" % (a, a / ms["before:bytes"], m["after:file"] / 1024))
PY
cat "$BENCH/results-artifacts.md"
