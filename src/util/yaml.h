/*
 * A small YAML document layer on top of libyaml, for the run-configuration
 * and YAML-pipeline loaders.  A document is loaded whole into a tree of
 * nodes that remember where they came from, so that every error can say
 * `file:line:column: message` (1-based line and column; the column counts
 * characters, not bytes).  None of these are public symbols.
 *
 * What the loader accepts, and decides:
 *
 * - One document per file.  An empty document (nothing, only comments, or
 *   a bare `---`) has an empty mapping as its root, so a loader can treat
 *   "no settings" like `{}`.  A second document is an error.
 * - Mapping keys must be scalars; a duplicate key is an error at the
 *   second key, which names the line and column of the first.
 * - Anchors and aliases: an alias of a mapping or a sequence refers to the
 *   anchored node itself (the tree shares it, and its location is the
 *   anchor's); an alias of a scalar becomes a copy located at the alias.
 *   An alias must follow the end of its anchored node, so recursive
 *   structures are rejected ("undefined alias").  Merge keys (`<<`) are
 *   not special: `<<` is an ordinary key.
 * - Tags are ignored except `!!str` and `!`, which make a plain scalar
 *   count as quoted (a string).
 *
 * Error messages replace the contents of `err` (which may be NULL).
 */
#ifndef ZENC_YAML_H
#define ZENC_YAML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

typedef struct zenc_yaml_doc zenc_yaml_doc;
typedef struct zenc_yaml_node zenc_yaml_node;

typedef enum zenc_yaml_kind {
	ZENC_YAML_SCALAR,
	ZENC_YAML_MAP,
	ZENC_YAML_SEQ,
} zenc_yaml_kind;

typedef struct zenc_yaml_pair {
	zenc_yaml_node *key; /* always a scalar */
	zenc_yaml_node *value;
} zenc_yaml_pair;

/* Every node belongs to its document and lives until zenc_yaml_free(). */
struct zenc_yaml_node {
	zenc_yaml_kind kind;
	unsigned int line;   /* 1-based */
	unsigned int column; /* 1-based, in characters */
	const char *file;    /* the document's name, for messages */
	const zenc_yaml_doc *doc;

	/* ZENC_YAML_SCALAR: the text (NUL-terminated; `len` bytes, which
	 * may include a NUL from a "\0" escape).  `quoted` is true for any
	 * style but plain: single or double quotes, a block scalar (| or >),
	 * or a `!!str` tag.  So `"1"` is quoted and `1` is not. */
	char *text;
	size_t len;
	bool quoted;

	/* ZENC_YAML_MAP: the pairs in document order. */
	zenc_yaml_pair *pairs;
	size_t npairs;

	/* ZENC_YAML_SEQ: the items in document order. */
	zenc_yaml_node **items;
	size_t nitems;
};

/* Loads the YAML file at `path`.  On success `*out` is a document the
 * caller frees with zenc_yaml_free().  On failure returns -1, `*out` is
 * NULL and `err` holds "path:line:col: problem" for malformed YAML or
 * "path: No such file or directory" (the strerror text) when the file
 * cannot be read. */
int zenc_yaml_load_file(zenc_yaml_doc **out, const char *path, zenc_buf *err);

/* As zenc_yaml_load_file(), from `len` bytes of `text`; `name` (copied;
 * NULL means "<string>") stands for the file name in messages. */
int zenc_yaml_load_string(
	zenc_yaml_doc **out,
	const char *name,
	const char *text,
	size_t len,
	zenc_buf *err);

/* The root node, never NULL for a loaded document. */
zenc_yaml_node *zenc_yaml_root(const zenc_yaml_doc *doc);
/* The name given at load time. */
const char *zenc_yaml_doc_name(const zenc_yaml_doc *doc);
/* Frees the document and all its nodes.  NULL does nothing. */
void zenc_yaml_free(zenc_yaml_doc *doc);

/* Appends "file:line:col" for `n` to `b`. */
void zenc_yaml_where(zenc_buf *b, const zenc_yaml_node *n);
/* Replaces the contents of `err` (if not NULL) with "file:line:col: "
 * followed by the formatted message, and returns -1, so that a loader
 * can write `return zenc_yaml_error(err, n, "...", ...);`. */
