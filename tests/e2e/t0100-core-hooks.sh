#!/bin/sh
# shellcheck disable=SC2016 # bodies are single-quoted and eval-ed
# The hook rules of docs/hooks.md by their observable effects: hook
# lines in $ZT_LOG and the records of `zenc runs show --json`, under both
# isolation modes where the rule holds in both.
# ctest-labels: valgrind
. "$(dirname "$0")/lib.sh"

ZT=$PROGRAMS/zt_pipeline
ZT_LOG=$TMP/hooks.log
export ZT_LOG

for iso in process none; do

test_expect_success "$iso: a succeeding run completes and records it" '
	: >"$ZT_LOG" &&
	"$ZT" run --isolation '"$iso"' &&
	test_grep "^sink got 42$" "$ZT_LOG" &&
	last_run &&
	test "$(test_json run.json "d[\"status\"]")" = completed &&
	test "$(step status work)" = completed &&
	test "$(step attempts work)" = 1 &&
	test "$(test_json run.json "len(d[\"steps\"])")" = 4
'

test_expect_success "$iso: a raising step fires its failure hook with the error and params" '
	: >"$ZT_LOG" &&
	test_expect_code 1 env ZT_PIPELINE_HOOKS=1 "$ZT" run --isolation '"$iso"' \
		--param work.mode=raise &&
	test_grep "^on_failure p_failure work attempt=1 err=ValueError:My exception exit=0 sig=0 mode=raise$" "$ZT_LOG" &&
	test_grep "^on_success p_success source attempt=1$" "$ZT_LOG" &&
	test_grep ! "sink" "$ZT_LOG" &&
	last_run &&
	test "$(step status work)" = failed &&
	test "$(step error_type work)" = ValueError &&
	test "$(step error_message work)" = "My exception" &&
	test "$(step status sink)" = skipped &&
	test "$(step hooks sink)" = "[]" &&
	test "$(test_json run.json "[s for s in d[\"steps\"] if s[\"name\"] == \"work\"][0][\"hooks\"][0][\"hook\"]")" = p_failure
'

test_expect_success "$iso: default params reach the success hook" '
	: >"$ZT_LOG" &&
	ZT_PIPELINE_HOOKS=1 "$ZT" run --isolation '"$iso"' &&
	test_grep "^on_success p_success work attempt=1 mode=ok$" "$ZT_LOG" &&
	last_run &&
	test "$(test_json run.json "[s for s in d[\"steps\"] if s[\"name\"] == \"work\"][0][\"params\"][\"mode\"]")" = ok
'

test_expect_success "$iso: a step hook takes precedence per event" '
	: >"$ZT_LOG" &&
	test_expect_code 1 env ZT_PIPELINE_HOOKS=1 ZT_STEP_FAILURE_HOOK=1 \
		"$ZT" run --isolation '"$iso"' --param work.mode=raise &&
	test_grep "^on_failure s_failure work attempt=1 err=ValueError" "$ZT_LOG" &&
	test_grep ! "p_failure work" "$ZT_LOG" &&
	: >"$ZT_LOG" &&
	ZT_PIPELINE_HOOKS=1 ZT_STEP_FAILURE_HOOK=1 "$ZT" run --isolation '"$iso"' &&
	test_grep "^on_success p_success work attempt=1" "$ZT_LOG"
'

test_expect_success "$iso: a failure hook that raises never replaces the step error" '
	: >"$ZT_LOG" &&
	test_expect_code 1 env ZT_FAILURE_HOOKS=raise,ok,ok "$ZT" run \
		--isolation '"$iso"' --param work.mode=raise &&
	last_run &&
	test "$(step error_type work)" = ValueError &&
	test "$(test_json run.json "[s for s in d[\"steps\"] if s[\"name\"] == \"work\"][0][\"hooks\"][0][\"status\"]")" = failed &&
	test "$(test_json run.json "[s for s in d[\"steps\"] if s[\"name\"] == \"work\"][0][\"hooks\"][0][\"error\"]")" = "HookError: hook raised on purpose" &&
	test_grep "f_hook3 work" "$ZT_LOG"
'

test_expect_success "$iso: a step that returns without its output fails with MissingOutput" '
	test_expect_code 1 "$ZT" run --isolation '"$iso"' --param work.mode=missing &&
	last_run &&
	test "$(step error_type work)" = MissingOutput &&
	test_grep "result" run.json
'

test_expect_success "$iso: no new step starts after a failure; --keep-going runs the rest" '
	: >"$ZT_LOG" &&
	test_expect_code 1 "$ZT" run -j 1 --isolation '"$iso"' --param work.mode=raise &&
	last_run &&
	test "$(step status side)" = skipped &&
	test_grep ! "side ran" "$ZT_LOG" &&
	test_expect_code 1 "$ZT" run -j 1 --keep-going --isolation '"$iso"' --param work.mode=raise &&
	last_run &&
	test "$(step status side)" = completed &&
	test "$(step status sink)" = skipped &&
	test_grep "side ran" "$ZT_LOG"
'

done

# Deaths and deadlines: only a separate process can survive them.
test_expect_success 'a step killed by SIGSEGV still fires its failure hook' '
	: >"$ZT_LOG" &&
	test_expect_code 1 env ZT_PIPELINE_HOOKS=1 "$ZT" run --param work.mode=segv &&
	test_grep "^on_failure p_failure work attempt=1 err=Signal:killed by SIGSEGV exit=0 sig=11 mode=segv$" "$ZT_LOG" &&
	last_run &&
	test "$(step error_type work)" = Signal &&
	test "$(step signal work)" = 11
'

test_expect_success 'a step calling abort() fires its failure hook' '
	: >"$ZT_LOG" &&
	test_expect_code 1 env ZT_PIPELINE_HOOKS=1 "$ZT" run --param work.mode=abort &&
	test_grep "^on_failure p_failure work attempt=1 err=Signal:killed by SIGABRT exit=0 sig=6" "$ZT_LOG" &&
	last_run &&
	test "$(step signal work)" = 6
'

test_expect_success 'a step calling exit(3) fails with ExitCode 3' '
	: >"$ZT_LOG" &&
	test_expect_code 1 env ZT_PIPELINE_HOOKS=1 "$ZT" run --param work.mode=exit3 &&
	test_grep "^on_failure p_failure work attempt=1 err=ExitCode:.*exit=3 sig=0" "$ZT_LOG" &&
	last_run &&
	test "$(step error_type work)" = ExitCode &&
	test "$(step exit_code work)" = 3
'

test_expect_success 'a step looping past its timeout fails with Timeout and its hook fires' '
	: >"$ZT_LOG" &&
	test_expect_code 1 env ZT_PIPELINE_HOOKS=1 ZT_TIMEOUT=0.5 "$ZT" run --param work.mode=loop &&
	test_grep "^on_failure p_failure work attempt=1 err=Timeout:step exceeded its timeout of 0.5s" "$ZT_LOG" &&
	last_run &&
	test "$(step error_type work)" = Timeout
'

test_expect_success 'a crashing success hook leaves the step completed and its outputs readable' '
	: >"$ZT_LOG" &&
	ZT_SUCCESS_HOOK=crash "$ZT" run &&
	test_grep "^on_success s_success work attempt=1" "$ZT_LOG" &&
	test_grep "^sink got 42$" "$ZT_LOG" &&
	last_run &&
	test "$(step status work)" = completed &&
	test "$(test_json run.json "[s for s in d[\"steps\"] if s[\"name\"] == \"work\"][0][\"hooks\"][0][\"error\"]")" = "killed by SIGSEGV" &&
	test "$(test_json run.json "d[\"status\"]")" = completed
'

test_expect_success 'a hook that hangs is killed at its deadline and the run goes on' '
	: >"$ZT_LOG" &&
	start=$(date +%s) &&
	ZT_SUCCESS_HOOK=hang ZT_HOOK_TIMEOUT=1 "$ZT" run &&
	end=$(date +%s) &&
	test $((end - start)) -lt 15 &&
	test_grep "^sink got 42$" "$ZT_LOG" &&
	last_run &&
	test "$(test_json run.json "[s for s in d[\"steps\"] if s[\"name\"] == \"work\"][0][\"hooks\"][0][\"status\"]")" = timeout
'

test_expect_success 'every hook of a list runs even when an earlier one crashes' '
	: >"$ZT_LOG" &&
	test_expect_code 1 env ZT_FAILURE_HOOKS=ok,crash,ok "$ZT" run --param work.mode=raise &&
	test_grep "^on_failure f_hook1 work" "$ZT_LOG" &&
	test_grep "^on_failure f_hook2 work" "$ZT_LOG" &&
	test_grep "^on_failure f_hook3 work" "$ZT_LOG" &&
	last_run &&
	test "$(test_json run.json "[h[\"status\"] for h in [s for s in d[\"steps\"] if s[\"name\"] == \"work\"][0][\"hooks\"]]")" = "[\"completed\", \"failed\", \"completed\"]" &&
	test "$(step error_type work)" = ValueError
'

test_expect_success 'a run whose orchestrator was killed is not left running' '
	ZT_SUCCESS_HOOK=hang ZT_HOOK_TIMEOUT=60 "$ZT" run >out 2>&1 &
	pid=$! &&
	for i in $(seq 100); do grep -q "Running on_success hook s_success" out && break; sleep 0.1; done &&
	kids=$(pgrep -P $pid) &&
	test -n "$kids" &&
	{ kill -9 $pid; wait $pid || true; } &&
	for i in $(seq 50); do
		alive=
		for k in $kids; do kill -0 $k 2>/dev/null && alive=1; done
		test -z "$alive" && break
		sleep 0.1
	done &&
	test -z "$alive" &&
	last_run &&
	test "$(test_json run.json "d[\"status\"]")" = failed
'

test_done
