#!/bin/sh
# shellcheck disable=SC2016 # bodies are single-quoted and eval-ed
# shellcheck source-path=SCRIPTDIR
# Every alert has one id for its whole life: "alert_id" in the webhook
# and command payloads, the Idempotency-Key header of each HTTP post, and
# the outbox row's id.  A receiver that answers only after the client gave
# up gets the same alert again, with the same id, so that it can drop the
# copy: distinct ids == alerts, whatever the number of requests.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
PIPE=$PROGRAMS/alert_pipeline

. "$TEST_DIRECTORY/receiver.sh"

# Each first try of an alert waits 1.5 s before its 200: longer than the
# alerter's timeout of 0.5 s, so the client tries again.
N=6
i=0
while [ "$i" -lt "$N" ]; do
	printf '%s\n' '{"status": 200, "delay": 1.5}' '{"status": 200}'
	i=$((i + 1))
done >"$TMP/slow.script"
start_receiver slow --script "$TMP/slow.script"

test_expect_success 'set up a webhook alerter with a short timeout' '
	"$ZENC" alerter register slow --flavor webhook \
		--url "http://127.0.0.1:$PORT_slow/hook" --timeout 500ms &&
	use slow
'

test_expect_success 'a late 200 is sent again, with the same alert id' '
	i=0 &&
	while [ "$i" -lt "$N" ]; do
		test_expect_code 1 "$PIPE" run --param work.mode=raise \
			--run-name "r-$i" >out 2>err || exit 1
		i=$((i + 1))
	done &&
	"$ZENC" alerts list --json >alerts.json &&
	/usr/bin/python3 -c "
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1])]
alerts = json.load(open(sys.argv[2]))
ids = [r[\"json\"][\"alert_id\"] for r in rs]
keys = [r[\"headers\"][\"idempotency-key\"] for r in rs]
n = int(sys.argv[3])
assert len(rs) > n, (len(rs), n)
assert ids == keys, (ids, keys)
assert len(set(ids)) == n, ids
assert set(ids) == {a[\"id\"] for a in alerts}, (ids, alerts)
assert all(a[\"status\"] == \"delivered\" for a in alerts), alerts
assert all(a[\"alert\"][\"alert_id\"] == a[\"id\"] for a in alerts), alerts
for r in rs:
    assert r[\"json\"][\"stack\"] == \"s-slow\", r[\"json\"]
" slow.log alerts.json "$N"
'

test_expect_success 'body_template: {alert_id} and {stack}' '
	: >slow.log &&
	"$ZENC" alerter register tmpl --flavor webhook \
		--url "http://127.0.0.1:$PORT_slow/t" \
		--body_template "{\"id\": \"{alert_id}\", \"stack\": \"{stack}\"}" &&
	use tmpl &&
	test_expect_code 1 "$PIPE" run --param work.mode=raise >out 2>err &&
	req slow 1 r.json &&
	id=$(test_json r.json "d[\"json\"][\"id\"]") &&
	test "$id" = "$(test_json r.json "d[\"headers\"][\"idempotency-key\"]")" &&
	test "$(test_json r.json "d[\"json\"][\"stack\"]")" = s-tmpl &&
	"$ZENC" alerts list --json --limit 1 >alerts.json &&
	test "$(test_json alerts.json "d[0][\"id\"]")" = "$id"
'

test_expect_success 'the command flavor gets alert_id and stack on standard input' '
	"$ZENC" alerter register cmd --flavor command \
		--command "cat >>\"$TMP/cmd.json\"; echo >>\"$TMP/cmd.json\"" &&
	use cmd &&
	test_expect_code 1 "$PIPE" run --param work.mode=raise >out 2>err &&
	"$ZENC" alerts list --json --limit 1 >alerts.json &&
	test "$(head -n 1 cmd.json | test_json - "d[\"alert_id\"]")" = \
		"$(test_json alerts.json "d[0][\"id\"]")" &&
	test "$(head -n 1 cmd.json | test_json - "d[\"stack\"]")" = s-cmd
'

test_done
