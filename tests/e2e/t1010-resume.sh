#!/bin/sh
# shellcheck disable=SC2016 # bodies are single-quoted and eval-ed
# Resuming a failed run (docs/caching.md): `PROG run --resume RUN` and
# `zenc run FILE --resume RUN` start a new run linked to RUN that reuses
# the steps RUN completed with an unchanged key, whatever their cache
# setting, and executes the rest; `zenc runs show` (text and JSON) and
# the dashboard show which steps were reused and from which run.
. "$(dirname "$0")/lib.sh"

. "$TEST_DIRECTORY/cache.sh"

hooks () {
	grep "^hook " "$ZT_CACHE_COUNTER" 2>/dev/null | sort | tr '\n' ' ' | sed 's/ $//'
}

test_expect_success 'a run fails at step 9 of 10' '
	test_expect_code 1 env ZT_CACHE_FAIL=s09 "$ZT" run -q --run-name failed9 &&
	test "$(executed)" = "s01 s02 s03 s04 s05 s06 s07 s08 s09"
'

test_expect_success '--resume executes only steps 9 and 10' '
	: >"$ZT_CACHE_COUNTER" &&
	"$ZT" run -q --resume failed9 --run-name resumed9 &&
	test "$(executed)" = "s09 s10" &&
	test "$(hooks)" = "hook s09 hook s10" &&
	"$ZENC" runs show resumed9 --json >run.json &&
	test "$(statuses)" = "s01=cached s02=cached s03=cached s04=cached s05=cached s06=cached s07=cached s08=cached s09=completed s10=completed" &&
	test "$(test_json run.json "d[\"resumed_from\"]")" = "$(id_of failed9)" &&
	test "$(test_json run.json "sorted(set(s[\"cached_from\"] for s in d[\"steps\"][:8]))")" = "[\"$(id_of failed9)\"]" &&
	test "$(test_json run.json "[s[\"cached_from\"] for s in d[\"steps\"][8:]]")" = "[null, null]" &&
	test "$(test_json run.json "d[\"status\"]")" = completed &&
	test "$(test_json run.json "sum(len(s[\"hooks\"]) for s in d[\"steps\"][:8])")" = 0
'

test_expect_success 'zenc runs show marks the reused steps and the run resumed' '
	"$ZENC" runs show resumed9 >show.txt &&
	test_grep "^  resumed:  $(id_of failed9)$" show.txt &&
	test_grep "^  s01: cached (reused) from run $(id_of failed9)$" show.txt &&
	test_grep "^  s09: completed, 1 attempt" show.txt &&
	"$ZENC" runs show failed9 --json >run.json &&
	test "$(test_json run.json "d[\"resumed_from\"]")" = null
'

test_expect_success 'a step reused twice names the run that executed it' '
	test_expect_code 1 env ZT_CACHE_FAIL=s10 "$ZT" run -q --resume failed9 --run-name failed10 &&
	: >"$ZT_CACHE_COUNTER" &&
	"$ZT" run -q --resume failed10 --run-name resumed10 &&
	test "$(executed)" = "s10" &&
	"$ZENC" runs show resumed10 --json >run.json &&
	test "$(step cached_from s01)" = "$(id_of failed9)" &&
	test "$(step cached_from s09)" = "$(id_of failed10)" &&
	test "$(step status s10)" = completed
'

test_expect_success 'resuming reuses steps whatever their cache setting, with --no-cache too' '
	: >"$ZT_CACHE_COUNTER" &&
	test_expect_code 1 env ZT_CACHE_OFF=s03 ZT_CACHE_FAIL=s09 "$ZT" run -q --no-cache --run-name off9 &&
	test "$(executed)" = "s01 s02 s03 s04 s05 s06 s07 s08 s09" &&
	: >"$ZT_CACHE_COUNTER" &&
	ZT_CACHE_OFF=s03 "$ZT" run -q --no-cache --resume off9 --run-name offr &&
	test "$(executed)" = "s09 s10" &&
	"$ZENC" runs show offr --json >run.json &&
	test "$(step status s03)" = cached
'

test_expect_success 'a changed parameter invalidates a step of the run resumed, and what follows' '
	: >"$ZT_CACHE_COUNTER" &&
	"$ZT" run -q --resume failed9 --param s06.add=3 --run-name changed &&
	test "$(executed)" = "s06 s07 s08 s09 s10"
'

test_expect_success 'a resumed run of another pipeline, or no such run, is refused' '
	test_expect_code 2 "$ZT" run --resume nosuchrun 2>err &&
	test_grep "resume: no run .nosuchrun." err &&
	printf "name: other\nsteps:\n  - name: a\n    run: \"true\"\n" >other.yaml &&
	"$ZENC" run other.yaml -q --run-name otherrun &&
	test_expect_code 2 "$ZT" run --resume otherrun 2>err &&
	test_grep "is a run of pipeline .other., not .zt_cache." err &&
	test_expect_code 2 "$ZT" run --resume 2>err &&
	test_grep "needs a value" err &&
	"$ZT" --help >help &&
	test_grep "^  --resume RUN" help &&
	test_grep "^  --no-cache" help
'

cat >y.yaml <<\EOF_
name: yresume
steps:
  - name: a
    run: echo a >>"$ZT_CACHE_COUNTER"; echo 1 >"$ZENC_OUTPUT_DIR/x"
    outputs: {x: int}
  - name: b
    inputs: {x: a.x}
    run: echo b >>"$ZT_CACHE_COUNTER"; test ! -e fail-b && echo 2 >"$ZENC_OUTPUT_DIR/y"
    outputs: {y: int}
    cache: false
  - name: c
    after: [b]
    run: echo c >>"$ZT_CACHE_COUNTER"
EOF_

test_expect_success 'YAML: zenc run FILE --resume RUN executes the failed step and what follows, and reuses even steps without outputs or with cache false' '
	: >"$ZT_CACHE_COUNTER" &&
	touch fail-b &&
	test_expect_code 1 "$ZENC" run y.yaml -q --run-name yfail &&
	test "$(executed)" = "a b" &&
	rm fail-b &&
	: >"$ZT_CACHE_COUNTER" &&
	"$ZENC" run y.yaml -q --resume yfail --run-name yres &&
	test "$(executed)" = "b c" &&
	: >"$ZT_CACHE_COUNTER" &&
	"$ZENC" run y.yaml -q --resume yres --run-name yres2 &&
	test ! -s "$ZT_CACHE_COUNTER" &&
	"$ZENC" runs show yres2 --json >run.json &&
	test "$(statuses)" = "a=cached b=cached c=cached" &&
	test "$(step cached_from a)" = "$(id_of yfail)" &&
	test "$(step cached_from b)" = "$(id_of yres)" &&
	test "$(step cached_from c)" = "$(id_of yres)"
'

PORT=$(test_free_port)
BASE=http://127.0.0.1:$PORT

test_expect_success 'the dashboard marks cached and reused steps and the run resumed' '
	{ "$ZENC" ui --port '"$PORT"' >ui.out 2>ui.err & } &&
	test_register_pid $! &&
	i=0 && while ! curl -s -o /dev/null '"$BASE"'/ && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done &&
	curl -s '"$BASE"'/runs/"$(id_of resumed9)" >page.html &&
	test_grep "<dt>resumed</dt><dd id=\"resumed-from\"><a href=\"/runs/$(id_of failed9)\">" page.html &&
	test "$(grep -c "class=\"cached\" data-cached-from=\"$(id_of failed9)\">not executed: reused (resume) from run" page.html)" = 8 &&
	test_grep "data-status=\"cached\"" page.html &&
	test_grep "<title>s01 — cached from run $(id_of failed9)</title>" page.html &&
	test_grep "10, 2 completed, 8 cached" page.html &&
	"$ZT" run -q --run-name plain &&
	curl -s '"$BASE"'/runs/"$(id_of plain)" >plain.html &&
	test "$(grep -c "not executed: taken from the cache from run" plain.html)" = 10 &&
	test_grep ! "id=\"resumed-from\"" plain.html &&
	"$ZENC" runs report resumed9 -o report.html &&
	test_grep "not executed: reused (resume) from run <code>$(id_of failed9)</code>" report.html
'

test_done
