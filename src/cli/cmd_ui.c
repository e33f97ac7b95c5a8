/*
 * zenc ui: a local dashboard of the active stack's metadata store, served
 * with libmicrohttpd; and `zenc runs report` and `zenc runs dag`, the same
 * run page and graph written out.
 *
 * Access: by default the server binds to 127.0.0.1 and serves loopback
 * peers only, and only requests whose Host header names a loopback host
 * (so a web page elsewhere cannot reach it through DNS rebinding).  Bound
 * to any other address it needs a token (--token or ZENC_UI_TOKEN), which
 * every request must then carry: "Authorization: Bearer T", or ?token=T
 * once, which sets a cookie.  A token given with a loopback address is
 * required as well.
 */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "cli.h"
#include "ui.h"
#include "run_json.h"

/*
 * libmicrohttpd, loaded when `zenc ui` starts (dlopen), so that no
 * other command loads it: every MHD_* call goes through this table.
 */
#define MHD_FUNCS(X)                                                           \
	X(MHD_add_response_header)                                             \
	X(MHD_create_response_from_buffer)                                     \
	X(MHD_destroy_response)                                                \
	X(MHD_get_connection_info)                                             \
	X(MHD_get_daemon_info)                                                 \
	X(MHD_lookup_connection_value)                                         \
	X(MHD_queue_response)                                                  \
	X(MHD_start_daemon)                                                    \
	X(MHD_stop_daemon)

static struct mhd_api {
#define MHD_FIELD(name) __typeof__(name) *name;
	MHD_FUNCS(MHD_FIELD)
#undef MHD_FIELD
} mhd;

static const char *const mhd_names[] = {
#define MHD_NAME(name) #name,
	MHD_FUNCS(MHD_NAME)
#undef MHD_NAME
};
static const size_t mhd_offsets[] = {
#define MHD_OFFSET(name) offsetof(struct mhd_api, name),
	MHD_FUNCS(MHD_OFFSET)
#undef MHD_OFFSET
};

#define MHD_SONAME "libmicrohttpd.so.12"
static void *mhd_handle;  /* NULL until loaded */
static char mhd_why[512]; /* why it could not be loaded */
static pthread_once_t mhd_once = PTHREAD_ONCE_INIT;

/* dlopen()s libmicrohttpd and fills `mhd`; on failure `mhd_why` says
 * why and `mhd` stays zeroed. */
static void mhd_load_once(void)
{
	const char *e;
	void *h, *sym;
	size_t i;

	dlerror();
	if (!(h = dlopen(MHD_SONAME, RTLD_NOW | RTLD_LOCAL))) {
		e = dlerror();
		snprintf(
			mhd_why, sizeof(mhd_why), "%s",
			e ? e : "dlopen failed");
		return;
	}
	for (i = 0; i < sizeof(mhd_names) / sizeof(mhd_names[0]); i++) {
		if (!(sym = dlsym(h, mhd_names[i]))) {
			snprintf(
				mhd_why, sizeof(mhd_why),
				"no symbol '%s' in it (too old a version?)",
				mhd_names[i]);
			memset(&mhd, 0, sizeof(mhd));
			dlclose(h);
			return;
		}
		/* POSIX: a function's address fits in a void *. */
		memcpy((char *)&mhd + mhd_offsets[i], &sym, sizeof(sym));
	}
	mhd_handle = h;
}

#define UI_DEFAULT_PORT 8237
#define UI_PER_PAGE 50
#define UI_COOKIE "zenc_ui_token"

static const char usage_ui[] =
	"usage: zenc ui [--port N] [--host ADDR] [--token T] [--stack NAME]\n"
	"\n"
	"Serves a dashboard of the runs recorded in the stack's metadata\n"
	"store: the runs list, each run's graph, steps, attempts, outputs,\n"
	"logs and hook runs, and their JSON under /api/runs.\n"
	"\n"
	"    --port N        the port (default 8237; 0 picks a free one)\n"
	"    --host ADDR     the address to bind (default 127.0.0.1); any\n"
	"                    address other than loopback needs a token\n"
	"    --token T       require T on every request (Authorization:\n"
	"                    Bearer T, or ?token=T once, which sets a\n"
	"                    cookie); default $ZENC_UI_TOKEN\n"
	"    --stack NAME    read the store of stack NAME (default: the\n"
	"                    active stack)\n";

