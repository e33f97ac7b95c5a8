#!/bin/sh
# shellcheck disable=SC2016 # bodies are single-quoted and eval-ed
# Logs and retention on a PostgreSQL store (pg.sh): the log of each
# attempt of a C step recorded and printed, `zenc runs delete` and
# `zenc runs prune` freeing the files of the runs they delete but an
# output another run points to.  The sharing a step taken from the cache
# records (the uri of the run that made the file) is made by hand here,
# with an artifact row inserted through psql.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/pg.sh"

ZT=$PROGRAMS/zt_pipeline
DSN="$PG_DSN password={{secret.pgpass}}"

mkdir -p wf
cat >wf/blob.yaml <<\EOF_
name: blob
steps:
  - name: make
    run: head -c 1048576 /dev/urandom >"$ZENC_OUTPUT_DIR/blob"
    outputs: {blob: bytes}
EOF_

# newest FILE: the id of the newest run into FILE.
newest () {
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
	pg_psql -d "$PG_DB" -c "INSERT INTO artifacts (run_id, step, name, type, uri, size) VALUES ('$2', 'make', 'reused', 'bytes', '$_uri', 1048576)"
}

test_expect_success 'set-up: a stack whose store is PostgreSQL' '
	printf "%s\n" "$PG_PASSWORD" | "$ZENC" secret set pgpass &&
	"$ZENC" metadata-store register pg --flavor postgres --dsn="$DSN" &&
	"$ZENC" stack register pgstack -m pg &&
	"$ZENC" stack set pgstack
'

if "$ZENC" runs list >/dev/null 2>"$TMP/.test/probe" ||
	! grep -q "built without PostgreSQL support" "$TMP/.test/probe"; then
	:
else
	test_skip_all "zenc was built without PostgreSQL support"
fi

test_expect_success 'the log of each attempt of a C step is recorded' '
	ZT_SAY_ATTEMPT=1 ZT_RETRY=1,0.1,1 "$ZT" run --param work.mode=flaky \
		--param work.fail_times=1 >out 2>err &&
	newest zt.id &&
	"$ZENC" runs logs "$(cat zt.id)" work --attempt 1 >a1 &&
	test_grep "^work prints on attempt 1$" a1 &&
	test_grep "^work warns on attempt 1$" a1 &&
	test_grep ! "attempt 2" a1 &&
	"$ZENC" runs logs "$(cat zt.id)" work --attempt 2 >a2 &&
	test_grep "^work warns on attempt 2$" a2 &&
	pg_psql -d "$PG_DB" -At -c "SELECT attempt, log_uri LIKE '\''%/work/log.'\'' || attempt FROM step_attempts WHERE step = '\''work'\'' ORDER BY attempt" >out &&
	printf "1|t\n2|t\n" >expect &&
	test_cmp expect out
'

test_expect_success 'runs delete keeps an output another run points to' '
	"$ZENC" run wf/blob.yaml >/dev/null 2>&1 && newest a.id &&
	"$ZENC" run wf/blob.yaml >/dev/null 2>&1 && newest b.id &&
	a=$(cat a.id) && b=$(cat b.id) &&
	uri=$(blob_of "$a") &&
	reuse "$a" "$b" &&
	"$ZENC" runs delete "$a" >out &&
	test_grep "kept 1 output that other runs reuse" out &&
	test -f "$uri" &&
	test ! -e "$(dirname "$uri")/log.1"
'

test_expect_success 'deleting the run that points to it keeps a file while its maker exists' '
	"$ZENC" run wf/blob.yaml >/dev/null 2>&1 && newest m.id &&
	"$ZENC" run wf/blob.yaml >/dev/null 2>&1 && newest r.id &&
	m=$(cat m.id) && r=$(cat r.id) &&
	uri=$(blob_of "$m") &&
	reuse "$m" "$r" &&
	"$ZENC" runs delete "$r" >out &&
	test_grep "kept 1 output that other runs reuse" out &&
	test -f "$uri" &&
	"$ZENC" runs delete "$m" >out &&
	test ! -e "$uri"
'

test_expect_success 'prune removes the older runs, and then the reused file' '
	a=$(cat a.id) && b=$(cat b.id) &&
	uri=$(pg_psql -d "$PG_DB" -At -c "SELECT uri FROM artifacts WHERE name = '\''reused'\''") &&
	own=$(blob_of "$b") &&
	"$ZENC" run wf/blob.yaml >/dev/null 2>&1 && newest c.id &&
	"$ZENC" runs prune --older-than 0s --keep 1 --dry-run >out &&
	test_grep "^Would delete run .*($b)" out &&
	test -f "$own" &&
	"$ZENC" runs prune --older-than 0s --keep 1 >out &&
	test_grep "^Deleted run .*($b), blob, completed: [0-9.]* MiB$" out &&
	test_grep "^Deleted 1 run, freed [0-9.]* MiB ([0-9]* files)\.$" out &&
	test ! -e "$uri" &&
	test ! -e "$own" &&
	test -f "$(blob_of "$(cat c.id)")" &&
	"$ZENC" runs show "$(cat zt.id)" >/dev/null
'

test_done
