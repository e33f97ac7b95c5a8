#!/bin/sh
# shellcheck disable=SC2016 # bodies are single-quoted and eval-ed
# Interrupts and cancels: SIGINT to a run, or `zenc runs cancel`, under
# both isolations, for a C pipeline and a YAML one.  The run is recorded
# "cancelled" and the program exits 130; a running step that can be
# stopped fails with Cancelled and gets its failure hooks (never its retry
# hooks); a C step under isolation none finishes and is recorded as it
# ended; no step starts after the interrupt.
. "$(dirname "$0")/lib.sh"

ZT=$PROGRAMS/zt_pipeline
ZT_LOG=$TMP/hooks.log
export ZT_LOG

mkdir -p wf
cat >wf/slow.yaml <<\EOF_
name: napping
steps:
  - name: nap
    run: echo napping >"nap.started"; sleep 30
    retry: {max_retries: 2, delay: 100ms}
    on_failure: {run: 'echo "failure $ZENC_ERROR_TYPE" >>nap.hook'}
    on_retry: {run: 'echo "retry $ZENC_ERROR_TYPE" >>nap.hook'}
  - name: after
    after: [nap]
    run: echo ran >after.ran
EOF_

# wait_for CMD...: until CMD succeeds, 20 s at most.
wait_for () {
	_wf_i=0
	until "$@" 2>/dev/null; do
		_wf_i=$((_wf_i + 1))
		[ "$_wf_i" -lt 200 ] || { echo "gave up waiting for: $*" >&2; return 1; }
		sleep 0.1
	done
}

running_id () {
	"$ZENC" runs list --status running --json >running.json &&
	id=$(test_json running.json 'd[0]["id"] if d else ""') &&
	test -n "$id" && echo "$id"
}

# stop HOW PID: SIGINT to PID, or `zenc runs cancel` of the run running.
stop () {
	case $1 in
	int) kill -INT "$2" ;;
	cancel)
		wait_for running_id >/dev/null &&
		"$ZENC" runs cancel "$(running_id)" >cancel.out &&
		test_grep "Sent SIGTERM to process $2 " cancel.out
		;;
	esac
}

# The run the last test stopped: cancelled, and listed as such.
check_cancelled () {
	last_run &&
	test "$(test_json run.json "d[\"status\"]")" = cancelled &&
	"$ZENC" runs list --status cancelled --json >c.json &&
	test "$(test_json c.json "[r[\"id\"] for r in d][0]")" = "$id" &&
	"$ZENC" runs list --status cancelled >c.txt &&
	test_grep cancelled c.txt
}

for how in int cancel; do
	test_expect_success "C pipeline, isolation process, $how: the step is Cancelled, its failure hook fires" '
		: >"$ZT_LOG" || return 1
		ZT_LOG_PIDS=1 ZT_STEP_FAILURE_HOOK=1 ZT_RETRY=2,0,1 \
			"$ZT" run --param work.sleep=30 >out 2>err &
		run=$! &&
		test_register_pid $run &&
		wait_for grep -q "^work attempt=1 " "$ZT_LOG" &&
		stop '$how' $run &&
		rc=0 && wait $run || rc=$? &&
		test "$rc" = 130 &&
		test_grep "^on_failure s_failure work attempt=1 err=Cancelled:the run was interrupted" "$ZT_LOG" &&
		test_grep ! "^work attempt=2" "$ZT_LOG" &&
		test_grep ! "^sink got" "$ZT_LOG" &&
		check_cancelled &&
		test "$(step_field run.json work status)" = failed &&
		test "$(step_field run.json work error_type)" = Cancelled &&
		test "$(step_field run.json work attempts)" = 1 &&
		test "$(step_field run.json sink status)" = skipped
	'

	test_expect_success "C pipeline, isolation none, $how: the step finishes, nothing new starts" '
		: >"$ZT_LOG" || return 1
		ZT_LOG_PIDS=1 ZT_STEP_FAILURE_HOOK=1 \
			"$ZT" run --isolation none --param work.sleep=30 >out 2>err &
		run=$! &&
		test_register_pid $run &&
		wait_for grep -q "^work attempt=1 " "$ZT_LOG" &&
		stop '$how' $run &&
		rc=0 && wait $run || rc=$? &&
		test "$rc" = 130 &&
		test_grep ! "^sink got" "$ZT_LOG" &&
		test_grep ! "^side ran" "$ZT_LOG" &&
		check_cancelled &&
		test "$(step_field run.json work status)" = completed &&
		test "$(step_field run.json sink status)" = skipped &&
		test "$(step_field run.json side status)" = skipped
	'

	for iso in process none; do
		test_expect_success "YAML pipeline, isolation $iso, $how: the command is Cancelled, no retry" '
			rm -f wf/nap.started wf/nap.hook wf/after.ran || return 1
			(cd wf && exec "$ZENC" run slow.yaml --isolation '$iso') >out 2>err &
			run=$! &&
			test_register_pid $run &&
			wait_for test -f wf/nap.started &&
			stop '$how' $run &&
			rc=0 && wait $run || rc=$? &&
			test "$rc" = 130 &&
			test "$(cat wf/nap.hook)" = "failure Cancelled" &&
			test ! -e wf/after.ran &&
			check_cancelled &&
			test "$(step_field run.json nap error_type)" = Cancelled &&
			test "$(step_field run.json nap attempts)" = 1 &&
			test "$(step_field run.json after status)" = skipped
		'
	done
done

test_expect_success 'an unknown status is refused; cancelled is known' '
	test_expect_code 2 "$ZENC" runs list --status canceled 2>err &&
	test_grep "cancelled" err
'

test_done