static const char usage_report[] =
	"usage: zenc runs report RUN [-o FILE] [--stack NAME]\n"
	"\n"
	"Writes a run's page (graph, steps, attempts, outputs, logs, hook\n"
	"runs) as one self-contained HTML file, to FILE or standard output.\n";

static const char usage_dag[] =
	"usage: zenc runs dag RUN [--format dot|svg] [--stack NAME]\n"
	"\n"
	"Prints a run's graph, steps coloured by status: in Graphviz's dot\n"
	"language (the default) or as SVG laid out by zenc.\n";

/* Access rules. */

int cli_ui_addr_is_loopback(const struct sockaddr *sa)
{
	if (!sa)
		return 0;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 =
			(const struct sockaddr_in6 *)sa;
		const unsigned char *a = in6->sin6_addr.s6_addr;

		if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr))
			return 1;
		return IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) && a[12] == 127;
	}
	return 0;
}

int cli_ui_peer_allowed(const struct sockaddr *sa, int bound_loopback)
{
	return !bound_loopback || cli_ui_addr_is_loopback(sa);
}

/* Resolves `host` (an address or a name) for binding to `port`. */
static int resolve_host(
	struct sockaddr_storage *out,
	socklen_t *len,
	const char *host,
	unsigned port)
{
	struct addrinfo hints = {0}, *res = NULL;
	int rc;

	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	if ((rc = getaddrinfo(host, NULL, &hints, &res)) != 0 || !res) {
		cli_error(
			"cannot resolve host '%s': %s", host,
			rc ? gai_strerror(rc) : "no address");
		return -1;
	}
	memcpy(out, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	if (out->ss_family == AF_INET)
		((struct sockaddr_in *)out)->sin_port = htons((uint16_t)port);
	else if (out->ss_family == AF_INET6)
		((struct sockaddr_in6 *)out)->sin6_port = htons((uint16_t)port);
	else {
		cli_error("cannot bind to host '%s': not an IP address", host);
		return -1;
	}
	return 0;
}

/* Whether a token is fit for a cookie and a header: printable ASCII
 * without spaces, quotes, commas, semicolons or backslashes. */
static int token_valid(const char *t)
{
	if (!*t)
		return 0;
	for (; *t; t++)
		if (*t <= ' ' || *t > '~' || strchr("\",;\\", *t))
			return 0;
	return 1;
}

/* Equal strings, in a time that does not depend on where they differ. */
static int token_equal(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b), i;
	unsigned char d = na != nb;

	for (i = 0; i < na; i++)
		d |= (unsigned char)(a[i] ^ b[i % (nb ? nb : 1)]);
	return !d && nb;
}

/* The server. */

struct ui_server {
	const char *stack; /* NULL: the active stack */
	const char *token; /* NULL: none needed */
	int loopback;      /* bound to a loopback address */
	char *store_stack; /* the stack whose store it shows, and where */
	char *location;    /* that store is, found when the server starts */
};

struct ui_reply {
	unsigned int code;
	const char *type;
	zenc_buf body;
	int set_cookie;
	const char *allow; /* for 405 */
	int auth;          /* for 401: WWW-Authenticate */
};

static void reply_error(
	struct ui_reply *r,
	unsigned int code,
	const char *reason,
	const char *detail,
	int json)
{
	r->code = code;
	zenc_buf_clear(&r->body);
	if (json) {
		r->type = "application/json";
		json_t *o = json_object();

		json_object_set_new(o, "error", cli_json_str(detail));
		cli_json_put(&r->body, o, 0);
		json_decref(o);
		zenc_buf_putc(&r->body, '\n');
	} else {
		r->type = "text/html; charset=utf-8";
		cli_ui_error_page(&r->body, (int)code, reason, detail);
	}
}