int zenc_yaml_error(
	zenc_buf *err, const zenc_yaml_node *n, const char *fmt, ...)
	ZENC__PRINTF(3, 4);
/* "a mapping", "a sequence", "null", "'text'" or "the string 'text'"
 * (quoted scalars), appended to `b`; long or multi-line text is cut. */
void zenc_yaml_describe(zenc_buf *b, const zenc_yaml_node *n);

/* True for a plain scalar that is empty, "~", "null", "Null" or "NULL". */
bool zenc_yaml_is_null(const zenc_yaml_node *n);

/* The value for `key` in mapping `map`, or NULL when `map` is NULL, not a
 * mapping, or has no such key. */
zenc_yaml_node *zenc_yaml_map_get(const zenc_yaml_node *map, const char *key);
/* As zenc_yaml_map_get(), but a missing key is an error at the mapping:
 * "file:l:c: missing key 'run' in step" (`what` may be NULL). */
zenc_yaml_node *zenc_yaml_require(
	const zenc_yaml_node *map,
	const char *key,
	const char *what,
	zenc_buf *err);

/*
 * Typed getters.  Each returns 0 and sets `*out` on success, and -1 with a
 * located message in `err` on failure ("file:l:c: expected an integer,
 * found 'abc'").  `n` may be NULL, as zenc_yaml_map_get() returns for an
 * absent key: then the getter returns 1 and leaves `*out` alone, so an
 * optional key with a default is one line:
 *
 *	if (zenc_yaml_get_int(zenc_yaml_map_get(m, "retries"), &r, err) < 0)
 *		goto done;
 *
 * Integers, numbers and booleans must be plain scalars (`"1"` is a string,
 * not an integer); strings, durations and sizes may be quoted or plain.
 * Null (`key:` or `key: ~`) is not a string or a number.
 */
/* Any non-null scalar; the string borrows from the node.  A string that
 * holds a NUL character is refused. */
int zenc_yaml_get_string(
	const zenc_yaml_node *n, const char **out, zenc_buf *err);
/* Decimal with an optional sign, 0x hex or 0o octal, in int64 range. */
int zenc_yaml_get_int(const zenc_yaml_node *n, int64_t *out, zenc_buf *err);
/* Decimal or exponent notation, .inf, -.inf and .nan. */
int zenc_yaml_get_double(const zenc_yaml_node *n, double *out, zenc_buf *err);
/* true/false, yes/no, on/off in any case. */
int zenc_yaml_get_bool(const zenc_yaml_node *n, bool *out, zenc_buf *err);
/* "500ms", "2s", "10m", "1h" or a plain number of seconds, into
 * seconds. */
int zenc_yaml_get_duration(const zenc_yaml_node *n, double *out, zenc_buf *err);
/* "512K", "512M", "2G", "1T" (powers of 1024) or plain bytes. */
int zenc_yaml_get_size(const zenc_yaml_node *n, size_t *out, zenc_buf *err);
/* 0 if `n` is a mapping (a sequence), else -1 with "expected a mapping
 * (a sequence), found ...".  NULL `n` returns 1, as the getters do. */
int zenc_yaml_expect_map(const zenc_yaml_node *n, zenc_buf *err);
int zenc_yaml_expect_seq(const zenc_yaml_node *n, zenc_buf *err);

/* Checks that `map` (which must be a mapping) has only keys from the
 * NULL-terminated `allowed` list.  The first unknown key is an error at
 * that key: "file:l:c: unknown key 'retires' in step (did you mean
 * 'retry'?)", or with "(known: name, run, retry)" when no key is close.
 * `what` may be NULL.  0 or -1. */
int zenc_yaml_check_keys(
	const zenc_yaml_node *map,
	const char *const *allowed,
	const char *what,
	zenc_buf *err);

/* The optimal-string-alignment (Damerau-Levenshtein) distance between two
 * byte strings: insertions, deletions, substitutions and transpositions
 * of adjacent bytes each cost 1. */
size_t zenc__edit_distance(const char *a, const char *b);
/* The candidate in the NULL-terminated list closest to `word`, or NULL
 * when none is close.  Close means a distance of at most the larger of 2
 * and a third of the length of `word` (rounded up), and less than the
 * length of either string (so "ab" does not suggest "cd").  Ties go to
 * the earlier candidate. */
const char *zenc__did_you_mean(const char *word, const char *const *candidates);

#endif
