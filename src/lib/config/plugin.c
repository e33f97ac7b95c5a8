/*
 * Plugins: shared objects that add flavors.  Every "*.so" in the folders
 * of ZENC_PLUGIN_PATH (colon-separated, in order; a missing folder is
 * skipped, a folder's files are taken in name order) is loaded once per
 * process and its zenc_plugin_init() called once, at the first flavor
 * lookup (flavor.c), so that the zenc command and pipeline programs see
 * the same flavors without either asking for it.
 *
 * A plugin that cannot be loaded, lacks zenc_plugin_init() or whose init
 * fails stops the loading there, and the error (ZENC_EIO, naming the
 * file) is kept: every later flavor lookup of the process returns it, so
 * whatever needed a flavor fails as an environment error.
 *
 * Plugins are never unloaded: the flavors they registered keep pointing
 * into them.  The same file reached twice (two folders, a symlink) is
 * loaded once.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"
#include "config/stack.h"

static pthread_mutex_t plugins_lock = PTHREAD_MUTEX_INITIALIZER;
static bool plugins_done;
static int plugins_rc;
static char *plugins_msg;
/* Set while this thread runs the plugins' inits: a flavor lookup from
 * inside one must not wait for the loading it is part of. */
static _Thread_local bool plugins_loading;

/* Real paths of the files loaded so far. */
static char **loaded;
static size_t nloaded, loaded_cap;

static bool ends_with_so(const char *name)
{
	size_t n = strlen(name);

	return n > 3 && strcmp(name + n - 3, ".so") == 0;
}

static int load_one(const char *path)
{
	char real[PATH_MAX];
	zenc_plugin_init_fn init;
	const char *e;
	void *h, *sym;
	size_t i;
	int rc;

	if (!realpath(path, real))
		return zenc__error_set(
			ZENC_EIO, "cannot load plugin %s: %s", path,
			strerror(errno));
	for (i = 0; i < nloaded; i++)
		if (strcmp(loaded[i], real) == 0)
			return 0;
	dlerror();
	if (!(h = dlopen(real, RTLD_NOW | RTLD_LOCAL))) {
		e = dlerror();
		return zenc__error_set(
			ZENC_EIO, "cannot load plugin %s: %s", path,
			e ? e : "dlopen failed");
	}
	zenc__array_grow(
		(void **)&loaded, &loaded_cap, nloaded + 1, sizeof(*loaded));
	loaded[nloaded++] = zenc__strdup(real);
	dlerror();
	if (!(sym = dlsym(h, ZENC_PLUGIN_INIT_SYMBOL)))
		return zenc__error_set(
			ZENC_EIO, "plugin %s has no function %s()", path,
			ZENC_PLUGIN_INIT_SYMBOL);
	/* POSIX: a function's address fits in a void *. */
	memcpy(&init, &sym, sizeof(init));
	zenc__error_clear();
	rc = init();
	if (rc < 0) {
		/* Its message, copied: the new one is written over it. */
		char *why = zenc__strdup(
			*zenc_error_last() ? zenc_error_last()
					   : zenc_strerror(rc));

		zenc__error_set(
			ZENC_EIO, "plugin %s: %s() failed: %s", path,
			ZENC_PLUGIN_INIT_SYMBOL, why);
		free(why);
		return ZENC_EIO;
	}
	zenc__debug("loaded plugin %s", path);
	return 0;
}

static int select_so(const struct dirent *d)
{
	return d->d_name[0] != '.' && ends_with_so(d->d_name);
}

static int load_folder(const char *dir)
{
	struct dirent **names = NULL;
	struct stat st;
	char *path;
	int n, i, rc = 0;

	n = scandir(dir, &names, select_so, alphasort);
	if (n < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return zenc__error_set(
			ZENC_EIO, "cannot read plugin folder %s: %s", dir,
			strerror(errno));
	}
	for (i = 0; i < n; i++) {
		path = zenc__asprintf("%s/%s", dir, names[i]->d_name);
		if (rc == 0 && stat(path, &st) == 0 && S_ISREG(st.st_mode))
			rc = load_one(path);
		free(path);
		free(names[i]);
	}
	free(names);
	return rc;
}

static int load_all(void)
{
	const char *env = getenv("ZENC_PLUGIN_PATH");
	const char *p, *colon;
	char *dir;
	int rc = 0;

	if (!env || !*env)
		return 0;
	for (p = env; rc == 0 && *p; p = colon ? colon + 1 : p + strlen(p)) {
		colon = strchr(p, ':');
		dir = zenc__strndup(p, colon ? (size_t)(colon - p) : strlen(p));
		if (*dir)
			rc = load_folder(dir);
		free(dir);
		if (!colon)
			break;
	}
	return rc;
}

/* Loads the plugins the first time; their outcome after. */
static int ensure_loaded(void)
{
	int rc;

	if (plugins_loading)
		return 0;
	/* Once loaded, no lock: lookups are many, and a step's child
	 * forked while another thread held it would wait forever. */
	if (__atomic_load_n(&plugins_done, __ATOMIC_ACQUIRE))
		return plugins_rc;
	pthread_mutex_lock(&plugins_lock);
	if (!plugins_done) {
		plugins_loading = true;
		plugins_rc = load_all();
		if (plugins_rc < 0)
			plugins_msg = zenc__strdup(zenc_error_last());
		plugins_loading = false;
		__atomic_store_n(&plugins_done, true, __ATOMIC_RELEASE);
	}
	rc = plugins_rc;
	pthread_mutex_unlock(&plugins_lock);
	return rc;
}

void zenc__plugins_load_silent(void)
{
	char *saved;
	int code;

	if (__atomic_load_n(&plugins_done, __ATOMIC_ACQUIRE) || plugins_loading)
		return;
	saved = zenc__strdup(zenc_error_last());
	code = zenc_error_last_code();
	if (ensure_loaded() < 0 || code != zenc_error_last_code() ||
	    strcmp(saved, zenc_error_last()) != 0) {
		/* Leave the caller's last error as it was. */
		if (code)
			zenc__error_set(code, "%s", saved);
		else
			zenc__error_clear();
	}
	free(saved);
}

int zenc__plugins_load(void)
{
	int rc = ensure_loaded();

	if (rc < 0)
		return zenc__error_set(rc, "%s", plugins_msg);
	return 0;
}
