#!/bin/sh
# shellcheck disable=SC2016,SC2317,SC2034 # bodies are single-quoted and eval-ed
# shellcheck source-path=SCRIPTDIR
# Run configuration files: `prog run --config run.yaml` (docs/run-config.md)
# on the tests' pipeline zt (source -> work -> sink, and side).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

ZT=$PROGRAMS/zt_pipeline
FIX=$TEST_DIRECTORY/fixtures-yaml
ZT_LOG=$TMP/zt.log
export ZT_LOG
CC=${CC:-cc}

# The configuration files live in their own folder, away from the
# current one, so that "relative to the file" is tested.
mkdir -p cfg
cp "$FIX/dump-hook.sh" cfg/

test_expect_success 'parameters from the file reach the step and its hooks' '
	cat >cfg/params.yaml <<-\EOT &&
	steps:
	  work:
	    parameters: {mode: raise}
	EOT
	rm -f "$ZT_LOG" &&
	test_expect_code 1 env ZT_PIPELINE_HOOKS=1 "$ZT" run \
		--config cfg/params.yaml --run-name p1 &&
	test_grep "^on_failure p_failure work attempt=1 err=ValueError:My exception.* mode=raise" "$ZT_LOG" &&
	"$ZENC" runs show p1 --json >p1.json &&
	test "$(test_json p1.json "[s for s in d[\"steps\"] if s[\"name\"] == \"work\"][0][\"params\"][\"mode\"]")" = raise
'

test_expect_success '--param overrides the file' '
	rm -f "$ZT_LOG" &&
	env ZT_PIPELINE_HOOKS=1 "$ZT" run --config cfg/params.yaml \
		--param work.mode=ok --run-name p2 &&
	test_grep "^on_success p_success work attempt=1 mode=ok" "$ZT_LOG"
'

test_expect_success 'a hook from a shared library replaces the code hook' '
	"$CC" -shared -fPIC -I"$ZENC_SOURCE/include" "$FIX/hooklib.c" \
		-o cfg/libhooks.so &&
	cat >cfg/lib.yaml <<-\EOT &&
	on_run_failure: libhooks.so:lib_run
	steps:
	  work:
	    parameters: {mode: raise}
	    on_failure: libhooks.so:lib_failure
	EOT
	rm -f "$ZT_LOG" &&
	test_expect_code 1 env ZT_STEP_FAILURE_HOOK=1 ZT_RUN_HOOKS=1 "$ZT" \
		run --config cfg/lib.yaml --run-name lib1 &&
	test_grep "^lib_failure work err=ValueError:My exception attempt=1" "$ZT_LOG" &&
	test_grep "^lib_run - failed=1 name=lib1" "$ZT_LOG" &&
	test_grep ! "s_failure" "$ZT_LOG" &&
	test_grep ! "run_bad" "$ZT_LOG" &&
	"$ZENC" runs show lib1 --json >lib1.json &&
	test "$(test_json lib1.json "d[\"run_hooks\"][0][\"hook\"]")" = libhooks.so:lib_run
'

test_expect_success 'pipeline-level hooks in the file replace the pipeline list only' '
	cat >cfg/plevel.yaml <<-\EOT &&
	on_success: libhooks.so:lib_success
	EOT
	rm -f "$ZT_LOG" &&
	env ZT_PIPELINE_HOOKS=1 ZT_SUCCESS_HOOK=ok "$ZT" run \
		--config cfg/plevel.yaml --run-name pl1 &&
	test_grep "^lib_success source err=null" "$ZT_LOG" &&
	test_grep "^lib_success side err=null" "$ZT_LOG" &&
	test_grep "^on_success s_success work" "$ZT_LOG" &&
	test_grep ! "p_success" "$ZT_LOG"
'

test_expect_success 'a command hook gets the context environment and JSON, in the file folder' '
	cat >cfg/cmd.yaml <<-\EOT &&
	steps:
	  work:
	    parameters: {mode: raise, fail_times: 7}
	    on_failure: {run: ./dump-hook.sh}
	    on_end: {run: [./dump-hook.sh, ignored-arg]}
	EOT
	test_expect_code 1 "$ZT" run --config cfg/cmd.yaml --run-name cmd1 &&
	env=cfg/hook-env.on_failure.work &&
	test_grep "^ZENC_PIPELINE_NAME=zt\$" $env &&
	test_grep "^ZENC_RUN_NAME=cmd1\$" $env &&
	test_grep "^ZENC_STEP_NAME=work\$" $env &&
	test_grep "^ZENC_HOOK_EVENT=on_failure\$" $env &&
	test_grep "^ZENC_ATTEMPT=1\$" $env &&
	test_grep "^ZENC_ERROR_TYPE=ValueError\$" $env &&
	test_grep "^ZENC_ERROR_MESSAGE=My exception\$" $env &&
	test_grep "^ZENC_EXIT_CODE=0\$" $env &&
	test_grep "^ZENC_SIGNAL=0\$" $env &&
	test_grep "^ZENC_PARAM_MODE=raise\$" $env &&
	test_grep "^ZENC_PARAM_FAIL_TIMES=7\$" $env &&
	test_grep "^ZENC_RUN_ID=[0-9a-f-]\{36\}\$" $env &&
	in=cfg/hook-stdin.on_failure.work &&
	test "$(test_json $in "d[\"event\"]")" = on_failure &&
	test "$(test_json $in "d[\"step\"]")" = work &&
	test "$(test_json $in "d[\"run_name\"]")" = cmd1 &&
	test "$(test_json $in "d[\"error\"][\"type\"]")" = ValueError &&
	test "$(test_json $in "d[\"params\"][\"fail_times\"]")" = 7 &&
	test "$(cat cfg/hook-pwd.on_failure.work)" = "$TMP/cfg" &&
	test_grep "^ZENC_HOOK_EVENT=on_end\$" cfg/hook-env.on_end.work
'

test_expect_success 'the run name template expands {pipeline} and {date}' '
	cat >cfg/name.yaml <<-\EOT &&
	run_name: "nightly-{pipeline}-{date}-{time}"
	EOT
	"$ZT" run --config cfg/name.yaml &&
	"$ZENC" runs list --json >list.json &&
	test_json list.json "[r[\"name\"] for r in d]" >names &&
	grep -E "nightly-zt-[0-9]{4}_[0-9]{2}_[0-9]{2}-[0-9]{2}_[0-9]{2}_[0-9]{2}_[0-9]{6}" names
'

test_expect_success 'retry and timeout from the file' '
	cat >cfg/retry.yaml <<-\EOT &&
	steps:
	  work:
	    parameters: {mode: flaky, fail_times: 2}
	    retry: {max_retries: 2, delay: 10ms, backoff: 2}
	EOT
	"$ZT" run --config cfg/retry.yaml --run-name r1 &&
	"$ZENC" runs show r1 --json >r1.json &&
	test "$(test_json r1.json "[s for s in d[\"steps\"] if s[\"name\"] == \"work\"][0][\"attempts\"]")" = 3 &&
	cat >cfg/timeout.yaml <<-\EOT &&
	steps:
	  work:
	    parameters: {mode: loop}
	    timeout: 300ms
	EOT
	test_expect_code 1 "$ZT" run --config cfg/timeout.yaml --run-name t1 &&
	"$ZENC" runs show t1 --json >t1.json &&
	test "$(test_json t1.json "[s for s in d[\"steps\"] if s[\"name\"] == \"work\"][0][\"error_type\"]")" = Timeout
'

test_expect_success 'isolation and hook_failure from the file; --hook-failure wins' '
	cat >cfg/strict.yaml <<-\EOT &&
	isolation: none
	hook_failure: fail
	EOT
	rm -f "$ZT_LOG" &&
	test_expect_code 1 env ZT_SUCCESS_HOOK=raise ZT_STEP_FAILURE_HOOK=1 \
		"$ZT" run --config cfg/strict.yaml --run-name s1 &&
	test_grep "^on_failure s_failure work attempt=1 err=HookFailed" "$ZT_LOG" &&
	env ZT_SUCCESS_HOOK=raise "$ZT" run --config cfg/strict.yaml \
		--hook-failure warn --run-name s2
'

# check_error NAME EXPECTED: cfg/NAME.yaml is refused with exit 2 and a
# message that holds EXPECTED (a grep pattern).
check_error () {
	test_expect_code 2 "$ZT" run --config "cfg/$1.yaml" >out 2>err &&
	test_grep -e "$2" err
}

test_expect_success 'malformed YAML: file:line:column' '
	printf "steps:\n  work: {parameters: [\n" >cfg/e1.yaml &&
	check_error e1 "cfg/e1.yaml:[0-9]*:[0-9]*: "
'

test_expect_success 'a missing file' '
	check_error nope "cfg/nope.yaml: No such file"
'

test_expect_success 'unknown top-level key, with did-you-mean' '
	printf "run_name: x\nretires: {max_retries: 1}\n" >cfg/e2.yaml &&
	check_error e2 "cfg/e2.yaml:2:1: unknown key .retires. .*did you mean .retry.?"
'

test_expect_success 'unknown step, with did-you-mean' '
	printf "steps:\n  wrok:\n    timeout: 1s\n" >cfg/e3.yaml &&
	check_error e3 "cfg/e3.yaml:2:3: unknown step .wrok. (did you mean .work.?)"
'

test_expect_success 'an error naming a step like stack_x is a usage error (2)' '
	printf "steps:\n  stack_x: {}\n" >cfg/e4.yaml &&
	check_error e4 "cfg/e4.yaml:2:3: unknown step .stack_x."
'

test_expect_success 'unknown step key and unknown parameter' '
	printf "steps:\n  work:\n    paramters: {}\n" >cfg/e5.yaml &&
	check_error e5 "cfg/e5.yaml:3:5: unknown key .paramters. in step (did you mean .parameters.?)" &&
	printf "steps:\n  work:\n    parameters:\n      mdoe: x\n" >cfg/e6.yaml &&
	check_error e6 "cfg/e6.yaml:4:7: step .work. has no parameter .mdoe. (did you mean .mode.?)" &&
	printf "steps:\n  sink:\n    parameters: {a: 1}\n" >cfg/e6b.yaml &&
	check_error e6b "cfg/e6b.yaml:3:5: step .sink. has no parameters"
'

test_expect_success 'a parameter of the wrong type' '
	printf "steps:\n  work:\n    parameters: {fail_times: many}\n" >cfg/e7.yaml &&
	check_error e7 "cfg/e7.yaml:3:30: parameter .work.fail_times. expects an int, got .many."
'

test_expect_success 'wrong types of settings' '
	printf "steps:\n  work:\n    timeout: 10 parsecs\n" >cfg/e8.yaml &&
	check_error e8 "cfg/e8.yaml:3:14: expected a duration" &&
	printf "retry: {max_retries: two}\n" >cfg/e9.yaml &&
	check_error e9 "cfg/e9.yaml:1:22: expected an integer" &&
	printf "isolation: threads\n" >cfg/e10.yaml &&
	check_error e10 "cfg/e10.yaml:1:12: unknown isolation .threads." &&
	printf "steps:\n  work: {memory_limit: lots}\n" >cfg/e10b.yaml &&
	check_error e10b "cfg/e10b.yaml:2:24: expected a size"
'

test_expect_success 'a library that cannot be loaded, a symbol that is not there' '
	printf "steps:\n  work:\n    on_failure: ./missing.so:f\n" >cfg/e11.yaml &&
	check_error e11 "cfg/e11.yaml:3:17: cannot load .\\./missing\\.so.: .*missing\\.so" &&
	printf "on_failure: [alerter_failure_hook, libhooks.so:nothere]\n" >cfg/e12.yaml &&
	check_error e12 "cfg/e12.yaml:1:36: no symbol .nothere. in .libhooks\\.so." &&
	printf "on_failure: aletrer_failure_hook\n" >cfg/e13.yaml &&
	check_error e13 "cfg/e13.yaml:1:13: unknown hook .aletrer_failure_hook. (did you mean .alerter_failure_hook.?)" &&
	printf "on_failure: {run: ./x.sh, when: always}\n" >cfg/e15.yaml &&
	check_error e15 "cfg/e15.yaml:1:27: unknown key .when. in hook"
'

test_expect_success 'a refused configuration runs nothing' '
	rm -f "$ZT_LOG" &&
	test_expect_code 2 "$ZT" run --config cfg/e7.yaml &&
	! test -e "$ZT_LOG"
'

test_done
