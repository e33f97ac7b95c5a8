#!/bin/sh
# shellcheck disable=SC2016,SC2317 # bodies are single-quoted and eval-ed;
# the helpers are only called from them
# shellcheck source-path=SCRIPTDIR
# Asking (zenc_alerter_ask, ZenML's Alerter.ask) through the Slack Web API
# flavor, against a real HTTP receiver on loopback: the question goes out
# with chat.postMessage, then conversations.history is polled until a
# human answers.  A reply that approves, one that rejects (the newest
# answer wins), and no answer: the timeout, within the deadline.  The
# exact requests, and the token in no output.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
PIPE=$PROGRAMS/ask_pipeline
SLACK_TOKEN=xoxb-zenc-ask-7f3e21b9
export SLACK_TOKEN

. "$TEST_DIRECTORY/receiver.sh"

# Each receiver answers chat.postMessage (the question is ts 1.000100 in
# channel C0ZENC), then conversations.history from its script; after
# that, an empty history.
POSTED='{"ok": true, "channel": "C0ZENC", "ts": "1.000100"}'
EMPTY='{"ok": true, "messages": [], "has_more": false}'
# script NAME HISTORY...: the receiver's answers, as script lines.
script () {
	_s_name=$1
	shift
	: >"$TMP/$_s_name.script"
	printf '{"body": %s}\n' \
		"$(printf '%s' "$POSTED" | /usr/bin/python3 -c \
			'import json,sys; print(json.dumps(sys.stdin.read()))')" \
		>>"$TMP/$_s_name.script"
	for _s_h; do
		printf '{"body": %s}\n' \
			"$(printf '%s' "$_s_h" | /usr/bin/python3 -c \
				'import json,sys; print(json.dumps(sys.stdin.read()))')" \
			>>"$TMP/$_s_name.script"
	done
}

# Nothing yet, then a thought, then the approval (newest first).
script yes "$EMPTY" '{"ok": true, "messages": [
	{"type": "message", "user": "U0HUMAN", "text": "Approve!", "ts": "1.000300"},
	{"type": "message", "user": "U0HUMAN", "text": "hmm, let me look", "ts": "1.000200"},
	{"type": "message", "bot_id": "B0ZENC", "text": "ok? Deploy the model?", "ts": "1.000100"}]}'
# "yes", then "no.": the newest answer wins.
script no '{"ok": true, "messages": [
	{"type": "message", "user": "U0HUMAN", "text": "no. not today", "ts": "1.000300"},
	{"type": "message", "user": "U0OTHER", "text": "yes", "ts": "1.000200"}]}'
script none
start_receiver yes --script "$TMP/yes.script" --body "$EMPTY"
start_receiver no --script "$TMP/no.script" --body "$EMPTY"
start_receiver none --script "$TMP/none.script" --body "$EMPTY"

# ask_with NAME ARGS...: registers slack alerter NAME against receiver
# NAME with the token as a secret, and makes it the active stack's.
ask_with () {
	eval "_aw_port=\$PORT_$1"
	# shellcheck disable=SC2154 # set by the eval
	"$ZENC" alerter register "$1" --flavor slack \
		--token "{{secret.SLACK_TOKEN}}" --channel "#ops" \
		--api_url "http://127.0.0.1:$_aw_port/api/" >/dev/null &&
	use "$1"
}

# check_question LOG: request 1 of LOG is the question, exactly.
check_question () {
	req "$1" 1 q.json &&
	test "$(test_json q.json "d[\"method\"]")" = POST &&
	test "$(test_json q.json "d[\"path\"]")" = /api/chat.postMessage &&
	test "$(test_json q.json "d[\"query\"]")" = "" &&
	test "$(test_json q.json "d[\"headers\"][\"authorization\"]")" = \
		"Bearer $SLACK_TOKEN" &&
	test "$(test_json q.json "d[\"headers\"][\"content-type\"]")" = \
		"application/json; charset=utf-8" &&
	test "$(test_json q.json "d[\"json\"][\"channel\"]")" = "$2" &&
	test "$(test_json q.json "d[\"json\"][\"text\"]")" = "$3" &&
	test "$(test_json q.json "d[\"json\"][\"blocks\"][0][\"text\"][\"text\"]")" = \
		"Approval needed" &&
	test "$(test_json q.json "d[\"json\"][\"blocks\"][1][\"text\"][\"text\"]")" = "$3"
}

