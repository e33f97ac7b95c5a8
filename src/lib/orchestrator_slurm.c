/*
 * The Slurm orchestrator (docs/slurm.md): each step of a run is one Slurm
 * job, and the whole DAG is submitted up front with afterok dependencies.
 * A job runs the same program's hidden `__step` subcommand, which joins
 * the run, loads its inputs from the store and runs that one step under
 * the local supervisor (so hooks, deadlines, H8 continuations and retries
 * of raised failures behave as on one machine).
 *
 * The client follows the jobs with one squeue per poll.  A job that Slurm
 * killed (time limit, memory, scancel, node failure) never ran its failure
 * hooks: the client runs them in a fork of itself, records the failure,
 * and resubmits the step (and the descendants Slurm cancelled with it)
 * while it has retries left.  With --detach, a last job (afterany on all)
 * runs `__finish`, which does the same settling without retries and ends
 * the run.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine_run.h"
#include "orchestrator.h"

extern char **environ;

#define CANCEL_MARK ".cancelled"
/* A job id squeue, scontrol and sacct all stop knowing is given up on
 * after this many polls. */
#define MAX_UNKNOWN 20

typedef struct slurm_cfg {
	char *partition;
	char *account;
	char **extra;
	size_t n_extra;
	int single_node;
	double poll;
} slurm_cfg;

/* What the client knows of one step's job. */
typedef struct sjob {
	long job;          /* the current job; 0: none */
	int first_attempt; /* the attempt the current job starts with */
	char state[32];    /* as Slurm last said */
	char reason[64];
	int seen_running;
	int need_submit;
	int settled;
	int ours;    /* cancelled by the client: OURS_* */
	int unknown; /* polls in a row with no answer */
} sjob;

#define OURS_FAILED 1      /* the run failed: not started, so skipped */
#define OURS_INTERRUPTED 2 /* interrupted or cancelled */

typedef struct slurm {
	zenc__exec *x;
	const zenc_run_options *o;
	slurm_cfg cfg;
	char **entry; /* argv prefix that runs this program */
	sjob *st;
	size_t *topo;
	int interrupted; /* zenc__interrupted or `zenc runs cancel` */
	int no_retry;    /* __finish: nobody is left to resubmit */
} slurm;

/* ---- small helpers */

static void strv_push(char ***v, size_t *n, size_t *cap, const char *s)
{
	zenc__array_grow((void **)v, cap, *n + 2, sizeof(**v));
	(*v)[(*n)++] = zenc__strdup(s);
	(*v)[*n] = NULL;
}

static void strv_free(char **v)
{
	size_t i;

	for (i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static void cfg_release(slurm_cfg *c)
{
	size_t i;

	free(c->partition);
	free(c->account);
	for (i = 0; i < c->n_extra; i++)
		free(c->extra[i]);
	free(c->extra);
	memset(c, 0, sizeof(*c));
}

static int parse_bool(const char *v, int *out)
{
	if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "1") ||
	    !strcmp(v, "on"))
		*out = 1;
	else if (
		!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "0") ||
		!strcmp(v, "off"))
		*out = 0;
	else
		return -1;
	return 0;
}

/* The orchestrator component's keys, read from the stack's configuration
 * (the stack object only keeps what the engine asks of every flavor). */
static int cfg_load(slurm_cfg *c, const zenc_stack *stack)
{
	zenc__stacks cfg = ZENC__STACKS_INIT;
	const zenc__stack_def *def;
	const zenc__component *comp = NULL;
	const char *name = zenc__stack_component_name(stack, "orchestrator");
	zenc_buf b = ZENC_BUF_INIT;
	const char *v;
	size_t i;
	int rc;

	memset(c, 0, sizeof(*c));
	c->poll = 0.5;
	if ((rc = zenc__stacks_read(&cfg)) < 0)
		return rc;
	def = zenc__stacks_stack(&cfg, zenc_stack_name(stack));
	if (def && name)
		comp = zenc__stacks_component(
			&cfg, ZENC__KIND_ORCHESTRATOR, name);
	for (i = 0; comp && i < comp->n; i++) {
		const char *k = comp->keys[i];
		zenc_buf_clear(&b);
		if ((rc = zenc__secret_resolve(&b, comp->values[i])) < 0)
			goto done;
		v = zenc_buf_cstr(&b);
		if (!strcmp(k, "partition") && *v) {
			c->partition = zenc__strdup(v);
		} else if (!strcmp(k, "account") && *v) {
			c->account = zenc__strdup(v);
		} else if (!strcmp(k, "extra_args")) {
			const char *p = v;
			while (*p) {
				size_t n;
				while (*p == ' ' || *p == '\t')
					p++;
				n = strcspn(p, " \t");
				if (!n)
					break;
				c->extra = zenc__realloc(
					c->extra,
					(c->n_extra + 1) * sizeof(*c->extra));
				c->extra[c->n_extra++] = zenc__strndup(p, n);
				p += n;
			}
		} else if (!strcmp(k, "single_node")) {
			if (parse_bool(v, &c->single_node) < 0) {
				rc = zenc__error_set(
					ZENC_ECONFIG,
					"invalid single_node '%s' of "
					"orchestrator '%s' (true or false)",
					v, name);
				goto done;
			}
		} else if (!strcmp(k, "poll_interval")) {
			if (zenc__parse_duration(v, &c->poll) < 0 ||
			    c->poll <= 0) {
				rc = zenc__error_set(
					ZENC_ECONFIG,
					"invalid poll_interval '%s' of "
					"orchestrator '%s'",
					v, name);
				goto done;
			}
		}
	}
	rc = 0;
done:
	zenc_buf_release(&b);
	zenc__stacks_release(&cfg);
	if (rc < 0)
		cfg_release(c);
	return rc;
}

/*
 * Runs argv (searched in PATH) with standard output into `out` and
 * standard error into `err` (either may be NULL: discarded).  Returns the
 * exit status (0-255), or -1 when it could not be run (err says why).
 */
