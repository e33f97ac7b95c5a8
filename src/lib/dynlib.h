/*
 * Libraries loaded at run time, on first use: libcurl (alerters that post
 * over HTTP or SMTP), libpq (the postgres store) and libmicrohttpd (`zenc
 * ui`).  A program that does not use them never maps them, nor the dozens
 * of libraries they pull in (TLS, Kerberos, LDAP, ...).
 *
 * A user keeps a struct of function pointers (typed from the library's
 * header with __typeof__), a zenc__dynlib that names the symbols to put
 * in it, and a pthread_once_t whose init function calls
 * zenc__dynlib_open():
 *
 *	static struct { __typeof__(PQexec) *PQexec; } pq;
 *	static const zenc__dynsym pq_syms[] = {
 *		ZENC__DYNSYM(pq, PQexec),
 *	};
 *	static zenc__dynlib pq_lib = ZENC__DYNLIB_INIT("libpq", "libpq.so.5",
 *		"libpq5", pq_syms, &pq);
 */
#ifndef ZENC_LIB_DYNLIB_H
#define ZENC_LIB_DYNLIB_H

#include <stddef.h>

/* One symbol: its name, and where its address goes in the table. */
typedef struct zenc__dynsym {
	const char *name;
	size_t offset;
} zenc__dynsym;

/* The symbol `name` into the field `member` of the struct `table`, and
 * the symbol named as the field. */
#define ZENC__DYNSYM_AS(table, member, name)                                   \
	{                                                                      \
		name, offsetof(__typeof__(table), member)                      \
	}
#define ZENC__DYNSYM(table, member) ZENC__DYNSYM_AS(table, member, #member)

typedef struct zenc__dynlib {
	const char *what;    /* "libcurl", for messages */
	const char *soname;  /* "libcurl.so.4" */
	const char *package; /* the Debian package that has it */
	const zenc__dynsym *syms;
	size_t nsyms;
	void *table;   /* gets the function pointers */
	void *handle;  /* NULL until loaded */
	char why[512]; /* why it could not be loaded */
} zenc__dynlib;

#define ZENC__DYNLIB_INIT(what, soname, package, syms, table)                  \
	{                                                                      \
		what, soname, package, syms, sizeof(syms) / sizeof((syms)[0]), \
			table, NULL, ""                                        \
	}

/* dlopen()s the library (RTLD_NOW | RTLD_LOCAL) and fills its table.
 * Call it once per process (from a pthread_once init function).  Returns
 * 0, or -1 with the reason in lib->why; the table is then left zeroed. */
int zenc__dynlib_open(zenc__dynlib *lib);

/* Sets the error for a library that could not be loaded, "cannot load
 * libcurl (libcurl.so.4): ...; install libcurl4", and returns `code`. */
int zenc__dynlib_error(const zenc__dynlib *lib, int code);

#endif
