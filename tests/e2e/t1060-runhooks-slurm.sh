#!/bin/sh
# shellcheck disable=SC2016 # bodies are single-quoted and eval-ed
# Run-scope hooks on the Slurm orchestrator (docs/hooks.md, "Init and
# cleanup hooks"; docs/slurm.md): on_run_start / on_run_end once per run,
# in the client (or, with --detach, in the job that ends the run); on_init
# / on_cleanup once in each job that runs a step, whose step reads that
# job's state, recorded under the job's step; `zenc runs hooks` lists
# them all.  C and YAML pipelines.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/slurm.sh"

ZT=$PROGRAMS/zt_runhooks
ZT_LOG=$TMP/hooks.log
export ZT_LOG

count () {
	grep -c -- "$1" "$ZT_LOG"
}

hooks_of () {
	"$ZENC" runs hooks "$@" --json >hooks.json
}

# by_event EVENT: "step:status ..." of the hook runs of EVENT in
# hooks.json, sorted.
by_event () {
	test_json hooks.json "\" \".join(sorted(\"%s:%s\" % (h[\"step\"] or \"-\", h[\"status\"]) for h in d if h[\"event\"] == \"$1\"))"
}

test_expect_success 'a slurm stack is set up (single node)' '
	"$ZENC" orchestrator register sl --flavor slurm --single_node=true \
		--poll_interval=0.2 &&
	"$ZENC" artifact-store register art --flavor local --path="$TMP/art" &&
	"$ZENC" stack register sl -o sl -a art &&
	"$ZENC" stack set sl
'

