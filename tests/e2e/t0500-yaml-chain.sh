#!/bin/sh
# shellcheck disable=SC2016,SC2317,SC2034 # bodies are single-quoted and eval-ed
# shellcheck source-path=SCRIPTDIR
# YAML pipelines of shell commands (docs/yaml.md): outputs and inputs,
# parameters, environment, parallel steps, failures and what they skip.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

mkdir -p wf
cat >wf/chain.yaml <<\EOF_
name: chain
parameters: {greeting: hello, n: 1}
steps:
  - name: load
    run: |
      echo "load ran in $PWD" >&2
      printf '41\n' >"$ZENC_OUTPUT_DIR/rows"
      printf '%s world' "$ZENC_PARAM_GREETING" >"$ZENC_OUTPUT_DIR/text"
      printf 'true' >"$ZENC_OUTPUT_DIR/flag"
      printf '2.5\n' >"$ZENC_OUTPUT_DIR/ratio"
      printf 'a\0b' >"$ZENC_OUTPUT_DIR/blob"
    outputs: {rows: int, text: string, flag: bool, ratio: double, blob: bytes}
  - name: train
    inputs: {rows: load.rows, the-text: load.text}
    env: {MODE: fast, ZENC_STEP_NAME: overridden}
    parameters: {lr: 0.01, n: 3}
    run: ["sh", "-c", "echo $(( $(cat \"$ZENC_INPUT_ROWS\") + $ZENC_PARAM_N )) >\"$ZENC_OUTPUT_DIR/total\"; env | grep -E '^(ZENC_|MODE=)' | sort >train.env; pwd >train.pwd"]
    outputs: {total: int}
  - name: report
    inputs: {total: train.total}
    run: cp "$ZENC_INPUT_TOTAL" report.out
EOF_

cat >wf/fan.yaml <<\EOF_
name: fan
steps:
  - name: start
    run: "true"
  - name: a
    after: [start]
    run: &wait |
      touch "m.$ZENC_RUN_ID.$ZENC_STEP_NAME"
      i=0
      while [ "$(ls m.$ZENC_RUN_ID.* | wc -l)" -lt 2 ] && [ $i -lt 30 ]; do
        sleep 0.1; i=$((i + 1))
      done
      [ "$(ls m.$ZENC_RUN_ID.* | wc -l)" -ge 2 ] || { echo "alone after 3s"; exit 1; }
  - name: b
    after: start
    run: *wait
  - name: join
    after: [a, b]
    run: "true"
EOF_

cat >wf/fail.yaml <<\EOF_
name: failing
steps:
  - name: first
    run: "true"
  - name: broken
    after: [first]
    run: |
      for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do echo "line$i"; done
      exit 4
  - name: child
    after: [broken]
    run: touch child.ran
  - name: grandchild
    after: [child]
    run: touch grandchild.ran
  - name: independent
    after: [first]
    run: sleep 0.5; touch independent.ran
EOF_

cat >wf/outputs.yaml <<\EOF_
name: outputs
steps:
  - name: missing
    run: "true"
    outputs: {n: int}
  - name: badint
    run: echo abc >"$ZENC_OUTPUT_DIR/n"
    outputs: {n: int}
  - name: badbool
    run: echo maybe >"$ZENC_OUTPUT_DIR/b"
    outputs: {b: bool}
EOF_

