#!/bin/sh
# shellcheck disable=SC2016 # bodies are single-quoted and eval-ed
# File and folder artifacts of YAML steps (docs/yaml.md): a step writes
# $ZENC_OUTPUT_DIR/NAME as a 1 GiB file or a folder of 10,000 files; they
# are moved into the artifact store (never read into memory), handed to
# the next step as $ZENC_INPUT_NAME after their checksum is checked; the
# whole run (zenc and every command) peaks under 20 MiB and nothing is
# stored twice.  A `bytes` output is moved in the same way.
#
# ZENC_TEST_FILE_MB scales the file down (1024 by default, the figure of
# record); under ASan (ASAN_OPTIONS set) the memory bound is 200 MiB.
. "$(dirname "$0")/lib.sh"

MB=${ZENC_TEST_FILE_MB:-1024}
BYTES=$((MB * 1024 * 1024))
LIMIT_KB=20480
[ -n "${ASAN_OPTIONS:-}" ] && LIMIT_KB=204800

test -x /usr/bin/time || test_skip_all 'GNU time (/usr/bin/time) is not installed'

cat >files.yaml <<EOF_Y
name: files
steps:
  - name: make_big
    run: dd if=/dev/zero of="\$ZENC_OUTPUT_DIR/big" bs=1M count=$MB status=none
    outputs: {big: file}
  - name: check_big
    inputs: {big: make_big.big}
    run: |
      test -f "\$ZENC_INPUT_BIG"
      stat -c %s "\$ZENC_INPUT_BIG" >"\$ZENC_OUTPUT_DIR/bytes"
      cmp -s -n $BYTES "\$ZENC_INPUT_BIG" /dev/zero && echo same >"\$ZENC_OUTPUT_DIR/same"
    outputs: {bytes: int, same: string}
  - name: make_tree
    run: |
      set -e
      t="\$ZENC_OUTPUT_DIR/tree"
      mkdir "\$t"
      i=0
      while [ \$i -lt 100 ]; do mkdir "\$t/d\$i"; i=\$((i + 1)); done
      i=0
      while [ \$i -lt 10000 ]; do echo \$i >"\$t/d\$((i % 100))/f\$i"; i=\$((i + 1)); done
    outputs: {tree: dir}
  - name: check_tree
    inputs: {tree: make_tree.tree}
    run: |
      find "\$ZENC_INPUT_TREE" -type f | wc -l >"\$ZENC_OUTPUT_DIR/files"
      cat "\$ZENC_INPUT_TREE"/d*/f* | awk '{s += \$1} END {print s}' >"\$ZENC_OUTPUT_DIR/sum"
    outputs: {files: int, sum: int}
  - name: make_blob
    run: head -c 209715200 /dev/zero >"\$ZENC_OUTPUT_DIR/blob"
    outputs: {blob: bytes}
EOF_Y

# Prints the Python expression $2 over run $1's JSON: d is the run, s
# its steps by name, o(STEP) that step's outputs by name.
run_json() {
	"$ZENC" runs show "$1" --json >run.json &&
	python3 -c "import json; d = json.load(open('run.json')); \\
s = {x['name']: x for x in d['steps']}; \\
o = lambda st: {x['name']: x for x in s[st]['outputs']}; \\
v = $2; print(v if isinstance(v, str) else json.dumps(v))"
}

test_expect_success 'a 1 GiB file, 10,000 files and 200 MB of bytes run through' '
	/usr/bin/time -v "$ZENC" run files.yaml -j 2 >out 2>err &&
	"$ZENC" runs list --json >runs.json &&
	test_json runs.json "d[0][\"id\"]" >run_id &&
	test "$(test_json runs.json "d[0][\"status\"]")" = completed
'

RUN=$(cat run_id 2>/dev/null)

