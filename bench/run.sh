#!/bin/sh
# The benchmarks, in one command: installs what they need (Debian
# packages, only when missing), builds zenc in Release and the bench
# programs, runs every contender and writes bench/results.md.
#
#   bench/run.sh [--quick] [--no-profile] [--only KEY,...]
#   bench/run.sh --cache-only    the step cache's case alone (2 minutes),
#                                into bench/results-cache.md
#
# Environment: BENCH_BUILD (default bench/build), BENCH_WORK (scratch,
# default /tmp/zenc-bench-work, wiped), BENCH_SRC (the zenc tree to build,
# default the one holding bench/), BENCH_REPS_10000 (runs of each
# contender at N = 10,000; default 3).  Its length depends on what a fork
# costs on the machine: 10 minutes where it took 0.2 ms, over 45 where it
# took 1-2 ms (see bench/README.md, "Runtime"); --quick is a smoke test
# with small N (2-3 minutes).
set -eu

BENCH=$(cd "$(dirname "$0")" && pwd)
SRC=${BENCH_SRC:-$(cd "$BENCH/.." && pwd)}
BUILD=${BENCH_BUILD:-$BENCH/build}
WORK=${BENCH_WORK:-/tmp/zenc-bench-work}
JOBS=$(nproc 2>/dev/null || echo 2)

# 1. Debian packages.  Python packages come only from Debian: Snakemake is
# run as /usr/bin/snakemake with /usr/bin/python3, whatever python3 is on
# PATH.
pkgs="build-essential cmake pkg-config libsqlite3-dev libyaml-dev
libcurl4-openssl-dev make snakemake hyperfine time valgrind python3"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "bench: installing:$missing"
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO="sudo"
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
	# shellcheck disable=SC2086
	$SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
		--no-install-recommends $missing >/dev/null
fi

# 2. zenc in Release, without tests and examples.
echo "bench: building zenc (Release) in $BUILD"
cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DZENC_TESTS=OFF \
	-DZENC_EXAMPLES=OFF >/dev/null
cmake --build "$BUILD" -j "$JOBS" >/dev/null

# 3. The bench programs, against that build: c_pipe links the shared
# library as a user's program would; the floors and the store filler need
# only SQLite.
BIN=$BUILD/bench-bin
mkdir -p "$BIN"
CFLAGS="-O2 -g -std=c11 -Wall -Wextra"
SQLITE_CFLAGS=$(pkg-config --cflags sqlite3)
SQLITE_LIBS=$(pkg-config --libs sqlite3)
# shellcheck disable=SC2086
cc $CFLAGS -I"$SRC/include" -o "$BIN/c_pipe" "$BENCH/c_pipe.c" \
	-L"$BUILD" -lzenc -Wl,-rpath,"$BUILD"
# shellcheck disable=SC2086
cc $CFLAGS -I"$SRC/include" -o "$BIN/yaml_load" "$BENCH/yaml_load.c" \
	-L"$BUILD" -lzenc -Wl,-rpath,"$BUILD"
# shellcheck disable=SC2086
cc $CFLAGS $SQLITE_CFLAGS -o "$BIN/floor" "$BENCH/floor.c" $SQLITE_LIBS
# shellcheck disable=SC2086
cc $CFLAGS -o "$BIN/runner" "$BENCH/runner.c"
# shellcheck disable=SC2086
cc $CFLAGS $SQLITE_CFLAGS -o "$BIN/populate_store" "$BENCH/populate_store.c" \
	$SQLITE_LIBS

# 4. A second build for the profiles: the same Release flags plus -g
# -fno-inline, so that callgrind names zenc's static functions.
PROF=$BUILD/prof
case " $* " in *" --no-profile "* | *" --cache-only "*) PROFILE=0 ;; *) PROFILE=1 ;; esac
if [ "$PROFILE" = 1 ]; then
	echo "bench: building zenc for profiling in $PROF"
	cmake -S "$SRC" -B "$PROF" -DCMAKE_BUILD_TYPE=Release \
		-DCMAKE_C_FLAGS="-g -fno-inline" -DZENC_TESTS=OFF \
		-DZENC_EXAMPLES=OFF >/dev/null
	cmake --build "$PROF" -j "$JOBS" >/dev/null
	mkdir -p "$PROF/bench-bin"
	# shellcheck disable=SC2086
	cc $CFLAGS -I"$SRC/include" -o "$PROF/bench-bin/c_pipe" \
		"$BENCH/c_pipe.c" -L"$PROF" -lzenc -Wl,-rpath,"$PROF"
	# shellcheck disable=SC2086
	cc $CFLAGS -I"$SRC/include" -o "$PROF/bench-bin/yaml_load" \
		"$BENCH/yaml_load.c" -L"$PROF" -lzenc -Wl,-rpath,"$PROF"
fi

# 5. Run everything; the driver writes bench/results.md, and the step
# cache's case (cache_bench.py) adds its section.  --cache-only runs
# that case alone and writes bench/results-cache.md.
case " $* " in *" --cache-only "*)
	exec /usr/bin/python3 "$BENCH/cache_bench.py" --bin "$BIN" \
		--zenc "$BUILD/zenc" --work "$WORK/cache" \
		--out "$BENCH/results-cache.md" ;;
esac
/usr/bin/python3 "$BENCH/bench.py" --zenc-build "$BUILD" --bin "$BIN" \
	--work "$WORK" --prof-build "$PROF" --out "$BENCH/results.md" "$@"
case " $* " in *" --quick "*) QUICK=--quick ;; *) QUICK= ;; esac
# shellcheck disable=SC2086
exec /usr/bin/python3 "$BENCH/cache_bench.py" --bin "$BIN" \
	--zenc "$BUILD/zenc" --work "$WORK/cache" --out "$BENCH/results.md" \
	--append $QUICK
