#!/bin/sh
# shellcheck disable=SC2016 # bodies are single-quoted and eval-ed
# The step cache and --resume on the Slurm orchestrator (docs/caching.md):
# the engine decides inside each step's job, before the step runs, so a
# second identical run executes no step, a changed parameter re-runs that
# step and its descendants, --no-cache executes everything, and --resume
# of a run failed at step 9 of 10 executes only steps 9 and 10, C and
# YAML, with the same records as on the local orchestrator.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/slurm.sh"

. "$TEST_DIRECTORY/cache.sh"

test_expect_success 'a slurm stack is set up (single node)' '
	"$ZENC" orchestrator register sl --flavor slurm --single_node=true \
		--poll_interval=0.2 --partition=debug &&
	"$ZENC" artifact-store register art --flavor local --path="$TMP/art" &&
	"$ZENC" stack register sl -o sl -a art &&
	"$ZENC" stack set sl
'

test_expect_success 'slurm: a second identical run executes no step and records every step cached' '
	ZT_CACHE_STEPS=4 "$ZT" run -q --run-name first &&
	test "$(executed)" = "s01 s02 s03 s04" &&
	: >"$ZT_CACHE_COUNTER" &&
	ZT_CACHE_STEPS=4 "$ZT" run -q --run-name second &&
	test ! -s "$ZT_CACHE_COUNTER" &&
	"$ZENC" runs show second --json >run.json &&
	test "$(statuses)" = "s01=cached s02=cached s03=cached s04=cached" &&
	test "$(test_json run.json "sorted(set(s[\"cached_from\"] for s in d[\"steps\"]))")" = "[\"$(id_of first)\"]" &&
	test "$(test_json run.json "sum(len(s[\"hooks\"]) for s in d[\"steps\"])")" = 0 &&
	test "$(test_json run.json "d[\"status\"]")" = completed
'

test_expect_success 'slurm: a changed parameter re-runs that step and its descendants only' '
	: >"$ZT_CACHE_COUNTER" &&
	ZT_CACHE_STEPS=4 "$ZT" run -q --param s03.add=5 --run-name changed &&
	test "$(executed)" = "s03 s04" &&
	"$ZENC" runs show changed --json >run.json &&
	test "$(statuses)" = "s01=cached s02=cached s03=completed s04=completed"
'

test_expect_success 'slurm: --no-cache executes every step' '
	: >"$ZT_CACHE_COUNTER" &&
	ZT_CACHE_STEPS=4 "$ZT" run -q --no-cache &&
	test "$(executed)" = "s01 s02 s03 s04"
'

test_expect_success 'slurm: --resume of a run failed at step 9 of 10 executes only steps 9 and 10' '
	test_expect_code 1 env ZT_CACHE_FAIL=s09 "$ZT" run -q --no-cache --run-name failed9 &&
	: >"$ZT_CACHE_COUNTER" &&
	"$ZT" run -q --resume failed9 --run-name resumed9 &&
	test "$(executed)" = "s09 s10" &&
	"$ZENC" runs show resumed9 --json >run.json &&
	test "$(statuses)" = "s01=cached s02=cached s03=cached s04=cached s05=cached s06=cached s07=cached s08=cached s09=completed s10=completed" &&
	test "$(test_json run.json "d[\"resumed_from\"]")" = "$(id_of failed9)" &&
	test "$(test_json run.json "sorted(set(s[\"cached_from\"] for s in d[\"steps\"][:8]))")" = "[\"$(id_of failed9)\"]"
'

cat >y.yaml <<\EOF_
name: yslurm
steps:
  - name: gen
    run: echo gen >>"$ZT_CACHE_COUNTER"; echo 3 >"$ZENC_OUTPUT_DIR/n"
    outputs: {n: int}
  - name: use
    inputs: {n: gen.n}
    run: echo use >>"$ZT_CACHE_COUNTER"; cat "$ZENC_INPUT_N" >"$ZENC_OUTPUT_DIR/m"
    outputs: {m: int}
    on_success: {run: echo "hook use" >>"$ZT_CACHE_COUNTER"}
  - name: notify
    after: [use]
    run: echo notify >>"$ZT_CACHE_COUNTER"
EOF_

test_expect_success 'slurm, YAML: a second run executes only the step without outputs' '
	: >"$ZT_CACHE_COUNTER" &&
	"$ZENC" run y.yaml -q &&
	test "$(executed)" = "gen notify use" &&
	: >"$ZT_CACHE_COUNTER" &&
	"$ZENC" run y.yaml -q --run-name ysecond &&
	test "$(executed)" = "notify" &&
	test_grep ! "^hook" "$ZT_CACHE_COUNTER" &&
	"$ZENC" runs show ysecond --json >run.json &&
	test "$(statuses)" = "gen=cached use=cached notify=completed"
'

test_done
