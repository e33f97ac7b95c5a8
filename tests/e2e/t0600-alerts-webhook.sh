#!/bin/sh
# shellcheck disable=SC2016 # bodies are single-quoted and eval-ed
# shellcheck source-path=SCRIPTDIR
# Alert delivery through the webhook flavor, against a real HTTP receiver
# on loopback: the exact request of a failing and a succeeding step, JSON
# escaping, retries (500 twice, 429 Retry-After), a receiver that is down
# (pending, then `zenc alerts flush` delivers once), dedup_window,
# only_on_change, `zenc alerter test`, and secrets that never leak.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
# These tests drive the outbox by hand (`zenc alerts flush`): no courier
# delivers behind their back (t0650 tests the courier).
ZENC_COURIER=0
export ZENC_COURIER
PIPE=$PROGRAMS/alert_pipeline
# Distinctive, so that a grep cannot match by luck.
API_KEY=zk-hdr-5e7c1a93
PATH_TOKEN=zk-path-b2d4f608
export API_KEY PATH_TOKEN

. "$TEST_DIRECTORY/receiver.sh"

start_receiver main
start_receiver retry --script "$TMP/retry.script"
start_receiver slow --script "$TMP/slow.script"
start_receiver dedup
start_receiver change
printf '%s\n' '{"status": 500}' '{"status": 500}' >"$TMP/retry.script"
printf '%s\n' '{"status": 429, "headers": {"Retry-After": "1"}}' \
	>"$TMP/slow.script"
DOWN_PORT=$(test_free_port)

test_expect_success 'set up secrets, alerters and stacks' '
	"$ZENC" secret set API_KEY --value "$API_KEY" &&
	"$ZENC" secret set PATH_TOKEN --value "$PATH_TOKEN" &&
	"$ZENC" alerter register hook --flavor webhook \
		--url "http://127.0.0.1:$PORT_main/hook/{{secret.PATH_TOKEN}}" \
		--headers "{\"X-Api-Key\": \"{{secret.API_KEY}}\"}" \
		--dashboard_url "http://dash.example/" &&
	use hook &&
	"$ZENC" alerter describe hook >out &&
	test_grep ! "$API_KEY" out
'

test_expect_success 'a failing step posts the failure: method, path, headers, body' '
	test_expect_code 1 "$PIPE" run --param work.mode=raise \
		--param work.message=boom --run-name r-fail >out 2>err &&
	test "$(wc -l <main.log)" = 1 &&
	req main 1 r.json &&
	test "$(test_json r.json "d[\"method\"]")" = POST &&
	test "$(test_json r.json "d[\"path\"]")" = "/hook/$PATH_TOKEN" &&
	test "$(test_json r.json "d[\"headers\"][\"content-type\"]")" = application/json &&
	test "$(test_json r.json "d[\"headers\"][\"x-api-key\"]")" = "$API_KEY" &&
	test "$(test_json r.json "d[\"json\"][\"pipeline\"]")" = alert_pipeline &&
	test "$(test_json r.json "d[\"json\"][\"run\"]")" = r-fail &&
	test "$(test_json r.json "d[\"json\"][\"step\"]")" = work &&
	test "$(test_json r.json "d[\"json\"][\"status\"]")" = failed &&
	test "$(test_json r.json "d[\"json\"][\"event\"]")" = on_failure &&
	test "$(test_json r.json "d[\"json\"][\"error_type\"]")" = ValueError &&
	test "$(test_json r.json "d[\"json\"][\"error_message\"]")" = boom &&
	test "$(test_json r.json "d[\"json\"][\"attempt\"]")" = 1 &&
	test "$(test_json r.json "d[\"json\"][\"params\"][\"lr\"]")" = 0.5 &&
	test "$(test_json r.json "d[\"json\"][\"duration\"] > 0")" = true &&
	test_grep "Step work of pipeline alert_pipeline (run r-fail) failed: ValueError: boom" r.json &&
	run_id=$(test_json r.json "d[\"json\"][\"run_id\"]") &&
	"$ZENC" runs show r-fail --json >run.json &&
	test "$(test_json run.json "d[\"id\"]")" = "$run_id" &&
	test "$(test_json r.json "d[\"json\"][\"url\"]")" = "http://dash.example/runs/$run_id"
'