static enum MHD_Result queue(
	struct MHD_Connection *c,
	struct ui_reply *r,
	const struct ui_server *srv)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	size_t len = r->body.len;
	char *data = zenc_buf_detach(&r->body);

	resp = mhd.MHD_create_response_from_buffer(
		len, data, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(data);
		return MHD_NO;
	}
	mhd.MHD_add_response_header(resp, "Content-Type", r->type);
	mhd.MHD_add_response_header(resp, "Cache-Control", "no-store");
	mhd.MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	mhd.MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	mhd.MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	/* No script at all, and nothing loaded from anywhere. */
	mhd.MHD_add_response_header(
		resp, "Content-Security-Policy",
		"default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
		"form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
	if (r->allow)
		mhd.MHD_add_response_header(resp, "Allow", r->allow);
	if (r->auth)
		mhd.MHD_add_response_header(
			resp, "WWW-Authenticate", "Bearer realm=\"zenc\"");
	if (r->set_cookie && srv->token) {
		zenc_buf cookie = ZENC_BUF_INIT;

		zenc_buf_printf(
			&cookie, "%s=%s; Path=/; HttpOnly; SameSite=Strict",
			UI_COOKIE, srv->token);
		mhd.MHD_add_response_header(
			resp, "Set-Cookie", zenc_buf_cstr(&cookie));
		zenc_buf_release(&cookie);
	}
	ret = mhd.MHD_queue_response(c, r->code, resp);
	mhd.MHD_destroy_response(resp);
	return ret;
}

/* A Host header that names a loopback host: 127.x.y.z, localhost or
 * [::1], with or without a port. */
static int host_header_ok(const char *host)
{
	const char *end;
	size_t n;
	char name[64];
	struct in_addr a4;

	if (!host)
		return 1; /* HTTP/1.0 */
	if (host[0] == '[') {
		end = strchr(host, ']');
		if (!end)
			return 0;
		n = (size_t)(end - host - 1);
		return n == 3 && !strncmp(host + 1, "::1", 3) &&
		       (!end[1] || end[1] == ':');
	}
	end = strchr(host, ':');
	n = end ? (size_t)(end - host) : strlen(host);
	if (n == 0 || n >= sizeof(name))
		return 0;
	memcpy(name, host, n);
	name[n] = '\0';
	if (!strcasecmp(name, "localhost"))
		return 1;
	return inet_pton(AF_INET, name, &a4) == 1 &&
	       (ntohl(a4.s_addr) >> 24) == 127;
}

/* The token of a request, if it carries the right one; sets
 * r->set_cookie when it came in the query. */
static int authorized(
	struct MHD_Connection *c,
	const struct ui_server *srv,
	struct ui_reply *r)
{
	const char *v;

	if (!srv->token)
		return 1;
	v = mhd.MHD_lookup_connection_value(
		c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	if (v && !strncasecmp(v, "Bearer ", 7) &&
	    token_equal(v + 7, srv->token))
		return 1;
	v = mhd.MHD_lookup_connection_value(c, MHD_COOKIE_KIND, UI_COOKIE);
	if (v && token_equal(v, srv->token))
		return 1;
	v = mhd.MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "token");
	if (v && token_equal(v, srv->token)) {
		r->set_cookie = 1;
		return 1;
	}
	return 0;
}

/* A query argument as a number: 1 with *out set, 0 when absent, -1 when
 * it is not a number (or 0 and `zero_ok` is not set). */
static int arg_size(
	struct MHD_Connection *c, const char *name, int zero_ok, size_t *out)
{
	const char *v =
		mhd.MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
	unsigned long long n;
	char *end;

	if (!v || !*v)
		return 0;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (*end || errno || v[0] == '-' || (!n && !zero_ok) ||
	    n > SIZE_MAX / 2)
		return -1;
	*out = (size_t)n;
	return 1;
}

