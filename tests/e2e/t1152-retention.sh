#!/bin/sh
# shellcheck disable=SC2016 # bodies are single-quoted and eval-ed
# Retention on an SQLite store: `zenc runs delete` and `zenc runs prune`
# free the files of the runs they delete, keep an output another run
# points to, never touch a running run, and say the space in human
# units.
#
# A step taken from the cache records the uri of the run that made the
# file (no copy).  Most tests make that sharing by hand (an artifact row
# of a later run, inserted with sqlite3, pointing to the uri of an
# earlier run's output), to control which run points where; the last one
# lets the step cache make it.
. "$(dirname "$0")/lib.sh"

ZT=$PROGRAMS/zt_pipeline
DB=$ZENC_DATA/zenc.db

mkdir -p wf
cat >wf/blob.yaml <<\EOF_
name: blob
steps:
  - name: make
    run: |
      echo "made a blob"
      head -c 1048576 /dev/urandom >"$ZENC_OUTPUT_DIR/blob"
    outputs: {blob: bytes}
EOF_

# run_blob FILE: runs the pipeline, and writes the id of the run to FILE.
run_blob () {
	"$ZENC" run wf/blob.yaml >/dev/null 2>&1 &&
	"$ZENC" runs list --json >list.json &&
	test_json list.json 'd[0]["id"]' >"$1"
}

# blob_of RUN: the uri of the blob of RUN.
blob_of () {
	"$ZENC" runs show "$1" --json >b.json &&
	test_json b.json '[o["uri"] for s in d["steps"] for o in s["outputs"]][0]'
}

# reuse FROM TO: an artifact of run TO that points to the blob of run FROM,
# as a step taken from the cache records it.
reuse () {
	_uri=$(blob_of "$1") &&
	sqlite3 "$DB" "INSERT INTO artifacts (run_id, step, name, type, uri, size) VALUES ('$2', 'make', 'reused', 'bytes', '$_uri', 1048576)"
}

# space PATH...: the disk space of the files under each PATH (a file or
# a folder), in the units zenc prints: "512 B", "1.2 MiB".
space () {
	/usr/bin/python3 - "$@" <<-\PY
	import os, sys
	n = 0
	for p in sys.argv[1:]:
	    for root, dirs, files in os.walk(p) if os.path.isdir(p) else [("", [], [p])]:
	        for f in files:
	            n += os.lstat(os.path.join(root, f)).st_blocks * 512
	if n < 1024:
	    print("%d B" % n)
	else:
	    v, units = n / 1024.0, ["KiB", "MiB", "GiB", "TiB"]
	    u = 0
	    while v >= 1024 and u + 1 < len(units):
	        v /= 1024.0
	        u += 1
	    print("%.1f %s" % (v, units[u]))
	PY
}

test_expect_success 'set-up: the store is SQLite' '
	"$ZENC" run wf/blob.yaml >/dev/null 2>&1 &&
	test -f "$DB"
'

test_expect_success 'runs delete keeps an output that a later run reuses' '
	run_blob a.id && run_blob b.id &&
	a=$(cat a.id) && b=$(cat b.id) &&
	uri=$(blob_of "$a") &&
	dir_a=$(dirname "$(dirname "$uri")") &&
	reuse "$a" "$b" &&
	"$ZENC" runs delete "$a" >out &&
	test_grep "^Deleted run .*; freed .*; kept 1 output that other runs reuse\.$" out &&
	test -f "$uri" &&
	test ! -e "$dir_a/make/log.1" &&
	test "$(find "$dir_a" -type f)" = "$uri" &&
	"$ZENC" runs show "$b" --json >b.json &&
	test_grep "\"uri\": \"$uri\"" b.json
'

test_expect_success 'deleting the run that reused it removes it at last' '
	a=$(cat a.id) && b=$(cat b.id) &&
	uri=$(sqlite3 "$DB" "SELECT uri FROM artifacts WHERE run_id = '\''$b'\'' AND name = '\''reused'\''") &&
	test -f "$uri" &&
	own=$(blob_of "$b") &&
	freed=$(space "$(dirname "$(dirname "$own")")" "$uri") &&
	"$ZENC" runs delete "$b" >out &&
	test_grep "^Deleted run .*; freed $freed ([0-9]* files)\.$" out &&
	test ! -e "$uri" &&
	test ! -e "$own" &&
	test ! -e "$(dirname "$(dirname "$uri")")"
'

test_expect_success 'deleting a run that reused an output keeps it while the run that made it exists' '
	run_blob c.id && run_blob d.id &&
	c=$(cat c.id) && d=$(cat d.id) &&
	uri=$(blob_of "$c") &&
	own=$(blob_of "$d") &&
	reuse "$c" "$d" &&
	"$ZENC" runs delete "$d" >out &&
	test_grep "kept 1 output that other runs reuse" out &&
	test -f "$uri" &&
	test ! -e "$own" &&
	"$ZENC" runs show "$c" --json >c.json &&
	test_grep "\"uri\": \"$uri\"" c.json &&
	"$ZENC" runs delete "$c" >out &&
	test ! -e "$uri"
'

