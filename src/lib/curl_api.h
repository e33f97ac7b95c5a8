/*
 * libcurl, loaded on first use (see dynlib.h): the alerters that post
 * over HTTP or SMTP call it through this table, so that a program that
 * sends no such alert never loads it.  <curl/curl.h> still gives the
 * types and constants; its type-checking macros are off, as they would
 * turn calls through the table back into direct calls.
 */
#ifndef ZENC_LIB_CURL_API_H
#define ZENC_LIB_CURL_API_H

#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>

typedef struct zenc__curl_api {
	__typeof__(curl_global_init) *global_init;
	__typeof__(curl_easy_init) *easy_init;
	__typeof__(curl_easy_setopt) *easy_setopt;
	__typeof__(curl_easy_perform) *easy_perform;
	__typeof__(curl_easy_getinfo) *easy_getinfo;
	__typeof__(curl_easy_cleanup) *easy_cleanup;
	__typeof__(curl_easy_strerror) *easy_strerror;
	__typeof__(curl_easy_escape) *easy_escape;
	__typeof__(curl_free) *free;
	__typeof__(curl_slist_append) *slist_append;
	__typeof__(curl_slist_free_all) *slist_free_all;
} zenc__curl_api;

/* libcurl, loaded and globally initialized once per process.  NULL when
 * it cannot be loaded, with the error set: ZENC_EUNREACHABLE "cannot
 * load libcurl (libcurl.so.4): ...", and the current alert is kept
 * pending without more attempts in this process. */
const zenc__curl_api *zenc__curl(void);

#endif
