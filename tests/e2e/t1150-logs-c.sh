#!/bin/sh
# shellcheck disable=SC2016 # bodies are single-quoted and eval-ed
# The log of a C step: its standard output and error captured per
# attempt (still shown on the terminal), `zenc runs logs` with --attempt
# and --follow, the log paths in `zenc runs show`, and each attempt's
# log on the dashboard.
. "$(dirname "$0")/lib.sh"

ZT=$PROGRAMS/zt_pipeline
ZT_LOG=$TMP/hooks.log
export ZT_LOG

# work_log N: the log path attempt N of step work recorded.
work_log () {
	test_json run.json "[a[\"log\"] for s in d[\"steps\"] if s[\"name\"] == \"work\" for a in s[\"attempt_history\"] if a[\"attempt\"] == $1][0]"
}

for iso in process none; do

test_expect_success "$iso: a retried C step has one log per attempt, also on the terminal" '
	ZT_SAY_ATTEMPT=1 ZT_RETRY=1,0.1,1 "$ZT" run --isolation '"$iso"' \
		--param work.mode=flaky --param work.fail_times=1 \
		>run.out 2>run.err &&
	test_grep "^work prints on attempt 1$" run.out &&
	test_grep "^work prints on attempt 2$" run.out &&
	test_grep "^work warns on attempt 1$" run.err &&
	test_grep "^work warns on attempt 2$" run.err &&
	last_run &&
	"$ZENC" runs logs "$id" work --attempt 1 >a1 &&
	sort a1 >a1.sorted &&
	printf "work prints on attempt 1\nwork warns on attempt 1\n" >expect &&
	test_cmp expect a1.sorted &&
	"$ZENC" runs logs "$id" work --attempt 2 >a2 &&
	sort a2 >a2.sorted &&
	printf "work prints on attempt 2\nwork warns on attempt 2\n" >expect &&
	test_cmp expect a2.sorted &&
	test "$(work_log 1)" != "$(work_log 2)" &&
	test -f "$(work_log 1)" && test -f "$(work_log 2)"
'

test_expect_success "$iso: the lines of the run stay out of the log of the step" '
	test_grep "Step work failed on attempt 1" run.err &&
	test_grep ! "Step " "$(work_log 1)" &&
	test_grep ! "Step " "$(work_log 2)" &&
	test_grep ! "Run " "$(work_log 2)"
'

done

test_expect_success 'runs logs without --attempt: every attempt under a header' '
	last_run &&
	"$ZENC" runs logs "$id" >all &&
	test_grep "^==> work, attempt 1 <==$" all &&
	test_grep "^==> work, attempt 2 <==$" all &&
	test "$(grep -c "^==> " all)" = 2 &&
	sed -n "/attempt 1 <==/,/attempt 2 <==/p" all >first &&
	test_grep "work prints on attempt 1" first &&
	test_grep ! "work prints on attempt 2" first
'

test_expect_success 'a step that printed nothing has no log' '
	last_run &&
	test "$(step log source)" = null &&
	"$ZENC" runs logs "$id" source >out 2>err &&
	test ! -s out &&
	test_grep "printed nothing" err
'

test_expect_success 'runs show gives the log of each attempt, not only in --json' '
	last_run &&
	"$ZENC" runs show "$id" >show &&
	test_grep "^    log: $(work_log 2)$" show &&
	test_grep "^      log: $(work_log 1)$" show
'

test_expect_success 'a failed C step: its log path and lines in runs show' '
	test_expect_code 1 env ZT_SAY_ATTEMPT=1 "$ZT" run \
		--param work.mode=raise >out 2>err &&
	last_run &&
	"$ZENC" runs show "$id" >show &&
	test_grep "ValueError: My exception" show &&
	test_grep "^    log: .*/work/log.1$" show &&
	test_grep "work warns on attempt 1" "$(step log work)"
'

test_expect_success 'runs logs: bad requests get a clear error' '
	last_run &&
	test_expect_code 2 "$ZENC" runs logs "$id" --attempt 1 2>err &&
	test_grep "needs a STEP" err &&
	test_expect_code 2 "$ZENC" runs logs "$id" work --attempt 0 2>err &&
	test_grep "invalid value" err &&
	test_must_fail "$ZENC" runs logs "$id" nosuch 2>err &&
	test_grep "has no step .nosuch." err &&
	test_must_fail "$ZENC" runs logs "$id" work --attempt 5 2>err &&
	test_grep "no attempt 5" err &&
	test_must_fail "$ZENC" runs logs no-such-run 2>err &&
	"$ZENC" runs logs --help >help &&
	test_grep "usage: zenc runs logs RUN" help
'

test_expect_success 'runs logs --follow prints a running step until it ends' '
	{ ZT_SAY_ATTEMPT=1 "$ZT" run --param work.sleep=3 \
		>bg.out 2>bg.err & } &&
	test_register_pid $! &&
	i=0 &&
	until "$ZENC" runs list --json --status running >running.json &&
		test "$(test_json running.json "len(d)")" = 1; do
		i=$((i + 1)) && test "$i" -lt 100 && sleep 0.1 || exit 1
	done &&
	rid=$(test_json running.json "d[0][\"id\"]") &&
	timeout 60 "$ZENC" runs logs "$rid" work --follow >followed &&
	test_grep "^==> work, attempt 1 <==$" followed &&
	test_grep "^work warns on attempt 1$" followed &&
	test_grep "^work prints on attempt 1$" followed &&
	"$ZENC" runs show "$rid" --json >r.json &&
	test "$(step_field r.json work status)" = completed