test_expect_success 'runs delete refuses a running run, and prune leaves it' '
	{ "$ZT" run --param work.sleep=4 >bg.out 2>bg.err & } &&
	test_register_pid $! &&
	i=0 &&
	until "$ZENC" runs list --json --status running >running.json &&
		test "$(test_json running.json "len(d)")" = 1; do
		i=$((i + 1)) && test "$i" -lt 100 && sleep 0.1 || exit 1
	done &&
	rid=$(test_json running.json "d[0][\"id\"]") &&
	test_must_fail "$ZENC" runs delete "$rid" 2>err &&
	test_grep "still running" err &&
	"$ZENC" runs prune --older-than 0s --dry-run >out &&
	test_grep ! "$rid" out &&
	"$ZENC" runs show "$rid" --json >r.json &&
	test "$(test_json r.json "d[\"status\"]")" = running &&
	i=0 &&
	until "$ZENC" runs show "$rid" --json >r.json &&
		test "$(test_json r.json "d[\"status\"]")" = completed; do
		i=$((i + 1)) && test "$i" -lt 200 && sleep 0.1 || exit 1
	done
'

test_expect_success 'prune --older-than spares recent runs' '
	"$ZENC" runs list --json >before.json &&
	"$ZENC" runs prune --older-than 1h >out &&
	test_grep "^Deleted 0 runs, freed 0 B (0 files)\.$" out &&
	"$ZENC" runs list --json >after.json &&
	test_cmp before.json after.json
'

test_expect_success 'prune --keep --dry-run lists what would go and removes nothing' '
	run_blob c.id && run_blob d.id && run_blob e.id &&
	find "$ZENC_DATA" -type f | sort >files.before &&
	c=$(cat c.id) &&
	freed=$(space "$(dirname "$(dirname "$(blob_of "$c")")")") &&
	"$ZENC" runs prune --keep 1 --dry-run >out &&
	test_grep "^Would delete run .*($c), blob, completed: $freed$" out &&
	test_grep "^Would delete run .*($(cat d.id)), blob" out &&
	test_grep ! "$(cat e.id)" out &&
	test_grep "^Would delete [0-9]* runs and free [0-9.]* MiB ([0-9]* files)\.$" out &&
	find "$ZENC_DATA" -type f | sort >files.after &&
	test_cmp files.before files.after
'

test_expect_success 'prune keeps the newest of each pipeline and a reused output' '
	c=$(cat c.id) && d=$(cat d.id) && e=$(cat e.id) &&
	reuse "$d" "$e" &&
	uri_c=$(blob_of "$c") && uri_d=$(blob_of "$d") && uri_e=$(blob_of "$e") &&
	"$ZENC" runs list --json --pipeline zt >zt.json &&
	zt=$(test_json zt.json "d[0][\"id\"]") &&
	"$ZENC" runs prune --older-than 0s --keep 1 >out &&
	test_grep "^Deleted run .*($c)" out &&
	test_grep "^Deleted run .*($d)" out &&
	test_grep "^Deleted [0-9]* runs, freed [0-9.]* MiB ([0-9]* files); kept 1 output that other runs reuse\.$" out &&
	test ! -e "$uri_c" &&
	test -f "$uri_d" &&
	test -f "$uri_e" &&
	"$ZENC" runs list --json >left.json &&
	test "$(test_json left.json "sorted(r[\"id\"] for r in d)")" = "$(printf "%s\n%s\n" "$e" "$zt" | /usr/bin/python3 -c "import sys, json; print(json.dumps(sorted(sys.stdin.read().split())))")"
'

test_expect_success 'prune: bad options get a clear error' '
	test_expect_code 2 "$ZENC" runs prune 2>err &&
	test_grep "give --older-than AGE, --keep N or both" err &&
	test_expect_code 2 "$ZENC" runs prune --older-than 3x 2>err &&
	test_grep "invalid age .3x." err &&
	test_expect_code 2 "$ZENC" runs prune --keep -1 2>err &&
	test_grep "invalid value .-1. for .--keep." err &&
	"$ZENC" runs prune --help >help &&
	test_grep "usage: zenc runs prune" help &&
	"$ZENC" runs delete --help >help &&
	test_grep "another run points to" help
'

test_expect_success 'with the step cache: an output a cached step reuses outlives the run that made it' '
	unset ZENC_CACHE &&
	sed -e "s/name: blob/name: cachedblob/" wf/blob.yaml >wf/cachedblob.yaml &&
	"$ZENC" run wf/cachedblob.yaml >/dev/null 2>&1 &&
	"$ZENC" runs list --json --pipeline cachedblob >cb.json &&
	made=$(test_json cb.json "d[0][\"id\"]") &&
	"$ZENC" run wf/cachedblob.yaml >/dev/null 2>&1 &&
	"$ZENC" runs list --json --pipeline cachedblob >cb.json &&
	reused=$(test_json cb.json "d[0][\"id\"]") &&
	test "$made" != "$reused" &&
	"$ZENC" runs show "$reused" --json >r.json &&
	test "$(test_json r.json "d[\"steps\"][0][\"status\"]")" = cached &&
	test "$(test_json r.json "d[\"steps\"][0][\"cached_from\"]")" = "$made" &&
	uri=$(blob_of "$made") &&
	test "$(blob_of "$reused")" = "$uri" &&
	test -f "$uri" &&
	"$ZENC" runs delete "$made" >out &&
	test_grep "kept 1 output that other runs reuse" out &&
	test -f "$uri" &&
	"$ZENC" runs delete "$reused" >out &&
	test ! -e "$uri"
'

test_done