static int run_capture(char *const *argv, zenc_buf *out, zenc_buf *err)
{
	posix_spawn_file_actions_t fa;
	int po[2] = {-1, -1}, pe[2] = {-1, -1}, status = 0, rc = -1;
	struct pollfd pf[2];
	pid_t pid;

	if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0) {
		if (err)
			zenc_buf_printf(
				err, "cannot create a pipe: %s",
				strerror(errno));
		goto done;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, po[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(po[1]);
	close(pe[1]);
	po[1] = pe[1] = -1;
	if (rc != 0) {
		if (err)
			zenc_buf_printf(
				err, "cannot run '%s': %s", argv[0],
				strerror(rc));
		rc = -1;
		goto done;
	}
	pf[0].fd = po[0];
	pf[1].fd = pe[0];
	pf[0].events = pf[1].events = POLLIN;
	while (pf[0].fd >= 0 || pf[1].fd >= 0) {
		char chunk[4096];
		int k;
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (k = 0; k < 2; k++) {
			ssize_t r;
			zenc_buf *dst = k == 0 ? out : err;
			if (pf[k].fd < 0 || !pf[k].revents)
				continue;
			r = read(pf[k].fd, chunk, sizeof(chunk));
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				close(pf[k].fd);
				pf[k].fd = -1;
				continue;
			}
			if (dst)
				zenc_buf_put(dst, chunk, (size_t)r);
		}
	}
	po[0] = pe[0] = -1;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status))
		rc = WEXITSTATUS(status);
	else
		rc = 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
done:
	if (po[0] >= 0)
		close(po[0]);
	if (po[1] >= 0)
		close(po[1]);
	if (pe[0] >= 0)
		close(pe[0]);
	if (pe[1] >= 0)
		close(pe[1]);
	return rc;
}

/* Appends `s` quoted for /bin/sh. */
static void sh_quote(zenc_buf *b, const char *s)
{
	zenc_buf_putc(b, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			zenc_buf_puts(b, "'\\''");
		else
			zenc_buf_putc(b, *s);
	}
	zenc_buf_putc(b, '\'');
}

static void trim(zenc_buf *b)
{
	while (b->len &&
	       (b->ptr[b->len - 1] == '\n' || b->ptr[b->len - 1] == ' '))
		b->ptr[--b->len] = '\0';
}

static int scancel(const long *ids, size_t n)
{
	char **argv = NULL;
	size_t na = 0, cap = 0, i;
	char num[32];
	zenc_buf err = ZENC_BUF_INIT;
	int rc;

	if (!n)
		return 0;
	strv_push(&argv, &na, &cap, "scancel");
	for (i = 0; i < n; i++) {
		snprintf(num, sizeof(num), "%ld", ids[i]);
		strv_push(&argv, &na, &cap, num);
	}
	rc = run_capture(argv, NULL, &err);
	if (rc != 0) {
		trim(&err);
		zenc__warn("scancel failed: %s", zenc_buf_cstr(&err));
	}
	zenc_buf_release(&err);
	strv_free(argv);
	return rc == 0 ? 0 : -1;
}

/* ---- the stack check */

/* File systems that every node of a cluster can mount. */
static int is_shared_fs(long type)
{
	static const long shared[] = {
		0x6969,           /* nfs */
		0x517B,           /* smb */
		(long)0xFE534D42, /* smb2 */
		(long)0xFF534D42, /* cifs */
		0x0BD00BD0,       /* lustre */
		0x47504653,       /* gpfs */
		0x00C36400,       /* ceph */
		0x19830326,       /* beegfs */
		0x65735546,       /* fuse (glusterfs, ...) */
		0x5346414F,       /* afs */
		0x7461636F,       /* ocfs2 */
		0x01161970,       /* gfs2 */
		(long)0xAAD7AAEA, /* panfs */
		0x01021997,       /* 9p */
	};
	size_t i;

	for (i = 0; i < sizeof(shared) / sizeof(shared[0]); i++)
		if ((type & 0xffffffffL) == (shared[i] & 0xffffffffL))
			return 1;
	return 0;
}

/* Refuses a stack whose store or artifacts not every node reaches. */
static int slurm_check(zenc__exec *x)
{
	const char *store = zenc__stack_store_flavor(x->stack);
	const char *art = zenc__stack_artifact_path(x->stack);
	const char *name = zenc__stack_component_name(x->stack, "orchestrator");
	struct statfs sf;
	slurm_cfg c;
	int rc;

	if ((rc = cfg_load(&c, x->stack)) < 0)
		return rc;
	if (c.single_node)
		goto done;
	if (!store || !strcmp(store, "sqlite")) {
		rc = zenc__error_set(
			ZENC_ECONFIG,
			"the slurm orchestrator needs a metadata store that "
			"every node reaches (postgres), and stack '%s' uses "
			"sqlite; set single_node=true on orchestrator '%s' "
			"for a one-machine cluster",
			zenc_stack_name(x->stack), name);
		goto done;
	}
	if (!art || !strncmp(art, "/tmp/", 5) || !strcmp(art, "/tmp") ||
	    !strncmp(art, "/var/tmp/", 9) || !strncmp(art, "/dev/shm/", 9) ||
	    statfs(art, &sf) < 0 || !is_shared_fs((long)sf.f_type)) {
		rc = zenc__error_set(
			ZENC_ECONFIG,
			"the slurm orchestrator needs an artifact store on a "
			"file system every node mounts (NFS, Lustre, GPFS, "
			"...), and '%s' is local; set single_node=true on "
			"orchestrator '%s' for a one-machine cluster",
			art ? art : "", name);
		goto done;
	}
done:
	cfg_release(&c);
	return rc;
}

/* ---- records */

static void skip_step(slurm *sl, size_t i, const char *why)
{
	sl->st[i].settled = 1;
	sl->st[i].need_submit = 0;
	/* Written at once: the client may be gone before a batch. */
	zenc__engine_skip(sl->x, &sl->x->steps[i], why, 1);
}

/*
 * Step `i`'s attempt `attempt` was killed by Slurm (or its job ended
 * without recording it): the engine runs its on_retry or on_failure hooks
 * and its on_end hooks here, and records the attempt.  Returns 1 when the
 * step will be retried.
 */
static int settle_killed(slurm *sl, size_t i, int attempt, const char *type,
			 const char *msg, int retry_ok)
{
	return zenc__engine_attempt_lost(sl->x, &sl->x->steps[i], attempt,
					 type, msg, retry_ok);
}

/* ---- submission */

/* The program that runs a step: the entry argv with /proc/self/exe made
 * absolute, so that the job runs this very binary. */
static char **make_entry(const zenc__run_mode *m)
{
	static const char *const self[] = {"/proc/self/exe", NULL};
	const char *const *e = m && m->entry ? m->entry : self;
	char **v = NULL;
	size_t n = 0, cap = 0, i;

	for (i = 0; e[i]; i++) {
		if (!strcmp(e[i], "/proc/self/exe")) {
			char *p = realpath("/proc/self/exe", NULL);
			strv_push(&v, &n, &cap, p ? p : e[i]);
			free(p);
		} else {
			strv_push(&v, &n, &cap, e[i]);
		}
	}
	return v;
}

/* The options every job passes on: the same stack, configuration,
 * parameters and settings as the client's run. */
