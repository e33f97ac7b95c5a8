# shellcheck shell=sh
# tests/e2e/cache.sh: what the step cache's tests share (t1000-t1030),
# sourced after lib.sh: the cache on (lib.sh turns it off for the other
# tests), the pipeline program zt_cache and its counter, and helpers.

unset ZENC_CACHE

ZT=$PROGRAMS/zt_cache
ZT_CACHE_COUNTER=$TMP/count
export ZT_CACHE_COUNTER

# executed: the steps that executed since the counter was last emptied,
# sorted, on one line.
executed () {
	grep -v "^hook " "$ZT_CACHE_COUNTER" 2>/dev/null | sort | tr '\n' ' ' | sed 's/ $//'
}

# statuses: "name=status ..." of run.json.
statuses () {
	test_json run.json '" ".join(s["name"] + "=" + s["status"] for s in d["steps"])'
}

# id_of NAME: the id of run NAME.
id_of () {
	"$ZENC" runs show "$1" --json >idof.json && test_json idof.json 'd["id"]'
}