static const char *arg_str(struct MHD_Connection *c, const char *name)
{
	const char *v =
		mhd.MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);

	return v && *v ? v : NULL;
}

static int status_known(const char *s)
{
	return !s || !strcmp(s, "running") || !strcmp(s, "completed") ||
	       !strcmp(s, "failed") || !strcmp(s, "cancelled");
}

static void serve_runs(
	struct MHD_Connection *c,
	zenc_store *store,
	struct ui_reply *r,
	int json)
{
	zenc_run_filter f = {0};
	zenc_run_list list = {0};
	cli_ui_list_view v = {0};
	size_t page = 1;

	f.pipeline = arg_str(c, "pipeline");
	f.status = arg_str(c, "status");
	if (!status_known(f.status)) {
		reply_error(
			r, MHD_HTTP_BAD_REQUEST, "Bad Request",
			"unknown status (known: running, completed, "
			"failed, cancelled)",
			json);
		return;
	}
	if (json) {
		if (arg_size(c, "limit", 0, &f.limit) < 0 ||
		    arg_size(c, "offset", 1, &f.offset) < 0) {
			reply_error(
				r, MHD_HTTP_BAD_REQUEST, "Bad Request",
				"invalid limit or offset", 1);
			return;
		}
	} else {
		if (arg_size(c, "page", 0, &page) < 0 ||
		    page > SIZE_MAX / 2 / UI_PER_PAGE) {
			reply_error(
				r, MHD_HTTP_BAD_REQUEST, "Bad Request",
				"invalid page (a positive integer)", 0);
			return;
		}
		/* One more than a page, to know whether there is another. */
		f.limit = UI_PER_PAGE + 1;
		f.offset = (page - 1) * UI_PER_PAGE;
	}
	if (zenc_store_runs_list(store, &f, &list) < 0) {
		reply_error(
			r, MHD_HTTP_INTERNAL_SERVER_ERROR,
			"Internal Server Error", zenc_error_last(), json);
		goto done;
	}
	r->code = MHD_HTTP_OK;
	if (json) {
		r->type = "application/json";
		cli_run_list_json(&r->body, &list);
		goto done;
	}
	v.pipeline = f.pipeline;
	v.status = f.status;
	v.page = page;
	v.per_page = UI_PER_PAGE;
	v.has_next = list.n > UI_PER_PAGE;
	if (list.n > UI_PER_PAGE)
		list.n = UI_PER_PAGE;
	r->type = "text/html; charset=utf-8";
	cli_ui_runs_page(&r->body, &list, &v);
done:
	zenc_run_list_free(&list);
}

/* /runs/<id>, /runs/<id>/dag.svg, /runs/<id>/dag.dot,
 * /runs/<id>/log-<step number>-<attempt>, /api/runs/<id>. */
