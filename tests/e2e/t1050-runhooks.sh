#!/bin/sh
# shellcheck disable=SC2016 # bodies are single-quoted and eval-ed
# Run-scope hooks on the local orchestrator (docs/hooks.md, "Run-scope
# hooks", "Init and cleanup hooks"): on_run_start / on_run_end once per
# run, on_run_end on failed and cancelled runs too, on_init / on_cleanup
# once per pipeline program under every isolation, the init state read by
# steps and hooks, failing run-scope hooks, YAML commands, and `zenc runs
# hooks` listing all of it.
. "$(dirname "$0")/lib.sh"

ZT=$PROGRAMS/zt_runhooks
ZT_LOG=$TMP/hooks.log
export ZT_LOG

# count PATTERN: how many lines of $ZT_LOG match.
count () {
	grep -c -- "$1" "$ZT_LOG"
}

# hooks_of ID [--type EVENT]: `zenc runs hooks --json` into hooks.json.
hooks_of () {
	"$ZENC" runs hooks "$@" --json >hooks.json
}

# events: the events of hooks.json, one line, in order.
events () {
	test_json hooks.json '" ".join(h["event"] for h in d)'
}

for mode in process nozygote none; do
	case $mode in
	process) opts="--isolation process" envs="" ;;
	nozygote) opts="--isolation process" envs="ZENC_NO_ZYGOTE=1" ;;
	none) opts="--isolation none" envs="" ;;
	esac

