/*
 * The flavor registry: a static table of the built-in flavors, and the
 * flavors a program registers at run time.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "stack.h"

static const char *const kind_names[ZENC__KIND_COUNT] = {
	"orchestrator",
	"artifact-store",
	"metadata-store",
	"alerter",
};

const char *zenc__kind_name(zenc__kind kind)
{
	if ((int)kind < 0 || kind >= ZENC__KIND_COUNT)
		return "unknown";
	return kind_names[kind];
}

int zenc__kind_parse(zenc__kind *out, const char *name)
{
	int k;

	for (k = 0; name && k < ZENC__KIND_COUNT; k++) {
		if (strcmp(kind_names[k], name) == 0) {
			*out = (zenc__kind)k;
			return 0;
		}
	}
	return -1;
}

/*
 * The built-in flavors.  Adding one (the postgres metadata store, say) is
 * one key list and one line in `builtins`.  The metadata store's location
 * is the value of its flavor's first key (stack.c).
 */
static const char *const no_keys[] = {NULL};
static const char *const path_keys[] = {"path", NULL};
static const char *const dsn_keys[] = {"dsn", NULL};
static const char *const slurm_keys[] = {
	"partition", "account", "extra_args", "single_node", "poll_interval",
	NULL};
/* Every alerter flavor also takes dashboard_url, timeout, dedup_window and
 * only_on_change: the delivery core (alerter.c) reads those. */
static const char *const log_keys[] = {
	"dashboard_url", "timeout", "dedup_window", "only_on_change", NULL};
static const char *const webhook_keys[] = {
	"url",     "headers",      "body_template",  "dashboard_url",
	"timeout", "dedup_window", "only_on_change", NULL};
static const char *const webhook_secret[] = {"headers", NULL};
static const char *const slack_keys[] = {
	"webhook_url",  "token",          "channel",
	"api_url",      "dashboard_url",  "timeout",
	"dedup_window", "only_on_change", NULL};
static const char *const slack_secret[] = {"webhook_url", "token", NULL};
static const char *const discord_keys[] = {"webhook_url",    "dashboard_url",
					   "timeout",        "dedup_window",
					   "only_on_change", NULL};
static const char *const discord_secret[] = {"webhook_url", NULL};
static const char *const email_keys[] = {
	"smtp_url", "from",         "to",
	"user",     "password",     "dashboard_url",
	"timeout",  "dedup_window", "only_on_change",
	"use_ssl",  NULL};
static const char *const email_secret[] = {"password", NULL};
static const char *const command_keys[] = {"command",        "dashboard_url",
					   "timeout",        "dedup_window",
					   "only_on_change", NULL};

static const zenc_flavor builtins[] = {
	{ZENC_FLAVOR_VERSION, "orchestrator", "local", no_keys, no_keys,
	 "runs the steps on this machine"},
	{ZENC_FLAVOR_VERSION, "orchestrator", "slurm", slurm_keys, no_keys,
	 "runs each step as a Slurm job"},
	{ZENC_FLAVOR_VERSION, "artifact-store", "local", path_keys, no_keys,
	 "artifacts in a local folder"},
	{ZENC_FLAVOR_VERSION, "metadata-store", "sqlite", path_keys, no_keys,
	 "runs and artifacts in an SQLite database file"},
	{ZENC_FLAVOR_VERSION, "metadata-store", "postgres", dsn_keys, dsn_keys,
	 "runs and artifacts in a PostgreSQL database (libpq DSN)"},
	{ZENC_FLAVOR_VERSION, "alerter", "log", log_keys, no_keys,
	 "writes alerts to standard error"},
	{ZENC_FLAVOR_VERSION, "alerter", "webhook", webhook_keys,
	 webhook_secret, "posts a JSON body to a URL"},
	{ZENC_FLAVOR_VERSION, "alerter", "slack", slack_keys, slack_secret,
	 "posts to Slack (incoming webhook or bot token)"},
	{ZENC_FLAVOR_VERSION, "alerter", "discord", discord_keys,
	 discord_secret, "posts to a Discord webhook"},
	{ZENC_FLAVOR_VERSION, "alerter", "email", email_keys, email_secret,
	 "sends mail over SMTP"},
	{ZENC_FLAVOR_VERSION, "alerter", "command", command_keys, no_keys,
	 "runs a program with the alert on standard input"},
};