static void serve_run(
	zenc_store *store,
	const char *id,
	const char *what,
	struct ui_reply *r,
	int json)
{
	zenc_run_info info = {0};
	zenc_alert_list alerts = {0};
	char *run_dir = NULL;
	int rc, has_alerts;

	if ((rc = zenc_store_run_show(store, id, &info)) < 0) {
		if (rc == ZENC_ENOTFOUND)
			reply_error(
				r, MHD_HTTP_NOT_FOUND, "Not Found",
				zenc_error_last(), json);
		else if (rc == ZENC_EINVALID)
			reply_error(
				r, MHD_HTTP_BAD_REQUEST, "Bad Request",
				zenc_error_last(), json);
		else
			reply_error(
				r, MHD_HTTP_INTERNAL_SERVER_ERROR,
				"Internal Server Error", zenc_error_last(),
				json);
		goto done;
	}
	r->code = MHD_HTTP_OK;
	/* The logs of attempts that run are read from the run's folder. */
	if (!json && info.rec.status && !strcmp(info.rec.status, "running") &&
	    zenc_store_run_dir(store, info.rec.id, &run_dir) < 0)
		run_dir = NULL;
	if (json) {
		r->type = "application/json";
		cli_run_json(&r->body, &info);
	} else if (!what) {
		r->type = "text/html; charset=utf-8";
		has_alerts = cli_ui_run_alerts(store, info.rec.id, &alerts);
		if (has_alerts < 0) {
			reply_error(
				r, MHD_HTTP_INTERNAL_SERVER_ERROR,
				"Internal Server Error", zenc_error_last(), 0);
			goto done;
		}
		cli_ui_run_page(
			&r->body, &info, has_alerts ? &alerts : NULL, 0,
			run_dir);
	} else if (!strcmp(what, "dag.svg")) {
		r->type = "image/svg+xml";
		cli_ui_dag_svg(&r->body, &info, 1);
	} else if (!strcmp(what, "dag.dot")) {
		r->type = "text/vnd.graphviz; charset=utf-8";
		cli_ui_dag_dot(&r->body, &info);
	} else if (!cli_ui_log_text(&r->body, &info, what, run_dir)) {
		/* An attempt's whole log (ui_logs.c): plain text. */
		r->type = "text/plain; charset=utf-8";
	} else {
		reply_error(
			r, MHD_HTTP_NOT_FOUND, "Not Found", "no such page", 0);
	}
done:
	free(run_dir);
	zenc_alert_list_free(&alerts);
	zenc_run_info_free(&info);
}

static void route(
	struct MHD_Connection *c,
	const struct ui_server *srv,
	const char *url,
	struct ui_reply *r)
{
	zenc_store *store = NULL;
	int json = !strncmp(url, "/api/", 5);
	char *id = NULL;
	const char *rest, *slash;

	if (strcmp(url, "/") && strcmp(url, "/api/runs") &&
	    strncmp(url, "/runs/", 6) && strncmp(url, "/api/runs/", 10)) {
		reply_error(
			r, MHD_HTTP_NOT_FOUND, "Not Found", "no such page",
			json);
		return;
	}
	/* Opened for each request: fresh records, and runs whose process
	 * died are marked failed, as `zenc runs list` does. */
	if (zenc_store_open(&store, srv->store_stack) < 0) {
		reply_error(
			r, MHD_HTTP_SERVICE_UNAVAILABLE, "Service Unavailable",
			zenc_error_last(), json);
		return;
	}
	if (!strcmp(url, "/") || !strcmp(url, "/api/runs")) {
		serve_runs(c, store, r, json);
		goto done;
	}
	rest = url + (json ? 10 : 6);
	slash = strchr(rest, '/');
	id = slash ? zenc__strndup(rest, (size_t)(slash - rest))
		   : zenc__strdup(rest);
	if (!*id || (slash && (json || !slash[1] || strchr(slash + 1, '/')))) {
		reply_error(
			r, MHD_HTTP_NOT_FOUND, "Not Found", "no such page",
			json);
		goto done;
	}
	serve_run(store, id, slash ? slash + 1 : NULL, r, json);
done:
	free(id);
	zenc_store_free(store);
}

static enum MHD_Result handle(
	void *cls,
	struct MHD_Connection *c,
	const char *url,
	const char *method,
	const char *version,
	const char *upload_data,
	size_t *upload_data_size,
	void **con_cls)
{
	const struct ui_server *srv = cls;
	const union MHD_ConnectionInfo *ci;
	struct ui_reply r = {0};
	enum MHD_Result ret;

	(void)version;
	(void)upload_data;
	(void)con_cls;
	r.body = (zenc_buf)ZENC_BUF_INIT;
	if (*upload_data_size) {
		/* A body we do not want: swallow it, answer at the end. */
		*upload_data_size = 0;
		return MHD_YES;
	}
	ci = mhd.MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (!cli_ui_peer_allowed(ci ? ci->client_addr : NULL, srv->loopback)) {
		reply_error(
			&r, MHD_HTTP_FORBIDDEN, "Forbidden",
			"this dashboard serves this machine only", 0);
		goto reply;
	}
	if (srv->loopback &&
	    !host_header_ok(mhd.MHD_lookup_connection_value(
		    c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST))) {
		reply_error(
			&r, MHD_HTTP_FORBIDDEN, "Forbidden",
			"the Host header does not name this machine", 0);
		goto reply;
	}
	if (!authorized(c, srv, &r)) {
		reply_error(
			&r, MHD_HTTP_UNAUTHORIZED, "Unauthorized",
			"this dashboard needs its token (Authorization: "
			"Bearer T, or ?token=T)",
			!strncmp(url, "/api/", 5));
		r.auth = 1;
		goto reply;
	}
	if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
		reply_error(
			&r, MHD_HTTP_METHOD_NOT_ALLOWED, "Method Not Allowed",
			"only GET and HEAD", 0);
		r.allow = "GET, HEAD";
		goto reply;
	}
	route(c, srv, url, &r);
