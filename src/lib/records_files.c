/*
 * A run's files in the artifact store (<zenc/records.h>): where they are,
 * and deleting them with the run.  An output that an artifact of another
 * run points to (a step taken from the cache records the uri of the run
 * that made the file, no copy) stays; so does every folder above it.
 */
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "config/stack.h"
#include "stores/store.h"
#include "stores/store_handle.h"

/* The artifact store of the stack run `info` ran on, or of the store's
 * own stack when that one is gone; the caller frees it. */
static int artifact_root(
	zenc_store *store, const zenc_run_info *info, char **out)
{
	zenc_stack *stack = NULL;
	int rc;

	*out = NULL;
	if (!info->rec.stack || zenc__stack_load(&stack, info->rec.stack) < 0) {
		if ((rc = zenc__stack_load(&stack, store->stack)) < 0)
			return rc;
	}
	*out = zenc__strdup(zenc__stack_artifact_path(stack));
	zenc__stack_free(stack);
	return 0;
}

int zenc_store_run_dir(zenc_store *store, const char *id_or_name, char **out)
{
	zenc_run_info info;
	char *root = NULL;
	int rc;

	if (!out)
		return zenc__error_set(ZENC_EINVALID, "no place for the path");
	*out = NULL;
	if ((rc = zenc_store_run_show(store, id_or_name, &info)) == 0 &&
	    (rc = artifact_root(store, &info, &root)) == 0)
		*out = zenc__asprintf("%s/%s", root, info.rec.id);
	free(root);
	zenc_run_info_free(&info);
	return rc;
}

/* Whether `path` is `dir` or inside it. */
static int within(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	return !strncmp(path, dir, n) && (path[n] == '\0' || path[n] == '/');
}

/* The run whose folder under `root` holds `uri` (its first component
 * there), when that is not `run_dir`; NULL: none.  Freed by the caller. */
static char *owner_of(const char *uri, const char *root, const char *run_dir)
{
	size_t n = strlen(root);
	const char *p, *end;

	while (n > 1 && root[n - 1] == '/')
		n--;
	if (within(uri, run_dir) || !within(uri, root) || uri[n] != '/')
		return NULL;
	p = uri + n + 1;
	if (!(end = strchr(p, '/')) || end == p)
		return NULL;
	return zenc__strndup(p, (size_t)(end - p));
}

/* What one deletion walk keeps and counts.  nftw() takes no payload: one
 * walk at a time, under a lock. */
struct walk {
	char **keep;
	size_t n_keep;
	int dry_run;
	uint64_t bytes;
	size_t files;
};

static pthread_mutex_t walk_lock = PTHREAD_MUTEX_INITIALIZER;
static struct walk *walking;

static int visit(
	const char *path, const struct stat *st, int type, struct FTW *f)
{
	struct walk *w = walking;
	size_t i;

	(void)f;
	/* A kept output, what is inside it, and the folders above it. */
	for (i = 0; i < w->n_keep; i++)
		if (within(path, w->keep[i]) || within(w->keep[i], path))
			return 0;
	if (type == FTW_DNR || type == FTW_NS) {
		zenc__warn("Cannot read '%s'; left in place.", path);
		return 0;
	}
	if (type == FTW_DP) {
		if (!w->dry_run && rmdir(path) < 0 && errno != ENOENT)
			zenc__warn(
				"Cannot remove '%s': %s", path,
				strerror(errno));
		return 0;
	}
	if (!w->dry_run && unlink(path) < 0) {
		if (errno != ENOENT)
			zenc__warn(
				"Cannot remove '%s': %s", path,
				strerror(errno));
		return 0;
	}
	w->bytes += (uint64_t)st->st_blocks * 512;
	w->files++;
	return 0;
}

/* Removes (or counts) `path`, a file or a folder, but what `w` keeps;
 * never follows a symbolic link. */
static void remove_tree(struct walk *w, const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return;
	pthread_mutex_lock(&walk_lock);
	walking = w;
	if (nftw(path, visit, 16, FTW_DEPTH | FTW_PHYS) < 0 && errno != ENOENT)
		zenc__warn("Cannot walk '%s': %s", path, strerror(errno));
	walking = NULL;
	pthread_mutex_unlock(&walk_lock);
}

