#!/bin/sh
# shellcheck disable=SC2016 # bodies are single-quoted and eval-ed
# File and folder artifacts of C steps (docs/libzenc.md, "File and folder
# artifacts"): a 1 GiB file and a folder of 10,000 small files are moved
# into the artifact store with zenc_output_file(), read by the next step
# through zenc_input_path(), checked against their checksum, with a peak
# memory of the whole run (the program and every process it waits for,
# GNU time's maximum resident set size) under 20 MiB and no second copy on
# disk.
#
# ZENC_TEST_FILE_MB scales the file down (1024 by default: the figure of
# record); a sanitizer build may set it, and under ASan (ASAN_OPTIONS set)
# the memory bound is 200 MiB, still far below the file's size.
. "$(dirname "$0")/lib.sh"

MB=${ZENC_TEST_FILE_MB:-1024}
BYTES=$((MB * 1024 * 1024))
LIMIT_KB=20480
[ -n "${ASAN_OPTIONS:-}" ] && LIMIT_KB=204800
export ZT_FILE_MB="$MB" ZT_DIR_FILES=10000

test -x /usr/bin/time || test_skip_all 'GNU time (/usr/bin/time) is not installed'

# Prints the Python expression $2 over run $1's JSON: d is the run, s
# its steps by name, o(STEP) that step's outputs by name.
run_json() {
	"$ZENC" runs show "$1" --json >run.json &&
	python3 -c "import json; d = json.load(open('run.json')); \
s = {x['name']: x for x in d['steps']}; \
o = lambda st: {x['name']: x for x in s[st]['outputs']}; \
v = $2; print(v if isinstance(v, str) else json.dumps(v))"
}

mkdir work
test_expect_success 'a 1 GiB file and 10,000 files run through two steps each' '
	ZT_WORK=$PWD/work /usr/bin/time -v "$PROGRAMS/zt_files" run \
		>out 2>err &&
	test_grep "Step check_big has finished" err &&
	test_grep "Step check_tree has finished" err &&
	"$ZENC" runs list --json >runs.json &&
	test_json runs.json "d[0][\"id\"]" >run_id &&
	test "$(test_json runs.json "d[0][\"status\"]")" = completed
'

RUN=$(cat run_id 2>/dev/null)

test_expect_success 'the next steps read them whole and unchanged' '
	test "$(run_json "$RUN" "o(\"make_big\")[\"big\"][\"size\"]")" = "$BYTES" &&
	test "$(run_json "$RUN" "o(\"make_big\")[\"big\"][\"type\"]")" = file &&
	test "$(run_json "$RUN" "o(\"make_tree\")[\"tree\"][\"type\"]")" = dir &&
	big=$(run_json "$RUN" "o(\"check_big\")[\"bytes\"][\"uri\"]") &&
	test "$(cat "$big")" = "$BYTES" &&
	bad=$(run_json "$RUN" "o(\"check_big\")[\"bad_blocks\"][\"uri\"]") &&
	test "$(cat "$bad")" = 0 &&
	files=$(run_json "$RUN" "o(\"check_tree\")[\"files\"][\"uri\"]") &&
	test "$(cat "$files")" = 10000 &&
	sum=$(run_json "$RUN" "o(\"check_tree\")[\"sum\"][\"uri\"]") &&
	test "$(cat "$sum")" = 49995000
'

test_expect_success 'peak memory of the run stays under 20 MiB' '
	kb=$(sed -n "s/^[[:space:]]*Maximum resident set size (kbytes): //p" err) &&
	echo "peak: $kb KiB (limit $LIMIT_KB)" &&
	test -n "$kb" && test "$kb" -lt "$LIMIT_KB"
'

test_expect_success 'each is stored once: moved, real blocks, no copy left' '
	big=$(run_json "$RUN" "o(\"make_big\")[\"big\"][\"uri\"]") &&
	tree=$(run_json "$RUN" "o(\"make_tree\")[\"tree\"][\"uri\"]") &&
	test -f "$big" && test -d "$tree" &&
	test ! -e work/big.bin && test ! -e work/tree &&
	# Not sparse: the blocks the file holds cover its size.
	test "$(($(stat -c "%b * %B" "$big")))" -ge "$BYTES" &&
	test "$(find "$tree" -type f | wc -l)" = 10000 &&
	# Everything under $TMP but these two is small: no second copy.
	all=$(du -sk . | cut -f1) &&
	b=$(du -sk "$big" | cut -f1) &&
	t=$(du -sk "$tree" | cut -f1) &&
	echo "all $all KiB, file $b KiB, folder $t KiB" &&
	test $((all - b - t)) -lt 8192
'

test_expect_success 'the checksum is XXH3-128 of the file (xxhsum -H128)' '
	big=$(run_json "$RUN" "o(\"make_big\")[\"big\"][\"uri\"]") &&
	sum=$(run_json "$RUN" "o(\"make_big\")[\"big\"][\"checksum\"]") &&
	case "$sum" in xxh3:*) ;; *) false ;; esac &&
	if command -v xxhsum >/dev/null; then
		test "xxh3:$(xxhsum -H128 "$big" | cut -d" " -f1)" = "$sum"
	fi &&
	tsum=$(run_json "$RUN" "o(\"make_tree\")[\"tree\"][\"checksum\"]") &&
	case "$tsum" in xxh3:????????????????????????????????) ;; *) false ;; esac
'

rm -rf work && mkdir work
test_expect_success 'a changed byte in a stored file fails the step that reads it' '
	test_must_fail env ZT_WORK=$PWD/work ZT_FILE_MB=4 ZT_DIR_FILES=200 \
		ZT_CORRUPT=big "$PROGRAMS/zt_files" run --keep-going >out 2>err &&
	test_grep "checksum mismatch in .*/make_big/big" err &&
	test_grep "Step check_tree has finished" err
'

rm -rf work && mkdir work
test_expect_success 'a changed file in a stored folder fails the step that reads it' '
	test_must_fail env ZT_WORK=$PWD/work ZT_FILE_MB=4 ZT_DIR_FILES=200 \
		ZT_CORRUPT=tree "$PROGRAMS/zt_files" run --keep-going >out 2>err &&
	test_grep "checksum mismatch in .*/make_tree/tree" err &&
	test_grep "Step check_big has finished" err
'

test_done
