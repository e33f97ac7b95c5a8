#!/bin/sh
# shellcheck disable=SC2016 # bodies are single-quoted and eval-ed
# Failures are always said: --quiet silences progress, never a failure;
# a failed run ends with one block on standard error (each failed step,
# its error, its log and the log's last lines, and the command that shows
# the run); `zenc runs show` prints the log path; the dashboard's run page
# opens with the failed steps.
. "$(dirname "$0")/lib.sh"

ZT=$PROGRAMS/zt_pipeline

cat >fail.yaml <<\EOF_
name: qfail
steps:
  - name: prep
    run: echo prepared
  - name: load
    after: [prep]
    run: for i in 1 2 3 4 5 6 7 8 9 10 11 12; do echo "row $i"; done; echo "disk full" >&2; exit 3
  - name: report
    after: [load]
    run: echo never
EOF_

# A 200-step chain whose step 150 fails: 50 steps are skipped after it.
{
	echo "name: long"
	echo "steps:"
	echo "  - name: s1"
	echo "    run: \"true\""
	i=2
	while [ $i -le 200 ]; do
		echo "  - name: s$i"
		echo "    after: [s$((i - 1))]"
		if [ $i = 150 ]; then
			echo "    run: echo \"bad input at 150\" >&2; exit 7"
		else
			echo "    run: \"true\""
		fi
		i=$((i + 1))
	done
} >long.yaml

test_expect_success '-q on a successful run prints nothing' '
	cat >ok.yaml <<-\EOF_ &&
	name: qok
	steps:
	  - name: a
	    run: "true"
	EOF_
	"$ZENC" run ok.yaml -q >out 2>err &&
	test ! -s err
'

test_expect_success '-q on a failed run prints the failure block' '
	test_expect_code 1 "$ZENC" run fail.yaml -q --run-name r-q >out 2>err &&
	test_grep "^Run r-q failed: 1 step failed, 1 skipped\.$" err &&
	test_grep "^  Step load failed (attempt 1): ExitCode: command exited with code 3$" err &&
	test_grep "^    log: $ZENC_DATA/artifacts/.*/load/log\.1$" err &&
	log=$(sed -n "s/^    log: //p" err) &&
	test -f "$log" &&
	test_grep "^    | disk full$" err &&
	test_grep "^    | row 4$" err &&
	test_grep ! "^    | row 3$" err &&
	id=$("$ZENC" runs show r-q --json | python3 -c "import json,sys; print(json.load(sys.stdin)[\"id\"])") &&
	test_grep "^  Details: zenc runs show $id$" err &&
	test_grep ! "has started" err
'

test_expect_success 'piped, a long run ends with the failure, not under skipped lines' '
	test_expect_code 1 "$ZENC" run long.yaml --run-name r-long >out 2>err &&
	test_grep "Step s151 was skipped" err &&
	tail -n 8 err >tail &&
	test_grep "^Run r-long failed: 1 step failed, 50 skipped\.$" tail &&
	test_grep "^  Step s150 failed (attempt 1): ExitCode" tail &&
	test_grep "^    | bad input at 150$" tail &&
	test_grep "^  Details: zenc runs show " tail
'

test_expect_success 'a C step without a log: the block says so' '
	test_expect_code 1 env ZT_LOG=/dev/null "$ZT" run -q --param work.mode=raise \
		--run-name r-c >out 2>err &&
	test_grep "^Run r-c failed: 1 step failed" err &&
	test_grep "^  Step work failed (attempt 1): ValueError: My exception" err &&
	test_grep "^    log: none" err
'

test_expect_success 'zenc runs show prints the log path of a failed step' '
	"$ZENC" runs show r-q >show &&
	test_grep "^    log: $ZENC_DATA/artifacts/.*/load/log\.1$" show
'

test_expect_success 'the dashboard run page opens with the failed steps' '
	PORT=$(test_free_port) &&
	{ "$ZENC" ui --port "$PORT" >ui.out 2>ui.err & } &&
	test_register_pid $! &&
	id=$("$ZENC" runs show r-q --json | python3 -c "import json,sys; print(json.load(sys.stdin)[\"id\"])") &&
	python3 - "$PORT" "$id" >page.html <<-\PY &&
	import sys, time, urllib.request
	for _ in range(100):
	    try:
	        r = urllib.request.urlopen("http://127.0.0.1:%s/runs/%s" % (sys.argv[1], sys.argv[2]), timeout=5)
	        sys.stdout.write(r.read().decode())
	        break
	    except OSError:
	        time.sleep(0.1)
	PY
	test_grep "<section id=\"failures\">" page.html &&
	python3 - page.html <<-\PY
	import re, sys
	page = open(sys.argv[1]).read()
	fail = page.index("id=\"failures\"")
	assert fail < page.index("<h2>Graph</h2>"), "failures not at the top"
	block = page[fail:page.index("</section>", fail)]
	assert ">load</a>" in block, block
	assert "ExitCode" in block and "disk full" in block, block
	m = re.search(r"href=\"#(step-\d+-log)\"", block)
	assert m, block
	assert ("id=\"%s\"" % m.group(1)) in page, "no log anchor"
	PY
'

test_done
