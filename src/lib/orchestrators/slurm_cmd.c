/*
 * Talking to Slurm for the Slurm orchestrator: its configuration, the
 * stack check, and the commands (sbatch, squeue, scontrol, sacct,
 * scancel), each run with posix_spawn and its output captured.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <sys/wait.h>

#include "orchestrators/orchestrator.h"
#include "orchestrators/slurm_cmd.h"

extern char **environ;

void zenc__strv_push(char ***v, size_t *n, size_t *cap, const char *s)
{
	zenc__array_grow((void **)v, cap, *n + 2, sizeof(**v));
	(*v)[(*n)++] = zenc__strdup(s);
	(*v)[*n] = NULL;
}

void zenc__strv_free(char **v)
{
	size_t i;

	for (i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

void zenc__slurm_cfg_release(zenc__slurm_cfg *c)
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
int zenc__slurm_cfg_load(zenc__slurm_cfg *c, const zenc_stack *stack)
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
	c->unreachable = ZENC__SLURM_UNREACHABLE_DEFAULT;
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
		} else if (!strcmp(k, "unreachable_timeout")) {
			if (zenc__parse_duration(v, &c->unreachable) < 0 ||
			    c->unreachable <= 0) {
				rc = zenc__error_set(
					ZENC_ECONFIG,
					"invalid unreachable_timeout '%s' of "
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
		zenc__slurm_cfg_release(c);
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

int zenc__slurm_scancel(const long *ids, size_t n)
{
	char **argv = NULL;
	size_t na = 0, cap = 0, i;
	char num[32];
	zenc_buf err = ZENC_BUF_INIT;
	int rc;

	if (!n)
		return 0;
	zenc__strv_push(&argv, &na, &cap, "scancel");
	for (i = 0; i < n; i++) {
		snprintf(num, sizeof(num), "%ld", ids[i]);
		zenc__strv_push(&argv, &na, &cap, num);
	}
	rc = run_capture(argv, NULL, &err);
	if (rc != 0) {
		trim(&err);
		zenc__warn("scancel failed: %s", zenc_buf_cstr(&err));
	}
	zenc_buf_release(&err);
	zenc__strv_free(argv);
	return rc == 0 ? 0 : -1;
}

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
int zenc__slurm_check(zenc__exec *x)
{
	const char *store = zenc__stack_store_flavor(x->stack);
	const char *art = zenc__stack_artifact_path(x->stack);
	const char *name = zenc__stack_component_name(x->stack, "orchestrator");
	struct statfs sf;
	zenc__slurm_cfg c;
	int rc;

	if ((rc = zenc__slurm_cfg_load(&c, x->stack)) < 0)
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
	zenc__slurm_cfg_release(&c);
	return rc;
}

/* `sbatch ... --wrap 'exec CMD'`: 0 and *job, or -1 with *why set. */
int zenc__slurm_sbatch(
	const zenc__slurm_cfg *cfg,
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

	zenc__strv_push(&argv, &n, &cap, "sbatch");
	zenc__strv_push(&argv, &n, &cap, "--parsable");
	zenc__strv_push(&argv, &n, &cap, "--job-name");
	zenc__strv_push(&argv, &n, &cap, jobname);
	zenc__strv_push(&argv, &n, &cap, "--comment");
	zenc__strv_push(&argv, &n, &cap, comment);
	zenc_buf_printf(&opt, "%s/slurm.%%j.out", outdir);
	zenc__strv_push(&argv, &n, &cap, "-o");
	zenc__strv_push(&argv, &n, &cap, opt.ptr);
	zenc_buf_clear(&opt);
	zenc_buf_printf(&opt, "%s/slurm.%%j.err", outdir);
	zenc__strv_push(&argv, &n, &cap, "-e");
	zenc__strv_push(&argv, &n, &cap, opt.ptr);
	if (dependency && *dependency) {
		zenc_buf_clear(&opt);
		zenc_buf_printf(&opt, "--dependency=%s", dependency);
		zenc__strv_push(&argv, &n, &cap, opt.ptr);
	}
	zenc__strv_push(&argv, &n, &cap, "--kill-on-invalid-dep=yes");
	if (cfg->partition) {
		zenc__strv_push(&argv, &n, &cap, "--partition");
		zenc__strv_push(&argv, &n, &cap, cfg->partition);
	}
	if (cfg->account) {
		zenc__strv_push(&argv, &n, &cap, "--account");
		zenc__strv_push(&argv, &n, &cap, cfg->account);
	}
	for (i = 0; extra && extra[i]; i++)
		zenc__strv_push(&argv, &n, &cap, extra[i]);
	for (i = 0; i < cfg->n_extra; i++)
		zenc__strv_push(&argv, &n, &cap, cfg->extra[i]);
	zenc_buf_puts(&wrap, "exec");
	for (i = 0; cmd[i]; i++) {
		zenc_buf_putc(&wrap, ' ');
		sh_quote(&wrap, cmd[i]);
	}
	zenc__strv_push(&argv, &n, &cap, "--wrap");
	zenc__strv_push(&argv, &n, &cap, wrap.ptr);
	rc = run_capture(argv, &out, why);
	if (rc == 0) {
		errno = 0;
		*job = strtol(zenc_buf_cstr(&out), &end, 10);
		if (errno || end == out.ptr || *job <= 0) {
			zenc_buf_printf(
				why,
				"unexpected zenc__slurm_sbatch output '%s'",
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
	zenc__strv_free(argv);
	zenc_buf_release(&wrap);
	zenc_buf_release(&out);
	zenc_buf_release(&opt);
	return rc == 0 ? 0 : -1;
}

int zenc__slurm_final_state(const char *s)
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

static zenc__sjob *job_by_id(zenc__sjob *st, size_t n, long id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (st[i].job == id && !st[i].settled)
			return &st[i];
	return NULL;
}

static void set_state(
	zenc__sjob *j,
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
static int query_one(zenc__sjob *j)
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
int zenc__slurm_poll_jobs(zenc__sjob *jobs, size_t n_st)
{
	char **argv = NULL;
	size_t n = 0, cap = 0, i;
	zenc_buf ids = ZENC_BUF_INIT, out = ZENC_BUF_INIT, err = ZENC_BUF_INIT;
	const char *p;
	int rc = 0;

	for (i = 0; i < n_st; i++) {
		zenc__sjob *j = &jobs[i];
		if (j->job && !j->settled && !j->need_submit)
			zenc_buf_printf(
				&ids, "%s%ld", ids.len ? "," : "", j->job);
		j->unknown++;
	}
	if (!ids.len)
		goto done;
	zenc__strv_push(&argv, &n, &cap, "squeue");
	zenc__strv_push(&argv, &n, &cap, "-h");
	zenc__strv_push(&argv, &n, &cap, "-t");
	zenc__strv_push(&argv, &n, &cap, "all");
	zenc__strv_push(&argv, &n, &cap, "-j");
	zenc__strv_push(&argv, &n, &cap, ids.ptr);
	zenc__strv_push(&argv, &n, &cap, "-o");
	zenc__strv_push(&argv, &n, &cap, "%i %T %r");
	if (run_capture(argv, &out, &err) != 0 &&
	    !strstr(zenc_buf_cstr(&err), "Invalid job id")) {
		/* squeue failed for another reason than jobs slurmctld
		 * has forgotten: it did not answer.  What it cannot say is
		 * not news of any job. */
		for (i = 0; i < n_st; i++)
			jobs[i].unknown--;
		rc = -1;
		goto done;
	}
	for (p = zenc_buf_cstr(&out); *p;) {
		const char *eol = strchr(p, '\n'), *st, *rs;
		char *end;
		long id;
		zenc__sjob *j;
		if (!eol)
			eol = p + strlen(p);
		id = strtol(p, &end, 10);
		st = end;
		while (*st == ' ')
			st++;
		rs = st + strcspn(st, " \n");
		if (rs > eol)
			rs = eol;
		j = end != p ? job_by_id(jobs, n_st, id) : NULL;
		if (j) {
			const char *rr = *rs == ' ' ? rs + 1 : rs;
			set_state(
				j, st, (size_t)(rs - st), rr,
				(size_t)(eol - rr));
		}
		p = *eol ? eol + 1 : eol;
	}
	for (i = 0; i < n_st; i++) {
		zenc__sjob *j = &jobs[i];
		if (j->job && !j->settled && !j->need_submit && j->unknown)
			query_one(j);
	}
done:
	zenc__strv_free(argv);
	zenc_buf_release(&ids);
	zenc_buf_release(&out);
	zenc_buf_release(&err);
	return rc;
}

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
	mark = zenc__asprintf("%s/%s", run_dir, ZENC__SLURM_CANCEL_MARK);
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
	if (*n && zenc__slurm_scancel(ids, *n) < 0)
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
