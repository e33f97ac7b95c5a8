#!/bin/sh
# tests/chaos/run.sh [N] [--seed S]: N randomized faults (default 20)
# against real zenc runs, with a flapping webhook receiver on loopback,
# then the count of what was lost, left running or left alive
# (tests/chaos/chaos.py says what is injected and counted).  Exit 0 only
# when nothing was.
#
# Environment: ZENC_BUILD, the build tree holding zenc and
# tests/programs (default ./build); CHAOS_WORK, a scratch folder (default
# a new one under /tmp, removed on success); CHAOS_TIMEOUT, the bound of
# the whole run in seconds (default 600 + 3 s per fault).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=${ZENC_BUILD:-build}
BUILD=$(cd "$BUILD" && pwd)
N=20
case "${1:-}" in [0-9]*) N=$1; shift ;; esac
WORK=${CHAOS_WORK:-$(mktemp -d /tmp/zenc-chaos.XXXXXX)}
mkdir -p "$WORK"
LIMIT=${CHAOS_TIMEOUT:-$((600 + 3 * N))}
rc=0
timeout -k 10 "$LIMIT" /usr/bin/python3 "$HERE/chaos.py" "$N" \
	--work "$WORK" --build "$BUILD" "$@" || rc=$?
if [ "$rc" = 0 ] && [ -z "${CHAOS_WORK:-}" ]; then
	rm -rf "$WORK"
else
	echo "chaos: the scratch folder is kept: $WORK"
fi
[ "$rc" != 124 ] || echo "chaos: timed out after $LIMIT s"
exit "$rc"
