#!/bin/sh
# shellcheck disable=SC2016,SC2034 # bodies are single-quoted and eval-ed
# The postgres metadata store against a real PostgreSQL 15 (pg.sh): set up
# through the CLI with a {{secret.pgpass}} DSN, the same records as SQLite
# for the same runs, concurrent runs and migrations, stale runs, and a
# password that never shows.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/pg.sh"

ZT=$PROGRAMS/zt_pipeline
ZT_LOG=$TMP/hooks.log
export ZT_LOG

DSN="$PG_DSN password={{secret.pgpass}}"
WRONG=wrongpw$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')

# norm FILE: a run's JSON without what differs between two stores for the
# same run (ids, names, times, the stack), one line.
norm () {
	/usr/bin/python3 - "$1" <<-\PY
	import json, sys
	d = json.load(open(sys.argv[1]))
	rid = d["id"]
	def clean(x):
	    if isinstance(x, dict):
	        return {k: clean(v) for k, v in x.items()
	                if k not in ("started", "ended", "duration")}
	    if isinstance(x, list):
	        return [clean(v) for v in x]
	    if isinstance(x, str):
	        return x.replace(rid, "RUN")
	    return x
	for k in ("id", "name", "stack"):
	    d.pop(k, None)
	print(json.dumps(clean(d), sort_keys=True))
	PY
}

# records STACK: the normalized records of every run of STACK, oldest
# first, one per line.
records () {
	"$ZENC" runs list --json --stack "$1" >"list-$1.json" &&
	for id in $(test_json "list-$1.json" '" ".join(r["id"] for r in reversed(d))'); do
		"$ZENC" runs show "$id" --json --stack "$1" >"show-$1.json" &&
		norm "show-$1.json" || return 1
	done
}

# scenario STACK: a succeeding run, a run that fails after a retry, and a
# flaky run that succeeds on its third attempt, on STACK.
scenario () {
	ZT_PIPELINE_HOOKS=1 ZT_RUN_HOOKS=1 "$ZT" run -q -j 1 --stack "$1" &&
	test_expect_code 1 env ZT_PIPELINE_HOOKS=1 ZT_RUN_HOOKS=1 \
		ZT_RETRY=1,0,1 "$ZT" run -q -j 1 --stack "$1" \
		--param work.mode=raise &&
	ZT_START_END=1 ZT_RETRY=2,0,1 "$ZT" run -q -j 1 --stack "$1" \
		--param work.mode=flaky --param work.fail_times=2
}

test_expect_success 'a postgres metadata store is set up through the CLI' '
	printf "%s\n" "$PG_PASSWORD" | "$ZENC" secret set pgpass &&
	"$ZENC" metadata-store register pg --flavor postgres --dsn="$DSN" &&
	"$ZENC" stack register pgstack -m pg &&
	"$ZENC" stack set pgstack &&
	test_grep "{{secret.pgpass}}" "$ZENC_HOME/config" &&
	test_grep ! -F "$PG_PASSWORD" "$ZENC_HOME/config"
'

if "$ZENC" runs list >/dev/null 2>"$TMP/.test/probe" ||
	! grep -q "built without PostgreSQL support" "$TMP/.test/probe"; then
	:
else
	test_skip_all "zenc was built without PostgreSQL support"
fi

test_expect_success 'an empty postgres store lists no runs' '
	"$ZENC" runs list --json >out &&
	test "$(test_json out "len(d)")" = 0
'

test_expect_success 'the schema is migrated to the version of the SQLite store' '
	"$ZENC" runs list --stack default >/dev/null &&
	sqlite3 "$ZENC_DATA/zenc.db" \
		"SELECT count(*), max(version) FROM schema_version" >expect &&
	pg_psql -d "$PG_DB" -At -c "SELECT count(*), max(version) FROM schema_version" >out &&
	test_cmp expect out
'

test_expect_success 'runs record the same as on SQLite' '
	scenario default &&
	scenario pgstack &&
	records default >sqlite.txt &&
	records pgstack >pg.txt &&
	test "$(wc -l <pg.txt)" = 3 &&
	test_cmp sqlite.txt pg.txt
'

