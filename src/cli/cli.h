/* The zenc command: one cmd_<verb>.c per command, dispatched by main.c. */
#ifndef ZENC_CLI_H
#define ZENC_CLI_H

#include <jansson.h>

#include "zenc.h"
#include "util/util.h"

/* Exit codes of every command: ZENC_EXIT_OK and the others of
 * <zenc/errors.h>, and zenc_exit_status() for a failed library call. */

/* Each command gets argv with argv[0] the command's own name ("runs"). */
int cmd_runs(int argc, char **argv);
int cmd_run(int argc, char **argv); /* cmd_run.c: YAML pipelines */
int cmd_version(int argc, char **argv);
int cmd_pipelines(int argc, char **argv); /* cmd_pipelines.c */
/* The dashboard and run reports (cmd_ui.c): `zenc ui`, and `zenc runs
 * report` and `zenc runs dag`, with argv[0] "report" or "dag". */
int cmd_ui(int argc, char **argv);
int cmd_runs_report(int argc, char **argv);
int cmd_runs_dag(int argc, char **argv);
/* zenc runs cancel (cmd_runs_cancel.c), argv[0] "cancel". */
int cmd_runs_cancel(int argc, char **argv);
/* zenc runs hooks (cmd_runs_hooks.c), argv[0] "hooks". */
int cmd_runs_hooks(int argc, char **argv);
/* zenc runs logs (cmd_runs_logs.c) and zenc runs prune
 * (cmd_runs_prune.c), argv[0] "logs" and "prune". */
int cmd_runs_logs(int argc, char **argv);
int cmd_runs_prune(int argc, char **argv);
/* A size in human units: "512 B", "1.2 GiB" (cmd_runs_prune.c). */
void cli_put_bytes(zenc_buf *b, uint64_t n);
/* The library's warnings (a file that cannot be removed) on standard
 * error as "zenc: warning: ..." (cmd_runs_prune.c). */
void cli_show_warnings(void);

/* Prints "zenc: error: ..." to standard error. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* True when `arg` is -h or --help. */
int cli_is_help(const char *arg);
/*
 * An unknown command or subcommand: prints "zenc: 'rnus' is not a zenc
 * command. Did you mean 'runs'?" (`cmd` is "zenc", or "zenc runs" for a
 * subcommand of runs), the suggestion being the closest of the
 * NULL-terminated `names` by edit distance, if one is close enough (see
 * zenc__did_you_mean()).  Returns 1 when it suggested a name; 0 when none
 * was close, and the line ends after "command." for the caller to show
 * the usage (exit ZENC_EXIT_USAGE either way).
 */
int cli_unknown_command(
	const char *cmd, const char *typed, const char *const *names);
/* Prints the error and then the command's usage; ZENC_EXIT_USAGE. */
int cli_usage_error(const char *usage, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Options with a value ("--stack NAME", "--stack=NAME"): zenc__opt_value()
 * of src/util, the one matcher of the command and of zenc_main(). */

/* cli_format.c: a local time "2024-05-01 12:00:00", a duration "1.250s",
 * "2m05s", "1h02m05s", and the duration from `start` to `end`; "-" for
 * what is not known. */
void cli_put_local_time(zenc_buf *b, double t);
void cli_put_duration(zenc_buf *b, double s);
void cli_put_span(zenc_buf *b, double start, double end);
/* A cell of a text table: `text`, then spaces to `width` plus two, unless
 * it is the `last` of its row. */
void cli_put_cell(zenc_buf *b, const char *text, size_t width, int last);

/*
 * cli_json.c: JSON output, written by jansson.  cli_json_str(): a string,
 * null for NULL, invalid UTF-8 replaced by U+FFFD; cli_json_time(): an
 * ISO 8601 time, null for 0; cli_json_seconds(): seconds to the
 * microsecond, null when not finite.  cli_json_put() appends `j` (key
 * order kept; `compact`: no spaces), cli_json_put_members() an object's
 * members without its braces, for the commands that lay their output
 * out over lines.
 */
json_t *cli_json_str(const char *s);
json_t *cli_json_time(double t);
json_t *cli_json_seconds(double v);
void cli_json_put(zenc_buf *b, const json_t *j, int compact);
void cli_json_put_members(zenc_buf *b, const json_t *obj, int compact);

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

/*
 * cli_store.c: opens the metadata store of stack `stack_name` (NULL: the
 * active stack), the one its runs record into, for the caller to close
 * with zenc_store_free().  0, or the error is printed and its exit code
 * returned (zenc_exit_status()).
 */
int cli_open_store(zenc_store **out, const char *stack_name);

#endif
