#!/bin/sh
# Configures and builds zenc.
# Usage: scripts/build.sh [CMAKE-ARG]...    e.g. scripts/build.sh -DZENC_WERROR=ON
# BUILD_DIR chooses the build directory (default: build/ in the repository;
# a relative BUILD_DIR is taken from the current directory); JOBS the
# number of parallel compile jobs (default: the number of CPUs).
set -eu

here=$(pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${BUILD_DIR:-$root/build}
case $build_dir in
/*) ;;
*) build_dir=$here/$build_dir ;;
esac
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}

cmake -S "$root" -B "$build_dir" "$@"
cmake --build "$build_dir" -j "$jobs"