static void common_args(slurm *sl, char ***v, size_t *n, size_t *cap)
{
	const zenc_run_options *o = sl->o;
	char num[32];
	size_t i;

	strv_push(v, n, cap, "--run-id");
	strv_push(v, n, cap, sl->x->run->id);
	strv_push(v, n, cap, "--stack");
	strv_push(v, n, cap, zenc_stack_name(sl->x->stack));
	if (o && o->config_path) {
		char *p = realpath(o->config_path, NULL);
		strv_push(v, n, cap, "--config");
		strv_push(v, n, cap, p ? p : o->config_path);
		free(p);
	}
	for (i = 0; o && o->params && o->params[i]; i++) {
		strv_push(v, n, cap, "--param");
		strv_push(v, n, cap, o->params[i]);
	}
	if (o && o->retries >= 0) {
		snprintf(num, sizeof(num), "%d", o->retries);
		strv_push(v, n, cap, "--retries");
		strv_push(v, n, cap, num);
	}
	if (o && o->hook_failure >= 0) {
		strv_push(v, n, cap, "--hook-failure");
		strv_push(
			v, n, cap,
			o->hook_failure == ZENC_HOOK_FAILURE_FAIL ? "fail"
								  : "warn");
	}
	if (sl->x->isolation == ZENC_ISOLATION_NONE) {
		strv_push(v, n, cap, "--isolation");
		strv_push(v, n, cap, "none");
	}
}

/* `sbatch ... --wrap 'exec CMD'`: 0 and *job, or -1 with *why set. */
static int sbatch(
	slurm *sl,
	const char *jobname,
	const char *comment,
	const char *outdir,
	const char *dependency,
	const char *const *extra,
	char **cmd,
	long *job,
	zenc_buf *why)
{
	char **argv = NULL;
	size_t n = 0, cap = 0, i;
	zenc_buf wrap = ZENC_BUF_INIT, out = ZENC_BUF_INIT, opt = ZENC_BUF_INIT;
	char *end;
	int rc;

	strv_push(&argv, &n, &cap, "sbatch");
	strv_push(&argv, &n, &cap, "--parsable");
	strv_push(&argv, &n, &cap, "--job-name");
	strv_push(&argv, &n, &cap, jobname);
	strv_push(&argv, &n, &cap, "--comment");
	strv_push(&argv, &n, &cap, comment);
	zenc_buf_printf(&opt, "%s/slurm.%%j.out", outdir);
	strv_push(&argv, &n, &cap, "-o");
	strv_push(&argv, &n, &cap, opt.ptr);
	zenc_buf_clear(&opt);
	zenc_buf_printf(&opt, "%s/slurm.%%j.err", outdir);
	strv_push(&argv, &n, &cap, "-e");
	strv_push(&argv, &n, &cap, opt.ptr);
	if (dependency && *dependency) {
		zenc_buf_clear(&opt);
		zenc_buf_printf(&opt, "--dependency=%s", dependency);
		strv_push(&argv, &n, &cap, opt.ptr);
	}
	strv_push(&argv, &n, &cap, "--kill-on-invalid-dep=yes");
	if (sl->cfg.partition) {
		strv_push(&argv, &n, &cap, "--partition");
		strv_push(&argv, &n, &cap, sl->cfg.partition);
	}
	if (sl->cfg.account) {
		strv_push(&argv, &n, &cap, "--account");
		strv_push(&argv, &n, &cap, sl->cfg.account);
	}
	for (i = 0; extra && extra[i]; i++)
		strv_push(&argv, &n, &cap, extra[i]);
	for (i = 0; i < sl->cfg.n_extra; i++)
		strv_push(&argv, &n, &cap, sl->cfg.extra[i]);
	zenc_buf_puts(&wrap, "exec");
	for (i = 0; cmd[i]; i++) {
		zenc_buf_putc(&wrap, ' ');
		sh_quote(&wrap, cmd[i]);
	}
	strv_push(&argv, &n, &cap, "--wrap");
	strv_push(&argv, &n, &cap, wrap.ptr);
	rc = run_capture(argv, &out, why);
	if (rc == 0) {
		errno = 0;
		*job = strtol(zenc_buf_cstr(&out), &end, 10);
		if (errno || end == out.ptr || *job <= 0) {
			zenc_buf_printf(
				why, "unexpected sbatch output '%s'",
				zenc_buf_cstr(&out));
			rc = -1;
		}
	} else if (rc > 0) {
		trim(why);
		if (!why->len)
			zenc_buf_printf(why, "sbatch exited with code %d", rc);
		rc = -1;
	}
	trim(why);
	strv_free(argv);
	zenc_buf_release(&wrap);
	zenc_buf_release(&out);
	zenc_buf_release(&opt);
	return rc == 0 ? 0 : -1;
}

/* Resources of a step's job: a time limit that holds every attempt (the
 * supervisor in the job enforces the exact timeout) and its memory. */
static void step_resources(
	zenc__stepstate *ss,
	int first_attempt,
	char ***v,
	size_t *n,
	size_t *cap)
{
	char opt[64];
	int k;

	strv_push(v, n, cap, "--cpus-per-task=1");
	if (ss->timeout > 0) {
		double secs = 60; /* set-up and hooks */
		long minutes;
		for (k = first_attempt; k <= ss->max_retries + 1; k++) {
			secs += ss->timeout;
			if (k > first_attempt)
				secs += ss->delay * pow(ss->backoff, k - 2);
		}
		minutes = (long)ceil(secs / 60);
		snprintf(
			opt, sizeof(opt), "--time=%ld",
			minutes < 1 ? 1 : minutes);
		strv_push(v, n, cap, opt);
	}
	if (ss->step->memory_limit) {
		size_t mb = (ss->step->memory_limit + (1 << 20) - 1) >> 20;
		snprintf(opt, sizeof(opt), "--mem=%zu", mb);
		strv_push(v, n, cap, opt);
	}
}

