/*
 * zenc runs cancel RUN: stops a running run.  A run on the Slurm
 * orchestrator has its active jobs cancelled (found by their comment,
 * RUN_ID/STEP, never by job ids alone); whoever follows the run (the
 * client, or the last job of a detached run) then runs the failure hooks
 * of what was running, records the rest as skipped and ends the run.  A
 * run on the local orchestrator of this machine gets SIGTERM, as Ctrl-C
 * would.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "lib/store.h"
#include "lib/stack.h"
#include "lib/orchestrator.h"

static const char usage_cancel[] =
	"usage: zenc runs cancel RUN [--stack NAME]\n"
	"\n"
	"Cancels a running run: its Slurm jobs (Slurm orchestrator), or its\n"
	"orchestrating process on this machine (local orchestrator).  Failure\n"
	"hooks of the steps that were running still fire.  RUN is a run id, a\n"
	"run name, or a unique prefix of a run id.\n"
	"\n"
	"    --stack NAME       the stack the run ran on (default: the active\n"
	"                       stack)\n";

/* The metadata store of stack `stack_name` (NULL: the active stack) and
 * the stack itself, for the caller to free.  0, or the error is printed
 * and its exit code returned. */
static int open_stack_store(zenc__store **out, const char *stack_name,
			    zenc_stack **stack_out)
{
	zenc_stack *stack = NULL;
	int rc;

	*out = NULL;
	*stack_out = NULL;
	if ((rc = zenc__stack_load(&stack, stack_name)) < 0 ||
	    (rc = zenc__store_open(out, zenc__stack_store_flavor(stack),
				   zenc__stack_store_location(stack))) < 0) {
		cli_error("%s", zenc_error_last());
		zenc__stack_free(stack);
		return zenc_exit_status(rc);
	}
	*stack_out = stack;
	return 0;
}

int cmd_runs_cancel(int argc, char **argv)
{
	zenc__run_info info = {0};
	zenc__store *store = NULL;
	zenc_stack *stack = NULL;
	const char *run = NULL, *stack_name = NULL, *orch;
	char host[256] = "";
	char *run_dir = NULL;
	size_t n = 0;
	int i, rc;

	for (i = 1; i < argc; i++) {
		if (cli_is_help(argv[i])) {
			fputs(usage_cancel, stdout);
			return ZENC_EXIT_OK;
		} else if (!strcmp(argv[i], "--stack") && i + 1 < argc) {
			stack_name = argv[++i];
		} else if (!strncmp(argv[i], "--stack=", 8)) {
			stack_name = argv[i] + 8;
		} else if (argv[i][0] == '-' || run) {
			cli_error("unexpected argument '%s'", argv[i]);
			fputs(usage_cancel, stderr);
			return ZENC_EXIT_USAGE;
		} else {
			run = argv[i];
		}
	}
	if (!run) {
		cli_error("which run? (zenc runs cancel RUN)");
		fputs(usage_cancel, stderr);
		return ZENC_EXIT_USAGE;
	}
	if ((rc = open_stack_store(&store, stack_name, &stack)) != 0)
		return rc;
	if ((rc = store->run_show(store, run, &info)) < 0) {
		cli_error("%s", zenc_error_last());
		rc = rc == ZENC_ENOTFOUND ? ZENC_EXIT_USAGE : ZENC_EXIT_ENV;
		goto done;
	}
	if (strcmp(info.rec.status, "running")) {
		cli_error(
			"run '%s' is not running (it %s)", info.rec.name,
			info.rec.status);
		rc = ZENC_EXIT_USAGE;
		goto done;
	}
	/* The stack the run ran on says how to cancel it. */
	if (info.rec.stack && strcmp(info.rec.stack, zenc_stack_name(stack))) {
		zenc_stack *own = NULL;
		if (zenc__stack_load(&own, info.rec.stack) == 0) {
			zenc__stack_free(stack);
			stack = own;
		}
	}
	orch = zenc__stack_orchestrator_flavor(stack);
	if (orch && !strcmp(orch, "slurm")) {
		run_dir = zenc__asprintf(
			"%s/%s", zenc__stack_artifact_path(stack), info.rec.id);
		if (zenc__slurm_cancel_run(info.rec.id, run_dir, &n) < 0) {
			cli_error("%s", zenc_error_last());
			rc = ZENC_EXIT_ENV;
			goto done;
		}
		printf("Cancelled %zu Slurm job%s of run '%s' (%s).\n", n,
		       n == 1 ? "" : "s", info.rec.name, info.rec.id);
		rc = ZENC_EXIT_OK;
		goto done;
	}
	gethostname(host, sizeof(host) - 1);
	if (info.rec.pid <= 0 || !info.rec.host ||
	    strcmp(info.rec.host, host)) {
		cli_error(
			"run '%s' is orchestrated on host '%s'; cancel it "
			"there",
			info.rec.name, info.rec.host ? info.rec.host : "?");
		rc = ZENC_EXIT_USAGE;
		goto done;
	}
	if (kill((pid_t)info.rec.pid, SIGTERM) < 0) {
		cli_error(
			"cannot signal process %ld of run '%s': %s",
			info.rec.pid, info.rec.name, strerror(errno));
		rc = ZENC_EXIT_ENV;
		goto done;
	}
	printf("Sent SIGTERM to process %ld of run '%s' (%s).\n", info.rec.pid,
	       info.rec.name, info.rec.id);
	rc = ZENC_EXIT_OK;
done:
	free(run_dir);
	zenc__run_info_free(&info);
	zenc__store_free(store);
	zenc__stack_free(stack);
	return rc;
}
