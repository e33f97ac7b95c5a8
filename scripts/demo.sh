#!/bin/sh
# The demo: installs what zenc needs, builds it, runs the example pipeline
# examples/quickstart.c, and shows the run that zenc recorded.
# Usage: scripts/demo.sh
# Runs are recorded under build/demo (ZENC_HOME, ZENC_DATA), never in your
# home directory; set ZENC_HOME and ZENC_DATA to record elsewhere, and
# BUILD_DIR to build elsewhere.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build_dir=${BUILD_DIR:-$root/build}
case $build_dir in
/*) ;;
*) build_dir=$root/$build_dir ;;
esac

sh scripts/install-deps.sh
# The demo needs neither the test suite nor its dependencies.
BUILD_DIR=$build_dir sh scripts/build.sh -DZENC_TESTS=OFF -DZENC_EXAMPLES=ON

: "${ZENC_HOME:=$build_dir/demo/home}"
: "${ZENC_DATA:=$build_dir/demo/data}"
export ZENC_HOME ZENC_DATA
zenc=$build_dir/zenc

name=quickstart-demo-$(date +%Y_%m_%d-%H_%M_%S)
echo
echo "\$ build/examples/quickstart run --run-name $name"
rc=0
"$build_dir/examples/quickstart" run --run-name "$name" || rc=$?
echo
echo "\$ zenc runs show $name"
"$zenc" runs show "$name"
echo
case $rc in
1)
	# The quickstart pipeline fails on purpose (see its comment): a run
	# that failed and was reported is the demo working.
	echo "The run failed on purpose: 'evaluate' raised, its hooks reported it,"
	echo "'publish' was skipped. Try, recording next to this run:"
	echo "  ZENC_HOME=$ZENC_HOME ZENC_DATA=$ZENC_DATA \\"
	echo "    $build_dir/examples/quickstart run --param evaluate.threshold=0.8"
	exit 0
	;;
*)
	exit "$rc"
	;;
esac