#define NBUILTINS (sizeof(builtins) / sizeof(builtins[0]))

/* Registered flavors: heap copies that live as long as the process, so
 * that zenc_flavor_find() can hand out pointers without a lock held. */
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static zenc_flavor **registered;
static size_t nregistered, registered_cap;

static const zenc_flavor *find_locked(const char *kind, const char *name)
{
	size_t i;

	for (i = 0; i < NBUILTINS; i++)
		if (strcmp(builtins[i].kind, kind) == 0 &&
		    strcmp(builtins[i].name, name) == 0)
			return &builtins[i];
	for (i = 0; i < nregistered; i++)
		if (strcmp(registered[i]->kind, kind) == 0 &&
		    strcmp(registered[i]->name, name) == 0)
			return registered[i];
	return NULL;
}

const zenc_flavor *zenc_flavor_find(const char *kind, const char *name)
{
	const zenc_flavor *f;

	if (!kind || !name)
		return NULL;
	pthread_mutex_lock(&registry_lock);
	f = find_locked(kind, name);
	pthread_mutex_unlock(&registry_lock);
	return f;
}

static bool list_has(const char *const *list, const char *s)
{
	for (; list && *list; list++)
		if (strcmp(*list, s) == 0)
			return true;
	return false;
}

static const char *const *copy_list(const char *const *list)
{
	size_t n = 0, i;
	char **copy;

	while (list && list[n])
		n++;
	copy = zenc__calloc(n + 1, sizeof(*copy));
	for (i = 0; i < n; i++)
		copy[i] = zenc__strdup(list[i]);
	return (const char *const *)copy;
}

int zenc_flavor_register(const zenc_flavor *f)
{
	const char *const *k;
	zenc__kind kind;
	zenc_flavor *copy;
	int rc = 0;

	if (!f || f->version < 1 || f->version > ZENC_FLAVOR_VERSION)
		return zenc__error_set(
			ZENC_EINVALID, "unsupported flavor struct version %u",
			f ? f->version : 0);
	if (zenc__kind_parse(&kind, f->kind) < 0)
		return zenc__error_set(
			ZENC_EINVALID,
			"unknown component kind '%s' (known: alerter, "
			"artifact-store, metadata-store, orchestrator)",
			f->kind ? f->kind : "");
	if (zenc__check_name("flavor", f->name) < 0)
		return ZENC_EINVALID;
	for (k = f->secret_keys; k && *k; k++)
		if (!list_has(f->keys, *k))
			return zenc__error_set(
				ZENC_EINVALID,
				"secret key '%s' of %s flavor '%s' is not "
				"one of its keys",
				*k, f->kind, f->name);

	pthread_mutex_lock(&registry_lock);
	if (find_locked(f->kind, f->name)) {
		rc = zenc__error_set(
			ZENC_EEXISTS, "%s flavor '%s' already exists", f->kind,
			f->name);
		goto done;
	}
	copy = zenc__calloc(1, sizeof(*copy));
	copy->version = ZENC_FLAVOR_VERSION;
	copy->kind = zenc__kind_name(kind);
	copy->name = zenc__strdup(f->name);
	copy->keys = copy_list(f->keys);
	copy->secret_keys = copy_list(f->secret_keys);
	copy->description = zenc__strdup(f->description);
	zenc__array_grow(
		(void **)&registered, &registered_cap, nregistered + 1,
		sizeof(*registered));
	registered[nregistered++] = copy;
done:
	pthread_mutex_unlock(&registry_lock);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The names of `kind`'s flavors, sorted; the array is the caller's, the
 * strings are not. */
static const char **flavor_names(const char *kind, size_t *n)
{
	const char **names;
	size_t i, cap;

	pthread_mutex_lock(&registry_lock);
	cap = NBUILTINS + nregistered;
	names = zenc__calloc(cap + 1, sizeof(*names));
	*n = 0;
	for (i = 0; i < NBUILTINS; i++)
		if (strcmp(builtins[i].kind, kind) == 0)
			names[(*n)++] = builtins[i].name;
	for (i = 0; i < nregistered; i++)
		if (strcmp(registered[i]->kind, kind) == 0)
			names[(*n)++] = registered[i]->name;
	pthread_mutex_unlock(&registry_lock);
	qsort(names, *n, sizeof(*names), cmp_str);
	return names;
}

static void join(zenc_buf *b, const char *const *names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (i)
			zenc_buf_puts(b, ", ");
		zenc_buf_puts(b, names[i]);
	}
}