static int submit_step(
	slurm *sl,
	size_t i,
	const char *dependency,
	double delay,
	zenc_buf *why)
{
	zenc__exec *x = sl->x;
	zenc__stepstate *ss = &x->steps[i];
	sjob *j = &sl->st[i];
	char **cmd = NULL, **extra = NULL;
	size_t n = 0, cap = 0, ne = 0, cape = 0, k;
	char *name, *comment, *outdir, num[32];
	int rc;

	for (k = 0; sl->entry[k]; k++)
		strv_push(&cmd, &n, &cap, sl->entry[k]);
	strv_push(&cmd, &n, &cap, "__step");
	strv_push(&cmd, &n, &cap, "--step");
	strv_push(&cmd, &n, &cap, ss->step->name);
	snprintf(num, sizeof(num), "%d", j->first_attempt);
	strv_push(&cmd, &n, &cap, "--attempt");
	strv_push(&cmd, &n, &cap, num);
	common_args(sl, &cmd, &n, &cap);
	step_resources(ss, j->first_attempt, &extra, &ne, &cape);
	if (delay > 0) {
		snprintf(
			num, sizeof(num), "--begin=now+%ld", (long)ceil(delay));
		strv_push(&extra, &ne, &cape, num);
	}
	name = zenc__asprintf("zenc-%.8s-%s", x->run->id, ss->step->name);
	comment = zenc__asprintf("%s/%s", x->run->id, ss->step->name);
	outdir = zenc__asprintf("%s/%s", x->run_dir, ss->step->name);
	if (zenc__mkdir_p(outdir, 0755) < 0) {
		zenc_buf_printf(
			why, "cannot create '%s': %s", outdir, strerror(errno));
		rc = -1;
	} else {
		rc =
			sbatch(sl, name, comment, outdir, dependency,
			       (const char *const *)extra, cmd, &j->job, why);
	}
	if (rc == 0) {
		j->need_submit = 0;
		j->state[0] = '\0';
		j->reason[0] = '\0';
		j->seen_running = 0;
		j->ours = 0;
		j->unknown = 0;
		if (!x->quiet)
			zenc__info(
				"Step %s submitted as Slurm job %ld%s%s.",
				ss->step->name, j->job,
				dependency && *dependency ? ", " : "",
				dependency ? dependency : "");
	}
	free(name);
	free(comment);
	free(outdir);
	strv_free(cmd);
	strv_free(extra);
	return rc;
}

/* Submits every step that needs it and whose upstream steps are all
 * completed or submitted, in dependency order. */
static void submit_pending(slurm *sl, double delay_for, size_t delayed)
{
	zenc__exec *x = sl->x;
	size_t t, d;

	for (t = 0; t < x->p->n_steps; t++) {
		size_t i = sl->topo[t];
		zenc__stepstate *ss = &x->steps[i];
		zenc_buf dep = ZENC_BUF_INIT, why = ZENC_BUF_INIT;
		int blocked = 0, doomed = 0;

		if (!sl->st[i].need_submit)
			continue;
		for (d = 0; d < ss->step->n_deps; d++) {
			size_t u = ss->step->deps[d]->index;
			if (x->steps[u].status == ZENC__ST_COMPLETED)
				continue;
			if (x->steps[u].status == ZENC__ST_FAILED ||
			    x->steps[u].status == ZENC__ST_SKIPPED) {
				doomed = 1;
				break;
			}
			if (sl->st[u].need_submit || !sl->st[u].job) {
				blocked = 1;
				break;
			}
			zenc_buf_puts(&dep, dep.len ? ":" : "afterok:");
			zenc_buf_printf(&dep, "%ld", sl->st[u].job);
		}
		if (doomed) {
			skip_step(sl, i, "an upstream step failed");
		} else if (!blocked && sl->interrupted) {
			skip_step(sl, i, "the run was interrupted");
		} else if (!blocked && x->stop && i != delayed) {
			/* As locally: after a failure nothing new starts,
			 * but a step waiting for its retry still gets it. */
			skip_step(sl, i, "the run failed");
		} else if (
			!blocked &&
			submit_step(
				sl, i, dep.ptr, i == delayed ? delay_for : 0,
				&why) < 0) {
			ss->attempt = sl->st[i].first_attempt;
			if (!ss->started)
				ss->started = zenc__now();
			settle_killed(
				sl, i, ss->attempt, "SubmitError",
				zenc_buf_cstr(&why), 0);
			sl->st[i].settled = 1;
			sl->st[i].need_submit = 0;
		}
		zenc_buf_release(&dep);
		zenc_buf_release(&why);
	}
}

/* ---- following the jobs */

static int is_final_state(const char *s)
{
	static const char *const fin[] = {
		"COMPLETED",     "FAILED",    "CANCELLED",    "TIMEOUT",
		"OUT_OF_MEMORY", "NODE_FAIL", "PREEMPTED",    "BOOT_FAIL",
		"DEADLINE",      "REVOKED",   "SPECIAL_EXIT",
	};
	size_t i;

	for (i = 0; i < sizeof(fin) / sizeof(fin[0]); i++)
		if (!strcmp(s, fin[i]))
			return 1;
	return 0;
}

static sjob *job_by_id(slurm *sl, long id)
{
	size_t i;

	for (i = 0; i < sl->x->p->n_steps; i++)
		if (sl->st[i].job == id && !sl->st[i].settled)
			return &sl->st[i];
	return NULL;
}

static void set_state(
	sjob *j,
	const char *state,
	size_t n_state,
	const char *reason,
	size_t n_reason)
{
	/* "CANCELLED by 0" and the like: the first word. */
	if (n_state > sizeof(j->state) - 1)
		n_state = sizeof(j->state) - 1;
	memcpy(j->state, state, n_state);
	j->state[n_state] = '\0';
	j->state[strcspn(j->state, " +")] = '\0';
	if (n_reason > sizeof(j->reason) - 1)
		n_reason = sizeof(j->reason) - 1;
	memcpy(j->reason, reason, n_reason);
	j->reason[n_reason] = '\0';
	j->unknown = 0;
	if ((!strcmp(j->state, "RUNNING") || !strcmp(j->state, "COMPLETING")) &&
	    !j->seen_running)
		j->seen_running = 1;
}

/* `scontrol show job -o ID` for a job squeue no longer shows, then
 * `sacct -c` (jobcomp/filetxt) once it has left the controller. */
static int query_one(sjob *j)
{
	char num[32];
	char *sc[] = {"scontrol", "show", "job", "-o", num, NULL};
	char *sa[] = {"sacct", "-c", "-P",    "-n", "-j",
		      num,     "-o", "state", NULL};
	zenc_buf out = ZENC_BUF_INIT;
	const char *p, *r;
	int rc = -1;

	snprintf(num, sizeof(num), "%ld", j->job);
	if (run_capture(sc, &out, NULL) == 0 &&
	    (p = strstr(zenc_buf_cstr(&out), "JobState="))) {
		p += 9;
		r = strstr(p, "Reason=");
		r = r ? r + 7 : "";
		set_state(j, p, strcspn(p, " \n"), r, strcspn(r, " \n"));
		rc = 0;
		goto done;
	}
	zenc_buf_clear(&out);
	if (run_capture(sa, &out, NULL) == 0 && out.len) {
		p = zenc_buf_cstr(&out);
		set_state(j, p, strcspn(p, " \n|"), "", 0);
		rc = 0;
	}
done:
	zenc_buf_release(&out);
	return rc;
}

