#!/bin/sh
# shellcheck disable=SC2016 # bodies are single-quoted and eval-ed
# shellcheck source-path=SCRIPTDIR
# Secrets: set from standard input or --value, list, delete; stored 0600;
# a secret's value never shows in any output or any other file.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

# Values that must never leak; distinctive so a grep cannot match by luck.
STDIN_VALUE=zs-stdin-7f3a9c2e
FLAG_VALUE=zs-flag-4b1d8e60
LITERAL_TOKEN=xoxb-literal-91c5
export STDIN_VALUE FLAG_VALUE LITERAL_TOKEN

test_expect_success 'set from standard input drops one trailing newline' '
	printf "%s\n" "$STDIN_VALUE" | "$ZENC" secret set SLACK_HOOK >out 2>err &&
	test_grep "secret .SLACK_HOOK. set" out &&
	test_grep -x "SLACK_HOOK $STDIN_VALUE" "$ZENC_HOME/secrets" &&
	test ! -s err
'

# From a terminal: one line, typed without echo, ended by Enter (no Ctrl-D
# needed); the terminal's echo is back afterwards, even after Ctrl-C.
# tests/e2e/pty_run.py runs the command on a pseudo-terminal.
PTY_RUN="/usr/bin/python3 $TEST_DIRECTORY/pty_run.py"
TTY_VALUE=zs-tty-5e0c2a91
export PTY_RUN TTY_VALUE

test_expect_success 'from a terminal: one line, not echoed, ended by Enter' '
	$PTY_RUN shown "end with Enter): " "$TTY_VALUE\r" -- \
		"$ZENC" secret set TTY_SECRET >result &&
	printf "exit 0\necho on\n" >expect &&
	test_cmp expect result &&
	test_grep "value of secret .TTY_SECRET. (not echoed" shown &&
	test_grep "secret .TTY_SECRET. set" shown &&
	test_grep ! -F "$TTY_VALUE" shown &&
	test_grep -x "TTY_SECRET $TTY_VALUE" "$ZENC_HOME/secrets"
'

test_expect_success 'from a terminal: Ctrl-C at the prompt restores echo, sets nothing' '
	"$ZENC" secret delete TTY_SECRET &&
	cp "$ZENC_HOME/secrets" before &&
	$PTY_RUN shown "end with Enter): " "half-typed\003" -- \
		"$ZENC" secret set TTY_ABORTED >result &&
	printf "signal 2\necho on\n" >expect &&
	test_cmp expect result &&
	test_grep ! "half-typed" shown &&
	test_cmp before "$ZENC_HOME/secrets"
'

test_expect_success 'set with --value, and --value=' '
	"$ZENC" secret set API_TOKEN --value "$FLAG_VALUE" >out 2>err &&
	test_grep "secret .API_TOKEN. set" out &&
	test_grep -x "API_TOKEN $FLAG_VALUE" "$ZENC_HOME/secrets" &&
	"$ZENC" secret set OTHER --value="x y" &&
	test_grep -x "OTHER x y" "$ZENC_HOME/secrets"
'

test_expect_success 'set replaces; a multi-line value is kept whole' '
	printf "line one\nline two\n\n" | "$ZENC" secret set OTHER &&
	test_grep -x "OTHER line one\\\\nline two\\\\n" "$ZENC_HOME/secrets" &&
	test "$(grep -c "^OTHER " "$ZENC_HOME/secrets")" = 1
'

test_expect_success 'list shows names only, sorted; --json is an array' '
	"$ZENC" secret list >out &&
	printf "API_TOKEN\nOTHER\nSLACK_HOOK\n" >expect &&
	test_cmp expect out &&
	"$ZENC" secret list --json >out &&
	test "$(test_json out "d")" = "[\"API_TOKEN\", \"OTHER\", \"SLACK_HOOK\"]"
'

test_expect_success 'the secrets file is 0600 and the home 0700' '
	test "$(stat -c %a "$ZENC_HOME/secrets")" = 600 &&
	test "$(stat -c %a "$ZENC_HOME")" = 700
'

test_expect_success 'delete; deleting an unknown secret is exit 2' '
	"$ZENC" secret delete OTHER >out &&
	test_grep "deleted secret .OTHER." out &&
	"$ZENC" secret list --json >before &&
	test_expect_code 2 "$ZENC" secret delete OTHER 2>err &&
	test_grep "unknown secret .OTHER." err &&
	"$ZENC" secret list --json >after &&
	test_cmp before after &&
	test "$(test_json after "d")" = "[\"API_TOKEN\", \"SLACK_HOOK\"]"
