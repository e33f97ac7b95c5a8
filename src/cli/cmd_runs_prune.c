/*
 * zenc runs prune: deletes the finished runs that ended before a given
 * age (keeping the newest N of each pipeline when asked), with their
 * files, as `zenc runs delete` does one run, and says how much space that
 * freed.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "cli.h"

static const char usage_prune[] =
	"usage: zenc runs prune [--older-than AGE] [--keep N] [--dry-run]"
	" [--stack NAME]\n"
	"\n"
	"Deletes finished runs (completed, failed or cancelled; never a\n"
	"running one) with their records, outputs and step logs, and says\n"
	"how much space that freed.  An output that a run kept points to\n"
	"(a step it took from the cache) stays.  Give --older-than, --keep\n"
	"or both.\n"
	"\n"
	"    --older-than AGE   only runs that ended more than AGE ago: a\n"
	"                       number and a unit, s, m, h, d or w (30d,"
	" 12h)\n"
	"    --keep N           keep the newest N finished runs of each"
	" pipeline,\n"
	"                       whatever their age\n"
	"    --dry-run          delete nothing; list what would go and the"
	" space\n"
	"    --stack NAME       use the metadata store of stack NAME"
	" (default: the\n"
	"                       active stack)\n";

void cli_put_bytes(zenc_buf *b, uint64_t n)
{
	static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
	double v = (double)n;
	size_t u = 0;

	if (n < 1024) {
		zenc_buf_printf(b, "%llu B", (unsigned long long)n);
		return;
	}
	v /= 1024.0;
	while (v >= 1024.0 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024.0;
		u++;
	}
	zenc_buf_printf(b, "%.1f %s", v, units[u]);
}

static void warn_printer(zenc_log_level level, const char *msg, void *payload)
{
	(void)payload;
	if (level >= ZENC_LOG_WARN)
		fprintf(stderr, "zenc: warning: %s\n", msg);
}

void cli_show_warnings(void)
{
	zenc_log_set(ZENC_LOG_WARN, warn_printer, NULL);
}

/* "30d", "12h", "90m", "1w", "3600" (seconds) into seconds; -1 if not. */
static int parse_age(const char *s, double *out)
{
	size_t n = s ? strlen(s) : 0;
	double mul = 0;
	char *end;

	if (n > 1 && s[n - 1] == 'd')
		mul = 86400;
	else if (n > 1 && s[n - 1] == 'w')
		mul = 7 * 86400;
	if (!mul)
		return zenc__parse_duration(s, out);
	errno = 0;
	*out = strtod(s, &end) * mul;
	if (errno || end != s + n - 1 || *out < 0 || *out != *out)
		return -1;
	return 0;
}

static double now_seconds(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

/* Counts the finished runs of `pipeline` seen so far (the list is newest
 * first); `seen` holds one pipeline name per entry. */
static size_t count_seen(
	const char **names, size_t *counts, size_t *n, const char *pipeline)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (!strcmp(names[i], pipeline))
			return ++counts[i];
	names[*n] = pipeline;
	counts[*n] = 1;
	return counts[(*n)++];
}

