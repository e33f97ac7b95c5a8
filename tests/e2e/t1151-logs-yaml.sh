#!/bin/sh
# shellcheck disable=SC2016 # bodies are single-quoted and eval-ed
# The logs of a YAML pipeline's steps, per attempt: `zenc runs logs`, the
# paths in `zenc runs show`, the dashboard, and `zenc runs delete`
# removing them with the outputs.
. "$(dirname "$0")/lib.sh"

mkdir -p wf
cat >wf/ylogs.yaml <<\EOF_
name: ylogs
steps:
  - name: make
    run: |
      echo "make out on attempt $ZENC_ATTEMPT"
      echo "make err on attempt $ZENC_ATTEMPT" >&2
      head -c 1048576 /dev/zero >"$ZENC_OUTPUT_DIR/blob"
      test "$ZENC_ATTEMPT" -ge 2
    retry: {max_retries: 1, delay: 0.1s}
    outputs: {blob: bytes}
  - name: use
    inputs: {blob: make.blob}
    run: echo "use read $(wc -c <"$ZENC_INPUT_BLOB") bytes"
EOF_

test_expect_success 'a retried YAML step: runs logs per attempt' '
	"$ZENC" run wf/ylogs.yaml >out 2>err &&
	last_run &&
	"$ZENC" runs logs "$id" make --attempt 1 >a1 &&
	printf "make out on attempt 1\nmake err on attempt 1\n" >expect &&
	test_cmp expect a1 &&
	"$ZENC" runs logs "$id" make --attempt 2 >a2 &&
	printf "make out on attempt 2\nmake err on attempt 2\n" >expect &&
	test_cmp expect a2 &&
	"$ZENC" runs logs "$id" >all &&
	test_grep "^==> make, attempt 1 <==$" all &&
	test_grep "^==> make, attempt 2 <==$" all &&
	test_grep "^==> use, attempt 1 <==$" all &&
	test_grep "^use read 1048576 bytes$" all
'

test_expect_success 'runs show: the log of each attempt' '
	last_run &&
	"$ZENC" runs show "$id" >show &&
	test_grep "^    log: .*/$id/make/log.2$" show &&
	test_grep "^      log: .*/$id/make/log.1$" show &&
	test "$(test_json run.json "[a[\"log\"].rsplit(\"/\", 2)[1:] for s in d[\"steps\"] if s[\"name\"] == \"make\" for a in s[\"attempt_history\"]]")" = "[[\"make\", \"log.1\"], [\"make\", \"log.2\"]]"
'

test_expect_success 'the dashboard report shows both attempts of make' '
	last_run &&
	"$ZENC" runs report "$id" -o report.html &&
	test_grep "Log of attempt 1" report.html &&
	test_grep "Log of attempt 2" report.html &&
	grep -A 2 "Log of attempt 1" report.html >log1 &&
	test_grep "make out on attempt 1$" log1 &&
	grep -A 2 "Log of attempt 2" report.html >log2 &&
	test_grep "^make err on attempt 2$" log2
'

test_expect_success 'runs delete removes the outputs and logs of the run' '
	last_run &&
	dir=$(dirname "$(dirname "$(step log make)")") &&
	test -d "$dir" &&
	blob=$(test_json run.json "[o[\"uri\"] for s in d[\"steps\"] for o in s[\"outputs\"]][0]") &&
	test -f "$blob" &&
	"$ZENC" runs delete "$id" >out &&
	test_grep "^Deleted run .* freed [0-9.]* [KMG]iB ([0-9]* files)\.$" out &&
	test ! -e "$blob" &&
	test ! -e "$dir" &&
	test_must_fail "$ZENC" runs show "$id" 2>err
'

test_done
