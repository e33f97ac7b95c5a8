#!/bin/sh
# shellcheck disable=SC2016,SC2034 # bodies are single-quoted and eval-ed
# shellcheck source-path=SCRIPTDIR
# An alerter flavor from a plugin: tests/plugins/zt_beacon.c, built
# against the public headers only, loaded from ZENC_PLUGIN_PATH.  It is
# registered, tested and used by alerter_failure_hook from the zenc
# command (`zenc run` of a YAML pipeline) and from a pipeline program
# (zenc_main), against a real receiver on loopback.  Its constructor
# gets its own keys with the secret resolved, never the delivery keys;
# those still work (dedup_window).  A plugin that cannot be loaded, has
# no zenc_plugin_init() or whose init fails is exit 3 with the file
# named.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
PIPE=$PROGRAMS/alert_pipeline
PLUGIN=$ZENC_BUILD/tests/plugins/zt_beacon.so
BEACON_TOKEN=zk-beacon-41c7e2d9
export BEACON_TOKEN

[ -f "$PLUGIN" ] || test_skip_all "no $PLUGIN (build the tests)"

# A missing folder first: it is skipped.
mkdir plugins
cp "$PLUGIN" plugins/
ZENC_PLUGIN_PATH=$TMP/no-such-folder:$TMP/plugins
export ZENC_PLUGIN_PATH

. "$TEST_DIRECTORY/receiver.sh"

start_receiver beacon

mkdir wf
cat >wf/fails.yaml <<\EOF_
name: yplug
steps:
  - name: bad
    run: echo boom >&2; exit 2
    on_failure:
      - alerter_failure_hook
EOF_

test_expect_success 'the plugin flavor is listed with its keys' '
	"$ZENC" alerter register --help >out &&
	test_grep "alerter flavors: beacon, command, discord" out &&
	test_grep "beacon .*posts alerts as JSON (a test plugin)" out &&
	test_grep "keys: url token (secret) tag dashboard_url timeout dedup_window only_on_change" out
'

test_expect_success 'register: keys checked against the plugin flavor' '
	"$ZENC" secret set BEACON_TOKEN --value "$BEACON_TOKEN" &&
	test_expect_code 2 "$ZENC" alerter register typo --flavor beacon --ur x 2>err &&
	test_grep "unknown config key .ur. for alerter flavor .beacon..*did you mean .url.?" err &&
	"$ZENC" alerter register team --flavor beacon \
		--url "http://127.0.0.1:$PORT_beacon/hook" \
		--token "{{secret.BEACON_TOKEN}}" --tag nightly --timeout 5s &&
	"$ZENC" alerter describe team >out &&
	test_grep "flavor.*beacon" out
'