'

PORT=$(test_free_port)
BASE=http://127.0.0.1:$PORT

test_expect_success 'the dashboard shows the log of each attempt, escaped' '
	ZT_SAY_ATTEMPT=1 ZT_SAY="<b>bold</b>" ZT_RETRY=1,0.1,1 "$ZT" run \
		--param work.mode=flaky --param work.fail_times=1 \
		>/dev/null 2>&1 &&
	last_run &&
	"$ZENC" runs report "$id" -o report.html &&
	test_grep "Log of attempt 1" report.html &&
	test_grep "Log of attempt 2" report.html &&
	grep -A 3 "Log of attempt 1" report.html >log1 &&
	test_grep "work prints on attempt 1$" log1 &&
	grep -A 3 "Log of attempt 2" report.html >log2 &&
	test_grep "work prints on attempt 2$" log2 &&
	test_grep "work says &lt;b&gt;bold&lt;/b&gt;" report.html &&
	test_grep ! "<b>bold" report.html &&
	{ "$ZENC" ui --port '"$PORT"' >ui.out 2>ui.err & } &&
	test_register_pid $! &&
	i=0 &&
	until curl -s -o /dev/null '"$BASE"'/; do
		i=$((i + 1)) && test "$i" -lt 50 && sleep 0.1 || exit 1
	done &&
	curl -sf '"$BASE"'/runs/"$id" >page.html &&
	test_grep "Log of attempt 2" page.html &&
	link=$(grep -o "/runs/$id/log-[0-9]*-1" page.html | head -n 1) &&
	test -n "$link" &&
	curl -sf -D headers '"$BASE"'"$link" >whole &&
	test_grep -i "^content-type: text/plain" headers &&
	test_grep "work warns on attempt 1$" whole &&
	test_grep "work says <b>bold</b>" whole &&
	test "$(curl -s -o /dev/null -w "%{http_code}" '"$BASE"'/runs/"$id"/log-99-1)" = 404
'

test_expect_success 'the dashboard shows the log of an attempt while it runs' '
	{ ZT_SAY_ATTEMPT=1 "$ZT" run --param work.sleep=6 \
		>bg2.out 2>bg2.err & } &&
	test_register_pid $! &&
	i=0 &&
	until "$ZENC" runs list --json --status running >running.json &&
		test "$(test_json running.json "len(d)")" = 1 &&
		rid=$(test_json running.json "d[0][\"id\"]") &&
		"$ZENC" runs show "$rid" --json >r.json &&
		test "$(step_field r.json work status)" = running &&
		grep -q "work warns" bg2.err; do
		i=$((i + 1)) && test "$i" -lt 100 && sleep 0.1 || exit 1
	done &&
	curl -sf '"$BASE"'/runs/"$rid" >live.html &&
	test "$(step_field r.json work log)" = null &&
	grep -A 2 "Log of attempt 1" live.html >live1 &&
	test_grep "work warns on attempt 1$" live1 &&
	link=$(grep -o "/runs/$rid/log-[0-9]*-1" live.html | head -n 1) &&
	curl -sf '"$BASE"'"$link" >live.txt &&
	test_grep "^work warns on attempt 1$" live.txt
'

test_expect_success 'a step printing more than a pipe holds: all of it, in its log and on the terminal' '
	ZT_SAY_MUCH=20000 timeout 120 "$ZT" run >much.out 2>much.err &&
	test "$(grep -c "^work line [0-9]* of 20000$" much.out)" = 20000 &&
	last_run &&
	"$ZENC" runs logs "$id" work >much.log &&
	test "$(grep -c "^work line [0-9]* of 20000$" much.log)" = 20000 &&
	test_grep "^work line 20000 of 20000$" much.log
'

test_expect_success 'what a step printed is on the terminal before the line of its end' '
	for i in 1 2 3; do
		ZT_SAY_MUCH=3000 "$ZT" run >both 2>&1 &&
		grep -n "^work line 3000 of 3000$\|Step work has finished" both \
			>order &&
		head -n 1 order >first &&
		test_grep "work line 3000" first || return 1
	done
'

test_expect_success 'a C step that crashes: what it wrote to stderr is in its log' '
	test_expect_code 1 env ZT_SAY_ATTEMPT=1 "$ZT" run \
		--param work.mode=segv >out 2>err &&
	last_run &&
	"$ZENC" runs logs "$id" work >crash.log &&
	test_grep "^work warns on attempt 1$" crash.log
'

test_expect_success 'with standard output closed, the steps run and keep their logs' '
	ZT_SAY_ATTEMPT=1 "$ZT" run >&- 2>closed.err &&
	last_run &&
	test "$(test_json run.json "d[\"status\"]")" = completed &&
	"$ZENC" runs logs "$id" work >closed.log &&
	test_grep "^work prints on attempt 1$" closed.log
'

test_expect_success 'output and error to one file: the log keeps the order of their lines' '
	ZT_SAY_ORDER=200 "$ZT" run >one.out 2>&1 &&
	last_run &&
	"$ZENC" runs logs "$id" work --attempt 1 >log &&
	i=1 && : >expect &&
	while test $i -le 200; do
		printf "out %d\nerr %d\n" $i $i >>expect && i=$((i + 1))
	done &&
	test_cmp expect log &&
	grep -E "^(out|err) [0-9]+$" one.out >shown &&
	test_cmp expect shown
'

test_done