test_expect_success 'the alert is recorded as delivered, without secrets' '
	"$ZENC" alerts list --json >alerts.json &&
	test "$(test_json alerts.json "len(d)")" = 1 &&
	test "$(test_json alerts.json "d[0][\"status\"]")" = delivered &&
	test "$(test_json alerts.json "d[0][\"attempts\"]")" = 1 &&
	test "$(test_json alerts.json "d[0][\"alerter\"]")" = hook &&
	test "$(test_json alerts.json "d[0][\"step\"]")" = work &&
	test "$(test_json alerts.json "d[0][\"error_type\"]")" = ValueError &&
	test "$(test_json alerts.json "d[0][\"alert\"][\"error_message\"]")" = boom &&
	"$ZENC" alerts list >out &&
	test_grep "delivered" out
'

test_expect_success 'a succeeding step posts the success' '
	: >main.log &&
	"$PIPE" run --run-name r-ok >out 2>err &&
	test "$(wc -l <main.log)" = 1 &&
	req main 1 r.json &&
	test "$(test_json r.json "d[\"method\"]")" = POST &&
	test "$(test_json r.json "d[\"headers\"][\"content-type\"]")" = application/json &&
	test "$(test_json r.json "d[\"json\"][\"status\"]")" = completed &&
	test "$(test_json r.json "d[\"json\"][\"event\"]")" = on_success &&
	test "$(test_json r.json "d[\"json\"][\"error_type\"]")" = null &&
	test "$(test_json r.json "d[\"json\"][\"run\"]")" = r-ok &&
	test_grep "Step work of pipeline alert_pipeline (run r-ok) succeeded" r.json
'

test_expect_success 'a step killed by a signal: exit code and signal in the alert' '
	: >main.log &&
	test_expect_code 1 "$PIPE" run --param work.mode=crash >out 2>err &&
	req main 1 r.json &&
	test "$(test_json r.json "d[\"json\"][\"error_type\"]")" = Signal &&
	test "$(test_json r.json "d[\"json\"][\"signal\"]")" = 11 &&
	: >main.log &&
	test_expect_code 1 "$PIPE" run --param work.mode=exit >out 2>err &&
	req main 1 r.json &&
	test "$(test_json r.json "d[\"json\"][\"exit_code\"]")" = 7
'

# Quotes, a backslash, a newline, a tab and non-ASCII (é, €, 😀).
ZA_MESSAGE=$(printf 'he said "hi" \\ back\nline2\tt\303\251 \342\202\254 \360\237\230\200')
export ZA_MESSAGE

test_expect_success 'quotes, newlines and non-ASCII are JSON-escaped' '
	: >main.log &&
	test_expect_code 1 "$PIPE" run --param work.mode=raise >out 2>err &&
	req main 1 r.json &&
	/usr/bin/python3 -c "
