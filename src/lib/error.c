#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Thread_local char last_msg[1024];
static _Thread_local int last_code;

const char *zenc_strerror(int code)
{
	switch (code) {
#define ZENC__ERR_TEXT(name, num, text)                                        \
	case num:                                                              \
		return text;
		ZENC_ERROR_MAP(ZENC__ERR_TEXT)
#undef ZENC__ERR_TEXT
	}
	return "unknown error";
}

const char *zenc_error_name(int code)
{
	switch (code) {
#define ZENC__ERR_NAME(name, num, text)                                        \
	case num:                                                              \
		return "ZENC_" #name;
		ZENC_ERROR_MAP(ZENC__ERR_NAME)
#undef ZENC__ERR_NAME
	}
	return "ZENC_UNKNOWN";
}

const char *zenc_error_last(void)
{
	return last_msg;
}

int zenc_error_last_code(void)
{
	return last_code;
}

int zenc_exit_status(int code)
{
	switch (code) {
	case ZENC_EINVALID:
	case ZENC_ENOTFOUND:
	case ZENC_EEXISTS:
	case ZENC_ETYPE:
	case ZENC_ECYCLE:
	case ZENC_ESTATE:
	case ZENC_EINUSE:
		return ZENC_EXIT_USAGE;
	default:
		return code < 0 ? ZENC_EXIT_ENV : ZENC_EXIT_OK;
	}
}

int zenc__error_set(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_msg, sizeof(last_msg), fmt, ap);
	va_end(ap);
	last_code = code;
	return code;
}

void zenc__error_clear(void)
{
	last_msg[0] = '\0';
	last_code = 0;
}

static zenc_log_level log_level = ZENC_LOG_NONE;
static zenc_log_cb log_cb;
static void *log_payload;

void zenc_log_set(zenc_log_level level, zenc_log_cb cb, void *payload)
{
	log_level = cb ? level : ZENC_LOG_NONE;
	log_cb = cb;
	log_payload = payload;
}

int zenc__log_enabled(zenc_log_level level)
{
	return log_cb && level >= log_level;
}

void zenc__log(zenc_log_level level, const char *fmt, ...)
{
	zenc_buf b = ZENC_BUF_INIT;
	va_list ap;

	if (!zenc__log_enabled(level))
		return;
	va_start(ap, fmt);
	zenc_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	log_cb(level, zenc_buf_cstr(&b), log_payload);
	zenc_buf_release(&b);
}

const char *zenc_version(void)
{
	return ZENC_VERSION;
}

static const char *const type_names[] = {NULL,     "int",   "double", "bool",
					 "string", "bytes", "file",   "dir"};

const char *zenc_type_name(zenc_type t)
{
	if ((int)t >= 1 && (int)t <= ZENC_DIR)
		return type_names[t];
	return "unknown";
}

int zenc_type_parse(zenc_type *out, const char *name)
{
	int i;

	for (i = 1; i <= ZENC_DIR; i++) {
		if (!strcmp(name, type_names[i])) {
			*out = (zenc_type)i;
			return 0;
		}
	}
	if (!strcmp(name, "float") || !strcmp(name, "str") ||
	    !strcmp(name, "integer") || !strcmp(name, "boolean")) {
		*out = name[0] == 'f'   ? ZENC_DOUBLE
		       : name[0] == 's' ? ZENC_STRING
		       : name[0] == 'i' ? ZENC_INT
					: ZENC_BOOL;
		return 0;
	}
	return zenc__error_set(
		ZENC_EINVALID,
		"unknown type '%s' (known: int, double, bool, "
		"string, bytes)",
		name);
}

static const char *const status_names[] = {
#define ZENC__STATUS_TEXT(name, text) [ZENC__STATUS_##name] = text,
	ZENC__STATUS_MAP(ZENC__STATUS_TEXT)
#undef ZENC__STATUS_TEXT
};

#define N_STATUS (sizeof(status_names) / sizeof(status_names[0]))

const char *zenc__status_name(zenc__status s)
{
	if ((size_t)s < N_STATUS && status_names[s])
		return status_names[s];
	return "unknown";
}

zenc__status zenc__status_parse(const char *name)
{
	size_t i;

	for (i = 1; name && i < N_STATUS; i++)
		if (!strcmp(name, status_names[i]))
			return (zenc__status)i;
	return ZENC__STATUS_UNKNOWN;
}

static const char *const kind_names[] = {
#define ZENC__EK_TEXT(name, text) [ZENC__EK_##name] = text,
	ZENC__ERROR_KIND_MAP(ZENC__EK_TEXT)
#undef ZENC__EK_TEXT
};

#define N_KIND (sizeof(kind_names) / sizeof(kind_names[0]))

const char *zenc__error_kind_name(zenc__error_kind k)
{
	if ((size_t)k < N_KIND)
		return kind_names[k];
	return NULL;
}

zenc__error_kind zenc__error_kind_parse(const char *type)
{
	size_t i;

	if (!type)
		return ZENC__EK_NONE;
	for (i = ZENC__EK_USER + 1; i < N_KIND; i++)
		if (!strcmp(type, kind_names[i]))
			return (zenc__error_kind)i;
	return ZENC__EK_USER;
}