test_expect_success 'a chain passes typed outputs to inputs' '
	"$ZENC" run wf/chain.yaml --run-name c1 >out 2>err &&
	test "$(cat wf/report.out)" = 44 &&
	"$ZENC" runs show c1 --json >c1.json &&
	test "$(test_json c1.json "d[\"status\"]")" = completed &&
	test "$(test_json c1.json "d[\"pipeline\"]")" = chain &&
	test "$(test_json c1.json "[o[\"type\"] for o in d[\"steps\"][0][\"outputs\"]]")" = "[\"int\", \"string\", \"bool\", \"double\", \"bytes\"]" &&
	uri=$(test_json c1.json "d[\"steps\"][0][\"outputs\"][0][\"uri\"]") &&
	test "$(cat "$uri")" = 41 &&
	uri=$(test_json c1.json "d[\"steps\"][0][\"outputs\"][1][\"uri\"]") &&
	test "$(cat "$uri")" = "hello world" &&
	test "$(test_json c1.json "d[\"steps\"][0][\"outputs\"][4][\"size\"]")" = 3
'

test_expect_success 'a step runs in the file folder with the context in its environment' '
	test "$(cat wf/train.pwd)" = "$TMP/wf" &&
	test_grep "^MODE=fast\$" wf/train.env &&
	test_grep "^ZENC_STEP_NAME=train\$" wf/train.env &&
	test_grep "^ZENC_PIPELINE_NAME=chain\$" wf/train.env &&
	test_grep "^ZENC_RUN_NAME=c1\$" wf/train.env &&
	test_grep "^ZENC_HOOK_EVENT=\$" wf/train.env &&
	test_grep "^ZENC_ATTEMPT=1\$" wf/train.env &&
	test_grep "^ZENC_PARAM_GREETING=hello\$" wf/train.env &&
	test_grep "^ZENC_PARAM_N=3\$" wf/train.env &&
	test_grep "^ZENC_PARAM_LR=0.01\$" wf/train.env &&
	test_grep "^ZENC_INPUT_ROWS=.*/load/rows\$" wf/train.env &&
	test_grep "^ZENC_INPUT_THE_TEXT=.*/load/text\$" wf/train.env &&
	test_grep "^ZENC_OUTPUT_DIR=$ZENC_DATA/.*/train/out.1\$" wf/train.env
'

test_expect_success 'the step log is in the artifact store' '
	dir=$(dirname "$(test_json c1.json "d[\"steps\"][0][\"outputs\"][0][\"uri\"]")") &&
	test_grep "^load ran in $TMP/wf\$" "$dir/log.1"
'

test_expect_success '--param overrides a YAML parameter, checked against its type' '
	"$ZENC" run wf/chain.yaml --param train.n=10 --run-name c2 &&
	test "$(cat wf/report.out)" = 51 &&
	"$ZENC" runs show c2 --json >c2.json &&
	test "$(test_json c2.json "d[\"steps\"][1][\"params\"][\"n\"]")" = 10 &&
	test_expect_code 2 "$ZENC" run wf/chain.yaml --param train.n=many 2>err &&
	test_grep "parameter .train.n. expects an int, got .many." err &&
	test_expect_code 2 "$ZENC" run wf/chain.yaml --param train.nn=1 2>err &&
	test_grep "step .train. has no parameter .nn." err
'

test_expect_success 'fan-out steps run in parallel with -j 2' '
	"$ZENC" run wf/fan.yaml -j 2 --run-name f1 &&
	"$ZENC" runs show f1 --json >f1.json &&
	test "$(test_json f1.json "[s[\"status\"] for s in d[\"steps\"]]")" = "[\"completed\", \"completed\", \"completed\", \"completed\"]"
'

test_expect_success 'and not with -j 1 (the test can tell)' '
	test_expect_code 1 "$ZENC" run wf/fan.yaml -j 1 --run-name f2 &&
	"$ZENC" runs show f2 --json >f2.json &&
	test "$(test_json f2.json "d[\"status\"]")" = failed
'

test_expect_success 'a failing step: ExitCode, the log tail, skipped descendants' '
	test_expect_code 1 "$ZENC" run wf/fail.yaml -j 2 --run-name x1 2>err &&
	"$ZENC" runs show x1 --json >x1.json &&
	test "$(step_field x1.json broken status)" = failed &&
	test "$(step_field x1.json broken error_type)" = ExitCode &&
	test "$(step_field x1.json broken exit_code)" = 4 &&
	step_field x1.json broken error_message >msg &&
	test "$(head -n 1 msg)" = "command exited with code 4" &&
	test_grep "^line15\$" msg &&
	test_grep "^line6\$" msg &&
	test_grep ! "^line5\$" msg &&
	test "$(step_field x1.json child status)" = skipped &&
	test "$(step_field x1.json grandchild status)" = skipped &&
	test "$(step_field x1.json independent status)" = completed &&
	! test -e wf/child.ran &&
	! test -e wf/grandchild.ran
'

test_expect_success '--keep-going runs what does not depend on the failure' '
	rm -f wf/independent.ran &&
	test_expect_code 1 "$ZENC" run wf/fail.yaml -j 1 --keep-going --run-name x2 &&
	"$ZENC" runs show x2 --json >x2.json &&
	test "$(step_field x2.json independent status)" = completed &&
	test "$(step_field x2.json child status)" = skipped &&
	test -e wf/independent.ran
'

test_expect_success 'a missing output is MissingOutput; a bad one OutputTypeError' '
	test_expect_code 1 "$ZENC" run wf/outputs.yaml --keep-going --run-name o1 &&
	"$ZENC" runs show o1 --json >o1.json &&
	test "$(step_field o1.json missing error_type)" = MissingOutput &&
	test "$(step_field o1.json badint error_type)" = OutputTypeError &&
	step_field o1.json badint error_message >msg &&
	test_grep "output .n. of step .badint. is not an int: .abc." msg &&
	test "$(step_field o1.json badbool error_type)" = OutputTypeError
'

test_done
