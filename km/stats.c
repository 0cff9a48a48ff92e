/*
 * --stats=FILE: how often each process of the program left the guest, and
 * why. Each vCPU counts its own exits (a few increments beside an exit that
 * costs microseconds); when the process ends or execs, the sums over its
 * vCPUs are appended to FILE as one block, so a server that forks leaves a
 * block per process. docs/performance.md reads them per request. The block
 * ends with when km's start reached each of its steps.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "km.h"

static char *stats_path;
static int stats_fd = -1;
static struct km_vm *stats_vm;
static int state; /* 0 not written, 1 being written, 2 written */

/* When the start's steps were done, in µs since km's main (or the fork): a block's "time" lines. */
static struct timespec t0;
static struct {
	const char *step;
	uint64_t us;
} steps[4];
static int nsteps;

static uint64_t since_start(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)((now.tv_sec - t0.tv_sec) * 1000000l + (now.tv_nsec - t0.tv_nsec) / 1000);
}

void km_stats_start(void)
{
	clock_gettime(CLOCK_MONOTONIC, &t0);
	nsteps = 0;
}

/* On km's first thread, before the guest runs: a vDSO clock read, whether or not --stats was given. */
void km_stats_step(const char *step)
{
	if (nsteps < (int)(sizeof(steps) / sizeof(steps[0])))
		steps[nsteps++] = (typeof(steps[0])){ step, since_start() };
}

/* FILE's absolute path (an exec'd km may start in another cwd): its directory must exist. */
void km_stats_option(const char *path)
{
	const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
	char *dir = slash ? strndup(path, (size_t)(base - path)) : strdup(".");
	char *real = dir ? realpath(dir, NULL) : NULL;

	if (*base == '\0')
		km_die(2, "km: --stats=%s: give a file name, not a directory", path);
	free(stats_path);
	if (real == NULL || asprintf(&stats_path, "%s/%s", strcmp(real, "/") ? real : "", base) < 0)
		km_die(2, "km: --stats=%s: no such directory", path);
	free(real);
	free(dir);
}

const char *km_stats_path(void)
{
	return stats_path;
}

/* Opened before km confines itself; kept for the end, and by a forked child. */
void km_stats_init(struct km_vm *vm)
{
	if (stats_path == NULL)
		return;
	int fd = open(stats_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		km_die(1, "km: cannot open --stats file %s: %s", stats_path, strerror(errno));
	stats_fd = km_fd_move_high(fd);
	stats_vm = vm;
}

/* A forked child counts from nothing: its block is its own. */
void km_stats_after_fork(struct km_vm *vm)
{
	if (stats_fd >= 0)
		stats_vm = vm;
	for (int i = 0; i < vm->nvcpu; i++)
		memset(&vm->vcpus[i]->stats, 0, sizeof(vm->vcpus[i]->stats));
	km_stats_start();
}

struct call_count {
	unsigned nr;
	uint64_t n;
};

static int by_count(const void *a, const void *b)
{
	const struct call_count *x = a, *y = b;
	return x->n != y->n ? (x->n < y->n ? 1 : -1) : (x->nr > y->nr) - (x->nr < y->nr);
}

__attribute__((format(printf, 4, 5))) static size_t put(char *buf, size_t at, size_t size,
							const char *fmt, ...)
{
	va_list ap;

	if (at >= size)
		return at;
	va_start(ap, fmt);
	int n = vsnprintf(buf + at, size - at, fmt, ap);
	va_end(ap);
	return n < 0 ? at : at + (size_t)n;
}

#define OWN_FIRST (KM_STATS_CALLS - 1 - KM_STATS_OWN)

unsigned km_stats_slot(uint64_t nr)
{
	if (nr < OWN_FIRST)
		return (unsigned)nr;
	if (nr - KM_HC_BASE < KM_STATS_OWN)
		return OWN_FIRST + (unsigned)(nr - KM_HC_BASE);
	return KM_STATS_CALLS - 1;
}

static const char *slot_name(unsigned slot)
{
	if (slot == KM_STATS_CALLS - 1)
		return "other";
	return km_syscall_name(slot < OWN_FIRST ? slot : KM_HC_BASE + slot - OWN_FIRST);
}

/* The process's block so far; ended says how: "exit status 0", "exec", "killed by SIGSEGV". */
void km_stats_write(const char *ended)
{
	static struct call_count calls[KM_STATS_CALLS];
	static char block[KM_STATS_CALLS * 48 + 512];
	struct km_vm *vm = stats_vm;
	struct km_exit_stats sum = { 0 };

	/*
	 * Once: every vCPU thread that sees exit_group ends the process the same
	 * way, and none may _exit before the block is out (bounded, should the
	 * writer itself fault in here).
	 */
	int idle = 0;
	if (stats_fd < 0)
		return;
	if (!__atomic_compare_exchange_n(&state, &idle, 1, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		for (int i = 0; i < 1000 && __atomic_load_n(&state, __ATOMIC_ACQUIRE) == 1; i++)
			usleep(1000);
		return;
	}
	for (int i = 0; i < vm->nvcpu; i++) {
		const struct km_exit_stats *s = &vm->vcpus[i]->stats;
		sum.exits += s->exits;
		sum.hypercalls += s->hypercalls;
		sum.faults += s->faults;
		sum.interruptions += s->interruptions;
		sum.fast_calls += s->fast_calls;
		for (unsigned nr = 0; nr < KM_STATS_CALLS; nr++) {
			sum.calls[nr] += s->calls[nr];
			sum.fast[nr] += s->fast[nr];
		}
	}
	size_t n = 0, at = 0, size = sizeof(block);
	for (unsigned nr = 0; nr < KM_STATS_CALLS; nr++)
		if (sum.calls[nr])
			calls[n++] = (struct call_count){ nr, sum.calls[nr] };
	qsort(calls, n, sizeof(calls[0]), by_count);
	at = put(block, at, size, "km stats: pid %d, %s, %s\n", (int)getpid(), vm->exe_path, ended);
	at = put(block, at, size, "exits %lu\nhypercalls %lu\nfaults %lu\ninterruptions %lu\n",
		 (unsigned long)sum.exits, (unsigned long)sum.hypercalls, (unsigned long)sum.faults,
		 (unsigned long)sum.interruptions);
	for (size_t i = 0; i < n; i++)
		at = put(block, at, size, "hypercall %s %lu\n",
			 slot_name(calls[i].nr),
			 (unsigned long)calls[i].n);
	n = 0;
	for (unsigned nr = 0; nr < KM_STATS_CALLS; nr++)
		if (sum.fast[nr])
			calls[n++] = (struct call_count){ nr, sum.fast[nr] };
	qsort(calls, n, sizeof(calls[0]), by_count);
	at = put(block, at, size, "fast calls %lu%s\n", (unsigned long)sum.fast_calls,
		 km_fast_enabled() ? "" : " (off)");
	for (size_t i = 0; i < n; i++)
		at = put(block, at, size, "fast call %s %lu\n",
			 slot_name(calls[i].nr),
			 (unsigned long)calls[i].n);
	for (int i = 0; i < nsteps; i++)
		at = put(block, at, size, "time %s %lu\n", steps[i].step, (unsigned long)steps[i].us);
	at = put(block, at, size, "time end %lu\n", (unsigned long)since_start());
	ssize_t w = write(stats_fd, block, at < size ? at : size - 1);
	(void)w; /* nothing to tell at the end but the program's own status */
	km_stats_after_fork(vm); /* an exec that fails counts on from nothing */
	__atomic_store_n(&state, strcmp(ended, "exec") == 0 ? 0 : 2, __ATOMIC_RELEASE);
}
