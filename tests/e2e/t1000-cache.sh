#!/bin/sh
# shellcheck disable=SC2016 # bodies are single-quoted and eval-ed
# The step cache (docs/caching.md) on the local orchestrator, C and YAML:
# a second identical run executes nothing and records every step cached,
# a changed parameter or source file re-runs that step and its
# descendants only, a rebuilt C program invalidates its steps, cached
# steps fire no hook, --no-cache, `cache:` settings, and `zenc runs show`
# marks what was cached and from which run.
. "$(dirname "$0")/lib.sh"

. "$TEST_DIRECTORY/cache.sh"

# hooks: how many hooks fired.
hooks () {
	grep "^hook " "$ZT_CACHE_COUNTER" 2>/dev/null | wc -l | tr -d ' '
}

test_expect_success 'a first run executes every step and records keys' '
	"$ZT" run -q &&
	test "$(executed)" = "s01 s02 s03 s04 s05 s06 s07 s08 s09 s10" &&
	test "$(hooks)" = 10 &&
	last_run && cp run.json first.json && echo "$id" >first.id &&
	test "$(test_json run.json "sorted(set(s[\"status\"] for s in d[\"steps\"]))")" = "[\"completed\"]" &&
	test "$(test_json run.json "[s[\"cached_from\"] for s in d[\"steps\"]]")" = "$(test_json run.json "[None] * 10")" &&
	test "$(sqlite3 "$ZENC_DATA/zenc.db" "SELECT count(DISTINCT cache_key) FROM step_runs WHERE run_id = '\''$id'\''")" = 10
'

test_expect_success 'a second identical run executes nothing: every step is cached' '
	: >"$ZT_CACHE_COUNTER" &&
	"$ZT" run -q &&
	test ! -s "$ZT_CACHE_COUNTER" &&
	last_run &&
	test "$(test_json run.json "sorted(set(s[\"status\"] for s in d[\"steps\"]))")" = "[\"cached\"]" &&
	test "$(test_json run.json "sorted(set(s[\"cached_from\"] for s in d[\"steps\"]))")" = "[\"$(cat first.id)\"]" &&
	test "$(test_json run.json "d[\"status\"]")" = completed
'

test_expect_success 'cached steps fire no hook, make no attempt, and reuse the same artifact files' '
	last_run &&
	test "$(test_json run.json "sum(len(s[\"hooks\"]) for s in d[\"steps\"])")" = 0 &&
	test "$(test_json run.json "sum(s[\"attempts\"] for s in d[\"steps\"])")" = 0 &&
	test "$(test_json run.json "[a[\"uri\"] for s in d[\"steps\"] for a in s[\"outputs\"]]")" = \
		"$(test_json first.json "[a[\"uri\"] for s in d[\"steps\"] for a in s[\"outputs\"]]")" &&
	test "$(test_json run.json "len([a for s in d[\"steps\"] for a in s[\"outputs\"]])")" = 10 &&
	test ! -e "$ZENC_DATA/artifacts/$id/s01"
'

test_expect_success 'zenc runs show marks cached steps and names the run that executed them' '
	last_run &&
	"$ZENC" runs show "$id" >show.txt &&
	test_grep "^  s01: cached from run $(cat first.id)$" show.txt &&
	test_grep "^  s10: cached from run $(cat first.id)$" show.txt &&
	test_grep "^    output v: int" show.txt
'

test_expect_success 'a changed parameter re-runs that step and its descendants only' '
	: >"$ZT_CACHE_COUNTER" &&
	"$ZT" run -q --param s05.add=2 &&
	test "$(executed)" = "s05 s06 s07 s08 s09 s10" &&
	last_run && echo "$id" >add2.id &&
	test "$(statuses)" = "s01=cached s02=cached s03=cached s04=cached s05=completed s06=completed s07=completed s08=completed s09=completed s10=completed" &&
	test "$(test_json run.json "[a[\"uri\"] for s in d[\"steps\"] if s[\"name\"] == \"s10\" for a in s[\"outputs\"]][0]")" = "$ZENC_DATA/artifacts/$id/s10/v" &&
	test "$(cat "$ZENC_DATA/artifacts/$id/s10/v")" = 11
'

test_expect_success 'each earlier combination is found again in the cache' '
	: >"$ZT_CACHE_COUNTER" &&
	"$ZT" run -q --param s05.add=2 &&
	test ! -s "$ZT_CACHE_COUNTER" &&
	last_run &&
	test "$(test_json run.json "[s[\"cached_from\"] for s in d[\"steps\"]][9]")" = "$(cat add2.id)" &&
	"$ZT" run -q &&
	test ! -s "$ZT_CACHE_COUNTER"
'

test_expect_success 'a cached output whose file is gone is not reused: the step executes' '
	ZT_CACHE_STEPS=3 "$ZT" run -q --param s03.add=7 &&
	last_run &&
	rm "$ZENC_DATA/artifacts/$id/s03/v" &&
	: >"$ZT_CACHE_COUNTER" &&
	ZT_CACHE_STEPS=3 "$ZT" run -q --param s03.add=7 &&
	test "$(executed)" = "s03" &&
	last_run &&
	test "$(step status s03)" = completed &&
	test "$(cat "$ZENC_DATA/artifacts/$id/s03/v")" = 9
'

test_expect_success '--no-cache executes every step and records keys a later run hits' '
	: >"$ZT_CACHE_COUNTER" &&
	"$ZT" run -q --no-cache &&
	test "$(executed)" = "s01 s02 s03 s04 s05 s06 s07 s08 s09 s10" &&
	last_run && echo "$id" >nocache.id &&
	: >"$ZT_CACHE_COUNTER" &&
	"$ZT" run -q &&
	test ! -s "$ZT_CACHE_COUNTER" &&
	last_run &&
	test "$(test_json run.json "sorted(set(s[\"cached_from\"] for s in d[\"steps\"]))")" = "[\"$(cat nocache.id)\"]"
'

test_expect_success 'a step with the cache off executes, and so does everything downstream of it' '
	: >"$ZT_CACHE_COUNTER" &&
	ZT_CACHE_OFF=s03 "$ZT" run -q &&
	test "$(executed)" = "s03 s04 s05 s06 s07 s08 s09 s10" &&
	last_run &&
	test "$(statuses)" = "s01=cached s02=cached s03=completed s04=completed s05=completed s06=completed s07=completed s08=completed s09=completed s10=completed"
'

test_expect_success 'a step without outputs is not cached by default' '
	"$ZT" run -q &&
	: >"$ZT_CACHE_COUNTER" &&
	ZT_CACHE_SINK=1 "$ZT" run -q &&
	test "$(executed)" = "sink" &&
	: >"$ZT_CACHE_COUNTER" &&
	ZT_CACHE_SINK=1 "$ZT" run -q &&
	test "$(executed)" = "sink"
'

# A sanitizer build's library needs its program built the same way.
SAN_FLAGS=
if grep -q "^ZENC_SANITIZE:BOOL=ON" "$ZENC_BUILD/CMakeCache.txt" 2>/dev/null; then
	SAN_FLAGS="-fsanitize=address,undefined"
fi
export SAN_FLAGS

cat >rebuilt.c <<\EOF_
#include <stdio.h>
#include <stdlib.h>
#include <zenc.h>

static void note(const char *name)
{
	FILE *f = fopen(getenv("ZT_CACHE_COUNTER"), "a");
	if (f) {
		fprintf(f, "%s\n", name);
		fclose(f);
	}
}

static int make(zenc_step_context *ctx)
{
	note("make");
	return zenc_output_string(ctx, "text", VARIANT);
}

static int show(zenc_step_context *ctx)
{
	const char *t;
	note("show");
	zenc_input_string(ctx, "text", &t);
	return zenc_output_string(ctx, "shown", t);
}

int main(int argc, char **argv)
{
	zenc_pipeline *p;
	zenc_step *a, *b;
	int rc;

	zenc_pipeline_new(&p, "rebuilt");
	zenc_pipeline_add_step(&a, p, "make", make);
	zenc_step_add_output(a, "text", ZENC_STRING);
	zenc_pipeline_add_step(&b, p, "show", show);
	zenc_step_add_input(b, "text", a, "text");
	zenc_step_add_output(b, "shown", ZENC_STRING);
	if (getenv("REBUILT_VERSION")) {
		zenc_step_set_cache_version(a, getenv("REBUILT_VERSION"));
		zenc_step_set_cache_version(b, getenv("REBUILT_VERSION"));
	}
	rc = zenc_main(p, argc, argv);
	zenc_pipeline_free(p);
	return rc;
}
EOF_

# build VARIANT: compiles rebuilt.c into ./rebuilt with VARIANT (a C
# string) as what `make` outputs.
build () {
	cc -std=c11 -Wall -Werror $SAN_FLAGS -I"$ZENC_SOURCE/include" \
		"-DVARIANT=\"$1\"" rebuilt.c -L"$ZENC_BUILD" -lzenc \
		-Wl,-rpath,"$ZENC_BUILD" -Wl,--build-id -o rebuilt
}

test_expect_success 'a rebuilt C pipeline invalidates its steps; the same build does not' '
	build one && ./rebuilt run -q &&
	: >"$ZT_CACHE_COUNTER" &&
	./rebuilt run -q && test ! -s "$ZT_CACHE_COUNTER" &&
	build one && ./rebuilt run -q && test ! -s "$ZT_CACHE_COUNTER" &&
	build two && ./rebuilt run -q &&
	test "$(executed)" = "make show" &&
	last_run &&
	test "$(cat "$(test_json run.json "d[\"steps\"][1][\"outputs\"][0][\"uri\"]")")" = two
'

test_expect_success 'a cache version stands in for the build id' '
	build three && REBUILT_VERSION=v1 ./rebuilt run -q &&
	: >"$ZT_CACHE_COUNTER" &&
	build four && REBUILT_VERSION=v1 ./rebuilt run -q &&
	test ! -s "$ZT_CACHE_COUNTER" &&
	REBUILT_VERSION=v2 ./rebuilt run -q &&
	test "$(executed)" = "make show" &&
	last_run &&
	test "$(cat "$(test_json run.json "d[\"steps\"][1][\"outputs\"][0][\"uri\"]")")" = four
'

mkdir -p y/data y/lib
printf 'a\n' >y/data/a.txt
printf 'b\n' >y/data/b.txt
printf 'x\n' >y/lib/helper.sh
cat >y/p.yaml <<\EOF_
name: ycache
steps:
  - name: count
    run: echo count >>"$ZT_CACHE_COUNTER"; cat data/*.txt | wc -l >"$ZENC_OUTPUT_DIR/n"
    outputs: {n: int}
    sources: ["data/*.txt", lib]
  - name: double
    inputs: {n: count.n}
    run: echo double >>"$ZT_CACHE_COUNTER"; echo $(( $(cat "$ZENC_INPUT_N") * 2 )) >"$ZENC_OUTPUT_DIR/n2"
    outputs: {n2: int}
    on_success: {run: echo "hook double" >>"$ZT_CACHE_COUNTER"}
  - name: other
    run: echo other >>"$ZT_CACHE_COUNTER"; echo 1 >"$ZENC_OUTPUT_DIR/one"
    parameters: {k: 1}
    outputs: {one: int}
  - name: notify
    after: [double, other]
    run: echo notify >>"$ZT_CACHE_COUNTER"
EOF_

test_expect_success 'YAML: a second run executes only the step without outputs' '
	: >"$ZT_CACHE_COUNTER" &&
	"$ZENC" run y/p.yaml -q &&
	test "$(executed)" = "count double notify other" && test "$(hooks)" = 1 &&
	: >"$ZT_CACHE_COUNTER" &&
	"$ZENC" run y/p.yaml -q &&
	test "$(executed)" = "notify" && test "$(hooks)" = 0 &&
	last_run &&
	test "$(statuses)" = "count=cached double=cached other=cached notify=completed" &&
	test "$(test_json run.json "[len(s[\"hooks\"]) for s in d[\"steps\"] if s[\"name\"] == \"double\"][0]")" = 0
'

test_expect_success 'YAML: a changed source file re-runs its step and the steps after it' '
	printf "c\n" >y/data/c.txt &&
	: >"$ZT_CACHE_COUNTER" &&
	"$ZENC" run y/p.yaml -q &&
	test "$(executed)" = "count double notify" &&
	printf "changed\n" >y/lib/helper.sh &&
	: >"$ZT_CACHE_COUNTER" &&
	"$ZENC" run y/p.yaml -q &&
	test "$(executed)" = "count double notify" &&
	printf "a2\n" >y/data/a.txt &&
	: >"$ZT_CACHE_COUNTER" &&
	"$ZENC" run y/p.yaml -q &&
	test "$(executed)" = "count double notify" &&
	: >"$ZT_CACHE_COUNTER" &&
	"$ZENC" run y/p.yaml -q &&
	test "$(executed)" = "notify"
'

test_expect_success 'YAML: a changed parameter or command re-runs its step' '
	: >"$ZT_CACHE_COUNTER" &&
	"$ZENC" run y/p.yaml -q --param other.k=2 &&
	test "$(executed)" = "notify other" &&
	sed "s/echo 1 >/echo 2 >/" y/p.yaml >y/p2.yaml &&
	: >"$ZT_CACHE_COUNTER" &&
	"$ZENC" run y/p2.yaml -q &&
	test "$(executed)" = "notify other"
'

test_expect_success 'YAML: cache false on a step, on the pipeline, and --no-cache' '
	sed "/name: other/a\\    cache: false" y/p.yaml >y/off.yaml &&
	: >"$ZT_CACHE_COUNTER" &&
	"$ZENC" run y/off.yaml -q &&
	test "$(executed)" = "notify other" &&
	{ echo "cache: false"; sed "/name: count/a\\    cache: true" y/p.yaml; } >y/poff.yaml &&
	: >"$ZT_CACHE_COUNTER" &&
	"$ZENC" run y/poff.yaml -q &&
	test "$(executed)" = "double notify other" &&
	: >"$ZT_CACHE_COUNTER" &&
	"$ZENC" run y/p.yaml -q --no-cache &&
	test "$(executed)" = "count double notify other"
'

test_expect_success 'YAML: --dry-run shows the cache settings the file sets' '
	"$ZENC" run y/off.yaml --dry-run >plan &&
	test_grep "^     sources: data/\*.txt, lib$" plan &&
	test_grep "^     cache: off (step)$" plan &&
	test "$(grep -c "cache:" plan)" = 1 &&
	"$ZENC" run y/poff.yaml --dry-run >plan &&
	test "$(grep -c "cache: off (pipeline)" plan)" = 3 &&
	test_grep "^     cache: on (step)$" plan
'

test_expect_success 'YAML: a step without outputs can be cached when it says so' '
	sed "/name: notify/a\\    cache: true" y/p.yaml >y/non.yaml &&
	"$ZENC" run y/non.yaml -q &&
	: >"$ZT_CACHE_COUNTER" &&
	"$ZENC" run y/non.yaml -q &&
	test ! -s "$ZT_CACHE_COUNTER"
'

test_expect_success 'YAML: bad cache and sources values are errors at their line' '
	sed "s/outputs: {one: int}/outputs: {one: int}\n    cache: maybe/" y/p.yaml >y/bad.yaml &&
	test_expect_code 2 "$ZENC" run y/bad.yaml 2>err &&
	test_grep "bad.yaml:16:12: expected true or false" err &&
	sed "s/sources: .*/sources: {a: b}/" y/p.yaml >y/bad2.yaml &&
	test_expect_code 2 "$ZENC" run y/bad2.yaml 2>err &&
	test_grep "bad2.yaml:6:" err
'

test_done