test_expect_success 'runs list and show read the active stack, and filter' '
	"$ZENC" runs list --json >list.json &&
	test "$(test_json list.json "[r[\"status\"] for r in d]")" = "[\"completed\", \"failed\", \"completed\"]" &&
	"$ZENC" runs list --json --status failed >failed.json &&
	test "$(test_json failed.json "len(d)")" = 1 &&
	"$ZENC" runs list --json --limit 1 >one.json &&
	test "$(test_json one.json "d[0][\"id\"]")" = "$(test_json list.json "d[0][\"id\"]")" &&
	id=$(test_json failed.json "d[0][\"id\"]") &&
	"$ZENC" runs show "$id" --json >run.json &&
	test "$(test_json run.json "d[\"stack\"]")" = pgstack &&
	test "$(test_json run.json "sorted(s[\"name\"] for s in d[\"steps\"])")" = "[\"side\", \"sink\", \"source\", \"work\"]" &&
	test "$(test_json run.json "[[a[\"status\"] for a in s[\"attempt_history\"]] for s in d[\"steps\"] if s[\"name\"] == \"work\"]")" = "[[\"failed\", \"failed\"]]" &&
	test "$(test_json run.json "[h[\"hook\"] for h in d[\"run_hooks\"]]")" = "[\"run_bad\"]" &&
	prefix=$(echo "$id" | cut -c1-8) &&
	"$ZENC" runs show "$prefix" --json >byprefix.json &&
	test "$(test_json byprefix.json "d[\"id\"]")" = "$id" &&
	"$ZENC" runs show "$prefix" >text &&
	test_grep "work" text
'

test_expect_success 'two runs at once, each with retries, are both recorded' '
	ZT_START_END=1 ZT_RETRY=3,0.05,1 "$ZT" run -q --run-name twin-a \
		--param work.mode=flaky --param work.fail_times=3 \
		--param work.sleep=0.05 >a.out 2>&1 &
	a=$!
	ZT_START_END=1 ZT_RETRY=3,0.05,1 "$ZT" run -q --run-name twin-b \
		--param work.mode=flaky --param work.fail_times=3 \
		--param work.sleep=0.05 >b.out 2>&1 &
	b=$!
	wait "$a" && wait "$b" &&
	for r in twin-a twin-b; do
		"$ZENC" runs show "$r" --json >"$r.json" &&
		test "$(test_json "$r.json" "d[\"status\"]")" = completed &&
		test "$(test_json "$r.json" "[s[\"status\"] for s in d[\"steps\"]]")" = "[\"completed\", \"completed\", \"completed\", \"completed\"]" &&
		test "$(test_json "$r.json" "[s for s in d[\"steps\"] if s[\"name\"] == \"work\"][0][\"attempts\"]")" = 4 &&
		test "$(test_json "$r.json" "[a[\"attempt\"] for a in [s for s in d[\"steps\"] if s[\"name\"] == \"work\"][0][\"attempt_history\"]]")" = "[1, 2, 3, 4]" &&
		test "$(test_json "$r.json" "len([h for h in [s for s in d[\"steps\"] if s[\"name\"] == \"work\"][0][\"hooks\"] if h[\"event\"] == \"on_start\"])")" = 4 ||
		return 1
	done
'

test_expect_success 'many processes migrating a new database at once agree' '
	pg_createdb fresh &&
	"$ZENC" metadata-store register fresh --flavor postgres \
		--dsn="host=$PG_HOST port=$PG_PORT dbname=fresh user=$PG_USER password={{secret.pgpass}}" &&
	"$ZENC" stack register freshstack -m fresh &&
	pids= &&
	for i in 1 2 3 4 5 6; do
		"$ZENC" runs list --stack freshstack >"m$i.out" 2>&1 &
		pids="$pids $!"
	done &&
	for p in $pids; do wait "$p" || exit 1; done &&
	pg_psql -d fresh -At -c "SELECT count(*), max(version) FROM schema_version" >out &&
	test_cmp expect out
'

# Without its watcher (ZENC_NO_WATCHER): the sweep on the next open.
test_expect_success 'a run whose orchestrating process died is marked failed' '
	ZENC_NO_WATCHER=1 "$ZT" run -q --isolation none --run-name doomed \
		--param work.sleep=30 >d.out 2>&1 &
	pid=$!
	test_register_pid "$pid" &&
	i=0 &&
	until "$ZENC" runs show doomed --json >doomed.json 2>/dev/null &&
		test "$(test_json doomed.json "[s[\"status\"] for s in d[\"steps\"] if s[\"name\"] == \"work\"]")" = "[\"running\"]"; do
		i=$((i + 1)) && test "$i" -lt 100 && sleep 0.1 || exit 1
	done &&
	test "$(test_json doomed.json "d[\"status\"]")" = running &&
	kill -KILL "$pid" && { wait "$pid" || :; } &&
	"$ZENC" runs show doomed --json >doomed.json 2>err &&
	test "$(test_json doomed.json "d[\"status\"]")" = failed &&
	test "$(test_json doomed.json "[s[\"error_type\"] for s in d[\"steps\"] if s[\"name\"] == \"work\"]")" = "[\"Interrupted\"]" &&
	test "$(test_json doomed.json "[s[\"status\"] for s in d[\"steps\"] if s[\"name\"] == \"work\"]")" = "[\"failed\"]"
'

test_expect_success 'with its watcher, the run is settled at once: OrchestratorDied' '
	"$ZT" run -q --isolation none --run-name watched \
		--param work.sleep=30 >w.out 2>&1 &
	pid=$!
	test_register_pid "$pid" &&
	i=0 &&
	until "$ZENC" runs show watched --json >watched.json 2>/dev/null &&
		test "$(test_json watched.json "[s[\"status\"] for s in d[\"steps\"] if s[\"name\"] == \"work\"]")" = "[\"running\"]"; do
		i=$((i + 1)) && test "$i" -lt 100 && sleep 0.1 || exit 1
	done &&
	kill -KILL "$pid" && { wait "$pid" || :; } &&
	i=0 &&
	until "$ZENC" runs show watched --json >watched.json 2>err &&
		test "$(test_json watched.json "d[\"status\"]")" = failed; do
		i=$((i + 1)) && test "$i" -lt 50 && sleep 0.1 || exit 1
	done &&
	test "$(test_json watched.json "[s[\"error_type\"] for s in d[\"steps\"] if s[\"name\"] == \"work\"]")" = "[\"OrchestratorDied\"]" &&
	"$ZENC" runs delete watched >/dev/null
'

test_expect_success 'runs delete removes a run and its records' '
	"$ZENC" runs delete doomed >out &&
	test_grep "Deleted run .doomed." out &&
	test_expect_code 2 "$ZENC" runs show doomed 2>err &&
	test_grep "no run .doomed." err &&
	pg_psql -d "$PG_DB" -At -c "SELECT count(*) FROM step_runs s LEFT JOIN runs r ON r.id = s.run_id WHERE r.id IS NULL" >out &&
	echo 0 >expect &&
	test_cmp expect out
'

test_expect_success 'the alert outbox is kept in postgres too' '
	"$ZENC" alerter register logal --flavor log &&
	"$ZENC" stack update pgstack -al logal &&
	"$ZENC" alerter test logal >out 2>err &&
	"$ZENC" alerts list --json >alerts.json &&
	test "$(test_json alerts.json "len(d)")" = 1 &&
	test "$(test_json alerts.json "d[0][\"status\"]")" = delivered &&
	"$ZENC" alerts list --json --stack default >alerts-sqlite.json &&
	test "$(test_json alerts-sqlite.json "len(d)")" = 0
'

test_expect_success 'a wrong password is exit 3 and names the server, not the password' '
	printf "%s\n" "$WRONG" | "$ZENC" secret set wrongpass &&
	"$ZENC" metadata-store register bad --flavor postgres \
		--dsn="$PG_DSN password={{secret.wrongpass}}" &&
	"$ZENC" stack register badstack -m bad &&
	test_expect_code 3 "$ZENC" runs list --stack badstack 2>err &&
	test_grep "cannot connect to PostgreSQL at $PG_HOST:$PG_PORT/$PG_DB: " err &&
	test_grep "password authentication failed" err &&
	test_grep ! -F "$WRONG" err &&
	test_expect_code 3 "$ZT" run --stack badstack >out 2>err2 &&
	test_grep "cannot connect to PostgreSQL at $PG_HOST:$PG_PORT/$PG_DB: " err2 &&
	test_grep ! -F "$WRONG" err2 &&
	test_grep ! -F "$WRONG" out
'

test_expect_success 'a password in a URI stays hidden too' '
	"$ZENC" metadata-store register uri --flavor postgres \
		--dsn="postgresql://$PG_USER:{{secret.wrongpass}}@$PG_HOST:$PG_PORT/$PG_DB" &&
	"$ZENC" stack register uristack -m uri &&
	test_expect_code 3 "$ZENC" runs list --stack uristack 2>err &&
	test_grep "cannot connect to PostgreSQL at $PG_HOST:$PG_PORT/$PG_DB: " err &&
	test_grep ! -F "$WRONG" err
'

test_expect_success 'an unreachable server is exit 3 with host:port/dbname' '
	port=$(test_free_port) &&
	"$ZENC" metadata-store register gone --flavor postgres \
		--dsn="host=$PG_HOST port=$port dbname=nowhere user=$PG_USER password={{secret.pgpass}}" &&
	"$ZENC" stack register gonestack -m gone &&
	test_expect_code 3 "$ZENC" runs list --stack gonestack 2>err &&
	test_grep "cannot connect to PostgreSQL at $PG_HOST:$port/nowhere: " err &&
	test_expect_code 3 "$ZT" run --stack gonestack 2>err2 &&
	test_grep "cannot connect to PostgreSQL at $PG_HOST:$port/nowhere: " err2 &&
	test_grep ! -F "$PG_PASSWORD" err2
'

test_expect_success 'an unknown secret in the DSN is exit 3' '
	"$ZENC" metadata-store register nosecret --flavor postgres \
		--dsn="$PG_DSN password={{secret.nope}}" &&
	"$ZENC" stack register nosecretstack -m nosecret &&
	test_expect_code 3 "$ZENC" runs list --stack nosecretstack 2>err &&
	test_grep "unknown secret .nope." err
'

test_expect_success 'the password shows in no output and no config' '
	"$ZENC" metadata-store describe pg >desc 2>&1 &&
	"$ZENC" metadata-store describe pg --json >>desc 2>&1 &&
	"$ZENC" stack describe pgstack >>desc 2>&1 &&
	test_grep ! -F "$PG_PASSWORD" desc &&
	test_grep ! -F "$PG_PASSWORD" "$ZENC_HOME/config" &&
	if grep -rlF -e "$PG_PASSWORD" -e "$WRONG" "$TMP" --exclude-dir=pg \
		--exclude=secrets --exclude-dir=.test; then
		echo "a password is in the files above"
		exit 1
	fi
'

test_done