/* One squeue for every job being followed. */
static void poll_jobs(slurm *sl)
{
	char **argv = NULL;
	size_t n = 0, cap = 0, i;
	zenc_buf ids = ZENC_BUF_INIT, out = ZENC_BUF_INIT;
	const char *p;

	for (i = 0; i < sl->x->p->n_steps; i++) {
		sjob *j = &sl->st[i];
		if (j->job && !j->settled && !j->need_submit)
			zenc_buf_printf(
				&ids, "%s%ld", ids.len ? "," : "", j->job);
		j->unknown++;
	}
	if (!ids.len)
		goto done;
	strv_push(&argv, &n, &cap, "squeue");
	strv_push(&argv, &n, &cap, "-h");
	strv_push(&argv, &n, &cap, "-t");
	strv_push(&argv, &n, &cap, "all");
	strv_push(&argv, &n, &cap, "-j");
	strv_push(&argv, &n, &cap, ids.ptr);
	strv_push(&argv, &n, &cap, "-o");
	strv_push(&argv, &n, &cap, "%i %T %r");
	run_capture(argv, &out, NULL);
	for (p = zenc_buf_cstr(&out); *p;) {
		const char *eol = strchr(p, '\n'), *st, *rs;
		char *end;
		long id;
		sjob *j;
		if (!eol)
			eol = p + strlen(p);
		id = strtol(p, &end, 10);
		st = end;
		while (*st == ' ')
			st++;
		rs = st + strcspn(st, " \n");
		if (rs > eol)
			rs = eol;
		j = end != p ? job_by_id(sl, id) : NULL;
		if (j) {
			const char *rr = *rs == ' ' ? rs + 1 : rs;
			set_state(
				j, st, (size_t)(rs - st), rr,
				(size_t)(eol - rr));
		}
		p = *eol ? eol + 1 : eol;
	}
	for (i = 0; i < sl->x->p->n_steps; i++) {
		sjob *j = &sl->st[i];
		if (j->job && !j->settled && !j->need_submit && j->unknown)
			query_one(j);
	}
done:
	strv_free(argv);
	zenc_buf_release(&ids);
	zenc_buf_release(&out);
}

static const zenc__step_info *find_step(
	const zenc__run_info *info, const char *name)
{
	size_t i;

	for (i = 0; i < info->n_steps; i++)
		if (!strcmp(info->steps[i].rec.name, name))
			return &info->steps[i];
	return NULL;
}

/* Descendants of step `i` whose jobs never started are cancelled and
 * submitted again behind the retried step. */
static void resubmit_with_descendants(slurm *sl, size_t i, double delay)
{
	zenc__exec *x = sl->x;
	long *ids = zenc__calloc(x->p->n_steps + 1, sizeof(*ids));
	char *mark = zenc__calloc(x->p->n_steps + 1, 1);
	size_t t, d, n = 0;

	mark[i] = 1;
	for (t = 0; t < x->p->n_steps; t++) {
		size_t k = sl->topo[t];
		zenc_step *s = x->steps[k].step;
		if (mark[k])
			continue;
		for (d = 0; d < s->n_deps; d++)
			if (mark[s->deps[d]->index])
				mark[k] = 1;
		if (!mark[k] || sl->st[k].settled)
			continue;
		if (sl->st[k].job && !is_final_state(sl->st[k].state))
			ids[n++] = sl->st[k].job;
		sl->st[k].job = 0;
		sl->st[k].need_submit = 1;
	}
	scancel(ids, n);
	sl->st[i].need_submit = 1;
	sl->st[i].job = 0;
	sl->st[i].first_attempt = x->steps[i].attempt + 1;
	submit_pending(sl, delay, i);
	free(ids);
	free(mark);
}

/* The failure of a step that Slurm ended, as a type and a message. */
static void killed_error(const sjob *j, const char **type, zenc_buf *msg)
{
	const char *s = j->state;

	if (!strcmp(s, "TIMEOUT") || !strcmp(s, "DEADLINE")) {
		*type = "Timeout";
		zenc_buf_printf(
			msg, "Slurm job %ld reached its time limit", j->job);
	} else if (!strcmp(s, "OUT_OF_MEMORY")) {
		*type = "OutOfMemory";
		zenc_buf_printf(msg, "Slurm job %ld ran out of memory", j->job);
	} else if (
		!strcmp(s, "CANCELLED") || !strcmp(s, "PREEMPTED") ||
		!strcmp(s, "REVOKED")) {
		*type = "Cancelled";
		if (j->ours == OURS_INTERRUPTED)
			zenc_buf_printf(
				msg,
				"the run was interrupted (Slurm "
				"job %ld cancelled)",
				j->job);
		else
			zenc_buf_printf(
				msg, "Slurm job %ld was %s", j->job,
				!strcmp(s, "CANCELLED") ? "cancelled"
							: "preempted");
	} else if (!strcmp(s, "NODE_FAIL") || !strcmp(s, "BOOT_FAIL")) {
		*type = "NodeFailure";
		zenc_buf_printf(
			msg, "the node of Slurm job %ld failed (%s)", j->job,
			s);
	} else if (!strcmp(s, "LOST")) {
		*type = "Lost";
		zenc_buf_printf(msg, "Slurm no longer knows job %ld", j->job);
	} else {
		*type = "ExitCode";
		zenc_buf_printf(
			msg,
			"Slurm job %ld ended (%s) without "
			"recording the step; see its slurm.%ld.err",
			j->job, s, j->job);
	}
}

static void stop_pending(slurm *sl, int why);

/* Slurm killed step `i`'s job, or the job died before it could record
 * the outcome: its failure hooks run here, then a retry or the end. */
static void settle_failure(slurm *sl, size_t i, const zenc__step_info *si)
{
	zenc__exec *x = sl->x;
	zenc__stepstate *ss = &x->steps[i];
	sjob *j = &sl->st[i];
	zenc_buf msg = ZENC_BUF_INIT;
	const char *type;
	int attempt = j->first_attempt, retry;

	if (si && si->rec.attempts > attempt)
		attempt = si->rec.attempts;
	if (si && si->rec.started > 0)
		ss->started = si->rec.started;
	else if (!ss->started)
		ss->started = zenc__now();
	free(ss->log_uri);
	ss->log_uri = si ? zenc__strdup(si->rec.log_uri) : NULL;
	killed_error(j, &type, &msg);
	/* No retry for what the client cancelled itself, nor when nobody is
	 * left to resubmit (__finish). */
	retry = settle_killed(
		sl, i, attempt, type, msg.ptr,
		!sl->no_retry && !sl->interrupted && !j->ours);
	zenc_buf_release(&msg);
	if (retry) {
		double wait = zenc__engine_retry_wait(ss, attempt);
		zenc__info(
			"Step %s failed on attempt %d; retrying in %.3gs "
			"as a new Slurm job.",
			ss->step->name, attempt, wait);
		resubmit_with_descendants(sl, i, wait);
		return;
	}
	j->settled = 1;
	if (!x->keep_going)
		stop_pending(sl, OURS_FAILED);
}

