#!/bin/sh
# shellcheck disable=SC2016 # bodies are single-quoted and eval-ed
# A YAML pipeline of 100,000 steps loads, validates and prints its plan
# (--dry-run): loading is linear in the number of steps (name lookups go
# through the pipeline's name index; the plan is a heap-ordered
# topological sort). A correctness test with a generous bound, not a
# timing test: bench/ measures the speed.
. "$(dirname "$0")/lib.sh"

N=100000

# A chain of N/2 steps, each reading the previous step's output, then a
# fan-out of N/2 steps after the chain's first step.
python3 - "$N" >big.yaml <<\PY
import sys
n = int(sys.argv[1])
half = n // 2
out = sys.stdout
out.write("name: big\nsteps:\n")
out.write("  - name: c0\n    run: echo 0 >\"$ZENC_OUTPUT_DIR/v\"\n    outputs: {v: int}\n")
for i in range(1, half):
    out.write("  - name: c%d\n    inputs: {v: c%d.v}\n"
              "    run: echo %d >\"$ZENC_OUTPUT_DIR/v\"\n"
              "    outputs: {v: int}\n" % (i, i - 1, i))
for i in range(half):
    out.write("  - name: f%d\n    after: [c0]\n    run: \"true\"\n" % i)
PY

test_expect_success 'a 100,000-step file is loaded, validated and planned' '
	timeout 240 "$ZENC" run big.yaml --dry-run >plan 2>err &&
	test_grep "^pipeline big (big.yaml): 100000 steps, in the order they can run$" plan &&
	test_grep "^dry run: nothing was run$" plan &&
	test "$(grep -c "^[0-9]*\. " plan)" = "$N" &&
	test "$(grep "^[0-9]*\. " plan | head -n 3 | cut -d" " -f2 | tr "\n" " ")" = "c0 c1 c2 " &&
	test_grep "^100000\. f49999 (after c0)$" plan &&
	test "$(sed -n "s/^\([0-9]*\)\. c49999.*/\1/p" plan)" = 50000 &&
	test "$("$ZENC" runs list --json | python3 -c "import json,sys; print(len(json.load(sys.stdin)))")" = 0
'

test_expect_success 'a duplicate name among 100,000 is found, with its place' '
	sed "s/^  - name: f7777$/  - name: c123/" big.yaml >dup.yaml &&
	test_expect_code 2 timeout 240 "$ZENC" run dup.yaml --dry-run >out 2>err &&
	test_grep "duplicate step name .c123. (first at line 494)" err &&
	test_grep "dup.yaml:[0-9]*:[0-9]*" err
'

test_done
