#!/bin/sh
# shellcheck disable=SC2016 # bodies are single-quoted and eval-ed
# shellcheck source-path=SCRIPTDIR
# Stacks and components: register, list, describe, update, delete, set;
# the refusals change nothing and exit 2; concurrent commands do not
# corrupt $ZENC_HOME/config.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

# Every list, as JSON, into one file: compared before and after a refusal.
snapshot () {
	for _kind in stack orchestrator artifact-store metadata-store alerter; do
		"$ZENC" "$_kind" list --json || return 1
	done >"$1"
}

test_expect_success 'a fresh home has the active stack default' '
	"$ZENC" stack list --json >out &&
	test "$(test_json out "len(d)")" = 1 &&
	test "$(test_json out "d[0][\"name\"]")" = default &&
	test "$(test_json out "d[0][\"active\"]")" = true &&
	test "$(test_json out "d[0][\"components\"]")" = \
		"{\"artifact-store\": \"default\", \"metadata-store\": \"default\", \"orchestrator\": \"default\"}" &&
	"$ZENC" stack describe >out &&
	test_grep "^stack .default. (active)" out &&
	test_grep "orchestrator *default (local)" out &&
	test_grep "metadata-store *default (sqlite)" out &&
	test_grep "alerter *-" out &&
	"$ZENC" metadata-store describe default --json >out &&
	test "$(test_json out "d[\"flavor\"]")" = sqlite &&
	test "$(test_json out "d[\"config\"][\"path\"]")" = "$ZENC_DATA/zenc.db" &&
	"$ZENC" artifact-store list --json >out &&
	test "$(test_json out "d[0][\"config\"][\"path\"]")" = "$ZENC_DATA/artifacts" &&
	"$ZENC" orchestrator list --json >out &&
	test "$(test_json out "d")" = "[{\"config\": {}, \"flavor\": \"local\", \"name\": \"default\"}]" &&
	"$ZENC" alerter list --json >out &&
	test "$(test_json out "d")" = "[]"
'

test_expect_success 'reading does not write anything' '
	"$ZENC" stack list >/dev/null &&
	test ! -e "$ZENC_HOME/config"
'

test_expect_success 'register a component (--flavor F, --flavor=F, --KEY V)' '
	"$ZENC" artifact-store register scratch --flavor local \
		--path="$TMP/art" >out &&
	test_grep "registered artifact-store .scratch." out &&
	"$ZENC" alerter register ops --flavor=slack --channel "#ops" \
		--token=xoxb-literal --webhook-url "{{secret.SLACK_HOOK}}" &&
	"$ZENC" alerter register logger -f log &&
	"$ZENC" alerter list --json >out &&
	test "$(test_json out "[c[\"name\"] for c in d]")" = "[\"logger\", \"ops\"]" &&
	test "$(test_json out "d[1][\"flavor\"]")" = slack &&
	test "$(test_json out "d[1][\"config\"][\"channel\"]")" = "#ops" &&
	test "$(test_json out "d[1][\"config\"][\"webhook_url\"]")" = "{{secret.SLACK_HOOK}}" &&
	test "$(test_json out "d[1][\"config\"][\"token\"]")" = "****" &&
	"$ZENC" alerter list >out &&
	test_grep "^ops  *slack" out &&
	test_grep ! xoxb-literal out &&
	"$ZENC" alerter describe ops >out &&
	test_grep "^alerter .ops." out &&
	test_grep "token *\*\*\*\*" out &&
	test_grep "webhook_url *{{secret.SLACK_HOOK}}" out &&
	test_grep ! xoxb-literal out
'

test_expect_success 'update sets and removes keys' '
	"$ZENC" alerter update ops --channel="#alerts" --api_url= >out &&
	test_grep "updated alerter .ops." out &&
	"$ZENC" alerter describe ops --json >out &&
	test "$(test_json out "d[\"config\"][\"channel\"]")" = "#alerts" &&
	"$ZENC" alerter update ops --token= &&
	"$ZENC" alerter describe ops --json >out &&
	test "$(test_json out "\"token\" in d[\"config\"]")" = false &&
	test_expect_code 2 "$ZENC" alerter update ops --flavor log 2>err &&
	test_grep "cannot be changed" err
'

test_expect_success 'register a stack; omitted components are default' '
	"$ZENC" stack register prod -a scratch -al ops >out &&
	test_grep "registered stack .prod." out &&
	"$ZENC" stack describe prod --json >out &&
	test "$(test_json out "d[\"active\"]")" = false &&
	test "$(test_json out "d[\"components\"]")" = \
		"{\"alerter\": \"ops\", \"artifact-store\": \"scratch\", \"metadata-store\": \"default\", \"orchestrator\": \"default\"}" &&
	"$ZENC" stack register bare --orchestrator=default &&
	"$ZENC" stack describe bare --json >out &&
	test "$(test_json out "\"alerter\" in d[\"components\"]")" = false &&
	"$ZENC" stack list >out &&
	test_grep "^\* default" out &&
	test_grep "^  prod  *default  *scratch  *default  *ops" out
'

test_expect_success 'set makes a stack active; describe with no name shows it' '
	"$ZENC" stack set prod >out &&
	test_grep "active stack: .prod." out &&
	"$ZENC" stack describe >out &&
	test_grep "^stack .prod. (active)" out &&
	test_grep "alerter *ops (slack)" out &&
	"$ZENC" stack list --json >out &&
	test "$(test_json out "[s[\"name\"] for s in d if s[\"active\"]]")" = "[\"prod\"]"
'

test_expect_success 'stack update changes and removes components' '
	"$ZENC" stack update bare -al logger -a scratch &&
	"$ZENC" stack describe bare --json >out &&
	test "$(test_json out "d[\"components\"][\"alerter\"]")" = logger &&
	test "$(test_json out "d[\"components\"][\"artifact-store\"]")" = scratch &&
	"$ZENC" stack update bare -al "" &&
	"$ZENC" stack describe bare --json >out &&
	test "$(test_json out "\"alerter\" in d[\"components\"]")" = false
'

# refuse TITLE MESSAGE-PATTERN CMD...: exit 2, the message on stderr and
# nothing on stdout, and every list exactly as before.
refuse () {
	snapshot before &&
	test_expect_code 2 "$@" >out 2>err &&
	snapshot after &&
	test_cmp before after &&
	test ! -s out
}

test_expect_success 'unknown flavor: exit 2, did you mean, nothing changed' '
	refuse "$ZENC" alerter register x --flavor slak &&
	test_grep "unknown alerter flavor .slak. (known: command, discord, email, log, slack, webhook); did you mean .slack.?" err
'

test_expect_success 'unknown config key: exit 2, known keys, nothing changed' '
	refuse "$ZENC" alerter register x --flavor slack --tokn=abc &&
	test_grep "unknown config key .tokn. for alerter flavor .slack. (known: .*token.*); did you mean .token.?" err &&
	refuse "$ZENC" artifact-store update scratch --pth=/x &&
	test_grep "unknown config key .pth. for artifact-store flavor .local. (known: path)" err &&
	refuse "$ZENC" orchestrator register o2 --flavor local --path=/x &&
	test_grep "(known: none)" err
'

test_expect_success 'a component still used by a stack is not deleted' '
	refuse "$ZENC" alerter delete ops &&
	test_grep "alerter .ops. is still used by stack .prod." err &&
	refuse "$ZENC" artifact-store delete scratch &&
	test_grep "still used by stacks .bare., .prod." err
'

test_expect_success 'the active stack and the default stack are not deleted' '
	refuse "$ZENC" stack delete prod &&
	test_grep "stack .prod. is active" err &&
	refuse "$ZENC" stack delete default &&
	test_grep "stack .default. cannot be deleted" err
'

test_expect_success 'existing names, unknown names and bad names are refused' '
	refuse "$ZENC" stack register prod &&
	test_grep "stack .prod. already exists" err &&
	refuse "$ZENC" alerter register ops --flavor log &&
	test_grep "alerter .ops. already exists" err &&
	refuse "$ZENC" stack register p2 -al nope &&
	test_grep "unknown alerter .nope." err &&
	refuse "$ZENC" stack set prd &&
	test_grep "unknown stack .prd. (known: bare, default, prod); did you mean .prod.?" err &&
	refuse "$ZENC" stack describe nope &&
	refuse "$ZENC" alerter describe nope &&
	refuse "$ZENC" stack update prod -o "" &&
	refuse "$ZENC" alerter register "a b" --flavor log &&
	test_grep "invalid alerter name" err &&
	refuse "$ZENC" alerter register x &&
	test_grep "missing --flavor" err
'

test_expect_success 'unknown verbs and options: exit 2 with usage' '
	refuse "$ZENC" stack frobnicate &&
	test_grep "usage: zenc stack" err &&
	refuse "$ZENC" alerter frobnicate &&
	test_grep "usage: zenc alerter" err &&
	refuse "$ZENC" stack &&
	refuse "$ZENC" stack list --bogus &&
	refuse "$ZENC" metadata-store list extra &&
	refuse "$ZENC" stack register x -o
'

test_expect_success '--help on every command and verb: usage on stdout, exit 0' '
	for cmd in stack orchestrator artifact-store metadata-store alerter; do
		"$ZENC" $cmd --help >out 2>err &&
		test_grep "^usage: zenc $cmd" out &&
		test ! -s err || return 1
	done &&
	for verb in register list describe set update delete; do
		"$ZENC" stack $verb --help >out &&
		test_grep "^usage: zenc stack $verb" out || return 1
	done &&
	for verb in register list describe update delete; do
		"$ZENC" alerter $verb --help >out &&
		test_grep "^usage: zenc alerter $verb" out || return 1
	done &&
	"$ZENC" alerter register --help >out &&
	test_grep "token (secret)" out &&
	test_grep "^  email" out
'

test_expect_success 'delete components and stacks' '
	"$ZENC" stack set default &&
	"$ZENC" stack delete prod >out &&
	test_grep "deleted stack .prod." out &&
	"$ZENC" stack delete bare &&
	"$ZENC" alerter delete ops &&
	"$ZENC" alerter delete logger &&
	"$ZENC" artifact-store delete scratch &&
	"$ZENC" stack list --json >out &&
	test "$(test_json out "[s[\"name\"] for s in d]")" = "[\"default\"]" &&
	"$ZENC" alerter list --json >out &&
	test "$(test_json out "d")" = "[]"
'

test_expect_success 'the config file is 0600 in a 0700 home' '
	test "$(stat -c %a "$ZENC_HOME/config")" = 600 &&
	test "$(stat -c %a "$ZENC_HOME")" = 700
'

test_expect_success 'a damaged config file is reported with file:line:column, exit 3' '
	cp "$ZENC_HOME/config" saved &&
	echo "bogus line" >>"$ZENC_HOME/config" &&
	test_expect_code 3 "$ZENC" stack list 2>err &&
	test_grep "$ZENC_HOME/config:[0-9]*:1: unknown keyword .bogus." err &&
	test_expect_code 3 "$ZENC" alerter register x --flavor log 2>err &&
	cp saved "$ZENC_HOME/config" &&
	"$ZENC" stack list
'

test_expect_success '20 concurrent registers all land' '
	i=0 &&
	while [ $i -lt 20 ]; do
		{
			"$ZENC" alerter register "par$i" --flavor log >/dev/null 2>&1
			echo $? >"rc.$i"
		} &
		{
			"$ZENC" stack register "s$i" >/dev/null 2>&1
			echo $? >"src.$i"
		} &
		i=$((i + 1))
	done &&
	wait &&
	test "$(cat rc.* src.* | sort -u)" = 0 &&
	"$ZENC" alerter list --json >out &&
	test "$(test_json out "len(d)")" = 20 &&
	test "$(test_json out "sorted(c[\"name\"] for c in d) == sorted(\"par%d\" % i for i in range(20))")" = true &&
	"$ZENC" stack list --json >out &&
	test "$(test_json out "len(d)")" = 21 &&
	test "$(find "$ZENC_HOME" -name "*.tmp.*" | wc -l)" = 0
'

test_done
