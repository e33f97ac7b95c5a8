/*
 * The flavor registry: a static table of the built-in flavors, and the
 * flavors a program registers at run time.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "alerters/alerter.h"
#include "internal.h"
#include "config/stack.h"
#include "stores/store.h"

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
 * The built-in flavors: one row each, with its code.  Adding one (the
 * postgres metadata store, say) is one key list, one constructor and one
 * row.  The metadata store's location is the value of its flavor's first
 * key (stack.c).
 */
static const char *const no_keys[] = {NULL};
static const char *const path_keys[] = {"path", NULL};
static const char *const dsn_keys[] = {"dsn", NULL};
static const char *const slurm_keys[] = {
	"partition",   "account",       "extra_args",
	"single_node", "poll_interval", "unreachable_timeout",
	NULL};
/* An alerter flavor lists its own keys; it also takes the shared ones,
 * which the delivery core reads (alerter.c). */
const char *const zenc__alerter_shared_keys[] = {
	"dashboard_url",  "timeout",           "dedup_window",
	"only_on_change", "delivery_deadline", NULL};
static const char *const webhook_keys[] = {
	"url", "headers", "body_template", NULL};
static const char *const webhook_secret[] = {"headers", NULL};
static const char *const slack_keys[] = {
	"webhook_url", "token", "channel", "api_url", NULL};
static const char *const slack_secret[] = {"webhook_url", "token", NULL};
static const char *const discord_keys[] = {"webhook_url", NULL};
static const char *const discord_secret[] = {"webhook_url", NULL};
static const char *const email_keys[] = {"smtp_url", "from",    "to", "user",
					 "password", "use_ssl", NULL};
static const char *const email_secret[] = {"password", NULL};
static const char *const command_keys[] = {"command", NULL};

/* store_postgres.c; a stub that says so when built without libpq. */
int zenc__store_postgres_open(zenc__store **out, const char *dsn);

#define FLAVOR(kind, name, keys, secret, description)                          \
	{                                                                      \
		ZENC_FLAVOR_VERSION, kind, name, keys, secret, description,    \
			NULL                                                   \
	}
#define ALERTER(name, keys, secret, description, create)                       \
	{                                                                      \
		FLAVOR("alerter", name, keys, secret, description), create,    \
			NULL                                                   \
	}
#define STORE(name, keys, secret, description, open)                           \
	{                                                                      \
		FLAVOR("metadata-store", name, keys, secret, description),     \
			NULL, open                                             \
	}

static const zenc__flavor_row builtins[] = {
	{FLAVOR("orchestrator",
		"local",
		no_keys,
		no_keys,
		"runs the steps on this machine"),
	 NULL, NULL},
	{FLAVOR("orchestrator",
		"slurm",
		slurm_keys,
		no_keys,
		"runs each step as a Slurm job"),
	 NULL, NULL},
	{FLAVOR("artifact-store",
		"local",
		path_keys,
		no_keys,
		"artifacts in a local folder"),
	 NULL, NULL},
	STORE("sqlite",
	      path_keys,
	      no_keys,
	      "runs and artifacts in an SQLite database file",
	      zenc__store_sqlite_open),
	STORE("postgres",
	      dsn_keys,
	      dsn_keys,
	      "runs and artifacts in a PostgreSQL database (libpq DSN)",
	      zenc__store_postgres_open),
	ALERTER("log",
		no_keys,
		no_keys,
		"writes alerts to standard error",
		zenc__alerter_log_create),
	ALERTER("webhook",
		webhook_keys,
		webhook_secret,
		"posts a JSON body to a URL",
		zenc__alerter_webhook_create),
	ALERTER("slack",
		slack_keys,
		slack_secret,
		"posts to Slack (incoming webhook or bot token)",
		zenc__alerter_slack_create),
	ALERTER("discord",
		discord_keys,
		discord_secret,
		"posts to a Discord webhook",
		zenc__alerter_discord_create),
	ALERTER("email",
		email_keys,
		email_secret,
		"sends mail over SMTP",
		zenc__alerter_email_create),
	ALERTER("command",
		command_keys,
		no_keys,
		"runs a program with the alert on standard input",
		zenc__alerter_command_create),
};

#define NBUILTINS (sizeof(builtins) / sizeof(builtins[0]))

