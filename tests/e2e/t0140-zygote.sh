#!/bin/sh
# shellcheck disable=SC2016 # bodies are single-quoted and eval-ed
# Isolation process forks the steps from the zygote (src/lib/engine/zygote.c), a
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
	: >"$ZT_LOG" || return 1
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
	: >"$ZT_LOG" || return 1
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

# interrupt SIGNAL TARGET: runs the pipeline in a session of its own with
# "work" sleeping, waits for it to start, sends SIGNAL to TARGET ("run":
# the pipeline program; "group": its whole process group, as Ctrl-C in a
# terminal does) and checks what a user would: work gets
# its failure hook with Cancelled, sink is skipped, the run is cancelled
# (exit status 130), and nothing of the run is left running.
interrupt () {
	: >"$ZT_LOG" || return 1
	ZT_LOG_PIDS=1 ZT_PIPELINE_HOOKS=1 setsid "$ZT" run \
		--param work.sleep=30 >out 2>err &
	run=$! &&
	wait_line "^work attempt=1 " &&
	zygote=$(field ppid "$(grep "^work attempt=1 " "$ZT_LOG")") &&
	step=$(field pid "$(grep "^work attempt=1 " "$ZT_LOG")") &&
	case $2 in
	run) kill -"$1" "$run" ;;
	group) kill -"$1" -"$run" ;;
	esac &&
	rc=0 && wait "$run" || rc=$? &&
	test "$rc" = 130 &&
	test_grep "^on_failure p_failure work attempt=1 err=Cancelled:the run was interrupted" "$ZT_LOG" &&
	last_run &&
	test "$(test_json run.json "d[\"status\"]")" = cancelled &&
	test "$(step error_type work)" = Cancelled &&
	test "$(step status sink)" = skipped &&
	_i=0 &&
	while kill -0 "$zygote" 2>/dev/null || kill -0 "$step" 2>/dev/null; do
		_i=$((_i + 1)) &&
		test "$_i" -lt 50 || { echo "zygote $zygote or step $step still running" >&2; return 1; }
		sleep 0.1
	done
}

test_expect_success 'SIGINT to the run stops the step the zygote started; hooks fire, nothing is left' '
	interrupt INT run
'

test_expect_success 'SIGINT to the whole process group (Ctrl-C) does the same' '
	interrupt INT group
'

test_expect_success 'SIGTERM to the run does the same' '
	interrupt TERM run
'

test_expect_success 'what a step printed without a newline reaches stdout' '
	: >"$ZT_LOG" &&
	for i in 1 2 3 4 5; do
		ZT_SAY="hello $i" "$ZT" run --quiet >out.$i 2>err.$i &&
		test_grep "work says hello $i" out.$i || return 1
	done
'

# The zygote copies the code of the C library and of libzenc into memory
# of its own for a run of 32 steps or more, once the first step is on its
# way: the later steps find it there, not mapped from the files.
test_expect_success 'a run of 32 steps or more: its steps run code the zygote copied' '
	rm -f maps &&
	ZT_CHAIN_STEPS=40 ZT_CHAIN_MAPS="$PWD/maps" "$PROGRAMS/zt_chain" run -q &&
	test "$(wc -l <maps)" = 40 &&
	test_grep "^s0001 libc=/.* zenc=/" maps &&
	test_grep "^s0040 libc=anon zenc=anon$" maps
'

test_expect_success 'ZENC_NO_CODE_COPY=1, or fewer than 32 steps: no copy' '
	rm -f maps &&
	ZENC_NO_CODE_COPY=1 ZT_CHAIN_STEPS=40 ZT_CHAIN_MAPS="$PWD/maps" \
		"$PROGRAMS/zt_chain" run -q &&
	test_grep "^s0040 libc=/.* zenc=/" maps &&
	rm maps &&
	ZT_CHAIN_STEPS=31 ZT_CHAIN_MAPS="$PWD/maps" "$PROGRAMS/zt_chain" run -q &&
	test "$(wc -l <maps)" = 31 &&
	test_must_fail grep -q anon maps
'

test_done