# check_poll LOG N: request N of LOG polls the question's channel for
# messages after it.
check_poll () {
	req "$1" "$2" h.json &&
	test "$(test_json h.json "d[\"method\"]")" = GET &&
	test "$(test_json h.json "d[\"path\"]")" = /api/conversations.history &&
	test "$(test_json h.json "d[\"query\"]")" = \
		"channel=C0ZENC&oldest=1.000100&limit=50" &&
	test "$(test_json h.json "d[\"headers\"][\"authorization\"]")" = \
		"Bearer $SLACK_TOKEN" &&
	test "$(test_json h.json "d[\"body\"]")" = ""
}

test_expect_success 'secret' '
	"$ZENC" secret set SLACK_TOKEN --value "$SLACK_TOKEN"
'

test_expect_success 'an approving reply: approved, after polling twice' '
	ask_with yes &&
	"$PIPE" run --param "ask.question=Deploy the model?" \
		--param ask.timeout=20 >out 2>err &&
	test_grep "^ask: approved rc=0 (ZENC_OK)" out &&
	test "$(wc -l <yes.log)" = 3 &&
	check_question yes "#ops" "Deploy the model?" &&
	check_poll yes 2 &&
	check_poll yes 3
'

test_expect_success 'a rejecting reply in the step channel: rejected' '
	ask_with no &&
	"$PIPE" run --param "ask.question=Ship <v2> & more?" \
		--param "ask.channel=#team-ml" --param ask.timeout=20 >out 2>err &&
	test_grep "^ask: rejected rc=0 (ZENC_OK)" out &&
	test "$(wc -l <no.log)" = 2 &&
	check_question no "#team-ml" "Ship &lt;v2&gt; &amp; more?" &&
	check_poll no 2
'

test_expect_success 'no answer: the timeout, within the deadline, polled' '
	ask_with none &&
	start=$(date +%s) &&
	"$PIPE" run --param ask.timeout=2 >out 2>err &&
	end=$(date +%s) &&
	test_grep "^ask: timeout rc=-13 (ZENC_ETIMEOUT)" out &&
	test_grep "^ask error: no answer in slack within 2s" out &&
	test $((end - start)) -lt 6 &&
	check_question none "#ops" "Deploy the model?" &&
	n=$(wc -l <none.log) &&
	test "$n" -ge 2 &&
	i=2 &&
	while [ "$i" -le "$n" ]; do
		check_poll none "$i" &&
		i=$((i + 1)) || return 1
	done
'

test_expect_success 'ok=false to the question is an error at once' '
	cat >>none.script <<-\EOF &&
	{"body": "{\"ok\": false, \"error\": \"not_in_channel\"}"}
	EOF
	: >none.log &&
	"$PIPE" run --param ask.timeout=20 >out 2>err &&
	test_grep "^ask: error rc=-3 (ZENC_EINVALID)" out &&
	test_grep "^ask error: slack chat.postMessage failed: not_in_channel" out &&
	test "$(wc -l <none.log)" = 1
'

test_expect_success 'the token appears in no output' '
	! grep -rla -e "$SLACK_TOKEN" "$TMP" \
		--exclude="*.log" --exclude=secrets --exclude="q.json" \
		--exclude="h.json" --exclude-dir=.test >leaks &&
	test_grep ! . leaks &&
	! grep -la -e "$SLACK_TOKEN" "$ZENC_DATA"/zenc.db*
'

test_done
