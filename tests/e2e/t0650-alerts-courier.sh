#!/bin/sh
# shellcheck disable=SC2016 # bodies are single-quoted and eval-ed
# shellcheck source-path=SCRIPTDIR
# The courier: an alert a hook could not send is delivered later by a
# detached process, with no zenc command in between, once the receiver
# is back; a 4xx refusal fails it for good and the courier exits; a
# Retry-After is waited for; one courier per store however often it is
# started; and it never holds the output of the process that started it.
# A real HTTP receiver on loopback, started late on a port chosen before.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
PIPE=$PROGRAMS/alert_pipeline
# A short hook: its own tries end fast and leave the alert pending.
ZA_HOOK_TIMEOUT=1
export ZA_HOOK_TIMEOUT

. "$TEST_DIRECTORY/receiver.sh"

LOCK=$ZENC_DATA/zenc.db.courier.lock

# The couriers of this script: processes named zenc-courier that carry
# this run's ZENC_TEST_SESSION.
couriers () {
	for _c_pid in $(pgrep -x zenc-courier); do
		grep -q -s -z -x "ZENC_TEST_SESSION=$ZENC_TEST_SESSION" \
			"/proc/$_c_pid/environ" && echo "$_c_pid"
	done
	return 0
}

# has_courier: a courier of this test runs.  The courier is started in
# the background (two forks and an exec) and takes its name only once it
# runs, so a test that just started one waits for it with wait_for.
has_courier () {
	test -n "$(couriers)"
}

# wait_for SECONDS COMMAND...: polls COMMAND every 0.2 s.
wait_for () {
	_wf_n=$(($1 * 5))
	shift
	while [ "$_wf_n" -gt 0 ]; do
		"$@" && return 0
		sleep 0.2
		_wf_n=$((_wf_n - 1))
	done
	echo "still not true after the wait: $*" >&2
	return 1
}

lines_at_least () {
	[ -f "$TMP/$1.log" ] && [ "$(wc -l <"$TMP/$1.log")" -ge "$2" ]
}

no_courier () {
	[ -z "$(couriers)" ]
}

alert_status () {
	"$ZENC" alerts list --json --limit 1 >"$TMP/st.json" &&
		test "$(test_json "$TMP/st.json" "d[0][\"status\"]")" = "$1"
}

UP_PORT=$(test_free_port)
REFUSE_PORT=$(test_free_port)
SLOW_PORT=$(test_free_port)

test_expect_success 'set up webhook alerters on ports nobody listens to' '
	"$ZENC" alerter register up --flavor webhook --timeout 500ms \
		--url "http://127.0.0.1:$UP_PORT/a" &&
	"$ZENC" alerter register refuse --flavor webhook --timeout 500ms \
		--url "http://127.0.0.1:$REFUSE_PORT/a" &&
	"$ZENC" alerter register slow --flavor webhook --timeout 500ms \
		--url "http://127.0.0.1:$SLOW_PORT/a" &&
	"$ZENC" alerter register bad --flavor webhook \
		--url http://x/ --delivery_deadline soon &&
	test_expect_code 2 "$ZENC" alerter test bad 2>err &&
	test_grep "invalid delivery_deadline .soon." err
'

test_expect_success 'a pending alert starts a courier that does not hold our output' '
	use up &&
	start=$(date +%s) &&
	timeout 60 sh -c "\"$PIPE\" run --param work.mode=raise --run-name r-up 2>&1 | cat >piped.txt" &&
	end=$(date +%s) &&
	test $((end - start)) -lt 10 &&
	test_grep "kept pending" piped.txt &&
	test -n "$(couriers)" &&
	test_expect_code 1 flock -n "$LOCK" true
'

test_expect_success 'the receiver comes back: the alert arrives, no zenc command needed' '
	start_receiver up --port "$UP_PORT" &&
	wait_for 30 lines_at_least up 1 &&
	wait_for 10 no_courier &&
	test "$(wc -l <up.log)" = 1 &&
	req up 1 r.json &&
	test "$(test_json r.json "d[\"json\"][\"run\"]")" = r-up &&
	"$ZENC" alerts list --json >alerts.json &&
	test "$(test_json alerts.json "d[0][\"status\"]")" = delivered &&
	test "$(test_json alerts.json "d[0][\"id\"]")" = \
		"$(test_json r.json "d[\"headers\"][\"idempotency-key\"]")" &&
	flock -n "$LOCK" true
'

printf '%s\n' '{"status": 404}' >"$TMP/refuse.script"

