/*
 * The command alerter: runs a program (with /bin/sh -c) with the alert
 * as one JSON object on standard input.  Exit 0 is delivered; any other
 * exit is tried again later, except 126 and 127 (the program cannot be
 * run), which never will work.  The command may hold {{secret.NAME}}
 * references; it is never put in a message.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "alerters/alerter.h"
#include "engine/exec.h"

typedef struct command_alerter {
	zenc_alerter base;
	char *name;
	char *command;
} command_alerter;

static int command_post(zenc_alerter *self, const zenc_alert *al)
{
	command_alerter *c = (command_alerter *)self;
	zenc_buf cmd = ZENC_BUF_INIT, json = ZENC_BUF_INIT, err = ZENC_BUF_INIT;
	int rc, wstatus = 0, timed_out = 0;

	if ((rc = zenc__alerter_resolve(&cmd, c->command)) < 0)
		goto done;
	zenc__alert_json(&json, al);
	if (zenc__command_run(
		    cmd.ptr, NULL, NULL, json.ptr, json.len, NULL, -1,
		    al->timeout, 1, &wstatus, &timed_out, &err) < 0) {
		rc = zenc__error_set(
			ZENC_EINVALID,
			"alerter '%s': cannot run its command: "
			"%s",
			c->name, zenc_buf_cstr(&err));
	} else if (timed_out) {
		rc = zenc__error_set(
			ZENC_ETIMEOUT,
			"alerter '%s': command timed out after "
			"%gs",
			c->name, al->timeout);
	} else if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus)) {
		zenc_buf_clear(&err);
		zenc__describe_status(&err, wstatus);
		rc = zenc__error_set(
			WIFEXITED(wstatus) && WEXITSTATUS(wstatus) >= 126
				? ZENC_EINVALID
				: ZENC_EUNREACHABLE,
			"alerter '%s': command %s", c->name,
			zenc_buf_cstr(&err));
	}
done:
	zenc__alerter_secret_release(&cmd);
	zenc_buf_release(&json);
	zenc_buf_release(&err);
	return rc;
}

static void command_free(zenc_alerter *self)
{
	command_alerter *c = (command_alerter *)self;

	free(c->name);
	free(c->command);
	free(c);
}

int zenc__alerter_command_create(
	zenc_alerter **out, const zenc__alerter_config *c)
{
	const char *cmd = zenc__alerter_config_get(c, "command");
	command_alerter *a;

	*out = NULL;
	if (!cmd || !*cmd)
		return zenc__error_set(
			ZENC_EINVALID,
			"alerter '%s' of flavor 'command' needs "
			"a command",
			c->name ? c->name : "command");
	a = zenc__calloc(1, sizeof(*a));
	a->base.version = ZENC_ALERTER_VERSION;
	a->base.flavor = "command";
	a->base.post = command_post;
	a->base.free = command_free;
	a->name = zenc__strdup(c->name ? c->name : "command");
	a->command = zenc__strdup(cmd);
	*out = &a->base;
	return 0;
}
