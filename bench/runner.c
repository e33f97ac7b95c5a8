/*
 * Runs one command and reports what it cost, like GNU time but with a
 * precise wall clock and without time's own start-up in the figure:
 *
 *   runner REPORT STDOUT STDERR PROGRAM [ARG]...
 *
 * Writes to REPORT one line: "wall_s maxrss_kb user_s sys_s exit_code",
 * maxrss as GNU time's %M (ru_maxrss of wait4: the largest resident set
 * of the command or of any child it waited for).  This small process is
 * the parent so that its own resident set, not the caller's, is what the
 * command starts from.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double ts(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct rusage ru;
	double t0, t1;
	int status, code;
	pid_t pid;
	FILE *f;

	if (argc < 5) {
		fprintf(stderr, "usage: runner REPORT STDOUT STDERR PROGRAM "
				"[ARG]...\n");
		return 2;
	}
	t0 = ts();
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 2;
	}
	if (pid == 0) {
		int o = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int e = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int n = open("/dev/null", O_RDONLY);

		if (o < 0 || e < 0 || n < 0)
			_exit(126);
		dup2(n, 0);
		dup2(o, 1);
		dup2(e, 2);
		close(n);
		close(o);
		close(e);
		execvp(argv[4], argv + 4);
		perror(argv[4]);
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) != pid) {
		perror("wait4");
		return 2;
	}
	t1 = ts();
	code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	f = fopen(argv[1], "w");
	if (!f) {
		perror(argv[1]);
		return 2;
	}
	fprintf(f, "%.6f %ld %.6f %.6f %d\n", t1 - t0, ru.ru_maxrss,
		ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
		ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6, code);
	fclose(f);
	return 0;
}
