/*
 * The dashboard (`zenc ui`, cmd_ui.c) and its pages (ui_render.c): plain
 * HTML with inline CSS and inline SVG, no script, nothing fetched from
 * elsewhere, so that a page also works saved as one file (`zenc runs
 * report`).  Everything recorded is user data and is escaped.
 */
#ifndef ZENC_CLI_UI_H
#define ZENC_CLI_UI_H

#include <stddef.h>
#include <sys/socket.h>

#include "zenc.h"
#include "util/util.h"

/* Appends `s` escaped for HTML text and attribute values (and XML);
 * NULL appends nothing. */
void cli_ui_escape(zenc_buf *b, const char *s);
/* Appends `s` percent-encoded for a URL query value or path segment. */
void cli_ui_url_escape(zenc_buf *b, const char *s);

/* Flags of cli_ui_run_page(). */
#define CLI_UI_REPORT                                                          \
	1u /* a saved file: no links to the server, and no                     \
	      refresh while the run is running */

/* The page of one run: summary, DAG, steps with their attempts,
 * parameters, outputs, each attempt's log and hook runs, the run's hooks,
 * and the alerts about it from the store's outbox (`alerts` NULL: the
 * store has no outbox; else the run's alerts only, see
 * cli_ui_run_alerts()).  `run_dir`: as for cli_ui_step_logs(). */
void cli_ui_run_page(
	zenc_buf *b,
	const zenc_run_info *info,
	const zenc_alert_list *alerts,
	unsigned flags,
	const char *run_dir);

/* ui_logs.c: the logs of step `si` (number `i` of the run) on the run
 * page, the last lines of each attempt's, with a link to the whole log
 * unless `flags` has CLI_UI_REPORT; and the whole log of an attempt,
 * for the page /runs/<id>/log-<step number>-<attempt> (`what` is
 * "log-..."): 0, or -1 when there is no such log.  `run_dir`, the run's
 * folder (zenc_store_run_dir(); NULL: not known), is where the log of an
 * attempt that runs is read from before the store records it. */
void cli_ui_step_logs(
	zenc_buf *b,
	const zenc_run_info *info,
	const zenc_step_info *si,
	size_t i,
	const char *run_dir,
	unsigned flags);
int cli_ui_log_text(
	zenc_buf *b,
	const zenc_run_info *info,
	const char *what,
	const char *run_dir);

/* The alerts about run `run_id` from `store`'s outbox, into `out` (freed
 * with zenc_alert_list_free()).  Returns 1 when the store has an outbox,
 * 0 when it has none (an older store flavor), or a negative error code. */
int cli_ui_run_alerts(
	zenc_store *store, const char *run_id, zenc_alert_list *out);

/* What the runs list shows: a filter and a page of it. */
typedef struct cli_ui_list_view {
	const char *pipeline; /* NULL or "": any */
	const char *status;   /* NULL or "": any */
	size_t page;          /* 1-based */
	size_t per_page;
	int has_next; /* an older page exists */
} cli_ui_list_view;

/* The runs list page: `l` holds this page's runs, newest first. */
void cli_ui_runs_page(
	zenc_buf *b, const zenc_run_list *l, const cli_ui_list_view *v);

/* A small page for an HTTP error: "404 Not Found" and what is wrong. */
void cli_ui_error_page(
	zenc_buf *b, int code, const char *reason, const char *detail);

/*
 * The run's DAG as SVG, laid out by dag_layout.c: steps coloured by status
 * (completed green, failed red, running blue, skipped grey, pending
 * white), edges from each step's recorded upstream steps, a failed step's
 * error in its <title>.  `standalone` adds the XML declaration for an .svg
 * file; without it the SVG is for inlining in a page, and its steps link
 * to "#step-N" there.
 */
void cli_ui_dag_svg(zenc_buf *b, const zenc_run_info *info, int standalone);
/* The run's DAG in Graphviz's dot language, with the same colours. */
void cli_ui_dag_dot(zenc_buf *b, const zenc_run_info *info);

/* The status colours: fill and text colour of a step or run status (an
 * unknown status is drawn as pending). */
const char *cli_ui_status_fill(const char *status);
/* The step cache's marks (ui_cache.c): a cached step's "from run" line,
 * and the run a run resumed (a <dt>/<dd> pair); nothing when not. */
void cli_ui_cached_from(
	zenc_buf *b,
	const zenc_run_record *run,
	const zenc_step_record *s,
	unsigned flags);
void cli_ui_resumed_from(
	zenc_buf *b, const zenc_run_record *run, unsigned flags);
const char *cli_ui_status_ink(const char *status);

/*
 * The dashboard's access rules (cmd_ui.c).
 *
 * cli_ui_addr_is_loopback(): 1 when `sa` is 127.0.0.0/8, ::1 or an
 * IPv4-mapped 127.x address; 0 otherwise (and for NULL or unknown
 * families).
 *
 * cli_ui_peer_allowed(): whether a request from peer `sa` may be served
 * by a server bound to a loopback address (`bound_loopback` 1): only
 * loopback peers are.  A server bound elsewhere relies on its token, and
 * lets any peer through this check.
 */
int cli_ui_addr_is_loopback(const struct sockaddr *sa);
int cli_ui_peer_allowed(const struct sockaddr *sa, int bound_loopback);

#endif