test_expect_success 'zenc alerter test: delivered through the plugin' '
	"$ZENC" alerter test team >out 2>err &&
	test_grep "test alert delivered through alerter .team. (flavor beacon)" out &&
	req beacon 1 r.json &&
	test "$(test_json r.json "d[\"method\"]")" = POST &&
	test "$(test_json r.json "d[\"path\"]")" = /hook &&
	test "$(test_json r.json "d[\"headers\"][\"authorization\"]")" = "Bearer $BEACON_TOKEN" &&
	test "$(test_json r.json "d[\"json\"][\"event\"]")" = test &&
	test "$(test_json r.json "d[\"json\"][\"tag\"]")" = nightly &&
	: the constructor got its own keys, not timeout &&
	test "$(test_json r.json "d[\"json\"][\"keys\"]")" = "[\"url\", \"token\", \"tag\"]"
'

test_expect_success 'a pipeline program: alerter_failure_hook posts through the plugin' '
	use team &&
	test_expect_code 1 "$PIPE" run --param work.mode=raise \
		--param work.message=kaput --run-name r-p >out 2>err &&
	req beacon 2 r.json &&
	test "$(test_json r.json "d[\"json\"][\"title\"]")" = \
		"Step work of pipeline alert_pipeline failed" &&
	test "$(test_json r.json "d[\"json\"][\"pipeline\"]")" = alert_pipeline &&
	test "$(test_json r.json "d[\"json\"][\"run_name\"]")" = r-p &&
	test "$(test_json r.json "d[\"json\"][\"step\"]")" = work &&
	test "$(test_json r.json "d[\"json\"][\"status\"]")" = failed &&
	test "$(test_json r.json "d[\"json\"][\"event\"]")" = on_failure &&
	test "$(test_json r.json "d[\"json\"][\"error_type\"]")" = ValueError &&
	test "$(test_json r.json "d[\"json\"][\"error_message\"]")" = kaput &&
	test "$(test_json r.json "d[\"headers\"][\"authorization\"]")" = "Bearer $BEACON_TOKEN" &&
	"$ZENC" alerts list --json >alerts.json &&
	test "$(test_json alerts.json "[[a[\"event\"], a[\"status\"]] for a in d if a[\"alerter\"] == \"team\"]")" = \
		"[[\"on_failure\", \"delivered\"], [\"test\", \"delivered\"]]"
'

test_expect_success 'the zenc command: a YAML step failure posts through the plugin' '
	test_expect_code 1 "$ZENC" run wf/fails.yaml --run-name r-y >out 2>err &&
	req beacon 3 r.json &&
	test "$(test_json r.json "d[\"json\"][\"pipeline\"]")" = yplug &&
	test "$(test_json r.json "d[\"json\"][\"run_name\"]")" = r-y &&
	test "$(test_json r.json "d[\"json\"][\"step\"]")" = bad &&
	test "$(test_json r.json "d[\"json\"][\"status\"]")" = failed &&
	test "$(test_json r.json "d[\"json\"][\"event\"]")" = on_failure
'

test_expect_success 'the delivery keys stay the core'"'"'s: dedup_window works' '
	"$ZENC" alerter register quiet --flavor beacon \
		--url "http://127.0.0.1:$PORT_beacon/quiet" --dedup_window 1h &&
	use quiet &&
	test_expect_code 1 "$PIPE" run --param work.mode=raise >out 2>err &&
	test_expect_code 1 "$PIPE" run --param work.mode=raise >out 2>err &&
	test "$(grep -c "\"/quiet\"" beacon.log)" = 1 &&
	"$ZENC" alerts list --status suppressed --json >alerts.json &&
	test "$(test_json alerts.json "[a[\"last_error\"] for a in d if a[\"alerter\"] == \"quiet\"]")" = \
		"[\"dedup_window\"]" &&
	req beacon 4 r.json &&
	test "$(test_json r.json "d[\"json\"][\"keys\"]")" = "[\"url\"]"
'

test_expect_success 'a bad config is refused by the plugin: usage error' '
	"$ZENC" alerter register nourl --flavor beacon --tag x &&
	test_expect_code 2 "$ZENC" alerter test nourl >out 2>err &&
	test_grep "beacon needs url" err
'

test_expect_success 'unreachable: the plugin error is kept, exit 3' '
	"$ZENC" alerter register gone --flavor beacon \
		--url "http://127.0.0.1:$(test_free_port)/x" &&
	test_expect_code 3 "$ZENC" alerter test gone >out 2>err &&
	test_grep "not delivered through alerter .gone.: beacon: no answer from 127.0.0.1" err
'

test_expect_success 'a plugin that cannot be loaded: exit 3, the file named' '
	mkdir bad &&
	echo "not an ELF file" >bad/broken.so &&
	ZENC_PLUGIN_PATH=$TMP/bad:$TMP/plugins &&
	export ZENC_PLUGIN_PATH &&
	test_expect_code 3 "$ZENC" alerter test team >out 2>err &&
	test_grep "cannot load plugin .*/bad/broken.so" err &&
	test_expect_code 3 "$ZENC" alerter register other --flavor beacon \
		--url http://127.0.0.1:1/x 2>err &&
	test_grep "cannot load plugin .*/bad/broken.so" err &&
	use team &&
	test_expect_code 3 "$PIPE" run >out 2>err &&
	test_grep "cannot load plugin .*/bad/broken.so" err
'

test_expect_success 'a plugin whose init fails: exit 3, the file named' '
	use team &&
	ZT_BEACON_FAIL=1 test_expect_code 3 "$ZENC" alerter test team >out 2>err &&
	test_grep "plugin .*/plugins/zt_beacon.so: zenc_plugin_init() failed: beacon: told to fail" err &&
	ZT_BEACON_FAIL=1 test_expect_code 3 "$PIPE" run >out 2>err &&
	test_grep "plugin .*/plugins/zt_beacon.so: zenc_plugin_init() failed" err &&
	ZT_BEACON_FAIL=1 test_expect_code 3 "$ZENC" run wf/fails.yaml >out 2>err &&
	test_grep "plugin .*/plugins/zt_beacon.so: zenc_plugin_init() failed" err
'

test_expect_success 'a plugin without zenc_plugin_init: exit 3, the file named' '
	mkdir noinit &&
	echo "int zt_nothing(void); int zt_nothing(void) { return 0; }" >noinit.c &&
	${CC:-cc} -shared -fPIC -o noinit/empty.so noinit.c &&
	ZENC_PLUGIN_PATH=$TMP/noinit &&
	export ZENC_PLUGIN_PATH &&
	test_expect_code 3 "$ZENC" alerter test team >out 2>err &&
	test_grep "plugin .*/noinit/empty.so has no function zenc_plugin_init()" err
'

test_expect_success 'without the plugin the flavor is unknown, and said so' '
	ZENC_PLUGIN_PATH= &&
	export ZENC_PLUGIN_PATH &&
	test_expect_code 2 "$ZENC" alerter test team >out 2>err &&
	test_grep "unknown alerter flavor .beacon." err
'

test_expect_success 'the secret appears in no output or database' '
	! grep -rla -e "$BEACON_TOKEN" "$TMP" \
		--exclude="*.log" --exclude=secrets --exclude="r.json" \
		--exclude-dir=.test >leaks &&
	test_grep ! . leaks &&
	! grep -la -e "$BEACON_TOKEN" "$ZENC_DATA"/zenc.db*
'

test_done
