#!/bin/sh
# shellcheck disable=SC2016 # bodies are single-quoted and eval-ed
# Every example of examples/ builds (ctest builds them) and does what its
# comment says: the seed page's code blocks, in C.
. "$(dirname "$0")/lib.sh"

test_expect_success 'failure and success hooks (the seed, first block)' '
	test_expect_code 1 "$EXAMPLES/failure_success_hooks" run >out 2>err &&
	test_grep "^Step failed!$" out &&
	test_grep "^Step succeeded!$" out &&
	test "$(wc -l <out)" = 2
'

test_expect_success 'pipeline-level hooks, with step-level precedence' '
	test_expect_code 1 "$EXAMPLES/pipeline_hooks" run >out 2>err &&
	test_grep "^\[pipeline hook\] load succeeded$" out &&
	test_grep "^\[pipeline hook\] train succeeded$" out &&
	test_grep "^\[step hook\] evaluate failed: ValueError: accuracy 0.62 is below 0.90$" out &&
	test_grep ! "pipeline hook\] evaluate" out
'

test_expect_success 'a hook taking context, params and exception' '
	test_expect_code 1 "$EXAMPLES/hook_context" run >out 2>err &&
	test_grep "^my_step$" out &&
	test_grep "^params of type MyParameters: a=1$" out &&
	test_grep "^exception of type ValueError: My exception$" out &&
	test_grep "^pipeline my_pipeline, run my_pipeline-[0-9_-]*$" out &&
	test_expect_code 1 "$EXAMPLES/hook_context" run --param my_step.a=7 >out 2>err &&
	test_grep "^params of type MyParameters: a=7$" out
'

test_expect_success 'the alerter hooks without an alerter warn and complete' '
	test_expect_code 1 "$EXAMPLES/alerter_hooks" run >out 2>err &&
	test_grep "no alerter" err &&
	"$ZENC" runs list --json >list.json &&
	"$ZENC" runs show "$(test_json list.json "d[0][\"id\"]")" --json >run.json &&
	test "$(test_json run.json "sorted(set(h[\"status\"] for s in d[\"steps\"] for h in s[\"hooks\"]))")" = "[\"completed\"]" &&
	test "$(test_json run.json "[h[\"hook\"] for s in d[\"steps\"] if s[\"name\"] == \"my_step\" for h in s[\"hooks\"]]")" = "[\"zenc_alerter_success_hook\"]"
'

test_expect_success 'quickstart: retry, failure hook, skipped step, run hook' '
	test_expect_code 1 "$EXAMPLES/quickstart" run >out 2>err &&
	test_grep "\[on_retry\] train attempt 1 failed with ConnectionError: feature store timed out" out &&
	test_grep "\[on_success\] train is done (attempt 2)" out &&
	test_grep "\[on_failure\] error: ValueError: accuracy 0.813 is below the threshold 0.900" out &&
	test_grep "\[on_run_failure\] run quickstart-" out &&
	test_grep "Step publish was skipped" err &&
	test_grep ! "publishing" out &&
	"$EXAMPLES/quickstart" run --param evaluate.threshold=0.8 >out 2>err &&
	test_grep "publishing the model" out &&
	test_grep "\[on_run_success\]" out
'

# A sanitizer build's library needs its program built the same way.
SAN_FLAGS=
if grep -q "^ZENC_SANITIZE:BOOL=ON" "$ZENC_BUILD/CMakeCache.txt" 2>/dev/null; then
	SAN_FLAGS="-fsanitize=address,undefined"
fi
export SAN_FLAGS

test_expect_success "the README's pipeline compiles and behaves as the README says" '
	sed -n "/^\`\`\`c\$/,/^\`\`\`\$/p" "$ZENC_SOURCE/README.md" | sed "1d;\$d" |
		sed "/^\`\`\`/,\$d" >rows.c &&
	test_grep "zenc_main" rows.c &&
	cc -std=c11 -Wall -Werror $SAN_FLAGS -I"$ZENC_SOURCE/include" rows.c \
		-L"$ZENC_BUILD" -lzenc -Wl,-rpath,"$ZENC_BUILD" -o rows &&
	./rows run -q &&
	test_expect_code 1 ./rows run -q --param load.rows=3 >out &&
	test_grep "^check failed: ValueError: only 3 rows$" out
'

test_done
