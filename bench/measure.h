/* Timing for the bench's guest programs: the same source runs under km and natively. */
#ifndef MEASURE_H
#define MEASURE_H

#include <stdlib.h>
#include <time.h>

static inline double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Sorts t[0..n) and returns its median. */
static inline double median(double *t, int n)
{
	qsort(t, (size_t)n, sizeof(*t), by_value);
	return t[n / 2];
}

/* The median over `rounds` of the time per call of `n` calls of fn, in ns. */
static inline double time_per_call(void (*fn)(void), int n, int rounds)
{
	double t[rounds];
	for (int r = 0; r < rounds; r++) {
		double start = now_ns();
		for (int i = 0; i < n; i++)
			fn();
		t[r] = (now_ns() - start) / n;
	}
	return median(t, rounds);
}

#endif
