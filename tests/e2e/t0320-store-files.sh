#!/bin/sh
# shellcheck disable=SC2016 # bodies are single-quoted and eval-ed
# The files of the local store hold parameters and logs: the SQLite
# database (and its WAL) is created 0600, its folder and the artifact
# folder 0700, whatever the umask; a store made with wider modes (by an
# older zenc) is tightened when it is next opened.
. "$(dirname "$0")/lib.sh"

ZENC_DATA=$TMP/fresh/data
export ZENC_DATA
umask 022

cat >p.yaml <<\EOF_
name: files
steps:
  - name: write
    run: echo 42 >"$ZENC_OUTPUT_DIR/n"
    outputs: {n: int}
EOF_

mode () {
	stat -c %a "$1"
}

test_expect_success 'a new store and artifact folder are the owner'"'"'s only' '
	"$ZENC" run p.yaml --run-name first >out 2>err &&
	test "$(mode "$ZENC_DATA")" = 700 &&
	test "$(mode "$ZENC_DATA/zenc.db")" = 600 &&
	for f in "$ZENC_DATA"/zenc.db-wal "$ZENC_DATA"/zenc.db-shm; do
		test ! -e "$f" || test "$(mode "$f")" = 600 || return 1
	done &&
	test "$(mode "$ZENC_DATA/artifacts")" = 700 &&
	id=$("$ZENC" runs show first --json | python3 -c "import json,sys; print(json.load(sys.stdin)[\"id\"])") &&
	test "$(mode "$ZENC_DATA/artifacts/$id")" = 700
'

test_expect_success 'an older store with wider modes is tightened' '
	"$ZENC" runs list >/dev/null &&
	chmod 644 "$ZENC_DATA/zenc.db" &&
	chmod 755 "$ZENC_DATA/artifacts" &&
	# Another process holds the database open, so that its WAL (made
	# with the wide mode) stays while zenc opens the store.
	python3 -c "
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute(\"PRAGMA journal_mode=WAL\")
c.execute(\"CREATE TABLE IF NOT EXISTS t0320 (x)\")
c.execute(\"INSERT INTO t0320 VALUES (1)\")
open(sys.argv[2], \"w\").close()
time.sleep(30)
" "$ZENC_DATA/zenc.db" holder.ready &
	test_register_pid $! &&
	i=0 &&
	while [ ! -e holder.ready ] && [ "$i" -lt 100 ]; do
		i=$((i + 1)); sleep 0.1
	done &&
	test "$(mode "$ZENC_DATA/zenc.db-wal")" = 644 &&
	"$ZENC" runs list >out &&
	test_grep first out &&
	test "$(mode "$ZENC_DATA/zenc.db")" = 600 &&
	test "$(mode "$ZENC_DATA/zenc.db-wal")" = 600 &&
	test "$(mode "$ZENC_DATA/zenc.db-shm")" = 600 &&
	"$ZENC" run p.yaml --run-name second >out 2>err &&
	test "$(mode "$ZENC_DATA/artifacts")" = 700
'

test_done
