#!/bin/sh
# shellcheck disable=SC2016 # bodies are single-quoted and eval-ed
# The step cache and --resume on the postgres metadata store (pg.sh): the
# lookup by cache key, the cached rows and the run a run resumed, as on
# SQLite (t1000, t1010).
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/pg.sh"

. "$TEST_DIRECTORY/cache.sh"

test_expect_success 'a postgres metadata store is set up' '
	printf "%s\n" "$PG_PASSWORD" | "$ZENC" secret set pgpass &&
	"$ZENC" metadata-store register pg --flavor postgres \
		--dsn="$PG_DSN password={{secret.pgpass}}" &&
	"$ZENC" stack register pgstack -m pg &&
	"$ZENC" stack set pgstack
'

if ! "$ZENC" runs list >/dev/null 2>"$TMP/.test/probe" &&
	grep -q "built without PostgreSQL support" "$TMP/.test/probe"; then
	test_skip_all "zenc was built without PostgreSQL support"
fi

test_expect_success 'postgres: a second identical run executes nothing; a changed parameter re-runs what follows' '
	ZT_CACHE_STEPS=5 "$ZT" run -q --run-name first &&
	test "$(executed)" = "s01 s02 s03 s04 s05" &&
	: >"$ZT_CACHE_COUNTER" &&
	ZT_CACHE_STEPS=5 "$ZT" run -q --run-name second &&
	test ! -s "$ZT_CACHE_COUNTER" &&
	"$ZENC" runs show second --json >run.json &&
	test "$(statuses)" = "s01=cached s02=cached s03=cached s04=cached s05=cached" &&
	test "$(test_json run.json "sorted(set(s[\"cached_from\"] for s in d[\"steps\"]))")" = "[\"$(id_of first)\"]" &&
	: >"$ZT_CACHE_COUNTER" &&
	ZT_CACHE_STEPS=5 "$ZT" run -q --param s04.add=9 &&
	test "$(executed)" = "s04 s05"
'

test_expect_success 'postgres: --resume of a run failed at step 9 of 10 executes only steps 9 and 10' '
	test_expect_code 1 env ZT_CACHE_FAIL=s09 "$ZT" run -q --no-cache --run-name failed9 &&
	: >"$ZT_CACHE_COUNTER" &&
	"$ZT" run -q --resume failed9 --run-name resumed9 &&
	test "$(executed)" = "s09 s10" &&
	"$ZENC" runs show resumed9 --json >run.json &&
	test "$(test_json run.json "d[\"resumed_from\"]")" = "$(id_of failed9)" &&
	test "$(step status s08)" = cached &&
	test "$(step cached_from s08)" = "$(id_of failed9)" &&
	pg_psql -d "$PG_DB" -At -c "SELECT count(*) FROM step_runs WHERE cache_key IS NOT NULL" >out &&
	test "$(cat out)" -ge 30
'

test_done
