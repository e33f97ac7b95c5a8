#!/bin/sh
# shellcheck disable=SC2016 # bodies are single-quoted and eval-ed
# Bad pipelines and bad command lines: a clear error and exit 2, before
# anything runs; a broken environment: exit 3.
. "$(dirname "$0")/lib.sh"

ZT=$PROGRAMS/zt_pipeline
ZT_LOG=$TMP/hooks.log
export ZT_LOG

test_expect_success 'a duplicate step name is refused' '
	test_expect_code 2 env ZT_DUPLICATE=1 "$ZT" run 2>err &&
	test_grep "duplicate step name .work." err &&
	test ! -e "$ZT_LOG"
'

test_expect_success 'a cycle is refused and named' '
	test_expect_code 2 env ZT_CYCLE=1 "$ZT" run 2>err &&
	test_grep "dependency cycle: .*source.*sink" err
'

test_expect_success 'an input wired to an unknown output is refused' '
	test_expect_code 2 env ZT_UNKNOWN_INPUT=1 "$ZT" run 2>err &&
	test_grep "input .sink.q. names unknown output .work.nope." err
'

test_expect_success 'nothing ran and nothing was recorded for refused pipelines' '
	test ! -e "$ZT_LOG" &&
	{ test ! -e "$ZENC_DATA/zenc.db" ||
	  test "$("$ZENC" runs list --json)" = "[]"; }
'

test_expect_success '--param with an unknown step names it' '
	test_expect_code 2 "$ZT" run --param trian.mode=ok 2>err &&
	test_grep "unknown step .trian." err
'

test_expect_success '--param with an unknown field names step and field' '
	test_expect_code 2 "$ZT" run --param work.mood=ok 2>err &&
	test_grep "step .work. has no parameter .mood. (known: mode, fail_times, sleep)" err
'

test_expect_success '--param with a wrong type names step, field and type' '
	test_expect_code 2 "$ZT" run --param source.n=abc 2>err &&
	test_grep "parameter .source.n. expects an int, got .abc." err &&
	test_expect_code 2 "$ZT" run --param work.sleep=fast 2>err &&
	test_grep "parameter .work.sleep. expects a double" err
'

test_expect_success '--param overrides reach the step' '
	"$ZT" run --param source.n=99 &&
	test_grep "^sink got 100$" "$ZT_LOG"
'

test_expect_success 'an unknown option or a bad value is a usage error' '
	test_expect_code 2 "$ZT" run --frobnicate 2>err &&
	test_grep "unknown option .--frobnicate." err &&
	test_expect_code 2 "$ZT" run --isolation thread 2>err &&
	test_grep "invalid value .thread." err &&
	test_expect_code 2 "$ZT" run -j 0 &&
	test_expect_code 2 "$ZT" frob
'

test_expect_success '--help prints the usage and exits 0' '
	"$ZT" --help >out &&
	test_grep "usage: .* run \[options\]" out &&
	test_grep -- "--keep-going" out &&
	"$ZT" run --help >out &&
	test_grep -- "--isolation process|none" out
'

test_expect_success 'validate prints the plan and runs nothing' '
	: >"$ZT_LOG" &&
	"$ZT" validate >out &&
	test_grep "^  sink after work$" out &&
	test ! -s "$ZT_LOG"
'

test_expect_success 'an unusable metadata store is an environment error (exit 3)' '
	echo file >blocker &&
	test_expect_code 3 env ZENC_DATA="$TMP/blocker/data" "$ZT" run 2>err &&
	test_grep "error" err
'

test_expect_success 'zenc pipelines list counts the runs that were recorded' '
	test_expect_code 1 "$ZT" run -q --param work.mode=raise &&
	"$ZENC" pipelines list --json >p.json &&
	test "$(test_json p.json "[(p[\"pipeline\"], p[\"runs\"], p[\"failed\"], p[\"last_status\"]) for p in d]")" = "[[\"zt\", 2, 1, \"failed\"]]" &&
	"$ZENC" pipelines list >p.txt &&
	test_grep "^zt  *2  *1  failed " p.txt &&
	test_expect_code 2 "$ZENC" pipelines list --bogus
'

test_expect_success 'zenc --help, version and an unknown command' '
	"$ZENC" --help >out &&
	test_grep "runs" out &&
	"$ZENC" version >out &&
	test_grep "^zenc [0-9]" out &&
	test_expect_code 2 "$ZENC" frob 2>err &&
	test_grep "unknown command .frob." err
'

test_done