'

test_expect_success 'bad names, extra arguments, unknown verbs: exit 2' '
	test_expect_code 2 "$ZENC" secret set "bad name" --value x 2>err &&
	test_grep "invalid secret name" err &&
	test_expect_code 2 "$ZENC" secret set NAME "$FLAG_VALUE" 2>err &&
	test_grep ! "$FLAG_VALUE" err &&
	test_expect_code 2 "$ZENC" secret set 2>err &&
	test_expect_code 2 "$ZENC" secret frob 2>err &&
	test_grep "usage: zenc secret" err &&
	test_expect_code 2 "$ZENC" secret 2>err &&
	"$ZENC" secret --help >out && test_grep "^usage: zenc secret" out &&
	"$ZENC" secret set --help >out && test_grep "^usage: zenc secret set" out &&
	"$ZENC" secret list --help >out && test_grep "^usage: zenc secret list" out &&
	"$ZENC" secret delete --help >out && test_grep "^usage: zenc secret delete" out
'

test_expect_success 'components refer to secrets; describe masks secret keys' '
	"$ZENC" alerter register ops --flavor slack \
		--webhook_url "{{secret.SLACK_HOOK}}" \
		--token "$LITERAL_TOKEN" --channel "#ops" &&
	"$ZENC" alerter register mail --flavor email \
		--password "{{secret.API_TOKEN}}" --smtp_url smtp://127.0.0.1:1 &&
	"$ZENC" alerter register hook --flavor webhook --url http://x/ \
		--headers "Authorization: Bearer {{secret.API_TOKEN}}" &&
	"$ZENC" stack register prod -al ops --set &&
	"$ZENC" alerter describe ops --json >out &&
	test "$(test_json out "d[\"config\"][\"webhook_url\"]")" = "{{secret.SLACK_HOOK}}" &&
	test "$(test_json out "d[\"config\"][\"token\"]")" = "****" &&
	test "$(test_json out "d[\"config\"][\"channel\"]")" = "#ops" &&
	"$ZENC" alerter describe hook --json >out &&
	test "$(test_json out "d[\"config\"][\"headers\"]")" = "****" &&
	"$ZENC" alerter describe mail >out &&
	test_grep "password *{{secret.API_TOKEN}}" out
'

test_expect_success 'no secret value in any output or any other file' '
	mkdir outs &&
	n=0 &&
	for cmd in "stack list" "stack list --json" "stack describe" \
		"stack describe --json" "stack describe prod" \
		"alerter list" "alerter list --json" "alerter describe ops" \
		"alerter describe ops --json" "alerter describe mail" \
		"alerter describe mail --json" "alerter describe hook --json" \
		"secret list" "secret list --json" "alerter register --help" \
		"alerter update ops --tokn=x" "alerter delete ops" \
		"secret delete NOPE" "secret set bad/name --value=$FLAG_VALUE"
	do
		n=$((n + 1)) &&
		{ $ZENC $cmd >"outs/$n.out" 2>"outs/$n.err" || :; } || return 1
	done &&
	printf "%s\n" "$STDIN_VALUE" | "$ZENC" secret set SLACK_HOOK \
		>outs/set.out 2>outs/set.err &&
	test "$(ls outs | wc -l)" -gt 30 &&
	for v in "$STDIN_VALUE" "$FLAG_VALUE" "$LITERAL_TOKEN"; do
		test_grep ! -r -F "$v" outs || return 1
	done &&
	find "$ZENC_HOME" "$ZENC_DATA" -type f ! -path "$ZENC_HOME/secrets" \
		>files 2>/dev/null || : &&
	test -s files &&
	while read -r f; do
		test_grep ! -F "$STDIN_VALUE" "$f" &&
		test_grep ! -F "$FLAG_VALUE" "$f" || return 1
	done <files &&
	test "$(stat -c %a "$ZENC_HOME/secrets")" = 600
'

test_expect_success 'the secrets file keeps its mode after every change' '
	"$ZENC" secret set NEW --value v &&
	"$ZENC" secret delete NEW &&
	test "$(stat -c %a "$ZENC_HOME/secrets")" = 600 &&
	test "$(find "$ZENC_HOME" -name "*.tmp.*" | wc -l)" = 0
'

test_done
