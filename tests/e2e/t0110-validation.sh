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
	test_grep -- "--version" out &&
	"$ZENC" version >out &&
	test_grep "^zenc [0-9]" out &&
	test_expect_code 2 "$ZENC" frob 2>err &&
	test_grep -x "zenc: .frob. is not a zenc command." err &&
	test_grep -x "See .zenc --help.." err &&
	test_expect_code 2 "$ZENC" --frob 2>err &&
	test_grep "unknown option .--frob." err
'

# The version: the project version of CMakeLists.txt, everywhere.
version=$(sed -n "s/^project(zenc VERSION \([0-9.]*\).*/\1/p" \
	"$ZENC_SOURCE/CMakeLists.txt")
export version

test_expect_success '--version: zenc, each verb, and pipeline programs' '
	test -n "$version" &&
	echo "zenc $version" >expect &&
	"$ZENC" --version >out 2>err &&
	test_cmp expect out && test ! -s err &&
	"$ZENC" version >out &&
	test_cmp expect out &&
	"$ZENC" --help >help &&
	for verb in $(sed -n "s/^  \([a-z-]*\)  .*/\1/p" help); do
		"$ZENC" "$verb" --version >out &&
		test_cmp expect out || return 1
	done &&
	test "$(sed -n "s/^  \([a-z-]*\)  .*/\1/p" help | wc -l)" -ge 12 &&
	"$ZENC" version --help >out &&
	test_grep "zenc <command> --version" out &&
	echo "zt_pipeline (zenc $version)" >expect &&
	"$ZT" --version >out &&
	test_cmp expect out &&
	"$ZT" run --stack nope --version >out &&
	test_cmp expect out &&
	"$ZT" --help >out &&
	test_grep -- "--version *print the version" out
'

test_expect_success 'a mistyped command or subcommand: did you mean, exit 2' '
	test_expect_code 2 "$ZENC" rnus list 2>err &&
	echo "zenc: '"'"'rnus'"'"' is not a zenc command. Did you mean '"'"'runs'"'"'?" >expect &&
	test_cmp expect err &&
	test_expect_code 2 "$ZENC" runs lsit 2>err &&
	echo "zenc: '"'"'lsit'"'"' is not a zenc runs command. Did you mean '"'"'list'"'"'?" >expect &&
	test_cmp expect err &&
	test_expect_code 2 "$ZENC" pipelines lits 2>err &&
	test_grep -x "zenc: .lits. is not a zenc pipelines command. Did you mean .list.?" err &&
	test_expect_code 2 "$ZENC" stak list 2>err &&
	test_grep "Did you mean .stack.?" err &&
	test_expect_code 2 "$ZENC" stack regster x 2>err &&
	test_grep "Did you mean .register.?" err &&
	test_expect_code 2 "$ZENC" alerter tset x 2>err &&
	test_grep "Did you mean .test.?" err &&
	test_expect_code 2 "$ZENC" alerts flsuh 2>err &&
	test_grep "Did you mean .flush.?" err &&
	test_expect_code 2 "$ZENC" secret delte x 2>err &&
	test_grep "Did you mean .delete.?" err &&
	test_expect_code 2 "$ZENC" artifact-stroe list 2>err &&
	test_grep "Did you mean .artifact-store.?" err
'

test_expect_success 'nothing close: no suggestion, the usage instead' '
	test_expect_code 2 "$ZENC" runs xyzzy 2>err &&
	test_grep -x "zenc: .xyzzy. is not a zenc runs command." err &&
	test_grep "^usage: zenc runs list" err &&
	test_expect_code 2 "$ZENC" orchestrator xyzzy x 2>err &&
	test_grep -x "zenc: .xyzzy. is not a zenc orchestrator command." err &&
	test_grep "^usage: zenc orchestrator" err &&
	test_expect_code 2 "$ZENC" qq 2>err &&
	test_grep ! "Did you mean" err
'

test_done