import json, os, sys
d = json.load(open(sys.argv[1]))
body = json.loads(d[\"body\"])
assert body[\"error_message\"] == os.environ[\"ZA_MESSAGE\"], body
" r.json
'

test_expect_success 'body_template: placeholders filled and JSON-escaped' '
	"$ZENC" alerter register tmpl --flavor webhook \
		--url "http://127.0.0.1:$PORT_main/t" \
		--body_template "{\"text\": \"{step} of {pipeline}: {error_type}: {error_message}\", \"s\": \"{status}\", \"run\": \"{run}\", \"link\": \"{url}\"}" &&
	use tmpl &&
	: >main.log &&
	test_expect_code 1 "$PIPE" run --param work.mode=raise --run-name r-t >out 2>err &&
	req main 1 r.json &&
	/usr/bin/python3 -c "
import json, os, sys
d = json.load(open(sys.argv[1]))
body = json.loads(d[\"body\"])
want = \"work of alert_pipeline: ValueError: \" + os.environ[\"ZA_MESSAGE\"]
assert body[\"text\"] == want, body
assert body[\"s\"] == \"failed\" and body[\"run\"] == \"r-t\", body
assert body[\"link\"] == \"\", body
" r.json &&
	"$ZENC" alerter register bad --flavor webhook \
		--url http://x/ --body_template "{\"a\": \"{nope}\"}" &&
	test_expect_code 2 "$ZENC" alerter test bad 2>err &&
	test_grep "unknown placeholder .{nope}. in body_template" err
'
unset ZA_MESSAGE

test_expect_success 'unknown config keys are refused' '
	test_expect_code 2 "$ZENC" alerter register x --flavor webhook \
		--url http://x/ --channel "#a" 2>err &&
	test_grep "unknown config key .channel." err
'

test_expect_success 'a receiver that answers 500 twice then 200 gets the alert once' '
	"$ZENC" alerter register retry --flavor webhook \
		--url "http://127.0.0.1:$PORT_retry/r" &&
	use retry &&
	test_expect_code 1 "$PIPE" run --param work.mode=raise >out 2>err &&
	test "$(wc -l <retry.log)" = 3 &&
	test "$(cut -c1-200 retry.log | sort -u | wc -l)" -ge 1 &&
	/usr/bin/python3 -c "
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1])]
assert len({r[\"body\"] for r in rs}) == 1, rs
" retry.log &&
	"$ZENC" alerts list --json >alerts.json &&
	test "$(test_json alerts.json "d[0][\"alerter\"]")" = retry &&
	test "$(test_json alerts.json "d[0][\"status\"]")" = delivered &&
	test "$(test_json alerts.json "d[0][\"attempts\"]")" = 3
'

test_expect_success '429 with Retry-After: 1 is honoured' '
	"$ZENC" alerter register slow --flavor webhook \
		--url "http://127.0.0.1:$PORT_slow/s" &&
	use slow &&
	test_expect_code 1 "$PIPE" run --param work.mode=raise >out 2>err &&
	test "$(wc -l <slow.log)" = 2 &&
	/usr/bin/python3 -c "
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1])]
gap = rs[1][\"time\"] - rs[0][\"time\"]
assert gap >= 1.0, gap
assert gap < 5, gap
" slow.log &&
	"$ZENC" alerts list --json >alerts.json &&
	test "$(test_json alerts.json "d[0][\"status\"]")" = delivered &&
	test "$(test_json alerts.json "d[0][\"attempts\"]")" = 2
'

test_expect_success 'a receiver that is down leaves the alert pending, within the hook deadline' '
	"$ZENC" alerter register down --flavor webhook \
		--url "http://127.0.0.1:$DOWN_PORT/d/{{secret.PATH_TOKEN}}" &&
	use down &&
	start=$(date +%s) &&
	test_expect_code 1 env ZA_HOOK_TIMEOUT=3 "$PIPE" run \
		--param work.mode=raise --run-name r-down >out 2>err &&
	end=$(date +%s) &&
	test $((end - start)) -lt 6 &&
	test_grep "kept pending" err &&
	"$ZENC" alerts list --status pending --json >alerts.json &&
	test "$(test_json alerts.json "len(d)")" = 1 &&
	test "$(test_json alerts.json "d[0][\"attempts\"] >= 2")" = true &&
	test_grep "Couldn.t connect" alerts.json &&
	test_grep "127.0.0.1:$DOWN_PORT" alerts.json &&
	test_grep ! "$PATH_TOKEN" alerts.json &&
	"$ZENC" runs show r-down --json >run.json &&
	test_grep ! "$PATH_TOKEN" run.json
'

test_expect_success 'flush while it is still down: exit 3, still pending' '
	test_expect_code 3 "$ZENC" alerts flush >out 2>err &&
	test_grep "0 delivered, 1 still pending" out &&
	"$ZENC" alerts list --status pending --json >alerts.json &&
	test "$(test_json alerts.json "len(d)")" = 1
'

start_receiver up --port "$DOWN_PORT"

test_expect_success 'flush after it comes up delivers it exactly once' '
	"$ZENC" alerts flush >out 2>err &&
	test_grep "1 delivered, 0 still pending, 0 failed" out &&
	test "$(wc -l <up.log)" = 1 &&
	req up 1 r.json &&
	test "$(test_json r.json "d[\"path\"]")" = "/d/$PATH_TOKEN" &&
	test "$(test_json r.json "d[\"json\"][\"run\"]")" = r-down &&
	test "$(test_json r.json "d[\"json\"][\"error_type\"]")" = ValueError &&
	"$ZENC" alerts flush >out 2>err &&
	test_grep "0 delivered, 0 still pending" out &&
	test "$(wc -l <up.log)" = 1 &&
	"$ZENC" alerts list --status pending --json >alerts.json &&
	test "$(test_json alerts.json "len(d)")" = 0
'

test_expect_success 'dedup_window: the same failure within the window is suppressed' '
	"$ZENC" alerter register dedup --flavor webhook \
		--url "http://127.0.0.1:$PORT_dedup/x" --dedup_window 1h &&
	use dedup &&
	test_expect_code 1 "$PIPE" run --param work.mode=raise >out 2>err &&
	test_expect_code 1 "$PIPE" run --param work.mode=raise >out 2>err &&
	test_expect_code 1 "$PIPE" run --param work.mode=raise >out 2>err &&
	test "$(wc -l <dedup.log)" = 1 &&
	"$ZENC" alerts list --status suppressed --json >alerts.json &&
	test "$(test_json alerts.json "len(d)")" = 2 &&
	test "$(test_json alerts.json "d[0][\"last_error\"]")" = dedup_window &&
	test "$(test_json alerts.json "d[0][\"alerter\"]")" = dedup &&
	: another error type is another alert &&
	test_expect_code 1 "$PIPE" run --param work.mode=crash >out 2>err &&
	test "$(wc -l <dedup.log)" = 2
'

# The step's history counts, whatever alerter saw it: the run before is
# the failed one above.
test_expect_success 'only_on_change: failures after a success, successes after a failure' '
	"$ZENC" alerter register change --flavor webhook \
		--url "http://127.0.0.1:$PORT_change/x" --only_on_change true &&
	use change &&
	"$PIPE" run >out 2>err &&
	"$PIPE" run >out 2>err &&
	test_expect_code 1 "$PIPE" run --param work.mode=raise >out 2>err &&
	test_expect_code 1 "$PIPE" run --param work.mode=raise >out 2>err &&
	"$PIPE" run >out 2>err &&
	"$PIPE" run >out 2>err &&
	test_expect_code 1 "$PIPE" run --param work.mode=raise >out 2>err &&
	/usr/bin/python3 -c "
import json, sys
rs = [json.loads(l)[\"json\"][\"status\"] for l in open(sys.argv[1])]
assert rs == [\"completed\", \"failed\", \"completed\", \"failed\"], rs
" change.log &&
	"$ZENC" alerts list --status suppressed --json >alerts.json &&
	test "$(test_json alerts.json "[a[\"last_error\"] for a in d if a[\"alerter\"] == \"change\"]")" = \
		"[\"only_on_change\", \"only_on_change\", \"only_on_change\"]"
'

test_expect_success 'zenc alerter test: delivered, or exit 3 when unreachable' '
	: >main.log &&
	"$ZENC" alerter test hook >out 2>err &&
	test_grep "test alert delivered through alerter .hook." out &&
	req main 1 r.json &&
	test "$(test_json r.json "d[\"json\"][\"event\"]")" = test &&
	"$ZENC" alerter register nowhere --flavor webhook \
		--url "http://127.0.0.1:$(test_free_port)/{{secret.PATH_TOKEN}}" &&
	test_expect_code 3 "$ZENC" alerter test nowhere >out 2>err &&
	test_grep "not delivered" err &&
	test_grep ! "$PATH_TOKEN" err &&
	test_expect_code 2 "$ZENC" alerter test nosuch 2>err &&
	test_grep "unknown alerter .nosuch." err &&
	"$ZENC" alerter test --help >out &&
	test_grep "usage: zenc alerter test NAME" out
'

test_expect_success 'no alerter in the stack: a warning, the hook completes' '
	"$ZENC" stack set default &&
	test_expect_code 1 "$PIPE" run --param work.mode=raise --run-name r-none >out 2>err &&
	test_grep "no alerter in stack" err &&
	"$ZENC" runs show r-none --json >run.json &&
	test "$(test_json run.json "[h[\"status\"] for s in d[\"steps\"] for h in s[\"hooks\"]]")" = "[\"completed\"]"
'

test_expect_success 'secrets appear in no output, log or database' '
	! grep -rla -e "$API_KEY" -e "$PATH_TOKEN" "$TMP" \
		--exclude="*.log" --exclude=secrets --exclude="r.json" \
		--exclude-dir=.test >leaks &&
	test_grep ! . leaks &&
	! grep -la -e "$API_KEY" -e "$PATH_TOKEN" "$ZENC_DATA"/zenc.db* 
'

test_done
