/* Libraries loaded at run time, on first use (see dynlib.h). */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "dynlib.h"
#include "internal.h"

int zenc__dynlib_open(zenc__dynlib *lib)
{
	const char *e;
	void *h, *sym;
	size_t i, j;

	dlerror();
	if (!(h = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL))) {
		e = dlerror();
		snprintf(
			lib->why, sizeof(lib->why), "%s",
			e ? e : "dlopen failed");
		return -1;
	}
	for (i = 0; i < lib->nsyms; i++) {
		dlerror();
		sym = dlsym(h, lib->syms[i].name);
		if (!sym) {
			snprintf(
				lib->why, sizeof(lib->why),
				"no symbol '%s' in it (too old a version?)",
				lib->syms[i].name);
			for (j = 0; j < i; j++)
				memset((char *)lib->table + lib->syms[j].offset,
				       0, sizeof(sym));
			dlclose(h);
			return -1;
		}
		/* POSIX: a function's address fits in a void *. */
		memcpy((char *)lib->table + lib->syms[i].offset, &sym,
		       sizeof(sym));
	}
	lib->handle = h;
	zenc__debug("loaded %s (%s)", lib->what, lib->soname);
	return 0;
}

int zenc__dynlib_error(const zenc__dynlib *lib, int code)
{
	return zenc__error_set(
		code, "cannot load %s (%s): %s; install %s", lib->what,
		lib->soname, lib->why, lib->package);
}