/* Step `i`'s job has ended: what happened to the step? */
static void settle(slurm *sl, size_t i, const zenc__run_info *info)
{
	zenc__exec *x = sl->x;
	zenc__stepstate *ss = &x->steps[i];
	sjob *j = &sl->st[i];
	const zenc__step_info *si = find_step(info, ss->step->name);
	const char *rs = si ? si->rec.status : NULL;
	int started;

	if (rs &&
	    (!strcmp(rs, "completed") || !strcmp(rs, "failed") ||
	     !strcmp(rs, "skipped")) &&
	    si->rec.attempts >= j->first_attempt) {
		/* The job recorded the outcome itself. */
		j->settled = 1;
		ss->attempt = si->rec.attempts;
		ss->started = si->rec.started;
		ss->ended = si->rec.ended;
		if (!strcmp(rs, "completed")) {
			ss->status = ZENC__ST_COMPLETED;
			if (!x->quiet)
				zenc__info(
					"Step %s has finished in %.3fs.",
					ss->step->name,
					ss->ended - ss->started);
			return;
		}
		ss->status = !strcmp(rs, "failed") ? ZENC__ST_FAILED
						   : ZENC__ST_SKIPPED;
		zenc__error_assign(
			&ss->error, si->rec.error_type, si->rec.error_message,
			si->rec.exit_code, si->rec.signal, si->rec.attempts);
		if (!x->quiet && ss->status == ZENC__ST_FAILED)
			zenc__log(
				ZENC_LOG_ERROR, "Step %s failed: %s: %s",
				ss->step->name,
				si->rec.error_type ? si->rec.error_type
						   : "Error",
				si->rec.error_message ? si->rec.error_message
						      : "");
		x->run->failed = 1;
		if (!x->keep_going)
			stop_pending(sl, OURS_FAILED);
		return;
	}
	started = j->seen_running || strcmp(j->state, "CANCELLED") ||
		  (si && si->rec.attempts >= j->first_attempt);
	if (!started) {
		size_t d;
		int upstream_failed = 0;
		for (d = 0; d < ss->step->n_deps; d++) {
			zenc__step_status us =
				x->steps[ss->step->deps[d]->index].status;
			if (us == ZENC__ST_FAILED || us == ZENC__ST_SKIPPED)
				upstream_failed = 1;
		}
		if (upstream_failed ||
		    !strcmp(j->reason, "DependencyNeverSatisfied")) {
			skip_step(sl, i, "an upstream step failed");
		} else if (j->ours == OURS_FAILED) {
			skip_step(sl, i, "the run failed");
		} else if (j->ours == OURS_INTERRUPTED || sl->interrupted) {
			skip_step(sl, i, "the run was interrupted");
		} else {
			/* Cancelled while it waited: nothing ran, but it
			 * is a failure all the same. */
			started = 1;
		}
		if (!started)
			return;
	}
	settle_failure(sl, i, si);
}

/* Cancels the jobs that have not started (the run failed: they are
 * skipped) or every job (interrupted). */
static void stop_pending(slurm *sl, int why)
{
	zenc__exec *x = sl->x;
	long *ids = zenc__calloc(x->p->n_steps + 1, sizeof(*ids));
	size_t i, n = 0;

	if (why == OURS_FAILED)
		x->stop = 1;
	for (i = 0; i < x->p->n_steps; i++) {
		sjob *j = &sl->st[i];
		if (j->settled)
			continue;
		if (j->need_submit) {
			j->need_submit = 0;
			skip_step(
				sl, i,
				why == OURS_FAILED ? "the run failed"
						   : "the run was interrupted");
			continue;
		}
		if (!j->job || is_final_state(j->state) || j->ours)
			continue;
		if (why == OURS_FAILED &&
		    (j->seen_running || strcmp(j->state, "PENDING")))
			continue;
		j->ours = why;
		ids[n++] = j->job;
	}
	scancel(ids, n);
	free(ids);
}

static int cancel_marked(slurm *sl)
{
	struct stat st;
	char *path = zenc__asprintf("%s/%s", sl->x->run_dir, CANCEL_MARK);
	int r = stat(path, &st) == 0;

	free(path);
	return r;
}

/* Steps in an order where every step comes after its upstream steps. */
static size_t *topo_order(zenc_pipeline *p)
{
	size_t *order = zenc__calloc(p->n_steps + 1, sizeof(*order));
	char *done = zenc__calloc(p->n_steps + 1, 1);
	size_t n = 0, i, d;
	int progress = 1;

	while (n < p->n_steps && progress) {
		progress = 0;
		for (i = 0; i < p->n_steps; i++) {
			int ready = !done[i];
			for (d = 0; ready && d < p->steps[i]->n_deps; d++)
				if (!done[p->steps[i]->deps[d]->index])
					ready = 0;
			if (ready) {
				done[i] = 1;
				order[n++] = i;
				progress = 1;
			}
		}
	}
	free(done);
	return order;
}

static void slurm_release(slurm *sl)
{
	cfg_release(&sl->cfg);
	strv_free(sl->entry);
	free(sl->st);
	free(sl->topo);
}

static int slurm_init(
	slurm *sl,
	zenc__exec *x,
	const zenc_run_options *o,
	const zenc__run_mode *m)
{
	size_t i;
	int rc;

	memset(sl, 0, sizeof(*sl));
	sl->x = x;
	sl->o = o;
	if ((rc = cfg_load(&sl->cfg, x->stack)) < 0)
		return rc;
	sl->entry = make_entry(m);
	sl->st = zenc__calloc(x->p->n_steps + 1, sizeof(*sl->st));
	sl->topo = topo_order(x->p);
	for (i = 0; i < x->p->n_steps; i++)
		sl->st[i].first_attempt = 1;
	return 0;
}

