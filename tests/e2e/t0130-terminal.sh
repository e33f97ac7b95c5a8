#!/bin/sh
# shellcheck disable=SC2016 # bodies are single-quoted and eval-ed
# The terminal log: ZenML's run log when piped, colour only on
# a terminal and never with NO_COLOR, and a live progress line instead of
# a line per step event for runs of many steps on a terminal.
. "$(dirname "$0")/lib.sh"

ZT=$PROGRAMS/zt_pipeline
CHAIN=$PROGRAMS/zt_chain

if ! command -v script >/dev/null 2>&1; then
	test_skip_all "no 'script' command to give a run a terminal"
fi

# on_tty CMD...: runs CMD with a pseudo-terminal as its standard error
# and output, capturing both into tty.out.
on_tty () {
	# A terminal that can draw (the caller's TERM may be "dumb", as under
	# some CI runners, which zenc rightly treats as no terminal).
	TERM=xterm script -qec "$*" /dev/null >tty.out 2>&1
}

test_expect_success 'piped: the run log, one line per event, no colour' '
	ZT_LOG=/dev/null "$ZT" run 2>err &&
	test_grep "^Initiating a new run for the pipeline: zt\.$" err &&
	test_grep "^Step work has started\.$" err &&
	test_grep "^Step work has finished in [0-9.]*s\.$" err &&
	test_grep "^Run zt-[0-9_-]* completed in [0-9.]*s\.$" err &&
	test_grep ! "$(printf "\033")" err
'

test_expect_success 'on a terminal: colour, unless NO_COLOR is set' '
	on_tty "env -u NO_COLOR ZT_LOG=/dev/null $ZT run --param work.mode=raise" || true &&
	test_grep "$(printf "\033\\[31m")Step work failed: ValueError: My exception" tty.out &&
	on_tty "env NO_COLOR=1 ZT_LOG=/dev/null $ZT run --param work.mode=raise" || true &&
	test_grep ! "$(printf "\033\\[3")" tty.out
'

test_expect_success 'on a terminal, a run of many steps shows a progress line' '
	on_tty "env ZT_CHAIN_STEPS=40 $CHAIN run --isolation none" &&
	test_grep "\[40/40\] 40 completed, 0 failed, 0 skipped, 0 running" tty.out &&
	test_grep ! "^Step s" tty.out &&
	test_grep "completed in" tty.out
'

test_expect_success 'a few steps on a terminal still get a line each' '
	on_tty "env ZT_LOG=/dev/null $ZT run" &&
	test_grep "Step work has finished" tty.out &&
	test_grep ! "\[4/4\]" tty.out
'

test_done