int cmd_runs_prune(int argc, char **argv)
{
	const char *stack_name = NULL, *age_s = NULL, *keep_s = NULL;
	zenc_run_list list = {0};
	zenc_store *store = NULL;
	zenc_buf b = ZENC_BUF_INIT;
	const char **names = NULL;
	size_t *counts = NULL, n_names = 0, removed = 0, files = 0, kept = 0;
	size_t i, keep = 0;
	uint64_t bytes = 0;
	double age = -1, cutoff = 0;
	int dry_run = 0, failed = 0, m, rc;
	char *end;

	for (i = 1; i < (size_t)argc; i++) {
		int k = (int)i;

		if (cli_is_help(argv[i])) {
			fputs(usage_prune, stdout);
			return ZENC_EXIT_OK;
		}
		if (!strcmp(argv[i], "--dry-run")) {
			dry_run = 1;
			continue;
		}
		if ((m = zenc__opt_value(
			     argc, argv, &k, "--stack", &stack_name)) ||
		    (m = zenc__opt_value(
			     argc, argv, &k, "--older-than", &age_s)) ||
		    (m = zenc__opt_value(argc, argv, &k, "--keep", &keep_s))) {
			if (m < 0)
				return cli_usage_error(
					usage_prune,
					"option '%s' needs a value", argv[i]);
			i = (size_t)k;
			continue;
		}
		return cli_usage_error(
			usage_prune, "unexpected argument '%s'", argv[i]);
	}
	if (!age_s && !keep_s)
		return cli_usage_error(
			usage_prune, "which runs? give --older-than AGE, "
				     "--keep N or both");
	if (age_s && parse_age(age_s, &age) < 0)
		return cli_usage_error(
			usage_prune,
			"invalid age '%s' for '--older-than' (a number and "
			"s, m, h, d or w: 30d)",
			age_s);
	if (keep_s) {
		unsigned long v;

		errno = 0;
		v = strtoul(keep_s, &end, 10);
		if (errno || end == keep_s || *end || *keep_s == '-' ||
		    v > INT_MAX)
			return cli_usage_error(
				usage_prune,
				"invalid value '%s' for '--keep' (a number of "
				"runs)",
				keep_s);
		keep = v;
	}
	if (age >= 0)
		cutoff = now_seconds() - age;
	cli_show_warnings();
	if ((rc = cli_open_store(&store, stack_name)) != 0)
		return rc;
	if ((rc = zenc_store_runs_list(store, NULL, &list)) < 0) {
		cli_error("%s", zenc_error_last());
		rc = zenc_exit_status(rc);
		goto done;
	}
	names = calloc(list.n + 1, sizeof(*names));
	counts = calloc(list.n + 1, sizeof(*counts));
	if (!names || !counts) {
		cli_error("out of memory");
		rc = ZENC_EXIT_ENV;
		goto done;
	}
	/* Newest first: the first N finished runs of a pipeline stay. */
	for (i = 0; i < list.n; i++) {
		const zenc_run_record *r = &list.runs[i];
		zenc_purge_info how;
		size_t nth;

		if (!r->status || !strcmp(r->status, "running"))
			continue;
		nth = count_seen(names, counts, &n_names, r->pipeline);
		if (keep_s && nth <= keep)
			continue;
		if (age >= 0 && !(r->ended > 0 && r->ended < cutoff))
			continue;
		if ((rc = zenc_store_run_purge(store, r->id, dry_run, &how)) <
		    0) {
			cli_error("%s", zenc_error_last());
			failed = 1;
			continue;
		}
		removed++;
		files += how.files;
		kept += how.kept;
		bytes += how.bytes;
		zenc_buf_clear(&b);
		cli_put_bytes(&b, how.bytes);
		printf("%s run '%s' (%s), %s, %s: %s\n",
		       dry_run ? "Would delete" : "Deleted", r->name, r->id,
		       r->pipeline, r->status, zenc_buf_cstr(&b));
	}
	zenc_buf_clear(&b);
	cli_put_bytes(&b, bytes);
	if (dry_run)
		printf("Would delete %zu run%s and free %s (%zu file%s)",
		       removed, removed == 1 ? "" : "s", zenc_buf_cstr(&b),
		       files, files == 1 ? "" : "s");
	else
		printf("Deleted %zu run%s, freed %s (%zu file%s)", removed,
		       removed == 1 ? "" : "s", zenc_buf_cstr(&b), files,
		       files == 1 ? "" : "s");
	if (kept)
		printf("; kept %zu output%s that other runs reuse", kept,
		       kept == 1 ? "" : "s");
	printf(".\n");
	rc = failed ? ZENC_EXIT_ENV : ZENC_EXIT_OK;
done:
	free(names);
	free(counts);
	zenc_buf_release(&b);
	zenc_run_list_free(&list);
	zenc_store_free(store);
	return rc;
}
