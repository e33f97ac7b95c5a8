#!/bin/sh
# shellcheck disable=SC2016 # bodies are single-quoted and eval-ed
# shellcheck source-path=SCRIPTDIR
# The alerter flavors other than webhook, each against a real service on
# loopback: Slack (incoming webhook, and the Web API with a bot token and
# a per-step channel), Discord, email (aiosmtpd into a Maildir), command
# and log.  The exact request of a failing and a succeeding step, and the
# token in no output, log or database.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
PIPE=$PROGRAMS/alert_pipeline
SLACK_TOKEN=xoxb-zenc-9d81c4e7
HOOK_PATH=T0ZENC/B0ZENC/zk-6a2f9e31
SMTP_PASSWORD=zk-smtp-c53b0d72
export SLACK_TOKEN HOOK_PATH SMTP_PASSWORD

. "$TEST_DIRECTORY/receiver.sh"

start_receiver slack
start_receiver api --body '{"ok": true, "channel": "C0ZENC", "ts": "1.000100"}'
start_receiver apierr --body '{"ok": false, "error": "invalid_auth"}'
start_receiver discord

test_expect_success 'secrets' '
	"$ZENC" secret set SLACK_TOKEN --value "$SLACK_TOKEN" &&
	"$ZENC" secret set HOOK_PATH --value "$HOOK_PATH" &&
	"$ZENC" secret set SMTP_PASSWORD --value "$SMTP_PASSWORD"
'

