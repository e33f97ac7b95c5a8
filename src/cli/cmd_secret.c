/*
 * zenc secret VERB ...: secrets that component values refer to as
 * {{secret.NAME}}.
 *
 *   zenc secret set NAME [--value VALUE]   (else the value from stdin:
 *                                          one line, not echoed, from a
 *                                          terminal; all of it otherwise)
 *   zenc secret list [--json]
 *   zenc secret delete NAME
 *
 * A value is never printed, and never put in an error message.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"

static const char *const usages[][2] = {
	{"set", "zenc secret set NAME [--value VALUE]"},
	{"list", "zenc secret list [--json]"},
	{"delete", "zenc secret delete NAME"},
};

#define NUSAGES (sizeof(usages) / sizeof(usages[0]))

static void usage(FILE *out, const char *verb)
{
	const char *lead = "usage:";
	size_t i;

	for (i = 0; i < NUSAGES; i++) {
		if (verb && strcmp(verb, usages[i][0]) != 0)
			continue;
		fprintf(out, "%s %s\n", lead, usages[i][1]);
		lead = "   or:";
	}
	if (!verb || strcmp(verb, "set") == 0)
		fputs("\nWithout --value, `set` reads the value from standard "
		      "input: from a terminal,\none line typed without echo "
		      "and ended by Enter; otherwise all of it, less\none "
		      "trailing newline.  A value is never printed.  Component "
		      "values use it\nas {{secret.NAME}}.\n",
		      out);
}

typedef struct args {
	const char *name;
	const char *value;
	bool json;
	bool help;
} args;

static int parse_args(args *a, int argc, char **argv, const char *flags)
{
	const char *arg;
	int i, m;

	memset(a, 0, sizeof(*a));
	for (i = 1; i < argc; i++) {
		arg = argv[i];
		if (arg[0] != '-' || !arg[1]) {
			if (a->name) {
				/* It may be a value given in the wrong place:
				 * do not echo it. */
				cli_error("unexpected extra argument (give a "
					  "value with --value or on standard "
					  "input)");
				return -1;
			}
			a->name = arg;
		} else if (cli_is_help(arg)) {
			a->help = true;
		} else if (
			strstr(flags, "json") && strcmp(arg, "--json") == 0) {
			a->json = true;
		} else if (
			strstr(flags, "value") &&
			(m = zenc__opt_value(
				 argc, argv, &i, "--value", &a->value))) {
			if (m < 0) {
				cli_error("option '--value' needs a value");
				return -1;
			}
		} else {
			/* Never echo what might be a mistyped value. */
			cli_error(
				"unknown option '%.*s'",
				(int)(strchr(arg, '=') ? strchr(arg, '=') - arg
						       : (long)strlen(arg)),
				arg);
			return -1;
		}
	}
	return 0;
}

static int start(
	args *a, int argc, char **argv, const char *flags, bool need_name)
{
	if (parse_args(a, argc, argv, flags) < 0) {
		usage(stderr, argv[0]);
		return ZENC_EXIT_USAGE;
	}
	if (a->help) {
		usage(stdout, argv[0]);
		return ZENC_EXIT_OK;
	}
	if (need_name && !a->name) {
		cli_error("missing secret name");
		usage(stderr, argv[0]);
		return ZENC_EXIT_USAGE;
	}
	if (!need_name && a->name) {
		cli_error("unexpected argument '%s'", a->name);
		usage(stderr, argv[0]);
		return ZENC_EXIT_USAGE;
	}
	return -1;
}

static void wipe(zenc_buf *b)
{
	if (b->ptr)
		memset(b->ptr, 0, b->cap);
	zenc_buf_release(b);
}

/* Reads all of standard input into `b`. */
static int read_stdin(zenc_buf *b)
{
	char chunk[4096];
	ssize_t n;

	for (;;) {
		n = read(STDIN_FILENO, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		zenc_buf_put(b, chunk, (size_t)n);
	}
	memset(chunk, 0, sizeof(chunk));
	return 0;
}

/*
 * Reading a value from a terminal: one line, with echo off.  The terminal's
 * settings are put back on every way out: the end of the line, end of
 * input, a read error, and SIGINT, SIGTERM, SIGHUP or SIGQUIT, whose
 * handlers only note the signal (no SA_RESTART, so read() returns EINTR);
 * the signal is then raised again with its default action, so the command
 * ends as it would have.  SIGTSTP is ignored while echo is off, so Ctrl-Z
 * cannot leave a shell with a silent terminal.
 */
static volatile sig_atomic_t tty_signal;

static void on_tty_signal(int sig)
{
	tty_signal = sig;
}

static const int tty_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP};
#define NTTY_SIGNALS (sizeof(tty_signals) / sizeof(tty_signals[0]))