void zenc__flavor_names(zenc_buf *b, const char *kind)
{
	size_t n;
	const char **names = flavor_names(kind, &n);

	join(b, names, n);
	free(names);
}

/* Levenshtein distance, for "did you mean". */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, *row, prev, cur, d;

	row = zenc__calloc(lb + 1, sizeof(*row));
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			cur = row[j];
			d = prev + (a[i - 1] == b[j - 1] ? 0 : 1);
			if (row[j] + 1 < d)
				d = row[j] + 1;
			if (row[j - 1] + 1 < d)
				d = row[j - 1] + 1;
			row[j] = d;
			prev = cur;
		}
	}
	d = row[lb];
	free(row);
	return d;
}

const char *zenc__closest(const char *word, const char *const *cands, size_t n)
{
	const char *best = NULL;
	size_t i, d, best_d = (size_t)-1, limit;

	/* Close means a typo or two, never most of the word. */
	limit = strlen(word) / 3;
	if (limit < 1)
		limit = 1;
	if (limit > 3)
		limit = 3;
	for (i = 0; i < n; i++) {
		d = distance(word, cands[i]);
		if (d <= limit && d < best_d) {
			best = cands[i];
			best_d = d;
		}
	}
	return best;
}

int zenc__flavor_lookup(
	const zenc_flavor **out, const char *kind, const char *name)
{
	const char **names, *close;
	zenc_buf b = ZENC_BUF_INIT;
	size_t n;
	int rc;

	*out = zenc_flavor_find(kind, name);
	if (*out)
		return 0;
	names = flavor_names(kind, &n);
	join(&b, names, n);
	close = zenc__closest(name, names, n);
	if (close)
		rc = zenc__error_set(
			ZENC_ENOTFOUND,
			"unknown %s flavor '%s' (known: %s); did "
			"you mean '%s'?",
			kind, name, zenc_buf_cstr(&b), close);
	else
		rc = zenc__error_set(
			ZENC_ENOTFOUND, "unknown %s flavor '%s' (known: %s)",
			kind, name, zenc_buf_cstr(&b));
	free(names);
	zenc_buf_release(&b);
	return rc;
}

int zenc__flavor_check_key(const zenc_flavor *f, const char *key)
{
	zenc_buf b = ZENC_BUF_INIT;
	const char **sorted, *close;
	size_t n = 0, i;
	int rc;

	if (list_has(f->keys, key))
		return 0;
	while (f->keys && f->keys[n])
		n++;
	sorted = zenc__calloc(n + 1, sizeof(*sorted));
	for (i = 0; i < n; i++)
		sorted[i] = f->keys[i];
	qsort(sorted, n, sizeof(*sorted), cmp_str);
	if (n)
		join(&b, sorted, n);
	else
		zenc_buf_puts(&b, "none");
	close = zenc__closest(key, sorted, n);
	if (close)
		rc = zenc__error_set(
			ZENC_EINVALID,
			"unknown config key '%s' for %s flavor "
			"'%s' (known: %s); did you mean '%s'?",
			key, f->kind, f->name, zenc_buf_cstr(&b), close);
	else
		rc = zenc__error_set(
			ZENC_EINVALID,
			"unknown config key '%s' for %s flavor "
			"'%s' (known: %s)",
			key, f->kind, f->name, zenc_buf_cstr(&b));
	free(sorted);
	zenc_buf_release(&b);
	return rc;
}

bool zenc__flavor_is_secret_key(const zenc_flavor *f, const char *key)
{
	return f && list_has(f->secret_keys, key);
}
