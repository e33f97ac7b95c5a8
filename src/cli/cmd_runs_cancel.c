/*
 * zenc runs cancel RUN: stops a running run.  A run on the Slurm
 * orchestrator has its active jobs cancelled (found by their comment,
 * RUN_ID/STEP, never by job ids alone); whoever follows the run (the
 * client, or the last job of a detached run) then runs the failure hooks
 * of what was running, records the rest as skipped and ends the run.  A
 * run on the local orchestrator of this machine gets SIGTERM, as Ctrl-C
 * would.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

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

int cmd_runs_cancel(int argc, char **argv)
{
	zenc_run_info info = {0};
	zenc_run_cancel_info how;
	zenc_store *store = NULL;
	const char *run = NULL, *stack_name = NULL;
	int i, m, rc;

	for (i = 1; i < argc; i++) {
		if (cli_is_help(argv[i])) {
			fputs(usage_cancel, stdout);
			return ZENC_EXIT_OK;
		} else if ((m = zenc__opt_value(
				    argc, argv, &i, "--stack", &stack_name))) {
			if (m < 0) {
				cli_error("option '--stack' needs a value");
				fputs(usage_cancel, stderr);
				return ZENC_EXIT_USAGE;
			}
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
	if ((rc = cli_open_store(&store, stack_name)) != 0)
		return rc;
	/* Found first for its name and id, which the messages show. */
	if ((rc = zenc_store_run_show(store, run, &info)) < 0 ||
	    (rc = zenc_store_run_cancel(store, info.rec.id, &how)) < 0) {
		cli_error("%s", zenc_error_last());
		rc = zenc_exit_status(rc);
		goto done;
	}
	if (how.unit)
		printf("Cancelled %zu %s%s of run '%s' (%s).\n", how.jobs,
		       how.unit, how.jobs == 1 ? "" : "s", info.rec.name,
		       info.rec.id);
	else
		printf("Sent SIGTERM to process %ld of run '%s' (%s).\n",
		       how.pid, info.rec.name, info.rec.id);
	rc = ZENC_EXIT_OK;
done:
	zenc_run_info_free(&info);
	zenc_store_free(store);
	return rc;
}
