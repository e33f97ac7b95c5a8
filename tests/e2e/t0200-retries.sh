#!/bin/sh
# shellcheck disable=SC2016 # bodies are single-quoted and eval-ed
# Retries, per-attempt hooks, run-level hooks, memory limits and strict
# mode (docs/hooks.md: Order and precedence, Failing hooks, Retries,
# Run-level hooks).
. "$(dirname "$0")/lib.sh"

ZT=$PROGRAMS/zt_pipeline
ZT_LOG=$TMP/hooks.log
export ZT_LOG

# work EXPR: a Python expression over the "work" step as w.
work () {
	test_json run.json "(lambda w: $1)([s for s in d[\"steps\"] if s[\"name\"] == \"work\"][0])"
}

for iso in process none; do

test_expect_success "$iso: failing twice then succeeding under max_retries=2" '
	: >"$ZT_LOG" &&
	ZT_START_END=1 ZT_PIPELINE_HOOKS=1 ZT_RETRY=2,0.2,2 "$ZT" run \
		--isolation '"$iso"' --param work.mode=flaky \
		--param work.fail_times=2 &&
	test "$(grep -c "^on_retry on_retry_hook work" "$ZT_LOG")" = 2 &&
	test_grep "^on_retry on_retry_hook work attempt=1 err=FlakyError:attempt 1 failed" "$ZT_LOG" &&
	test_grep "^on_retry on_retry_hook work attempt=2 err=FlakyError:attempt 2 failed" "$ZT_LOG" &&
	test "$(grep -c "^on_success p_success work" "$ZT_LOG")" = 1 &&
	test_grep "^on_success p_success work attempt=3" "$ZT_LOG" &&
	test_grep ! "on_failure .* work" "$ZT_LOG" &&
	last_run &&
	test "$(work "w[\"attempts\"]")" = 3 &&
	test "$(work "w[\"status\"]")" = completed &&
	test "$(work "[h[\"attempt\"] for h in w[\"hooks\"] if h[\"event\"] == \"on_start\"]")" = "[1, 2, 3]"
'

test_expect_success "$iso: the waits follow delay * backoff^(k-1)" '
	work "[a[\"started\"] for a in w[\"attempt_history\"]]" >starts &&
	work "[a[\"ended\"] for a in w[\"attempt_history\"]]" >ends &&
	/usr/bin/python3 - starts ends <<-\PY
	import sys, json, datetime
	def t(s): return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()
	starts = [t(s) for s in json.load(open(sys.argv[1]))]
	ends = [t(s) for s in json.load(open(sys.argv[2]))]
	w1, w2 = starts[1] - ends[0], starts[2] - ends[1]
	print("waits", w1, w2)
	assert 0.2 <= w1 < 0.2 + 0.15, w1
	assert 0.4 <= w2 < 0.4 + 0.15, w2
	PY
'

test_expect_success "$iso: hooks of one attempt run in order" '
	grep " work attempt=2" "$ZT_LOG" | cut -d" " -f1 >order &&
	printf "on_start\non_retry\non_end\n" >expect &&
	test_cmp expect order &&
	grep " work attempt=3" "$ZT_LOG" | cut -d" " -f1 >order &&
	printf "on_start\non_success\non_end\n" >expect &&
	test_cmp expect order
'

test_expect_success "$iso: always failing under max_retries=1 fires on_failure once, attempt 2" '
	: >"$ZT_LOG" &&
	test_expect_code 1 env ZT_START_END=1 ZT_PIPELINE_HOOKS=1 ZT_RETRY=1,0,1 \
		"$ZT" run --isolation '"$iso"' --param work.mode=raise &&
	test "$(grep -c "^on_failure p_failure work" "$ZT_LOG")" = 1 &&
	test_grep "^on_failure p_failure work attempt=2 err=ValueError" "$ZT_LOG" &&
	test "$(grep -c "^on_retry on_retry_hook work attempt=1" "$ZT_LOG")" = 1 &&
	last_run &&
	test "$(work "w[\"attempts\"]")" = 2 &&
	test "$(work "w[\"status\"]")" = failed
'

test_expect_success "$iso: run-level hooks fire once, with the run status" '
	: >"$ZT_LOG" &&
	ZT_RUN_HOOKS=1 "$ZT" run --isolation '"$iso"' &&
	test "$(grep -c "^on_run" "$ZT_LOG")" = 1 &&
	test_grep "^on_run_success run_ok - failed=0 pipeline=zt$" "$ZT_LOG" &&
	last_run &&
	test "$(test_json run.json "[(h[\"event\"], h[\"hook\"], h[\"status\"]) for h in d[\"run_hooks\"]]")" = "[[\"on_run_success\", \"run_ok\", \"completed\"]]" &&
	: >"$ZT_LOG" &&
	test_expect_code 1 env ZT_RUN_HOOKS=1 "$ZT" run --isolation '"$iso"' --param work.mode=raise &&
	test "$(grep -c "^on_run" "$ZT_LOG")" = 1 &&
	test_grep "^on_run_failure run_bad - failed=1 pipeline=zt$" "$ZT_LOG" &&
	last_run &&
	test "$(test_json run.json "[h[\"event\"] for h in d[\"run_hooks\"]]")" = "[\"on_run_failure\"]"
'

test_expect_success "$iso: strict mode fails a step whose success hook fails" '
	: >"$ZT_LOG" &&
	test_expect_code 1 env ZT_SUCCESS_HOOK=raise ZT_PIPELINE_HOOKS=1 \
		"$ZT" run --isolation '"$iso"' --hook-failure fail &&
	last_run &&
	test "$(work "w[\"status\"]")" = failed &&
	test "$(work "w[\"error_type\"]")" = HookFailed &&
	test_grep "^on_failure p_failure work attempt=1 err=HookFailed:success hook .s_success. failed" "$ZT_LOG" &&
	test_expect_code 1 env ZT_SUCCESS_HOOK=raise ZT_STRICT=1 "$ZT" run --isolation '"$iso"' &&
	ZT_SUCCESS_HOOK=raise "$ZT" run --isolation '"$iso"' &&
	last_run &&
	test "$(work "w[\"status\"]")" = completed
'

test_expect_success "$iso: --retries N is the default for every step" '
	: >"$ZT_LOG" &&
	ZT_START_END=1 "$ZT" run --isolation '"$iso"' --retries 1 \
		--param work.mode=flaky --param work.fail_times=1 &&
	last_run &&
	test "$(work "w[\"attempts\"]")" = 2
'

done

test_expect_success 'a step killed by a signal is retried like one that raised' '
	: >"$ZT_LOG" &&
	test_expect_code 1 env ZT_START_END=1 ZT_RETRY=1,0,1 "$ZT" run --param work.mode=segv &&
	test_grep "^on_retry on_retry_hook work attempt=1 err=Signal:killed by SIGSEGV" "$ZT_LOG" &&
	last_run &&
	test "$(work "w[\"attempts\"]")" = 2
'

test_expect_success 'a memory hog is stopped and reported as OutOfMemory' '
	: >"$ZT_LOG" &&
	test_expect_code 1 env ZT_PIPELINE_HOOKS=1 ZT_MEMORY=64 "$ZT" run --param work.mode=hog &&
	test_grep "^on_failure p_failure work attempt=1 err=OutOfMemory:resident memory exceeded" "$ZT_LOG" &&
	last_run &&
	test "$(work "w[\"error_type\"]")" = OutOfMemory
'

test_expect_success 'a run-level hook that crashes is recorded and the run keeps its status' '
	: >"$ZT_LOG" &&
	test_expect_code 1 env ZT_RUN_HOOKS=1 ZT_RUN_HOOK_CRASH=1 "$ZT" run --param work.mode=raise &&
	last_run &&
	test "$(test_json run.json "d[\"status\"]")" = failed &&
	test "$(test_json run.json "d[\"run_hooks\"][0][\"status\"]")" = failed &&
	test "$(test_json run.json "d[\"run_hooks\"][0][\"error\"]")" = "killed by SIGSEGV"
'

test_done