test_expect_success 'a 4xx refusal fails the alert for good and the courier exits' '
	use refuse &&
	test_expect_code 1 "$PIPE" run --param work.mode=raise --run-name r-ref >out 2>err &&
	test -n "$(couriers)" &&
	start_receiver refuse --port "$REFUSE_PORT" --script "$TMP/refuse.script" &&
	wait_for 30 lines_at_least refuse 1 &&
	wait_for 10 no_courier &&
	alert_status failed &&
	test_grep "HTTP 404" st.json &&
	sleep 2 &&
	test "$(wc -l <refuse.log)" = 1
'

# The courier's own wait grows with the alert's age (a few seconds here);
# a Retry-After of 6 s is longer, so only honouring it explains the gap.
printf '%s\n' '{"status": 429, "headers": {"Retry-After": "6"}}' >"$TMP/slow.script"

test_expect_success 'Retry-After is honoured: no new try before it' '
	use slow &&
	test_expect_code 1 "$PIPE" run --param work.mode=raise --run-name r-slow >out 2>err &&
	start_receiver slow --port "$SLOW_PORT" --script "$TMP/slow.script" &&
	wait_for 40 lines_at_least slow 2 &&
	/usr/bin/python3 -c "
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1])]
gap = rs[1][\"time\"] - rs[0][\"time\"]
assert gap >= 6.0, gap
assert gap < 15, gap
assert rs[0][\"headers\"][\"idempotency-key\"] == rs[1][\"headers\"][\"idempotency-key\"]
" slow.log &&
	wait_for 10 no_courier &&
	alert_status delivered
'

test_expect_success 'one courier per store, however often it is started' '
	"$ZENC" alerter register gone --flavor webhook --timeout 500ms \
		--url "http://127.0.0.1:$(test_free_port)/a" --delivery_deadline 20s &&
	use gone &&
	test_expect_code 1 "$PIPE" run --param work.mode=raise >out 2>err &&
	test_expect_code 1 "$PIPE" run --param work.mode=raise >out 2>err &&
	for i in 1 2 3 4 5; do "$ZENC" alerts list >/dev/null & done &&
	wait &&
	test "$(couriers | wc -l)" = 1 &&
	"$ZENC" alerts list --status pending --json >alerts.json &&
	test "$(test_json alerts.json "len(d)")" = 2
'

test_expect_success 'past its delivery_deadline an alert fails and the courier exits' '
	wait_for 40 no_courier &&
	"$ZENC" alerts list --status failed --json >alerts.json &&
	test "$(test_json alerts.json "len([a for a in d if a[\"alerter\"] == \"gone\"])")" = 2 &&
	test_grep "delivery_deadline" alerts.json
'

test_expect_success 'ZENC_COURIER=0: no courier, the alert waits for a flush' '
	"$ZENC" alerter register later --flavor webhook --timeout 500ms \
		--url "http://127.0.0.1:$(test_free_port)/later" &&
	use later &&
	ZENC_COURIER=0 test_expect_code 1 "$PIPE" run --param work.mode=raise >out 2>err &&
	ZENC_COURIER=0 "$ZENC" alerts list --status pending --json >alerts.json &&
	test "$(test_json alerts.json "len(d)")" = 1 &&
	sleep 1 &&
	no_courier
'

test_expect_success 'flush sends at once, then hands what is left to the courier' '
	no_courier &&
	test_expect_code 3 "$ZENC" alerts flush >out 2>err &&
	test_grep "0 delivered, 1 still pending, 0 failed" out &&
	wait_for 10 has_courier
'

test_expect_success 'a later run hands what an earlier one left pending to the courier' '
	NEXT_PORT=$(test_free_port) &&
	"$ZENC" alerter register next --flavor webhook --timeout 500ms \
		--url "http://127.0.0.1:$NEXT_PORT/next" &&
	# A store of its own: no courier of the tests above serves it.
	"$ZENC" metadata-store register m2 --flavor sqlite \
		--path "$TMP/m2/zenc.db" &&
	"$ZENC" stack register s-next -m m2 -al next --set &&
	ZENC_COURIER=0 test_expect_code 1 "$PIPE" run --param work.mode=raise \
		--run-name r-next >out 2>err &&
	ZENC_COURIER=0 "$ZENC" alerts list --status pending --json >alerts.json &&
	test "$(test_json alerts.json "len([a for a in d if a[\"alerter\"] == \"next\"])")" = 1 &&
	test ! -e "$TMP/m2/zenc.db.courier.lock" ||
		flock -n "$TMP/m2/zenc.db.courier.lock" true &&
	start_receiver next --port "$NEXT_PORT" &&
	"$PIPE" run --param work.mode=ok --run-name r-next-ok >out 2>err &&
	wait_for 30 lines_at_least next 2 &&
	python3 - "$TMP/next.log" <<-\PY
	import json, sys
	runs = [json.loads(l)["json"]["run"] for l in open(sys.argv[1])]
	assert "r-next" in runs, runs
	PY
'

test_done
