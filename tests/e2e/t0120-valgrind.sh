#!/bin/sh
# shellcheck disable=SC2016 # bodies are single-quoted and eval-ed
# The core under valgrind (when ZENC_VALGRIND=1, as in the suite's valgrind
# pass; plainly otherwise): the orchestrator, the executor, the store and
# the CLI must show no memory errors and no definite leaks.
# ctest-labels: valgrind
. "$(dirname "$0")/lib.sh"

ZT=$PROGRAMS/zt_pipeline
ZT_LOG=$TMP/hooks.log
export ZT_LOG

for iso in process none; do
test_expect_success "$iso: a completed run with hooks, retries and run hooks" '
	export ZT_START_END=1 ZT_PIPELINE_HOOKS=1 ZT_RUN_HOOKS=1 ZT_RETRY=1,0,1 &&
	run_valgrind "$ZT" run -q --isolation '"$iso"' \
		--param work.mode=flaky --param work.fail_times=1 &&
	test_grep "^sink got 42$" "$ZT_LOG"
'

test_expect_success "$iso: a failed run with failure hooks and skipped steps" '
	export ZT_PIPELINE_HOOKS=1 ZT_RUN_HOOKS=1 &&
	test_expect_code 1 run_valgrind "$ZT" run -q --isolation '"$iso"' --param work.mode=raise
'

test_expect_success "$iso: strict mode" '
	export ZT_SUCCESS_HOOK=raise &&
	test_expect_code 1 run_valgrind "$ZT" run -q \
		--isolation '"$iso"' --hook-failure fail
'
done

test_expect_success 'a step killed by a signal, and a hook past its deadline' '
	export ZT_PIPELINE_HOOKS=1 &&
	test_expect_code 1 run_valgrind "$ZT" run -q --param work.mode=segv &&
	export ZT_SUCCESS_HOOK=hang ZT_HOOK_TIMEOUT=2 &&
	run_valgrind "$ZT" run -q
'

test_expect_success 'validation errors free what they built' '
	test_expect_code 2 run_valgrind "$ZT" run -q --param work.nope=1 &&
	export ZT_CYCLE=1 &&
	test_expect_code 2 run_valgrind "$ZT" run -q
'

test_expect_success 'zenc runs list and show' '
	run_valgrind "$ZENC" runs list >/dev/null &&
	run_valgrind "$ZENC" runs list --json >list.json &&
	id=$(test_json list.json "d[0][\"id\"]") &&
	run_valgrind "$ZENC" runs show "$id" >/dev/null &&
	run_valgrind "$ZENC" runs show "$id" --json >/dev/null
'

test_done
