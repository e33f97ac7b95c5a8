#!/bin/sh
# shellcheck disable=SC2016 # bodies are single-quoted and eval-ed
# Isolation process forks the steps from the zygote (src/lib/zygote.c), a
# process forked when the run starts: who the parent of a step is, what
# happens when the zygote dies in the middle of a run, and output a step
# prints just before it ends.
. "$(dirname "$0")/lib.sh"

ZT=$PROGRAMS/zt_pipeline
ZT_LOG=$TMP/hooks.log
export ZT_LOG

# wait_line PATTERN: waits (20 s at most) for a line of $ZT_LOG.
wait_line () {
	_wl_i=0
	until grep -q "$1" "$ZT_LOG" 2>/dev/null; do
		_wl_i=$((_wl_i + 1))
		[ "$_wl_i" -lt 200 ] || { echo "no line '$1' in $ZT_LOG" >&2; return 1; }
		sleep 0.1
	done
}

# field NAME LINE: the value of NAME=... in LINE.
field () {
	printf '%s\n' "$2" | sed -n "s/.* $1=\([0-9]*\).*/\1/p"
}

test_expect_success 'a step runs in a child of the zygote, itself a child of the run' '
	: >"$ZT_LOG" &&
	ZT_LOG_PIDS=1 "$ZT" run --param work.sleep=1 >out 2>err &
	run=$! &&
	wait_line "^work attempt=1 " &&
	line=$(grep "^work attempt=1 " "$ZT_LOG") &&
	zygote=$(field ppid "$line") &&
	test "$zygote" != "$run" &&
	test "$(ps -o ppid= -p "$zygote" | tr -d " ")" = "$run" &&
	wait "$run" &&
	last_run &&
	test "$(test_json run.json "d[\"status\"]")" = completed &&
	test_must_fail kill -0 "$zygote" 2>/dev/null
'

test_expect_success 'isolation none has no zygote: the step runs in the run itself' '
	: >"$ZT_LOG" &&
	ZT_LOG_PIDS=1 "$ZT" run --isolation none >out 2>err &&
	line=$(grep "^work attempt=1 " "$ZT_LOG") &&
	test "$(field pid "$line")" != "" &&
	last_run &&
	test "$(test_json run.json "d[\"status\"]")" = completed
'

test_expect_success 'the zygote killed mid-run: its step is reported killed and retried, the run goes on' '
	: >"$ZT_LOG" &&
	ZT_LOG_PIDS=1 ZT_RETRY=1,0,1 ZT_PIPELINE_HOOKS=1 "$ZT" run \
		--param work.sleep=1 >out 2>err &
	run=$! &&
	wait_line "^work attempt=1 " &&
	zygote=$(field ppid "$(grep "^work attempt=1 " "$ZT_LOG")") &&
	test "$zygote" != "$run" &&
	kill -KILL "$zygote" &&
	wait "$run" &&
	test_grep "the process that forks the steps is gone" err &&
	line2=$(grep "^work attempt=2 " "$ZT_LOG") &&
	test "$(field ppid "$line2")" = "$run" &&
	test_grep "^sink got 42$" "$ZT_LOG" &&
	last_run &&
	test "$(test_json run.json "d[\"status\"]")" = completed &&
	test "$(step attempts work)" = 2 &&
	test "$(test_json run.json "[a[\"error_type\"] for s in d[\"steps\"] if s[\"name\"] == \"work\" for a in s[\"attempt_history\"]]")" = "[\"Signal\", null]" &&
	test "$(step status sink)" = completed &&
	test "$(step status side)" = completed
'

test_expect_success 'what a step printed without a newline reaches stdout' '
	: >"$ZT_LOG" &&
	for i in 1 2 3 4 5; do
		ZT_SAY="hello $i" "$ZT" run --quiet >out.$i 2>err.$i &&
		test_grep "work says hello $i" out.$i || return 1
	done
'

test_done