test_expect_success 'C: on_init and on_cleanup once per job, start and end once per run' '
	: >"$ZT_LOG" &&
	"$ZT" run >out 2>&1 &&
	test_grep "^Step b submitted as Slurm job" out &&
	test "$(count "^init arg=ARG ")" = 3 &&
	test "$(count "^cleanup ")" = 3 &&
	test "$(count "^run_start state=none ")" = 1 &&
	test "$(count "^run_end failed=0 cancelled=0$")" = 1 &&
	test "$(sed -n "s/^init arg=ARG pid=//p" "$ZT_LOG" | sort -u | wc -l)" = 3 &&
	for s in a b c; do
		st=$(sed -n "s/^step $s state=//p" "$ZT_LOG") &&
		test "$(count "^init arg=ARG pid=${st#state-}$")" = 1 &&
		test "$(count "^hook $s state=$st$")" = 1 &&
		test "$(count "^cleanup state=$st ")" = 1 || return 1
	done &&
	last_run &&
	test "$(test_json run.json "d[\"status\"]")" = completed &&
	hooks_of "$id" &&
	test "$(by_event on_init)" = "a:completed b:completed c:completed" &&
	test "$(by_event on_cleanup)" = "a:completed b:completed c:completed" &&
	test "$(by_event on_run_start)" = "-:completed" &&
	test "$(by_event on_run_end)" = "-:completed" &&
	test "$(test_json hooks.json "d[0][\"event\"]")" = on_run_start &&
	test "$(test_json hooks.json "d[-1][\"event\"]")" = on_run_end &&
	test "$(test_json hooks.json "[h[\"attempt\"] for h in d if h[\"event\"] == \"on_init\"]")" = "[1, 1, 1]" &&
	"$ZENC" runs hooks "$id" --type on_init >init.txt &&
	test "$(grep -c "^on_init  *[a-z_]*  *[abc]  *1  *completed " init.txt)" = 3
'

test_expect_success 'C: on_run_end fires once on a failed run; the jobs that ran cleaned up' '
	: >"$ZT_LOG" &&
	test_expect_code 1 env ZT_FAIL=b "$ZT" run >out 2>&1 &&
	test "$(count "^step c ")" = 0 &&
	test "$(count "^init ")" = 2 &&
	test "$(count "^cleanup ")" = 2 &&
	test "$(count "^run_failure$")" = 1 &&
	test "$(count "^run_end failed=1 cancelled=0$")" = 1 &&
	last_run &&
	test "$(test_json run.json "d[\"status\"]")" = failed &&
	test "$(step error_type b)" = ValueError &&
	hooks_of "$id" &&
	test "$(by_event on_init)" = "a:completed b:completed" &&
	test "$(by_event on_run_end)" = "-:completed"
'

test_expect_success 'C: a failing on_init fails the step of its job with InitFailed' '
	: >"$ZT_LOG" &&
	test_expect_code 1 env ZT_INIT_FAIL=1 "$ZT" run >out 2>&1 &&
	test "$(count "^step ")" = 0 &&
	test "$(count "^init ")" = 1 &&
	test "$(count "^run_end failed=1 cancelled=0$")" = 1 &&
	last_run &&
	test "$(test_json run.json "d[\"status\"]")" = failed &&
	test "$(step status a)" = failed &&
	test "$(step error_type a)" = InitFailed &&
	step error_message a >msg &&
	test_grep "^on_init hook .[a-z_]*. failed: InitError: no database$" msg &&
	hooks_of "$id" --type on_init &&
	test "$(by_event on_init)" = "a:failed"
'

test_expect_success 'C, --detach: the job that ends the run fires on_run_end' '
	: >"$ZT_LOG" &&
	"$ZT" run --detach >out 2>&1 &&
	id=$(sed -n "s/.*(id \([0-9a-f-]*\)).*/\1/p" out) &&
	test_grep "ends the run" out &&
	i=0 &&
	while "$ZENC" runs show "$id" --json >run.json &&
	      test "$(test_json run.json "d[\"status\"]")" = running; do
		i=$((i + 1)) && test $i -lt 300 || { echo "the run did not end"; return 1; }
		sleep 0.1
	done &&
	test "$(test_json run.json "d[\"status\"]")" = completed &&
	test "$(count "^run_start ")" = 1 &&
	test "$(count "^run_end failed=0 cancelled=0$")" = 1 &&
	test "$(count "^init ")" = 3 &&
	test "$(count "^cleanup ")" = 3 &&
	hooks_of "$id" &&
	test "$(by_event on_run_end)" = "-:completed" &&
	test "$(by_event on_cleanup)" = "a:completed b:completed c:completed"
'

mkdir -p wf
cat >wf/rh.yaml <<\EOF_
name: yrunhooks
on_init: {run: 'echo "init $$" >>"$ZT_LOG"; echo "ystate-$$" >"$ZENC_INIT_STATE_FILE"'}
on_cleanup: {run: 'echo "cleanup $ZENC_INIT_STATE" >>"$ZT_LOG"'}
on_run_start: {run: 'echo "run_start" >>"$ZT_LOG"'}
on_run_end: {run: 'echo "run_end $ZENC_STATUS" >>"$ZT_LOG"'}
steps:
  - name: one
    run: echo "step one $ZENC_INIT_STATE" >>"$ZT_LOG"
  - name: two
    after: [one]
    run: echo "step two $ZENC_INIT_STATE" >>"$ZT_LOG"; test -z "$YFAIL"
EOF_

test_expect_success 'YAML: init and cleanup commands once per job; the job state reaches its step' '
	: >"$ZT_LOG" &&
	"$ZENC" run wf/rh.yaml >out 2>&1 &&
	test "$(count "^init ")" = 2 &&
	test "$(count "^cleanup ystate-")" = 2 &&
	test "$(count "^run_start$")" = 1 &&
	test "$(count "^run_end completed$")" = 1 &&
	for s in one two; do
		st=$(sed -n "s/^step $s //p" "$ZT_LOG") &&
		test "$(count "^init ${st#ystate-}$")" = 1 &&
		test "$(count "^cleanup $st$")" = 1 || return 1
	done &&
	last_run &&
	hooks_of "$id" &&
	test "$(by_event on_init)" = "one:completed two:completed" &&
	test "$(by_event on_run_end)" = "-:completed"
'

test_expect_success 'YAML: on_run_end fires on a failed run' '
	: >"$ZT_LOG" &&
	test_expect_code 1 env YFAIL=1 "$ZENC" run wf/rh.yaml >out 2>&1 &&
	test "$(count "^run_end failed$")" = 1 &&
	test "$(count "^cleanup ")" = 2 &&
	last_run &&
	test "$(test_json run.json "d[\"status\"]")" = failed
'

test_done