test_expect_success 'slack incoming webhook: failure with Block Kit' '
	"$ZENC" alerter register sw --flavor slack \
		--webhook_url "http://127.0.0.1:$PORT_slack/services/{{secret.HOOK_PATH}}" \
		--dashboard_url http://dash.example &&
	use sw &&
	test_expect_code 1 "$PIPE" run --param work.mode=raise \
		--param "work.message=a <b> & c" --run-name r-s >out 2>err &&
	req slack 1 r.json &&
	test "$(test_json r.json "d[\"method\"]")" = POST &&
	test "$(test_json r.json "d[\"path\"]")" = "/services/$HOOK_PATH" &&
	test "$(test_json r.json "d[\"headers\"][\"content-type\"]")" = application/json &&
	test "$(test_json r.json "\"channel\" in d[\"json\"]")" = false &&
	test "$(test_json r.json "d[\"json\"][\"text\"]")" = \
		"Step work of pipeline alert_pipeline failed: ValueError: a &lt;b&gt; &amp; c" &&
	test "$(test_json r.json "[b[\"type\"] for b in d[\"json\"][\"blocks\"]]")" = \
		"[\"header\", \"section\", \"section\", \"context\", \"actions\"]" &&
	test "$(test_json r.json "d[\"json\"][\"blocks\"][0][\"text\"][\"type\"]")" = plain_text &&
	test_grep "Step work of pipeline alert_pipeline failed" r.json &&
	test "$(test_json r.json "d[\"json\"][\"blocks\"][1][\"text\"][\"text\"]")" = \
		"ValueError: a &lt;b&gt; &amp; c" &&
	test "$(test_json r.json "[f[\"text\"] for f in d[\"json\"][\"blocks\"][2][\"fields\"]][:4]")" = \
		"[\"*Pipeline*\\nalert_pipeline\", \"*Step*\\nwork\", \"*Run*\\nr-s\", \"*Status*\\nfailed\"]" &&
	test_grep "\\*lr\\*" r.json &&
	run_id=$("$ZENC" runs show r-s --json | test_json - "d[\"id\"]") &&
	test "$(test_json r.json "d[\"json\"][\"blocks\"][4][\"elements\"][0][\"url\"]")" = \
		"http://dash.example/runs/$run_id"
'

test_expect_success 'slack incoming webhook: success' '
	: >slack.log &&
	"$PIPE" run --run-name r-s2 >out 2>err &&
	req slack 1 r.json &&
	test "$(test_json r.json "d[\"json\"][\"text\"]")" = \
		"Step work of pipeline alert_pipeline (run r-s2) succeeded." &&
	test "$(test_json r.json "[f[\"text\"] for f in d[\"json\"][\"blocks\"][2][\"fields\"]][3:4]")" = \
		"[\"*Status*\\ncompleted\"]"
'

test_expect_success 'slack Web API: chat.postMessage with Bearer token; alert_channel per step' '
	"$ZENC" alerter register sa --flavor slack --token "{{secret.SLACK_TOKEN}}" \
		--channel "#ops" --api_url "http://127.0.0.1:$PORT_api/api/" &&
	use sa &&
	test_expect_code 1 "$PIPE" run --param work.mode=raise >out 2>err &&
	req api 1 r.json &&
	test "$(test_json r.json "d[\"method\"]")" = POST &&
	test "$(test_json r.json "d[\"path\"]")" = /api/chat.postMessage &&
	test "$(test_json r.json "d[\"headers\"][\"authorization\"]")" = "Bearer $SLACK_TOKEN" &&
	test "$(test_json r.json "d[\"headers\"][\"content-type\"]")" = "application/json; charset=utf-8" &&
	test "$(test_json r.json "d[\"json\"][\"channel\"]")" = "#ops" &&
	test "$(test_json r.json "d[\"json\"][\"blocks\"][0][\"type\"]")" = header &&
	"$PIPE" run --param "work.alert_channel=#team-ml" >out 2>err &&
	req api 2 r.json &&
	test "$(test_json r.json "d[\"json\"][\"channel\"]")" = "#team-ml" &&
	test_grep ! alert_channel r.json
'

test_expect_success 'slack Web API: ok=false is a failure for good, without the token' '
	"$ZENC" alerter register sbad --flavor slack --token "{{secret.SLACK_TOKEN}}" \
		--channel "#ops" --api_url "http://127.0.0.1:$PORT_apierr/api" &&
	use sbad &&
	test_expect_code 1 "$PIPE" run --param work.mode=raise >out 2>err &&
	test "$(wc -l <apierr.log)" = 1 &&
	"$ZENC" alerts list --status failed --json >alerts.json &&
	test "$(test_json alerts.json "d[0][\"last_error\"]")" = \
		"slack chat.postMessage failed: invalid_auth" &&
	test_expect_code 3 "$ZENC" alerter test sbad >out 2>err &&
	test_grep invalid_auth err
'

test_expect_success 'slack needs a webhook_url or a token' '
	"$ZENC" alerter register sempty --flavor slack --channel "#x" &&
	test_expect_code 2 "$ZENC" alerter test sempty 2>err &&
	test_grep "needs webhook_url, or token and channel" err
'

test_expect_success 'discord: content and an embed; mentions off' '
	"$ZENC" alerter register dc --flavor discord \
		--webhook_url "http://127.0.0.1:$PORT_discord/api/webhooks/1/{{secret.HOOK_PATH}}" &&
	use dc &&
	test_expect_code 1 "$PIPE" run --param work.mode=raise \
		--param "work.message=@everyone boom" >out 2>err &&
	req discord 1 r.json &&
	test "$(test_json r.json "d[\"method\"]")" = POST &&
	test "$(test_json r.json "d[\"path\"]")" = "/api/webhooks/1/$HOOK_PATH" &&
	test "$(test_json r.json "d[\"headers\"][\"content-type\"]")" = application/json &&
	test "$(test_json r.json "d[\"json\"][\"content\"]")" = \
		"Step work of pipeline alert_pipeline failed" &&
	test "$(test_json r.json "d[\"json\"][\"allowed_mentions\"]")" = "{\"parse\": []}" &&
	test "$(test_json r.json "d[\"json\"][\"embeds\"][0][\"description\"]")" = \
		"ValueError: @everyone boom" &&
	test "$(test_json r.json "d[\"json\"][\"embeds\"][0][\"color\"]")" = 14687834 &&
	test "$(test_json r.json "{f[\"name\"]: f[\"value\"] for f in d[\"json\"][\"embeds\"][0][\"fields\"]}[\"Step\"]")" = work &&
	"$PIPE" run >out 2>err &&
	req discord 2 r.json &&
	test "$(test_json r.json "d[\"json\"][\"content\"]")" = \
		"Step work of pipeline alert_pipeline succeeded" &&
	test "$(test_json r.json "d[\"json\"][\"embeds\"][0][\"color\"]")" = 3061373
'

SMTP_PORT=$(test_free_port)
/usr/bin/python3 -m aiosmtpd -n -l "127.0.0.1:$SMTP_PORT" \
	-c aiosmtpd.handlers.Mailbox "$TMP/maildir" >"$TMP/smtp.out" 2>&1 &
test_register_pid $!
_i=0
while ! /usr/bin/python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), 1)" "$SMTP_PORT" 2>/dev/null &&
	[ "$_i" -lt 100 ]; do
	sleep 0.05
	_i=$((_i + 1))
done

test_expect_success 'email: an RFC 5322 message arrives in the Maildir' '
	"$ZENC" alerter register mail --flavor email \
		--smtp_url "smtp://127.0.0.1:$SMTP_PORT" \
		--from "zenc <zenc@example.org>" \
		--to "ops@example.org, Lead <lead@example.org>" \
		--dashboard_url http://dash.example &&
	use mail &&
	ZA_MESSAGE=$(printf "caf\303\251 \342\202\254 failed\nsecond line") &&
	export ZA_MESSAGE &&
	test_expect_code 1 "$PIPE" run --param work.mode=raise --run-name r-mail >out 2>err &&
	unset ZA_MESSAGE &&
	test "$(ls maildir/new | wc -l)" = 1 &&
	/usr/bin/python3 -c "
import email, email.policy, email.utils, glob, sys
path = glob.glob(\"maildir/new/*\")[0]
m = email.message_from_binary_file(open(path, \"rb\"), policy=email.policy.default)
assert m[\"Subject\"] == \"[zenc] Step work of pipeline alert_pipeline failed\", m[\"Subject\"]
assert m[\"From\"] == \"zenc <zenc@example.org>\", m[\"From\"]
assert \"ops@example.org\" in m[\"To\"] and \"lead@example.org\" in m[\"To\"], m[\"To\"]
assert email.utils.parsedate_to_datetime(m[\"Date\"]) is not None
assert m[\"Message-ID\"].startswith(\"<\") and \"@\" in m[\"Message-ID\"], m[\"Message-ID\"]
assert m.get_content_type() == \"text/plain\", m.get_content_type()
assert m.get_content_charset() == \"utf-8\"
assert m[\"X-MailFrom\"] == \"zenc@example.org\", m[\"X-MailFrom\"]
assert m[\"X-RcptTo\"].replace(\" \", \"\") == \"ops@example.org,lead@example.org\", m[\"X-RcptTo\"]
body = m.get_content()
assert \"Error: ValueError: caf\u00e9 \u20ac failed\" in body, body
assert \"Step: work\" in body and \"Run: r-mail\" in body, body
assert \"http://dash.example/runs/\" in body, body
assert \"lr: 0.5\" in body, body
"
'

test_expect_success 'email: zenc alerter test sends one mail' '
	"$ZENC" alerter update mail --to "ops@example.org" &&
	rm -f maildir/new/* &&
	"$ZENC" alerter test mail >out 2>err &&
	test "$(ls maildir/new | wc -l)" = 1 &&
	f=$(ls maildir/new/*) &&
	test_grep "^Subject: \\[zenc\\] zenc test alert from alerter .mail." "$f"
'

# aiosmtpd offers no AUTH: libcurl then sends without logging in.
test_expect_success 'email with a user and password: the password goes nowhere' '
	"$ZENC" alerter register mailpw --flavor email \
		--smtp_url "smtp://127.0.0.1:$SMTP_PORT" --from a@example.org \
		--to b@example.org --user zenc --password "{{secret.SMTP_PASSWORD}}" &&
	"$ZENC" alerter test mailpw >out 2>err &&
	test_grep "delivered" out &&
	! grep -rl "$SMTP_PASSWORD" maildir out err
'

test_expect_success 'email: a server that is down is unreachable (exit 3)' '
	"$ZENC" alerter register maildown --flavor email \
		--smtp_url "smtp://127.0.0.1:$(test_free_port)" --from a@example.org \
		--to b@example.org &&
	test_expect_code 3 "$ZENC" alerter test maildown >out 2>err &&
	test_grep "Couldn.t connect" err
'

test_expect_success 'command: the alert as JSON on standard input' '
	cat >notify.sh <<-\EOF &&
	#!/bin/sh
	cat >>"$0.in"
	echo >>"$0.in"
	EOF
	chmod +x notify.sh &&
	"$ZENC" alerter register cmd --flavor command --command "$TMP/notify.sh" &&
	use cmd &&
	test_expect_code 1 "$PIPE" run --param work.mode=raise --run-name r-cmd >out 2>err &&
	"$PIPE" run --run-name r-cmd2 >out 2>err &&
	test "$(wc -l <notify.sh.in)" = 2 &&
	sed -n 1p notify.sh.in >c1.json &&
	sed -n 2p notify.sh.in >c2.json &&
	test "$(test_json c1.json "d[\"status\"]")" = failed &&
	test "$(test_json c1.json "d[\"error_type\"]")" = ValueError &&
	test "$(test_json c1.json "d[\"run_name\"]")" = r-cmd &&
	test "$(test_json c1.json "d[\"params\"][\"lr\"]")" = 0.5 &&
	test "$(test_json c2.json "d[\"status\"]")" = completed
'

test_expect_success 'command: a failing command leaves the alert pending' '
	"$ZENC" alerter register cmdfail --flavor command --command "exit 1" &&
	use cmdfail &&
	test_expect_code 1 env ZA_HOOK_TIMEOUT=2 "$PIPE" run --param work.mode=raise >out 2>err &&
	"$ZENC" alerts list --status pending --json >alerts.json &&
	test "$(test_json alerts.json "d[0][\"last_error\"]")" = \
		"alerter '\''cmdfail'\'': command exited with code 1"
'

test_expect_success 'log: the alert on standard error' '
	"$ZENC" alerter register lg --flavor log &&
	use lg &&
	test_expect_code 1 "$PIPE" run --param work.mode=raise >out 2>err &&
	test_grep "alert: Step work of pipeline alert_pipeline failed" err &&
	test_grep "error ValueError: boom" err &&
	"$ZENC" alerter test lg >out 2>err &&
	test_grep "alert: zenc test alert from alerter .lg." err
'

test_expect_success 'the token and passwords appear in no output, log or database' '
	! grep -rla -e "$SLACK_TOKEN" -e "$HOOK_PATH" -e "$SMTP_PASSWORD" "$TMP" \
		--exclude="*.log" --exclude=secrets --exclude="r.json" \
		--exclude-dir=.test >leaks &&
	test_grep ! . leaks &&
	! grep -la -e "$SLACK_TOKEN" -e "$HOOK_PATH" "$ZENC_DATA"/zenc.db*
'

test_done