/* Removes the folders above `path` that are left empty, up to `root`. */
static void remove_empty_parents(const char *path, const char *root)
{
	char *p = zenc__strdup(path), *slash;

	while ((slash = strrchr(p, '/')) && slash > p) {
		*slash = '\0';
		if (!within(p, root) || !strcmp(p, root) || rmdir(p) < 0)
			break;
	}
	free(p);
}

int zenc_store_run_purge(
	zenc_store *store,
	const char *id_or_name,
	int dry_run,
	zenc_purge_info *out)
{
	zenc_run_info info;
	struct walk w;
	char *root = NULL, *run_dir = NULL, **outside = NULL;
	size_t n_outside = 0, i, j;
	int rc, shared;

	memset(&w, 0, sizeof(w));
	w.dry_run = dry_run;
	if (out)
		memset(out, 0, sizeof(*out));
	if ((rc = zenc_store_run_show(store, id_or_name, &info)) < 0)
		goto done;
	if (zenc__status_parse(info.rec.status) == ZENC__STATUS_RUNNING) {
		rc = zenc__error_set(
			ZENC_ESTATE,
			"run '%s' is still running; cancel it first (zenc runs "
			"cancel %s)",
			info.rec.name, info.rec.id);
		goto done;
	}
	/* Never a path out of the artifact store, whatever a shared
	 * store holds. */
	if (!*info.rec.id || strchr(info.rec.id, '/') ||
	    info.rec.id[0] == '.') {
		rc = zenc__error_set(
			ZENC_EINVALID, "run id '%s' is not a folder name",
			info.rec.id);
		goto done;
	}
	if ((rc = artifact_root(store, &info, &root)) < 0)
		goto done;
	run_dir = zenc__asprintf("%s/%s", root, info.rec.id);
	/* Which outputs another run points to: they stay.  Those of this run
	 * outside its folder (it took them from the cache, and the run that
	 * made them is gone) go, when nobody else points to them. */
	for (i = 0; i < info.n_steps; i++) {
		const zenc_step_info *si = &info.steps[i];

		for (j = 0; j < si->n_artifacts; j++) {
			const char *uri = si->artifacts[j].uri;
			char *owner;

			if (!uri || !*uri || strstr(uri, "/.."))
				continue;
			shared = 1;
			owner = owner_of(uri, root, run_dir);
			rc = store->impl->uri_shared
				     ? store->impl->uri_shared(
					       store->impl, info.rec.id, uri,
					       owner, &shared)
				     : 0;
			free(owner);
			if (rc < 0)
				goto done;
			if (shared) {
				w.keep = zenc__realloc(
					w.keep,
					(w.n_keep + 1) * sizeof(char *));
				w.keep[w.n_keep++] = zenc__strdup(uri);
			} else if (!within(uri, run_dir) && within(uri, root)) {
				outside = zenc__realloc(
					outside,
					(n_outside + 1) * sizeof(char *));
				outside[n_outside++] = zenc__strdup(uri);
			}
		}
	}
	/* The records first: a run is never left pointing to files that
	 * are gone. */
	if (!dry_run &&
	    (rc = store->impl->run_delete(store->impl, info.rec.id)) < 0)
		goto done;
	remove_tree(&w, run_dir);
	for (i = 0; i < n_outside; i++) {
		remove_tree(&w, outside[i]);
		if (!dry_run)
			remove_empty_parents(outside[i], root);
	}
	if (out) {
		out->bytes = w.bytes;
		out->files = w.files;
		out->kept = w.n_keep;
	}
	rc = 0;
done:
	for (i = 0; i < w.n_keep; i++)
		free(w.keep[i]);
	free(w.keep);
	for (i = 0; i < n_outside; i++)
		free(outside[i]);
	free(outside);
	free(root);
	free(run_dir);
	zenc_run_info_free(&info);
	return rc;
}