/* Registered flavors: heap copies (rows without internal code) that live
 * as long as the process, so that zenc_flavor_find() can hand out
 * pointers without a lock held. */
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static zenc__flavor_row **registered;
static size_t nregistered, registered_cap;

static const zenc_flavor *find_locked(const char *kind, const char *name)
{
	size_t i;

	for (i = 0; i < NBUILTINS; i++)
		if (strcmp(builtins[i].f.kind, kind) == 0 &&
		    strcmp(builtins[i].f.name, name) == 0)
			return &builtins[i].f;
	for (i = 0; i < nregistered; i++)
		if (strcmp(registered[i]->f.kind, kind) == 0 &&
		    strcmp(registered[i]->f.name, name) == 0)
			return &registered[i]->f;
	return NULL;
}

const zenc_flavor *zenc_flavor_find(const char *kind, const char *name)
{
	const zenc_flavor *f;

	if (!kind || !name)
		return NULL;
	/* A plugin that failed is reported by zenc__flavor_lookup(); here
	 * the flavors there are are still found. */
	zenc__plugins_load_silent();
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
	zenc_flavor_new_alerter_fn new_alerter = NULL;
	const char *const *k;
	zenc__kind kind;
	zenc__flavor_row *copy;
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
	/* The fields of later versions are read only when the caller's
	 * struct has them. */
	if (f->version >= 2)
		new_alerter = f->new_alerter;
	if (new_alerter && kind != ZENC__KIND_ALERTER)
		return zenc__error_set(
			ZENC_EINVALID,
			"%s flavor '%s' has an alerter constructor; only an "
			"alerter flavor may have one",
			f->kind, f->name);

	pthread_mutex_lock(&registry_lock);
	if (find_locked(f->kind, f->name)) {
		rc = zenc__error_set(
			ZENC_EEXISTS, "%s flavor '%s' already exists", f->kind,
			f->name);
		goto done;
	}
	copy = zenc__calloc(1, sizeof(*copy));
	copy->f.version = ZENC_FLAVOR_VERSION;
	copy->f.kind = zenc__kind_name(kind);
	copy->f.name = zenc__strdup(f->name);
	copy->f.keys = copy_list(f->keys);
	copy->f.secret_keys = copy_list(f->secret_keys);
	copy->f.description = zenc__strdup(f->description);
	copy->f.new_alerter = new_alerter;
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

	zenc__plugins_load_silent();
	pthread_mutex_lock(&registry_lock);
	cap = NBUILTINS + nregistered;
	names = zenc__calloc(cap + 1, sizeof(*names));
	*n = 0;
	for (i = 0; i < NBUILTINS; i++)
		if (strcmp(builtins[i].f.kind, kind) == 0)
			names[(*n)++] = builtins[i].f.name;
	for (i = 0; i < nregistered; i++)
		if (strcmp(registered[i]->f.kind, kind) == 0)
			names[(*n)++] = registered[i]->f.name;
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

	*out = NULL;
	if ((rc = zenc__plugins_load()) < 0)
		return rc;
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

bool zenc__alerter_is_shared_key(const char *key)
{
	return key && list_has(zenc__alerter_shared_keys, key);
}

const char **zenc__flavor_all_keys(const zenc_flavor *f, size_t *n)
{
	const char *const *k;
	const char **all;
	size_t cap = 0;

	for (k = f->keys; k && *k; k++)
		cap++;
	for (k = zenc__alerter_shared_keys; *k; k++)
		cap++;
	all = zenc__calloc(cap + 1, sizeof(*all));
	*n = 0;
	for (k = f->keys; k && *k; k++)
		all[(*n)++] = *k;
	if (f->kind && strcmp(f->kind, "alerter") == 0)
		for (k = zenc__alerter_shared_keys; *k; k++)
			if (!list_has(f->keys, *k))
				all[(*n)++] = *k;
	return all;
}

int zenc__flavor_check_key(const zenc_flavor *f, const char *key)
{
	zenc_buf b = ZENC_BUF_INIT;
	const char **sorted, *close;
	size_t n = 0, i;
	int rc;

	sorted = zenc__flavor_all_keys(f, &n);
	for (i = 0; i < n; i++)
		if (strcmp(sorted[i], key) == 0) {
			free(sorted);
			return 0;
		}
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
