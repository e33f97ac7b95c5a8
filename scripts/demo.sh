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

echo
echo "\$ build/examples/quickstart run"
rc=0
"$build_dir/examples/quickstart" run || rc=$?

# The newest run: `zenc runs list --json` lists runs newest first.
last=$("$zenc" runs list --json 2>/dev/null | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
runs = d.get("runs", d) if isinstance(d, dict) else d
r = runs[0]
print((r.get("id") or r.get("name")) if isinstance(r, dict) else r)
' 2>/dev/null) || last=
echo
if [ -n "$last" ]; then
	echo "\$ zenc runs show $last"
	"$zenc" runs show "$last" || rc=$?
else
	echo "\$ zenc runs list"
	"$zenc" runs list || rc=$?
fi
exit "$rc"