/* Polls until every step is settled. */
static void follow(slurm *sl)
{
	zenc__exec *x = sl->x;
	size_t i, t;

	for (;;) {
		zenc__run_info info;
		int pending = 0, ended = 0;

		if (!sl->interrupted && !sl->no_retry &&
		    (zenc__interrupted || cancel_marked(sl))) {
			sl->interrupted = 1;
			x->stop = 1;
			x->run->failed = 1;
			zenc__warn(
				"%s: cancelling the run's Slurm jobs",
				zenc__interrupted ? "interrupted"
						  : "the run was cancelled");
			stop_pending(sl, OURS_INTERRUPTED);
		}
		for (i = 0; i < x->p->n_steps; i++)
			if (!sl->st[i].settled)
				pending = 1;
		if (!pending)
			break;
		poll_jobs(sl);
		for (i = 0; i < x->p->n_steps; i++) {
			sjob *j = &sl->st[i];
			if (j->settled || !j->job)
				continue;
			if (j->unknown > MAX_UNKNOWN) {
				snprintf(j->state, sizeof(j->state), "LOST");
				j->unknown = 0;
			}
			if (!strcmp(j->state, "RUNNING") &&
			    j->seen_running == 1) {
				j->seen_running = 2;
				if (!x->quiet)
					zenc__info(
						"Step %s has started "
						"(Slurm job %ld).",
						x->steps[i].step->name, j->job);
			}
			if (is_final_state(j->state) ||
			    !strcmp(j->state, "LOST"))
				ended = 1;
		}
		if (ended) {
			memset(&info, 0, sizeof(info));
			if (x->store->run_show(x->store, x->run->id, &info) < 0)
				zenc__warn(
					"cannot read the run's records: "
					"%s",
					zenc_error_last());
			for (t = 0; t < x->p->n_steps; t++) {
				sjob *j = &sl->st[sl->topo[t]];
				if (j->settled || !j->job ||
				    (!is_final_state(j->state) &&
				     strcmp(j->state, "LOST")))
					continue;
				settle(sl, sl->topo[t], &info);
			}
			zenc__run_info_free(&info);
			continue;
		}
		zenc__sleep(sl->cfg.poll);
	}
	for (i = 0; i < x->p->n_steps; i++)
		if (x->steps[i].status == ZENC__ST_FAILED ||
		    x->steps[i].status == ZENC__ST_SKIPPED)
			x->run->failed = 1;
}

/* Submits the run's steps as Slurm jobs and follows them to the end;
 * returns 1 when it returned at once after submission (detach). */
static int slurm_run(zenc__exec *x, const zenc_run_options *o,
		     const zenc__run_mode *m)
{
	slurm sl;
	size_t i;
	int rc = 0;

	if (slurm_init(&sl, x, o, m) < 0) {
		zenc__log(ZENC_LOG_ERROR, "slurm: %s", zenc_error_last());
		x->run->failed = 1;
		return 0;
	}
	for (i = 0; i < x->p->n_steps; i++)
		sl.st[i].need_submit = 1;
	submit_pending(&sl, 0, (size_t)-1);
	if (m && m->detach) {
		/* The last job settles what Slurm killed and ends the run. */
		char **cmd = NULL;
		long *ids = zenc__calloc(x->p->n_steps + 1, sizeof(*ids));
		size_t n = 0, cap = 0, k, nid = 0;
		zenc_buf dep = ZENC_BUF_INIT, jobs = ZENC_BUF_INIT;
		zenc_buf why = ZENC_BUF_INIT;
		char *name, *comment;
		long job = 0;

		for (k = 0; sl.entry[k]; k++)
			strv_push(&cmd, &n, &cap, sl.entry[k]);
		strv_push(&cmd, &n, &cap, "__finish");
		for (i = 0; i < x->p->n_steps; i++) {
			if (!sl.st[i].job)
				continue;
			ids[nid++] = sl.st[i].job;
			zenc_buf_puts(&dep, dep.len ? ":" : "afterany:");
			zenc_buf_printf(&dep, "%ld", sl.st[i].job);
			zenc_buf_printf(
				&jobs, "%s%s=%ld", jobs.len ? "," : "",
				x->steps[i].step->name, sl.st[i].job);
		}
		strv_push(&cmd, &n, &cap, "--slurm-jobs");
		strv_push(&cmd, &n, &cap, zenc_buf_cstr(&jobs));
		common_args(&sl, &cmd, &n, &cap);
		name = zenc__asprintf("zenc-%.8s-__finish", x->run->id);
		comment = zenc__asprintf("%s/__finish", x->run->id);
		if (sbatch(&sl, name, comment, x->run_dir, dep.ptr, NULL, cmd,
			   &job, &why) < 0) {
			zenc__log(
				ZENC_LOG_ERROR,
				"cannot submit the job that ends the run: "
				"%s; following the run here instead",
				zenc_buf_cstr(&why));
		} else {
			rc = 1;
			if (!x->quiet)
				zenc__info("Slurm job %ld ends the run.", job);
		}
		free(name);
		free(comment);
		free(ids);
		strv_free(cmd);
		zenc_buf_release(&dep);
		zenc_buf_release(&jobs);
		zenc_buf_release(&why);
		if (rc == 1)
			goto done;
	}
	follow(&sl);
done:
	slurm_release(&sl);
	return rc;
}

/* ---- inside the jobs */

/* Joins the run of m->run_id (name, start time from the store). */
static int join_run(zenc__exec *x, const zenc__run_mode *m)
{
	zenc__run_info info;
	const zenc__step_info *si;
	size_t i;
	int rc;

	memset(&info, 0, sizeof(info));
	if ((rc = x->store->run_show(x->store, m->run_id, &info)) < 0)
		return rc == ZENC_ENOTFOUND ? zenc__error_set(
						      ZENC_ECONFIG,
						      "unknown run '%s' in "
						      "the metadata store",
						      m->run_id)
					    : rc;
	free(x->run->name);
	x->run->name = zenc__strdup(info.rec.name);
	if (info.rec.started > 0)
		x->started = info.rec.started;
	for (i = 0; m->step && i < x->p->n_steps; i++) {
		si = find_step(&info, x->steps[i].step->name);
		if (si && si->rec.started > 0)
			x->steps[i].started = si->rec.started;
	}
	zenc__run_info_free(&info);
	return 0;
}

/* Upstream step `d`'s artifacts, from the store, for the step's inputs. */
static int load_artifacts(zenc__exec *x, zenc__stepstate *ds)
{
	zenc__artifact_record *recs = NULL;
	void *arena = NULL;
	size_t n = 0, k;
	int rc;

	if ((rc = x->store->artifacts_get(
		     x->store, x->run->id, ds->step->name, &recs, &n, &arena)) <
	    0)
		return rc;
	ds->arts = zenc__calloc(n + 1, sizeof(*ds->arts));
	for (k = 0; k < n; k++) {
		zenc__artifact *a = &ds->arts[k];
		zenc_type t = ZENC_BYTES;
		a->name = zenc__strdup(recs[k].name);
		if (recs[k].type)
			zenc_type_parse(&t, recs[k].type);
		a->type = t;
		a->uri = zenc__strdup(recs[k].uri);
		a->size = recs[k].size;
		snprintf(
			a->checksum, sizeof(a->checksum), "%s",
			recs[k].checksum ? recs[k].checksum : "");
	}
	ds->n_arts = n;
	zenc__arena_free(arena);
	return 0;
}

