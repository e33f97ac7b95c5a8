/* The zenc command: one cmd_<verb>.c per command, dispatched by main.c. */
#ifndef ZENC_CLI_H
#define ZENC_CLI_H

#include "zenc.h"

/* Exit codes of every command. */
#define ZENC_EXIT_OK 0
#define ZENC_EXIT_FAILED 1
#define ZENC_EXIT_USAGE 2
#define ZENC_EXIT_ENV 3

/* Each command gets argv with argv[0] the command's own name ("runs"). */
int cmd_runs(int argc, char **argv);
int cmd_run(int argc, char **argv); /* cmd_run.c: YAML pipelines */
int cmd_version(int argc, char **argv);
/* The dashboard and run reports (cmd_ui.c): `zenc ui`, and `zenc runs
 * report` and `zenc runs dag`, with argv[0] "report" or "dag". */
int cmd_ui(int argc, char **argv);
int cmd_runs_report(int argc, char **argv);
int cmd_runs_dag(int argc, char **argv);
/* zenc runs cancel (cmd_runs_cancel.c), argv[0] "cancel". */
int cmd_runs_cancel(int argc, char **argv);

/* Prints "zenc: error: ..." to standard error. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* True when `arg` is -h or --help. */
int cli_is_help(const char *arg);

/* Stacks, components and secrets (cmd_stack.c, cmd_component.c,
 * cmd_secret.c).  cmd_component() serves every component kind:
 * kind is "orchestrator", "artifact-store", "metadata-store" or
 * "alerter", and argv[0] the kind as typed. */
int cmd_stack(int argc, char **argv);
int cmd_component(const char *kind, int argc, char **argv);
int cmd_secret(int argc, char **argv);
/* zenc alerts list|flush, and zenc alerter test NAME (cmd_alerts.c). */
int cmd_alerts(int argc, char **argv);
int cmd_alerter_test(const char *kind, int argc, char **argv);

/* The exit code for a failed library call `rc`: ZENC_EXIT_USAGE for a
 * refused request (bad name, flavor or key; unknown, existing or in-use
 * object), ZENC_EXIT_ENV otherwise (unreadable config, I/O). */
int cli_exit_code(int rc);

#endif