static int read_tty_line(zenc_buf *b, const char *name)
{
	struct sigaction sa, old[NTTY_SIGNALS];
	struct termios saved, quiet;
	char chunk[256];
	int rc = 0, err = 0;
	bool eol = false;
	size_t i;
	ssize_t n;

	if (tcgetattr(STDIN_FILENO, &saved) < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	tty_signal = 0;
	for (i = 0; i < NTTY_SIGNALS; i++) {
		sa.sa_handler =
			tty_signals[i] == SIGTSTP ? SIG_IGN : on_tty_signal;
		sigaction(tty_signals[i], &sa, &old[i]);
	}
	quiet = saved;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	fprintf(stderr,
		"value of secret '%s' (not echoed; end with Enter): ", name);
	fflush(stderr);
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) < 0) {
		rc = -1;
		err = errno;
		goto restore;
	}
	while (!eol && !tty_signal) {
		n = read(STDIN_FILENO, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -1;
			err = errno;
			break;
		}
		if (n == 0)
			break;
		for (i = 0; i < (size_t)n && !eol; i++) {
			if (chunk[i] == '\n')
				eol = true;
			else
				zenc_buf_putc(b, chunk[i]);
		}
	}
	memset(chunk, 0, sizeof(chunk));
restore:
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
	/* The Enter that ended the line was not echoed. */
	fputc('\n', stderr);
	for (i = 0; i < NTTY_SIGNALS; i++)
		sigaction(tty_signals[i], &old[i], NULL);
	if (tty_signal) {
		wipe(b);
		signal(tty_signal, SIG_DFL);
		raise(tty_signal);
		/* A signal whose default is to be ignored: go on as
		 * interrupted. */
		errno = EINTR;
		return -1;
	}
	errno = err;
	return rc;
}

static int do_set(int argc, char **argv)
{
	zenc_buf value = ZENC_BUF_INIT;
	args a;
	int rc;

	if ((rc = start(&a, argc, argv, "value", true)) >= 0)
		return rc;
	if ((rc = zenc_secret_check_name(a.name)) < 0) {
		cli_error("%s", zenc_error_last());
		return ZENC_EXIT_USAGE;
	}
	if (a.value) {
		zenc_buf_puts(&value, a.value);
	} else {
		if (isatty(STDIN_FILENO) ? read_tty_line(&value, a.name) < 0
					 : read_stdin(&value) < 0) {
			cli_error(
				"cannot read standard input: %s",
				strerror(errno));
			rc = ZENC_EXIT_ENV;
			goto done;
		}
		if (value.len && value.ptr[value.len - 1] == '\n')
			value.ptr[--value.len] = '\0';
		if (value.len && value.ptr[value.len - 1] == '\r')
			value.ptr[--value.len] = '\0';
	}
	if (memchr(zenc_buf_cstr(&value), '\0', value.len)) {
		cli_error(
			"the value of secret '%s' contains a NUL byte", a.name);
		rc = ZENC_EXIT_USAGE;
		goto done;
	}
	if ((rc = zenc_secret_set(a.name, zenc_buf_cstr(&value))) < 0) {
		cli_error("%s", zenc_error_last());
		rc = zenc_exit_status(rc);
		goto done;
	}
	printf("secret '%s' set\n", a.name);
	rc = ZENC_EXIT_OK;
done:
	wipe(&value);
	return rc;
}

static int do_list(int argc, char **argv)
{
	zenc_buf b = ZENC_BUF_INIT;
	char **names = NULL;
	size_t i, n = 0;
	args a;
	int rc;

	if ((rc = start(&a, argc, argv, "json", false)) >= 0)
		return rc;
	if ((rc = zenc_secret_names(&names, &n)) < 0) {
		cli_error("%s", zenc_error_last());
		rc = zenc_exit_status(rc);
		goto done;
	}
	if (a.json) {
		json_t *list = json_array();

		for (i = 0; i < n; i++)
			json_array_append_new(list, cli_json_str(names[i]));
		cli_json_put(&b, list, 1);
		json_decref(list);
		zenc_buf_putc(&b, '\n');
		fputs(zenc_buf_cstr(&b), stdout);
	} else {
		for (i = 0; i < n; i++)
			printf("%s\n", names[i]);
	}
	rc = ZENC_EXIT_OK;
done:
	zenc_secret_names_free(names, n);
	zenc_buf_release(&b);
	return rc;
}

static int do_delete(int argc, char **argv)
{
	args a;
	int rc;

	if ((rc = start(&a, argc, argv, "", true)) >= 0)
		return rc;
	if ((rc = zenc_secret_delete(a.name)) < 0) {
		cli_error("%s", zenc_error_last());
		return zenc_exit_status(rc);
	}
	printf("deleted secret '%s'\n", a.name);
	return ZENC_EXIT_OK;
}

int cmd_secret(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr, NULL);
		return ZENC_EXIT_USAGE;
	}
	if (cli_is_help(argv[1])) {
		usage(stdout, NULL);
		return ZENC_EXIT_OK;
	}
	if (strcmp(argv[1], "set") == 0)
		return do_set(argc - 1, argv + 1);
	if (strcmp(argv[1], "list") == 0)
		return do_list(argc - 1, argv + 1);
	if (strcmp(argv[1], "delete") == 0)
		return do_delete(argc - 1, argv + 1);
	{
		static const char *const names[] = {
			"set", "list", "delete", NULL};

		if (!cli_unknown_command("zenc secret", argv[1], names))
			usage(stderr, NULL);
	}
	return ZENC_EXIT_USAGE;
}