/* Inside a job: runs step m->step of the joined run. */
static int job_step(zenc__exec *x, const zenc__run_mode *m)
{
	zenc__stepstate *target = NULL;
	size_t i, d;
	int rc;

	for (i = 0; i < x->p->n_steps; i++)
		if (!strcmp(x->steps[i].step->name, m->step))
			target = &x->steps[i];
	if (!target)
		return zenc__error_set(
			ZENC_ENOTFOUND, "pipeline '%s' has no step '%s'",
			x->p->name, m->step);
	for (d = 0; d < target->step->n_deps; d++) {
		zenc__stepstate *ds = &x->steps[target->step->deps[d]->index];
		if ((rc = load_artifacts(x, ds)) < 0)
			return rc;
	}
	/* The engine runs it here as on one machine: hooks, deadlines,
	 * continuations and retries of raised failures. */
	return zenc__engine_run_one(x, target, m->attempt);
}

/* Inside the final job of a detached run: settles what Slurm killed and
 * ends the run. */
static int job_finish(zenc__exec *x, const zenc__run_mode *m)
{
	zenc__run_info info;
	const char *p = m->jobs ? m->jobs : "";
	slurm sl;
	size_t i;
	int rc;

	if ((rc = slurm_init(&sl, x, NULL, m)) < 0)
		return rc;
	sl.no_retry = 1;
	/* "step=id,step=id" */
	while (*p) {
		size_t n = strcspn(p, ",");
		const char *eq = memchr(p, '=', n);
		for (i = 0; eq && i < x->p->n_steps; i++)
			if (strlen(x->steps[i].step->name) ==
				    (size_t)(eq - p) &&
			    !strncmp(
				    x->steps[i].step->name, p,
				    (size_t)(eq - p)))
				sl.st[i].job = strtol(eq + 1, NULL, 10);
		p += n;
		if (*p)
			p++;
	}
	memset(&info, 0, sizeof(info));
	if ((rc = x->store->run_show(x->store, x->run->id, &info)) < 0)
		goto done;
	/* Steps the client settled before it left (failed submission,
	 * skipped) have their records already. */
	for (i = 0; i < x->p->n_steps; i++) {
		const zenc__step_info *si =
			find_step(&info, x->steps[i].step->name);
		const char *rs = si ? si->rec.status : NULL;
		if (!sl.st[i].job && rs &&
		    (!strcmp(rs, "failed") || !strcmp(rs, "skipped"))) {
			sl.st[i].settled = 1;
			x->steps[i].status = !strcmp(rs, "failed")
						     ? ZENC__ST_FAILED
						     : ZENC__ST_SKIPPED;
		} else if (!sl.st[i].job) {
			skip_step(&sl, i, "it was never submitted");
		}
	}
	zenc__run_info_free(&info);
	x->keep_going = 1; /* nothing is left to stop */
	if (cancel_marked(&sl))
		sl.interrupted = 1;
	follow(&sl);
	zenc__engine_end_run(x);
	zenc__info(
		"Run %s %s.", x->run->name,
		x->run->failed ? "failed" : "completed");
	rc = 0;
done:
	slurm_release(&sl);
	return rc;
}

static int slurm_join(zenc__exec *x, const zenc__run_mode *m)
{
	int rc;

	if ((rc = join_run(x, m)) < 0)
		return rc;
	return m->finish ? job_finish(x, m) : job_step(x, m);
}

/* Its jobs run steps on other nodes; what the client runs itself (the
 * hooks of a killed job, run-level hooks) is placed by the engine on this
 * machine. */
const zenc__orchestrator zenc__orchestrator_slurm = {
	.version = ZENC__ORCHESTRATOR_VERSION,
	.name = "slurm",
	.check = slurm_check,
	.run = slurm_run,
	.join = slurm_join,
};

/* ---- zenc runs cancel */

int zenc__slurm_cancel_run(const char *run_id, const char *run_dir, size_t *n)
{
	char *sq[] = {"squeue", "-h", "-o", "%i %k", NULL};
	zenc_buf out = ZENC_BUF_INIT, err = ZENC_BUF_INIT;
	long *ids = NULL;
	size_t cap = 0, len = strlen(run_id);
	char *mark;
	const char *p;
	int rc;

	*n = 0;
	/* First the mark, so that the client (or the last job) knows the
	 * cancellations that follow are the run's, not one job's. */
	mark = zenc__asprintf("%s/%s", run_dir, CANCEL_MARK);
	if (zenc__mkdir_p(run_dir, 0755) < 0 ||
	    zenc__write_file_atomic(mark, "cancelled\n", 10, 0644) < 0) {
		rc = zenc__error_set(
			ZENC_EIO, "cannot write '%s': %s", mark,
			strerror(errno));
		goto done;
	}
	rc = run_capture(sq, &out, &err);
	if (rc != 0) {
		trim(&err);
		rc = zenc__error_set(
			ZENC_EUNREACHABLE, "squeue failed: %s",
			err.len ? err.ptr : "cannot run it");
		goto done;
	}
	for (p = zenc_buf_cstr(&out); *p;) {
		const char *eol = strchr(p, '\n'), *c;
		char *end;
		long id;
		if (!eol)
			eol = p + strlen(p);
		id = strtol(p, &end, 10);
		c = end;
		while (*c == ' ')
			c++;
		/* The comment is RUN_ID/STEP; the last job stays, to end
		 * the run. */
		if (end != p && (size_t)(eol - c) > len + 1 &&
		    !strncmp(c, run_id, len) && c[len] == '/' &&
		    strncmp(c + len + 1, "__finish", 8)) {
			zenc__array_grow(
				(void **)&ids, &cap, *n + 1, sizeof(*ids));
			ids[(*n)++] = id;
		}
		p = *eol ? eol + 1 : eol;
	}
	rc = 0;
	if (*n && scancel(ids, *n) < 0)
		rc = zenc__error_set(
			ZENC_EUNREACHABLE, "scancel failed for run '%s'",
			run_id);
done:
	free(mark);
	free(ids);
	zenc_buf_release(&out);
	zenc_buf_release(&err);
	return rc;
}
