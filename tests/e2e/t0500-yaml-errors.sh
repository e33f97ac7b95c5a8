#!/bin/sh
# shellcheck disable=SC2016,SC2317,SC2034 # bodies are single-quoted and eval-ed
# shellcheck source-path=SCRIPTDIR
# YAML pipelines: every kind of error in the file is refused with its
# file:line:column and exit 2, before anything runs; --dry-run; usage.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

# bad NAME PATTERN: e/NAME.yaml (written from stdin) is refused with
# exit 2 and an error matching PATTERN; nothing is recorded.
mkdir -p e
bad () {
	cat >"e/$1.yaml" &&
	test_expect_code 2 "$ZENC" run "e/$1.yaml" >out 2>err &&
	test_grep -e "^zenc: error: e/$1.yaml:$2" err &&
	{ ! test -e "$ZENC_DATA/zenc.db" ||
	  test "$("$ZENC" runs list --json | test_json - "len(d)")" = 0; }
}

test_expect_success 'malformed YAML' '
	printf "steps:\n  - name: [a\n" | bad malformed "[0-9]*:[0-9]*: "
'

test_expect_success 'unknown keys, with did-you-mean' '
	printf "name: x\nstpes: []\n" | bad top "2:1: unknown key .stpes. in pipeline (did you mean .steps.?)" &&
	printf "steps:\n  - name: a\n    run: \"true\"\n    timeuot: 1s\n" |
		bad stepkey "4:5: unknown key .timeuot. in step (did you mean .timeout.?)" &&
	printf "steps:\n  - name: a\n    run: \"true\"\n    retry: {max_retry: 1}\n" |
		bad retrykey "4:13: unknown key .max_retry. in retry (did you mean .max_retries.?)"
'

test_expect_success 'missing name or run, no steps' '
	printf "steps:\n  - name: a\n" | bad norun "2:5: missing key .run. in step" &&
	printf "steps:\n  - run: \"true\"\n" | bad noname "2:5: missing key .name. in step" &&
	printf "name: x\n" | bad nosteps "1:1: missing key .steps. in pipeline" &&
	printf "steps: []\n" | bad emptysteps "1:8: a pipeline needs at least one step"
'

test_expect_success 'unknown steps in after and inputs, unknown outputs' '
	printf "steps:\n  - name: load\n    run: \"true\"\n  - name: b\n    run: \"true\"\n    after: [laod]\n" |
		bad after "6:13: unknown step .laod. (did you mean .load.?)" &&
	printf "steps:\n  - name: load\n    run: \"true\"\n    outputs: {rows: int}\n  - name: b\n    run: \"true\"\n    inputs: {r: lod.rows}\n" |
		bad inputstep "7:17: unknown step .lod. (did you mean .load.?)" &&
	printf "steps:\n  - name: load\n    run: \"true\"\n    outputs: {rows: int}\n  - name: b\n    run: \"true\"\n    inputs: {r: load.rwos}\n" |
		bad inputout "7:17: step .load. has no output .rwos. (did you mean .rows.?)" &&
	printf "steps:\n  - name: load\n    run: \"true\"\n  - name: b\n    run: \"true\"\n    inputs: {r: loadrows}\n" |
		bad inputform "6:17: input .r.: expected STEP.OUTPUT"
'

test_expect_success 'a dependency cycle, at the entry that closes it' '
	cat <<-\EOT | bad cycle "8:9: dependency cycle: a -> c -> b -> a (each step waits for the next)"
	steps:
	  - name: a
	    run: "true"
	    after: [c]
	  - name: b
	    run: "true"
	    after:
	      - a
	  - name: c
	    run: "true"
	    after: [b]
	EOT
'