test_expect_success "$mode: init, start, end and cleanup fire once each; steps read the state" '
	: >"$ZT_LOG" &&
	env $envs "$ZT" run $opts >out 2>&1 &&
	test "$(count "^init arg=ARG ")" = 1 &&
	test "$(count "^run_start ")" = 1 &&
	test "$(count "^run_end failed=0 cancelled=0$")" = 1 &&
	test "$(count "^cleanup ")" = 1 &&
	test "$(count "^run_failure")" = 0 &&
	ipid=$(sed -n "s/^init arg=ARG pid=//p" "$ZT_LOG") &&
	test "$(count "^step [abc] state=state-$ipid$")" = 3 &&
	test "$(count "^hook [abc] state=state-$ipid$")" = 3 &&
	test "$(count "^run_start state=state-$ipid ")" = 1 &&
	test "$(count "^cleanup state=state-$ipid ")" = 1 &&
	last_run &&
	test "$(test_json run.json "d[\"status\"]")" = completed &&
	hooks_of "$id" &&
	test "$(events)" = "on_init on_run_start on_success on_success on_success on_run_end on_cleanup" &&
	test "$(test_json hooks.json "sorted(set(h[\"status\"] for h in d))")" = "[\"completed\"]" &&
	test "$(test_json hooks.json "[h[\"step\"] for h in d if h[\"event\"] != \"on_success\"]")" = "[null, null, null, null]" &&
	test "$(test_json run.json "len(d[\"run_hooks\"])")" = 4
'

test_expect_success "$mode: on_run_end fires on a failed run, after on_run_failure, then on_cleanup" '
	: >"$ZT_LOG" &&
	test_expect_code 1 env $envs ZT_FAIL=b "$ZT" run $opts >out 2>&1 &&
	test "$(count "^step c ")" = 0 &&
	test "$(count "^init ")" = 1 &&
	test "$(count "^run_failure$")" = 1 &&
	test "$(count "^run_end failed=1 cancelled=0$")" = 1 &&
	test "$(count "^cleanup ")" = 1 &&
	test "$(sed -n "/^run_failure/=" "$ZT_LOG")" -lt "$(sed -n "/^run_end/=" "$ZT_LOG")" &&
	test "$(sed -n "/^run_end/=" "$ZT_LOG")" -lt "$(sed -n "/^cleanup/=" "$ZT_LOG")" &&
	last_run &&
	test "$(test_json run.json "d[\"status\"]")" = failed &&
	test "$(step status b)" = failed &&
	test "$(step error_type b)" = ValueError &&
	test "$(step status c)" = skipped &&
	hooks_of "$id" &&
	test "$(events)" = "on_init on_run_start on_success on_run_failure on_run_end on_cleanup"
'

done

test_expect_success 'a failing on_run_end hook is recorded and changes nothing else' '
	: >"$ZT_LOG" &&
	ZT_END_FAIL=1 "$ZT" run >out 2>&1 &&
	test_grep "Hook on_run_end run_end for the run failed: EndError: end hook failed" out &&
	last_run &&
	test "$(test_json run.json "d[\"status\"]")" = completed &&
	test "$(step status c)" = completed &&
	hooks_of "$id" --type on_run_end &&
	test "$(test_json hooks.json "len(d)")" = 1 &&
	test "$(test_json hooks.json "d[0][\"status\"]")" = failed &&
	test "$(test_json hooks.json "d[0][\"error\"]")" = "EndError: end hook failed" &&
	test "$(count "^cleanup ")" = 1
'

test_expect_success 'a failing on_run_end hook does not hide the failure of the run' '
	: >"$ZT_LOG" &&
	test_expect_code 1 env ZT_END_FAIL=1 ZT_FAIL=a "$ZT" run >out 2>&1 &&
	last_run &&
	test "$(test_json run.json "d[\"status\"]")" = failed &&
	test "$(step error_type a)" = ValueError &&
	test "$(step error_message a)" = "step a failed"
'

test_expect_success 'a failing on_run_start hook is recorded; the run goes on' '
	: >"$ZT_LOG" &&
	ZT_START_FAIL=1 "$ZT" run >out 2>&1 &&
	test "$(count "^step [abc] ")" = 3 &&
	last_run &&
	test "$(test_json run.json "d[\"status\"]")" = completed &&
	hooks_of "$id" --type on_run_start &&
	test "$(test_json hooks.json "d[0][\"status\"]")" = failed &&
	test "$(test_json hooks.json "d[0][\"error\"]")" = "StartError: start hook failed"
'

test_expect_success 'a failing on_init hook fails the run before any step; end and cleanup still fire' '
	: >"$ZT_LOG" &&
	test_expect_code 1 env ZT_INIT_FAIL=1 "$ZT" run >out 2>&1 &&
	test_grep "on_init hook .[a-z_]*. failed: InitError: no database: the run fails before any step" out &&
	test "$(count "^step ")" = 0 &&
	test "$(count "^run_end failed=1 cancelled=0$")" = 1 &&
	test "$(count "^cleanup state=none ")" = 1 &&
	last_run &&
	test "$(test_json run.json "d[\"status\"]")" = failed &&
	test "$(step status a)" = skipped &&
	test "$(step status c)" = skipped &&
	hooks_of "$id" &&
	test "$(events)" = "on_init on_run_start on_run_failure on_run_end on_cleanup" &&
	test "$(test_json hooks.json "d[0][\"status\"]")" = failed &&
	test "$(test_json hooks.json "d[0][\"error\"]")" = "InitError: no database"
'

test_expect_success 'an on_init hook past its deadline stops the run; its watcher settles it' '
	printf "hook_timeout: 1s\n" >short.yaml &&
	: >"$ZT_LOG" &&
	start=$(date +%s) &&
	rc=0 &&
	{ ZT_INIT_HANG=1 "$ZT" run --config short.yaml >out 2>&1 || rc=$?; } &&
	test "$rc" = 137 &&
	test $(($(date +%s) - start)) -lt 20 &&
	test_grep "the on_init hooks ran past their deadline (2s in all): stopping the run" out &&
	test "$(count "^step ")" = 0 &&
	i=0 &&
	while last_run && test "$(test_json run.json "d[\"status\"]")" = running; do
		i=$((i + 1)) && test $i -lt 300 || { echo "the run was not settled"; return 1; }
		sleep 0.1
	done &&
	test "$(test_json run.json "d[\"status\"]")" = failed &&
	hooks_of "$id" --type on_run_end &&
	test "$(test_json hooks.json "[h[\"status\"] for h in d]")" = "[\"skipped\"]"
'

test_expect_success 'on_run_end and on_cleanup fire on a cancelled run' '
	: >"$ZT_LOG" &&
	{ ZT_SLEEP=b "$ZT" run >out 2>&1 & } &&
	run=$! &&
	test_register_pid $run &&
	i=0 &&
	until grep -q "^sleeping b" "$ZT_LOG" 2>/dev/null; do
		i=$((i + 1)) && test $i -lt 200 && sleep 0.1 || break
	done &&
	kill -TERM $run &&
	rc=0 &&
	{ wait $run || rc=$?; } &&
	test "$rc" = 130 &&
	test "$(count "^run_end failed=1 cancelled=1$")" = 1 &&
	test "$(count "^cleanup ")" = 1 &&
	test "$(count "^step c ")" = 0 &&
	last_run &&
	test "$(test_json run.json "d[\"status\"]")" = cancelled &&
	hooks_of "$id" --type on_run_end &&
	test "$(test_json hooks.json "d[0][\"status\"]")" = completed
'

test_expect_success 'zenc runs hooks: text, --type, usage errors, --help' '
	test_expect_code 1 env ZT_FAIL=b "$ZT" run >out 2>&1 &&
	last_run &&
	"$ZENC" runs hooks "$id" >hooks.txt &&
	test_grep "^EVENT  *HOOK  *STEP  *ATTEMPT  *STATUS  *DURATION  *ERROR$" hooks.txt &&
	test_grep "^on_init  *[a-z_]*  *-  *-  *completed " hooks.txt &&
	test_grep "^on_success  *step_hook  *a  *1  *completed " hooks.txt &&
	test_grep "^on_run_failure  *run_failure  *-  *-  *completed " hooks.txt &&
	test "$(wc -l <hooks.txt)" = 7 &&
	"$ZENC" runs hooks "$id" --type on_cleanup >one.txt &&
	test "$(wc -l <one.txt)" = 2 &&
	"$ZENC" runs hooks "$id" --type on_retry >none.txt &&
	test_grep "^No hook runs.$" none.txt &&
	hooks_of "$id" --type on_retry &&
	test "$(test_json hooks.json "d")" = "[]" &&
	test_expect_code 2 "$ZENC" runs hooks "$id" --type on_bogus 2>err &&
	test_grep "unknown hook event .on_bogus." err &&
	test_expect_code 2 "$ZENC" runs hooks 2>err &&
	test_grep "needs a run id or name" err &&
	test_expect_code 2 "$ZENC" runs hooks "$id" --frob 2>err &&
	test_must_fail "$ZENC" runs hooks no-such-run 2>err &&
	"$ZENC" runs report "$id" -o report.html &&
	sed -n "/<h2>Run hooks<\/h2>/,/<\/table>/p" report.html >run_hooks.html &&
	for e in on_init on_run_start on_run_failure on_run_end on_cleanup; do
		test_grep "<td>$e</td>" run_hooks.html || return 1
	done &&
	"$ZENC" runs hooks --help >help &&
	test_grep "^usage: zenc runs hooks RUN" help &&
	"$ZENC" runs --help >help &&
	test_grep "zenc runs hooks RUN" help
'

test_expect_success 'a run configuration file replaces the run-scope hooks of the program' '
	cat >cfg.yaml <<-\EOF_ &&
	on_init: {run: "echo cfg_init >>\"$ZT_LOG\"; echo cfgstate >\"$ZENC_INIT_STATE_FILE\"", name: cfg_init}
	on_run_end: {run: "echo cfg_end $ZENC_STATUS >>\"$ZT_LOG\"", name: cfg_end}
	EOF_
	: >"$ZT_LOG" &&
	"$ZT" run --config cfg.yaml >out 2>&1 &&
	test "$(count "^cfg_init$")" = 1 &&
	test "$(count "^init ")" = 0 &&
	test "$(count "^step [abc] state=cfgstate$")" = 3 &&
	test "$(count "^cfg_end completed$")" = 1 &&
	test "$(count "^run_end ")" = 0 &&
	test "$(count "^cleanup state=cfgstate ")" = 1 &&
	last_run &&
	hooks_of "$id" &&
	test "$(events)" = "on_init on_run_start on_success on_success on_success on_run_end on_cleanup" &&
	test "$(test_json hooks.json "[h[\"hook\"] for h in d if h[\"step\"] is None]")" = "[\"cfg_init\", \"run_start\", \"cfg_end\", \"on_cleanup\"]"
'

mkdir -p wf
# A built-in hook keeps the steps in threads, with a zygote for the hook.
cat >wf/rh.yaml <<\EOF_
name: yrunhooks
on_failure: alerter_failure_hook
on_init:
  run: 'echo "init $$" >>"$ZT_LOG"; printf "ystate-%s\n" $$ >"$ZENC_INIT_STATE_FILE"'
on_cleanup: {run: 'echo "cleanup $ZENC_INIT_STATE" >>"$ZT_LOG"'}
on_run_start: {run: 'echo "run_start $ZENC_HOOK_EVENT $ZENC_INIT_STATE" >>"$ZT_LOG"'}
on_run_end:
  - run: 'echo "run_end $ZENC_STATUS" >>"$ZT_LOG"'
  - {run: 'exit 3', timeout: 5s}
steps:
  - name: one
    run: echo "step one $ZENC_INIT_STATE" >>"$ZT_LOG"
    on_success: {run: 'echo "hook one $ZENC_INIT_STATE" >>"$ZT_LOG"'}
  - name: two
    after: [one]
    run: echo "step two $ZENC_INIT_STATE" >>"$ZT_LOG"; test -z "$YFAIL"
EOF_

for iso in process none; do

test_expect_success "YAML, $iso: command run-scope hooks fire once each; steps read the state" '
	: >"$ZT_LOG" &&
	"$ZENC" run wf/rh.yaml --isolation '"$iso"' >out 2>&1 &&
	test "$(count "^init ")" = 1 &&
	ipid=$(sed -n "s/^init //p" "$ZT_LOG") &&
	test "$(count "^run_start on_run_start ystate-$ipid$")" = 1 &&
	test "$(count "^step one ystate-$ipid$")" = 1 &&
	test "$(count "^hook one ystate-$ipid$")" = 1 &&
	test "$(count "^step two ystate-$ipid$")" = 1 &&
	test "$(count "^run_end completed$")" = 1 &&
	test "$(count "^cleanup ystate-$ipid$")" = 1 &&
	last_run &&
	test "$(test_json run.json "d[\"status\"]")" = completed &&
	hooks_of "$id" &&
	test "$(events)" = "on_init on_run_start on_success on_run_end on_run_end on_cleanup" &&
	test "$(test_json hooks.json "[h[\"status\"] for h in d if h[\"event\"] == \"on_run_end\"]")" = "[\"completed\", \"failed\"]"
'

test_expect_success "YAML, $iso: on_run_end fires on a failed run" '
	: >"$ZT_LOG" &&
	test_expect_code 1 env YFAIL=1 "$ZENC" run wf/rh.yaml --isolation '"$iso"' >out 2>&1 &&
	test "$(count "^run_end failed$")" = 1 &&
	test "$(count "^cleanup ystate-")" = 1 &&
	last_run &&
	test "$(test_json run.json "d[\"status\"]")" = failed &&
	test "$(step error_type two)" = ExitCode
'

done

test_expect_success 'YAML: --dry-run accepts the run-scope keys; a step may not have them' '
	"$ZENC" run wf/rh.yaml --dry-run >out &&
	test_grep "^   on_init: echo \"init" out &&
	test_grep "^   on_cleanup: echo \"cleanup" out &&
	test_grep "^   on_run_end: echo \"run_end \$ZENC_STATUS\" >>\"\$ZT_LOG\", exit 3$" out &&
	sed "s/^  - name: two/  - name: two\n    on_init: {run: \"true\"}/" wf/rh.yaml >wf/bad.yaml &&
	test_expect_code 2 "$ZENC" run wf/bad.yaml 2>err &&
	test_grep "on_init" err
'

cat >wf/die.yaml <<\EOF_
name: ydie
on_run_end: {run: 'echo "run_end $ZENC_HOOK_EVENT $ZENC_STATUS" >>"$ZT_LOG"'}
on_cleanup: {run: 'echo "cleanup" >>"$ZT_LOG"'}
steps:
  - name: nap
    run: 'echo "napping" >>"$ZT_LOG"; sleep 300'
EOF_

test_expect_success 'the watcher of a killed run runs its on_run_end commands, not on_cleanup' '
	: >"$ZT_LOG" &&
	{ "$ZENC" run wf/die.yaml >out 2>&1 & } &&
	run=$! &&
	test_register_pid $run &&
	i=0 &&
	until grep -q "^napping" "$ZT_LOG" 2>/dev/null; do
		i=$((i + 1)) && test $i -lt 200 && sleep 0.1 || break
	done &&
	kill -KILL $run &&
	{ wait $run || :; } &&
	i=0 &&
	until grep -q "^run_end" "$ZT_LOG" 2>/dev/null; do
		i=$((i + 1)) && test $i -lt 300 && sleep 0.1 || break
	done &&
	test "$(count "^run_end on_run_end failed$")" = 1 &&
	test "$(count "^cleanup")" = 0 &&
	last_run &&
	test "$(test_json run.json "d[\"status\"]")" = failed &&
	test "$(step error_type nap)" = OrchestratorDied &&
	hooks_of "$id" --type on_run_end &&
	test "$(test_json hooks.json "[h[\"status\"] for h in d]")" = "[\"completed\"]"
'

test_done
