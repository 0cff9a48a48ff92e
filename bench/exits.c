/*
 * exits N R: the cost of calls that leave the program, in ns per call, each
 * the median over R rounds of N calls. Under km:
 *   noop           a hypercall number nobody serves (ENOSYS), always an exit:
 *                  the bare round trip through km's dispatcher; natively, the
 *                  kernel's
 *   posted         a number nobody serves either, but one a Kontain program
 *                  posts as a fast call where km takes them (PVM): no exit
 *   getpid, clock_gettime  calls that need not leave the guest at all
 */
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "measure.h"

/* Below KM_HC_BASE (km's own hypercalls) and far above Linux's syscalls. */
#define NOOP_NR 0xfff
/* No Linux call either, but below KM_FAST_NRS: km lists it for fast calls. */
#define POSTED_NR 1000

static void noop(void) { syscall(NOOP_NR); }
static void posted(void) { syscall(POSTED_NR); }
static void pid(void) { getpid(); }
static void clock_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
}

int main(int argc, char **argv)
{
	int n = argc > 2 ? atoi(argv[1]) : 0, rounds = argc > 2 ? atoi(argv[2]) : 0;
	if (n <= 0 || rounds <= 0) {
		fprintf(stderr, "usage: exits N R\n");
		return 2;
	}
	printf("noop %.3f\n", time_per_call(noop, n, rounds));
	printf("posted %.3f\n", time_per_call(posted, n, rounds));
	printf("getpid %.3f\n", time_per_call(pid, n, rounds));
	printf("clock_gettime %.3f\n", time_per_call(clock_mono, n, rounds));
	return 0;
}
