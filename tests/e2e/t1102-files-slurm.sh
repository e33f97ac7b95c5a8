#!/bin/sh
# shellcheck disable=SC2016 # bodies are single-quoted and eval-ed
# File and folder artifacts on the Slurm orchestrator (docs/slurm.md):
# each step is a job; a job moves its file or folder into the artifact
# store, the store records its checksum, and the job of the next step
# reads the record back, checks the file against it and reads it. Small
# sizes: t1100 and t1101 measure memory and disk.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/slurm.sh"

# Prints the Python expression $2 over run $1's JSON: d is the run, s
# its steps by name, o(STEP) that step's outputs by name.
run_json() {
	"$ZENC" runs show "$1" --json >run.json &&
	python3 -c "import json; d = json.load(open('run.json')); \\
s = {x['name']: x for x in d['steps']}; \\
o = lambda st: {x['name']: x for x in s[st]['outputs']}; \\
v = $2; print(v if isinstance(v, str) else json.dumps(v))"
}

mkdir work
cat >files.yaml <<\EOF_Y
name: yfiles
steps:
  - name: make
    run: |
      mkdir "$ZENC_OUTPUT_DIR/tree" "$ZENC_OUTPUT_DIR/tree/sub"
      echo 1 >"$ZENC_OUTPUT_DIR/tree/a"
      echo 2 >"$ZENC_OUTPUT_DIR/tree/sub/b"
      head -c 3000000 /dev/zero >"$ZENC_OUTPUT_DIR/f"
    outputs: {tree: dir, f: file}
  - name: use
    inputs: {tree: make.tree, f: make.f}
    run: |
      cat "$ZENC_INPUT_TREE/a" "$ZENC_INPUT_TREE/sub/b" | awk '{s += $1} END {print s}' >"$ZENC_OUTPUT_DIR/sum"
      stat -c %s "$ZENC_INPUT_F" >"$ZENC_OUTPUT_DIR/size"
    outputs: {sum: int, size: int}
EOF_Y

test_expect_success 'a slurm stack is set up (single node)' '
	"$ZENC" orchestrator register sl --flavor slurm --single_node=true \
		--poll_interval=0.2 --partition=debug &&
	"$ZENC" artifact-store register art --flavor local --path="$TMP/art" &&
	"$ZENC" stack register sl -o sl -a art &&
	"$ZENC" stack set sl
'

test_expect_success 'C steps as jobs pass a file and a folder of 300 files' '
	ZT_WORK=$PWD/work ZT_FILE_MB=8 ZT_DIR_FILES=300 \
		timeout 240 "$PROGRAMS/zt_files" run >out 2>err &&
	"$ZENC" runs list --json >runs.json &&
	run=$(test_json runs.json "d[0][\"id\"]") &&
	test "$(test_json runs.json "d[0][\"status\"]")" = completed &&
	test "$(cat "$(run_json "$run" "o(\"check_big\")[\"bytes\"][\"uri\"]")")" = 8388608 &&
	test "$(cat "$(run_json "$run" "o(\"check_big\")[\"bad_blocks\"][\"uri\"]")")" = 0 &&
	test "$(cat "$(run_json "$run" "o(\"check_tree\")[\"files\"][\"uri\"]")")" = 300 &&
	test "$(cat "$(run_json "$run" "o(\"check_tree\")[\"sum\"][\"uri\"]")")" = 44850 &&
	big=$(run_json "$run" "o(\"make_big\")[\"big\"][\"uri\"]") &&
	case "$big" in "$TMP/art/"*) ;; *) false ;; esac &&
	test ! -e work/big.bin
'

rm -rf work && mkdir work
test_expect_success 'a job reading a changed folder fails on its checksum' '
	test_must_fail env ZT_WORK=$PWD/work ZT_FILE_MB=2 ZT_DIR_FILES=100 \
		ZT_CORRUPT=tree timeout 240 "$PROGRAMS/zt_files" run \
		--keep-going >out 2>err &&
	"$ZENC" runs list --json >runs.json &&
	run=$(test_json runs.json "d[0][\"id\"]") &&
	run_json "$run" "s[\"check_tree\"][\"error_message\"]" >msg &&
	test_grep "checksum mismatch in .*/make_tree/tree" msg &&
	test "$(run_json "$run" "s[\"check_big\"][\"status\"]")" = completed
'

test_expect_success 'YAML steps as jobs pass a file and a folder' '
	timeout 240 "$ZENC" run files.yaml >out 2>err &&
	"$ZENC" runs list --json >runs.json &&
	run=$(test_json runs.json "d[0][\"id\"]") &&
	test "$(test_json runs.json "d[0][\"status\"]")" = completed &&
	test "$(cat "$(run_json "$run" "o(\"use\")[\"sum\"][\"uri\"]")")" = 3 &&
	test "$(cat "$(run_json "$run" "o(\"use\")[\"size\"][\"uri\"]")")" = 3000000
'

test_done