reply:
	ret = queue(c, &r, srv);
	zenc_buf_release(&r.body);
	return ret;
}

/* Prints where it serves; `sa` is what was bound, `port` the real port. */
static void say_serving(
	const struct sockaddr_storage *sa,
	unsigned port,
	const struct ui_server *srv)
{
	char addr[INET6_ADDRSTRLEN] = "?";

	if (sa->ss_family == AF_INET)
		inet_ntop(
			AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
			addr, sizeof(addr));
	else
		inet_ntop(
			AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr,
			addr, sizeof(addr));
	printf("zenc ui: serving http://%s%s%s:%u/ (store: %s)%s\n",
	       sa->ss_family == AF_INET6 ? "[" : "", addr,
	       sa->ss_family == AF_INET6 ? "]" : "", port, srv->location,
	       srv->token ? ", token required" : "");
	fflush(stdout);
}

int cmd_ui(int argc, char **argv)
{
	const char *host = "127.0.0.1", *port_s = NULL, *check_peer = NULL;
	struct ui_server srv = {0};
	struct sockaddr_storage sa;
	socklen_t sa_len = 0;
	struct MHD_Daemon *d = NULL;
	const union MHD_DaemonInfo *di;
	zenc_store *store = NULL;
	unsigned long port = UI_DEFAULT_PORT;
	sigset_t stop;
	int i, m, rc = ZENC_EXIT_OK, sig;

	for (i = 1; i < argc; i++) {
		if (cli_is_help(argv[i])) {
			fputs(usage_ui, stdout);
			return ZENC_EXIT_OK;
		}
	}
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if ((m = zenc__opt_value(argc, argv, &i, "--port", &port_s)) ||
		    (m = zenc__opt_value(argc, argv, &i, "--host", &host)) ||
		    (m = zenc__opt_value(
			     argc, argv, &i, "--token", &srv.token)) ||
		    (m = zenc__opt_value(
			     argc, argv, &i, "--stack", &srv.stack)) ||
		    (m = zenc__opt_value(
			     argc, argv, &i, "--check-peer", &check_peer))) {
			if (m < 0)
				return cli_usage_error(
					usage_ui, "option '%s' needs a value",
					a);
			continue;
		}
		return cli_usage_error(
			usage_ui, "%s '%s' for 'ui'",
			a[0] == '-' ? "unknown option" : "unexpected argument",
			a);
	}
	if (port_s) {
		char *end;

		errno = 0;
		port = strtoul(port_s, &end, 10);
		if (!*port_s || *end || errno || port > 65535 ||
		    port_s[0] == '-') {
			cli_error("invalid port '%s' (0 to 65535)", port_s);
			return ZENC_EXIT_USAGE;
		}
	}
	if (!srv.token)
		srv.token = getenv("ZENC_UI_TOKEN");
	if (srv.token && !*srv.token)
		srv.token = NULL;
	if (srv.token && !token_valid(srv.token)) {
		cli_error("invalid token (printable ASCII without spaces, "
			  "quotes, commas, semicolons or backslashes)");
		return ZENC_EXIT_USAGE;
	}
	if (!*host)
		return cli_usage_error(
			usage_ui, "option '--host' needs a value");
	if (resolve_host(&sa, &sa_len, host, (unsigned)port) < 0)
		return ZENC_EXIT_USAGE;
	srv.loopback = cli_ui_addr_is_loopback((struct sockaddr *)&sa);

	/* A diagnostic for the access rule: would a request from this peer
	 * be served?  Prints "allow" or "deny". */
	if (check_peer) {
		struct sockaddr_storage peer;
		socklen_t peer_len;

		if (resolve_host(&peer, &peer_len, check_peer, 0) < 0)
			return ZENC_EXIT_USAGE;
		printf("%s\n", cli_ui_peer_allowed(
				       (struct sockaddr *)&peer, srv.loopback)
				       ? "allow"
				       : "deny");
		return ZENC_EXIT_OK;
	}
	if (!srv.loopback && !srv.token) {
		cli_error(
			"'--host %s' is not a loopback address: the dashboard "
			"would be reachable from other machines, so it needs "
			"a token (--token T or ZENC_UI_TOKEN)",
			host);
		return ZENC_EXIT_USAGE;
	}

	pthread_once(&mhd_once, mhd_load_once);
	if (!mhd_handle) {
		cli_error(
			"cannot load libmicrohttpd (" MHD_SONAME "): %s; "
			"install libmicrohttpd12",
			mhd_why);
		return ZENC_EXIT_ENV;
	}

	/* Opened once up front, so that a broken store says so now. */
	if ((rc = cli_open_store(&store, srv.stack)) != 0)
		goto done;
	srv.store_stack = zenc__strdup(zenc_store_stack_name(store));
	srv.location = zenc__strdup(zenc_store_location(store));
	zenc_store_free(store);
	store = NULL;

	/* The server thread inherits this mask; the main thread waits for
	 * the signals that stop it. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);

	errno = 0;
	d = mhd.MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD |
			(sa.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
		(uint16_t)port, NULL, NULL, handle, &srv, MHD_OPTION_SOCK_ADDR,
		(struct sockaddr *)&sa, MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned int)30, MHD_OPTION_CONNECTION_LIMIT, (unsigned int)64,
		MHD_OPTION_END);
	if (!d) {
		cli_error(
			"cannot listen on %s port %lu: %s", host, port,
			errno ? strerror(errno) : "the server did not start");
		rc = ZENC_EXIT_ENV;
		goto done;
	}
	di = mhd.MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	say_serving(&sa, di && di->port ? di->port : (unsigned)port, &srv);
	while (sigwait(&stop, &sig) == 0)
		if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP)
			break;
	rc = ZENC_EXIT_OK;
done:
	if (d)
		mhd.MHD_stop_daemon(d);
	zenc_store_free(store);
	free(srv.store_stack);
	free(srv.location);
	return rc;
}

/* zenc runs report, zenc runs dag */

