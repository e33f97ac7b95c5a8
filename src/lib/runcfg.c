/*
 * Run configuration files.  PLACEHOLDER: only the run name template is
 * implemented here; loading a file is refused until the loader lands.
 */
#include <stdlib.h>
#include <string.h>

#include "runcfg.h"

struct zenc__runcfg {
	char *run_name;
	char *stack;
};

int zenc__runcfg_load(zenc__runcfg **out, const char *path, zenc_pipeline *p)
{
	(void)p;
	*out = NULL;
	return zenc__error_set(ZENC_ECONFIG,
			       "%s: run configuration files are not supported "
			       "yet",
			       path);
}

int zenc__runcfg_apply(zenc__runcfg *cfg, zenc__exec *x)
{
	(void)cfg;
	(void)x;
	return 0;
}

void zenc__runcfg_step_settings(const zenc__runcfg *cfg, zenc__stepstate *ss)
{
	(void)cfg;
	(void)ss;
}

const char *zenc__runcfg_run_name(const zenc__runcfg *cfg)
{
	return cfg ? cfg->run_name : NULL;
}

const char *zenc__runcfg_stack(const zenc__runcfg *cfg)
{
	return cfg ? cfg->stack : NULL;
}

char *zenc__runcfg_expand_name(const char *tmpl, const char *pipeline,
			       double t)
{
	zenc_buf b = ZENC_BUF_INIT, stamp = ZENC_BUF_INIT;
	const char *p;

	zenc__time_runname(&stamp, t);
	for (p = tmpl; *p; p++) {
		if (!strncmp(p, "{pipeline}", 10)) {
			zenc_buf_puts(&b, pipeline);
			p += 9;
		} else if (!strncmp(p, "{date}", 6)) {
			zenc_buf_put(&b, stamp.ptr, 10);
			p += 5;
		} else if (!strncmp(p, "{time}", 6)) {
			zenc_buf_puts(&b, stamp.ptr + 11);
			p += 5;
		} else {
			zenc_buf_putc(&b, *p);
		}
	}
	zenc_buf_release(&stamp);
	return zenc_buf_detach(&b);
}

void zenc__runcfg_free(zenc__runcfg *cfg)
{
	if (!cfg)
		return;
	free(cfg->run_name);
	free(cfg->stack);
	free(cfg);
}
