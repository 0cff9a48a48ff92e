/*
 * runtime N PROGRAM [ARGS...]: start PROGRAM N times, one after another, with
 * its output discarded, and print the median and minimum start-to-exit time
 * in microseconds, the median peak RSS in KiB and the number of runs that
 * hung. Timing from a C parent keeps the shell's own fork and exec out of the
 * figure. With RUNTIME_LIMIT=SECONDS a run still going after that long is
 * killed (its process group) and counted as hung, not timed; all hung fails.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* SIGCHLD, blocked with a limit so that sigtimedwait wakes when a run ends. */
static sigset_t chld;

/*
 * Waits for pid until the deadline (µs, 0: none): 1 when it ended, 0 when it
 * was still going and had to be killed, -1 when waiting failed.
 */
static int wait_until(pid_t pid, double deadline, int *status, struct rusage *ru)
{
	if (deadline == 0)
		return wait4(pid, status, 0, ru) == pid ? 1 : -1;
	pid_t w;
	while ((w = wait4(pid, status, WNOHANG, ru)) == 0) {
		double left = deadline - now_us();
		if (left <= 0) {
			kill(-pid, SIGKILL);
			return wait4(pid, status, 0, ru) == pid ? 0 : -1;
		}
		long long ns = (long long)(left * 1e3);
		struct timespec ts = { (time_t)(ns / 1000000000), (long)(ns % 1000000000) };
		sigtimedwait(&chld, NULL, &ts);
	}
	return w == pid ? 1 : -1;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	int n = argc > 2 ? atoi(argv[1]) : 0;
	if (n <= 0) {
		fprintf(stderr, "usage: runtime N PROGRAM [ARGS...]\n");
		return 2;
	}
	double *t = calloc((size_t)n, sizeof(*t)), *rss = calloc((size_t)n, sizeof(*rss));
	int devnull = open("/dev/null", O_WRONLY);
	if (t == NULL || rss == NULL || devnull < 0) {
		fprintf(stderr, "runtime: %s\n", strerror(errno));
		return 1;
	}
	const char *limit_env = getenv("RUNTIME_LIMIT");
	double limit = limit_env ? atof(limit_env) * 1e6 : 0;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	if (limit > 0)
		sigprocmask(SIG_BLOCK, &chld, NULL);
	int done = 0, hung = 0;
	for (int i = 0; i < n; i++) {
		double start = now_us();
		pid_t pid = fork();
		if (pid == 0) {
			if (limit > 0)
				setpgid(0, 0); /* so that a hung run is killed with its children */
			dup2(devnull, 1);
			execvp(argv[2], argv + 2);
			_exit(127);
		}
		int status;
		struct rusage ru;
		int ended = pid < 0 ? -1 : wait_until(pid, limit > 0 ? start + limit : 0, &status, &ru);
		if (ended < 0) {
			fprintf(stderr, "runtime: cannot run %s: %s\n", argv[2], strerror(errno));
			return 1;
		}
		if (ended == 0) {
			hung++;
			continue;
		}
		t[done] = now_us() - start;
		rss[done++] = (double)ru.ru_maxrss;
		if (!WIFEXITED(status) || WEXITSTATUS(status) == 127) {
			fprintf(stderr, "runtime: %s failed (status 0x%x)\n", argv[2], status);
			return 1;
		}
	}
	if (done == 0) {
		fprintf(stderr, "runtime: %s hung in all %d runs\n", argv[2], n);
		return 1;
	}
	qsort(t, (size_t)done, sizeof(*t), by_value);
	qsort(rss, (size_t)done, sizeof(*rss), by_value);
	printf("%.0f %.0f %.0f %d\n", t[done / 2], t[0], rss[done / 2], hung);
	return 0;
}
