#!/bin/sh
# shellcheck disable=SC2016 # bodies are single-quoted and eval-ed
# No record is ever dropped: while another process holds the SQLite
# store's write lock for longer than the store waits for it (10 s), the
# steps that end and the end of the run are recorded once the lock is
# released; and a finished run that has a step left "running" (its end
# record lost) is repaired the next time the store is opened.
. "$(dirname "$0")/lib.sh"

ZT=$PROGRAMS/zt_pipeline
ZT_LOG=$TMP/hooks.log
export ZT_LOG
DB=$ZENC_DATA/zenc.db

# wait_for CMD...: until CMD succeeds, 30 s at most.
wait_for () {
	_wf_i=0
	until "$@" 2>/dev/null; do
		_wf_i=$((_wf_i + 1))
		[ "$_wf_i" -lt 300 ] || { echo "gave up waiting for: $*" >&2; return 1; }
		sleep 0.1
	done
}

# hold_lock SECONDS: another process takes the store's write lock, says
# so in $TMP/locked, keeps it SECONDS and then commits.
hold_lock () {
	rm -f "$TMP/locked" &&
	python3 -c '
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
db.execute("BEGIN IMMEDIATE")
open(sys.argv[2], "w").close()
time.sleep(float(sys.argv[3]))
db.execute("COMMIT")
' "$DB" "$TMP/locked" "$1" &
	lock_pid=$! &&
	test_register_pid $lock_pid &&
	wait_for test -f "$TMP/locked"
}

test_expect_success 'the store exists' '
	"$ZT" run -q &&
	test -f "$DB"
'

# The first step waits until the lock is held, so that every record after
# its start meets the lock: its end, the two steps after it, the run's end.
mkdir -p wf
cat >wf/locked.yaml <<\EOF_
name: locked
steps:
  - name: first
    run: while [ ! -f "$LOCKED" ]; do sleep 0.1; done
  - name: second
    after: [first]
    run: echo second >second.out
  - name: third
    after: [second]
    run: echo third >third.out
EOF_

for iso in process none; do
	test_expect_success "a write lock held 15 s loses nothing (isolation $iso)" '
		rm -f wf/second.out wf/third.out &&
		LOCKED=$TMP/locked &&
		export LOCKED &&
		rm -f "$LOCKED" || return 1
		(cd wf && exec "$ZENC" run locked.yaml --isolation '$iso') >out 2>err &
		run=$! &&
		test_register_pid $run &&
		hold_lock 15 &&
		start=$(date +%s) &&
		wait $run &&
		test $(($(date +%s) - start)) -ge 10 &&
		wait $lock_pid &&
		test_grep "still trying to record" err &&
		test_grep ! "could not record" err &&
		test -f wf/third.out &&
		last_run &&
		test "$(test_json run.json "d[\"status\"]")" = completed &&
		test "$(test_json run.json "[s[\"status\"] for s in d[\"steps\"]]")" = "[\"completed\", \"completed\", \"completed\"]" &&
		test "$(test_json run.json "[len(s[\"attempt_history\"]) for s in d[\"steps\"]]")" = "[1, 1, 1]"
	'
done

test_expect_success 'a finished run with a step left running is repaired on the next open' '
	"$ZT" run -q --run-name repaired &&
	python3 -c "
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute(\"UPDATE step_runs SET status = ? WHERE name = ? AND run_id = (SELECT id FROM runs WHERE name = ?)\", (\"running\", \"sink\", \"repaired\"))
db.commit()
n = db.execute(\"SELECT count(*) FROM step_runs WHERE status = ?\", (\"running\",)).fetchone()[0]
assert n == 1, n
" "$DB" &&
	"$ZENC" runs show repaired --json >run.json &&
	test "$(test_json run.json "d[\"status\"]")" = completed &&
	test "$(step_field run.json sink status)" = failed &&
	test "$(step_field run.json sink error_type)" = Lost &&
	test "$(step_field run.json work status)" = completed
'

test_expect_success 'a step running in a run that still runs is left alone' '
	sleep 60 &
	live=$! &&
	test_register_pid $live &&
	"$ZT" run -q --run-name live &&
	python3 -c "
import socket, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute(\"UPDATE runs SET status = ?, pid = ?, host = ? WHERE name = ?\", (\"running\", int(sys.argv[2]), socket.gethostname(), \"live\"))
db.execute(\"UPDATE step_runs SET status = ? WHERE name = ? AND run_id = (SELECT id FROM runs WHERE name = ?)\", (\"running\", \"sink\", \"live\"))
db.commit()
" "$DB" "$live" &&
	"$ZENC" runs show live --json >run.json &&
	test "$(test_json run.json "d[\"status\"]")" = running &&
	test "$(step_field run.json sink status)" = running &&
	kill $live
'

test_done