test_expect_success 'the next steps read them whole' '
	test "$(run_json "$RUN" "o(\"make_big\")[\"big\"][\"size\"]")" = "$BYTES" &&
	test "$(cat "$(run_json "$RUN" "o(\"check_big\")[\"bytes\"][\"uri\"]")")" = "$BYTES" &&
	test "$(cat "$(run_json "$RUN" "o(\"check_big\")[\"same\"][\"uri\"]")")" = same &&
	test "$(cat "$(run_json "$RUN" "o(\"check_tree\")[\"files\"][\"uri\"]")")" = 10000 &&
	test "$(cat "$(run_json "$RUN" "o(\"check_tree\")[\"sum\"][\"uri\"]")")" = 49995000 &&
	test "$(run_json "$RUN" "o(\"make_blob\")[\"blob\"][\"size\"]")" = 209715200
'

test_expect_success 'peak memory of the run, commands included, under 20 MiB' '
	kb=$(sed -n "s/^[[:space:]]*Maximum resident set size (kbytes): //p" err) &&
	echo "peak: $kb KiB (limit $LIMIT_KB)" &&
	test -n "$kb" && test "$kb" -lt "$LIMIT_KB"
'

test_expect_success 'each is stored once: moved out of the output folder' '
	big=$(run_json "$RUN" "o(\"make_big\")[\"big\"][\"uri\"]") &&
	tree=$(run_json "$RUN" "o(\"make_tree\")[\"tree\"][\"uri\"]") &&
	blob=$(run_json "$RUN" "o(\"make_blob\")[\"blob\"][\"uri\"]") &&
	test "$(($(stat -c "%b * %B" "$big")))" -ge "$BYTES" &&
	test ! -e "$(dirname "$big")/out.1/big" &&
	test ! -e "$(dirname "$tree")/out.1/tree" &&
	test ! -e "$(dirname "$blob")/out.1/blob" &&
	all=$(du -sk . | cut -f1) &&
	b=$(du -sk "$big" | cut -f1) &&
	t=$(du -sk "$tree" | cut -f1) &&
	l=$(du -sk "$blob" | cut -f1) &&
	echo "all $all KiB, file $b KiB, folder $t KiB, bytes $l KiB" &&
	test $((all - b - t - l)) -lt 8192
'

test_expect_success 'the checksum is XXH3-128 of the file (xxhsum -H128)' '
	big=$(run_json "$RUN" "o(\"make_big\")[\"big\"][\"uri\"]") &&
	sum=$(run_json "$RUN" "o(\"make_big\")[\"big\"][\"checksum\"]") &&
	case "$sum" in xxh3:*) ;; *) false ;; esac &&
	if command -v xxhsum >/dev/null; then
		test "xxh3:$(xxhsum -H128 "$big" | cut -d" " -f1)" = "$sum"
	fi
'

cat >bad.yaml <<\EOF_Y
name: bad
steps:
  - name: make
    run: |
      mkdir "$ZENC_OUTPUT_DIR/tree"
      echo 1 >"$ZENC_OUTPUT_DIR/tree/a"
      echo 2 >"$ZENC_OUTPUT_DIR/f"
    outputs: {tree: dir, f: file}
  - name: spoil
    inputs: {tree: make.tree}
    run: echo 3 >>"$ZENC_INPUT_TREE/a"
  - name: read
    after: [spoil]
    inputs: {tree: make.tree}
    run: cat "$ZENC_INPUT_TREE/a"
EOF_Y

test_expect_success 'a changed stored folder fails the step that reads it' '
	test_must_fail "$ZENC" run bad.yaml >out 2>err &&
	test_grep "Step read failed: ArtifactError: input .read.tree.: checksum mismatch in .*/make/tree" err
'

test_expect_success 'a file where a folder is declared fails with OutputTypeError' '
	sed -e "s/tree: dir, f: file/tree: file, f: dir/" bad.yaml >swap.yaml &&
	test_must_fail "$ZENC" run swap.yaml >out 2>err &&
	test_grep "OutputTypeError: output .make.tree.: .*/tree. is not a regular file" err
'

test_done