/* RUN and the options of report and dag: an exit code when done (help or
 * a usage error), else -1. */
static int parse_run_cmd(
	int argc,
	char **argv,
	const char *usage,
	const char *verb,
	const char **run,
	const char *const *opt_name,
	const char **opt_value,
	const char **stack)
{
	int i, m;

	*run = NULL;
	for (i = 1; i < argc; i++) {
		if (cli_is_help(argv[i])) {
			fputs(usage, stdout);
			return ZENC_EXIT_OK;
		}
	}
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if ((m = zenc__opt_value(argc, argv, &i, "--stack", stack)) ||
		    (m = zenc__opt_value(
			     argc, argv, &i, opt_name[0], opt_value)) ||
		    (opt_name[1] &&
		     (m = zenc__opt_value(
			      argc, argv, &i, opt_name[1], opt_value)))) {
			if (m < 0)
				return cli_usage_error(
					usage, "option '%s' needs a value", a);
			continue;
		}
		if (a[0] == '-' && a[1])
			return cli_usage_error(
				usage, "unknown option '%s' for 'runs %s'", a,
				verb);
		if (*run)
			return cli_usage_error(
				usage, "unexpected argument '%s' for 'runs %s'",
				a, verb);
		*run = a;
	}
	if (!*run)
		return cli_usage_error(
			usage, "'runs %s' needs a run id or name", verb);
	return -1;
}