test_expect_success 'bad durations, sizes, types; duplicate steps; unknown hooks' '
	printf "steps:\n  - name: a\n    run: \"true\"\n    timeout: 10 min\n" |
		bad duration "4:14: expected a duration" &&
	printf "steps:\n  - name: a\n    run: \"true\"\n    memory_limit: 2 GB\n" |
		bad size "4:19: expected a size" &&
	printf "steps:\n  - name: a\n    run: \"true\"\n    outputs: {n: strng}\n" |
		bad type "4:18: unknown type .strng. for output .n. (did you mean .string.?)" &&
	printf "steps:\n  - name: a\n    run: \"true\"\n  - name: a\n    run: \"true\"\n" |
		bad dup "4:11: duplicate step name .a. (first at line 2)" &&
	printf "on_failure: alerter_failur_hook\nsteps:\n  - name: a\n    run: \"true\"\n" |
		bad hook "1:13: unknown hook .alerter_failur_hook. (did you mean .alerter_failure_hook.?)" &&
	printf "steps:\n  - name: a\n    run: \"true\"\n    on_failure: ./nope.so:f\n" |
		bad lib "4:17: cannot load .\\./nope\\.so." &&
	printf "steps:\n  - name: a\n    run: \"true\"\n    env: {1X: y}\n" |
		bad env "4:11: invalid environment variable name .1X." &&
	printf "hook_failure: maybe\nsteps:\n  - name: a\n    run: \"true\"\n" |
		bad hookfailure "1:15: unknown hook_failure .maybe."
'

cat >plan.yaml <<\EOF_
name: planned
on_failure: alerter_failure_hook
on_run_failure: {run: ./page.sh}
steps:
  - name: train
    inputs: {rows: load.rows}
    run: ./train.sh
    parameters: {lr: 0.01}
    retry: {max_retries: 2, delay: 1s, backoff: 2}
    timeout: 10m
    on_failure: {run: ./notify.sh}
  - name: load
    run: ./load.sh
    outputs: {rows: int}
EOF_

test_expect_success '--dry-run prints the plan in order and runs nothing' '
	"$ZENC" run plan.yaml --dry-run >out &&
	cat >expect <<-\EOT &&
	pipeline planned (plan.yaml): 2 steps, in the order they can run
	1. load
	     run: ./load.sh
	     output rows (int)
	     on_failure: alerter_failure_hook (pipeline)
	2. train (after load)
	     run: ./train.sh
	     input rows <- load.rows
	     param lr = 0.01 (double)
	     retry: 2, delay 1s, backoff 2
	     timeout: 10m
	     on_failure: ./notify.sh (step)
	run hooks (once per run):
	   on_run_failure: ./page.sh
	dry run: nothing was run
	EOT
	test_cmp expect out &&
	{ ! test -e "$ZENC_DATA/zenc.db" ||
	  test "$("$ZENC" runs list --json | test_json - "len(d)")" = 0; }
'

test_expect_success '--dry-run checks --param too' '
	test_expect_code 2 "$ZENC" run plan.yaml --dry-run --param train.lr=fast 2>err &&
	test_grep "parameter .train.lr. expects a double, got .fast." err &&
	test_expect_code 2 "$ZENC" run plan.yaml --dry-run --param nope.lr=1 2>err &&
	test_grep "unknown step .nope." err
'

test_expect_success 'usage errors exit 2' '
	test_expect_code 2 "$ZENC" run 2>err &&
	test_grep "no pipeline file" err &&
	test_expect_code 2 "$ZENC" run plan.yaml --frobnicate 2>err &&
	test_grep "unknown option .--frobnicate." err &&
	test_expect_code 2 "$ZENC" run plan.yaml -j 0 2>err &&
	test_expect_code 2 "$ZENC" run plan.yaml --param 2>err &&
	test_grep "option .--param. needs a value" err &&
	test_expect_code 2 "$ZENC" run missing.yaml 2>err &&
	test_grep "missing.yaml: No such file" err &&
	"$ZENC" run --help >out &&
	test_grep "usage: zenc run FILE" out
'

test_expect_success 'an unknown stack is a usage error, an unusable store exit 3' '
	test_expect_code 2 "$ZENC" run plan.yaml --stack nope 2>err &&
	test_grep "nope" err &&
	: >not-a-folder &&
	test_expect_code 3 env ZENC_DATA="$TMP/not-a-folder/data" \
		"$ZENC" run plan.yaml 2>err
'

test_done
