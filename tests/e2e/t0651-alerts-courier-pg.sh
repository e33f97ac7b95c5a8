#!/bin/sh
# shellcheck disable=SC2016 # bodies are single-quoted and eval-ed
# shellcheck source-path=SCRIPTDIR
# The courier of a PostgreSQL metadata store: its lock lives under
# $ZENC_HOME/couriers (there is no database file to put it next to), and
# an alert a hook could not send arrives once the receiver is back, with
# no zenc command in between.  A throwaway PostgreSQL cluster (pg.sh) and
# a real HTTP receiver on loopback.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/pg.sh"

unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
PIPE=$PROGRAMS/alert_pipeline
ZA_HOOK_TIMEOUT=1
export ZA_HOOK_TIMEOUT

. "$TEST_DIRECTORY/receiver.sh"

DSN="$PG_DSN password={{secret.pgpass}}"
UP_PORT=$(test_free_port)

if "$ZENC" runs list >/dev/null 2>"$TMP/.test/probe" ||
	! grep -q "built without PostgreSQL support" "$TMP/.test/probe"; then
	:
else
	test_skip_all "zenc built without PostgreSQL support"
fi

test_expect_success 'a postgres store and a webhook alerter nobody listens to' '
	printf "%s\n" "$PG_PASSWORD" | "$ZENC" secret set pgpass &&
	"$ZENC" metadata-store register pg --flavor postgres --dsn="$DSN" &&
	"$ZENC" alerter register up --flavor webhook --timeout 500ms \
		--url "http://127.0.0.1:$UP_PORT/a" &&
	"$ZENC" stack register pgstack -m pg -al up --set
'

test_expect_success 'the alert stays pending; the courier holds its lock under ZENC_HOME' '
	test_expect_code 1 "$PIPE" run --param work.mode=raise --run-name r-pg >out 2>err &&
	test_grep "kept pending" err &&
	ls "$ZENC_HOME"/couriers/postgres-*.lock >locks &&
	test "$(wc -l <locks)" = 1 &&
	test_expect_code 1 flock -n "$(cat locks)" true &&
	test_grep ! -F "$PG_PASSWORD" "$ZENC_HOME"/couriers/*
'

test_expect_success 'the receiver comes back: the alert arrives by itself' '
	start_receiver up --port "$UP_PORT" &&
	i=0 &&
	while [ ! -s up.log ] && [ "$i" -lt 150 ]; do sleep 0.2; i=$((i + 1)); done &&
	req up 1 r.json &&
	test "$(test_json r.json "d[\"json\"][\"run\"]")" = r-pg &&
	i=0 &&
	while ! flock -n "$(cat locks)" true && [ "$i" -lt 50 ]; do sleep 0.2; i=$((i + 1)); done &&
	flock -n "$(cat locks)" true &&
	"$ZENC" alerts list --json >alerts.json &&
	test "$(test_json alerts.json "d[0][\"status\"]")" = delivered &&
	test "$(wc -l <up.log)" = 1 &&
	test_grep ! -F "$PG_PASSWORD" "$ZENC_HOME"/couriers/*
'

test_done