/* Loads a run for report and dag, and its alerts when `alerts` is not
 * NULL (*has_alerts 0 when the store has no outbox). */
static int load_run(
	zenc_run_info *info,
	const char *run,
	const char *stack,
	zenc_alert_list *alerts,
	int *has_alerts)
{
	zenc_store *store = NULL;
	int rc;

	if ((rc = cli_open_store(&store, stack)) != 0)
		return rc;
	if ((rc = zenc_store_run_show(store, run, info)) < 0) {
		cli_error("%s", zenc_error_last());
		rc = zenc_exit_status(rc);
		goto done;
	}
	if (alerts && (*has_alerts = cli_ui_run_alerts(
			       store, info->rec.id, alerts)) < 0) {
		cli_error("%s", zenc_error_last());
		rc = ZENC_EXIT_ENV;
		goto done;
	}
	rc = 0;
done:
	zenc_store_free(store);
	return rc;
}

static int write_stdout(const zenc_buf *b)
{
	if (fwrite(b->ptr ? b->ptr : "", 1, b->len, stdout) != b->len ||
	    fflush(stdout) == EOF) {
		cli_error("cannot write the output: %s", strerror(errno));
		return ZENC_EXIT_ENV;
	}
	return ZENC_EXIT_OK;
}

int cmd_runs_report(int argc, char **argv)
{
	static const char *const names[] = {"-o", "--output"};
	zenc_run_info info = {0};
	zenc_alert_list alerts = {0};
	int has_alerts = 0;
	zenc_buf out = ZENC_BUF_INIT;
	const char *run, *file = NULL, *stack = NULL;
	int rc;

	rc = parse_run_cmd(
		argc, argv, usage_report, "report", &run, names, &file, &stack);
	if (rc >= 0)
		return rc;
	if ((rc = load_run(&info, run, stack, &alerts, &has_alerts)) != 0)
		goto done;
	cli_ui_run_page(
		&out, &info, has_alerts ? &alerts : NULL, CLI_UI_REPORT, NULL);
	if (!file || !strcmp(file, "-")) {
		rc = write_stdout(&out);
	} else if (zenc__write_file_atomic(file, out.ptr, out.len, 0644) < 0) {
		cli_error("cannot write '%s': %s", file, strerror(errno));
		rc = ZENC_EXIT_ENV;
	} else {
		printf("Wrote the report of run '%s' to '%s'.\n", info.rec.name,
		       file);
		rc = ZENC_EXIT_OK;
	}
done:
	zenc_buf_release(&out);
	zenc_alert_list_free(&alerts);
	zenc_run_info_free(&info);
	return rc;
}

int cmd_runs_dag(int argc, char **argv)
{
	static const char *const names[] = {"--format", NULL};
	zenc_run_info info = {0};
	zenc_buf out = ZENC_BUF_INIT;
	const char *run, *format = "dot", *stack = NULL;
	int rc;

	rc = parse_run_cmd(
		argc, argv, usage_dag, "dag", &run, names, &format, &stack);
	if (rc >= 0)
		return rc;
	if (strcmp(format, "dot") && strcmp(format, "svg")) {
		cli_error("unknown format '%s' (known: dot, svg)", format);
		return ZENC_EXIT_USAGE;
	}
	if ((rc = load_run(&info, run, stack, NULL, NULL)) != 0)
		goto done;
	if (!strcmp(format, "svg"))
		cli_ui_dag_svg(&out, &info, 1);
	else
		cli_ui_dag_dot(&out, &info);
	rc = write_stdout(&out);
done:
	zenc_buf_release(&out);
	zenc_run_info_free(&info);
	return rc;
}
