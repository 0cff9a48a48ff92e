/*
 * The vDSO km maps into every guest (AT_SYSINFO_EHDR): time without an exit.
 * It runs in the guest at CPL 3, computing time from rdtsc and the clock
 * page km keeps up to date; for any clock it cannot compute it makes the
 * hypercall itself, so callers never need a fallback of their own.
 */
#include <stdbool.h>
#include <stddef.h>
#include <time.h>
#include <sys/syscall.h>
#include <sys/time.h>

#include <kontain/hcall_abi.h>

#include "vvar.h"

#define KM_SYS_VA 0xffffffffc0000000ul
#define NSEC 1000000000ull

static const volatile struct km_vvar *clock_page(void)
{
	return (const volatile struct km_vvar *)(KM_SYS_VA + KM_SYS_VVAR);
}

static inline uint64_t tsc_now(void)
{
	uint32_t lo, hi;
	__asm__ __volatile__("lfence; rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
	return (uint64_t)hi << 32 | lo;
}

static long hcall2(long nr, long a1, long a2)
{
	return km_hcall6(nr, a1, a2, 0, 0, 0, 0);
}

/* Nanoseconds of clk, or false when only the hypercall can tell. */
static bool clock_ns(clockid_t clk, uint64_t *out)
{
	const volatile struct km_vvar *v = clock_page();
	uint32_t seq;
	uint64_t ns;

	do {
		while ((seq = __atomic_load_n(&v->seq, __ATOMIC_ACQUIRE)) & 1)
			__builtin_ia32_pause();
		if (v->mode != KM_VVAR_TSC)
			return false;
		uint64_t delta = tsc_now() - v->tsc_base;
		if ((int64_t)delta < 0)
			delta = 0;
		ns = v->mono_base + (uint64_t)(((unsigned __int128)delta * v->mult) >> 32);
		if (clk == CLOCK_REALTIME || clk == CLOCK_REALTIME_COARSE)
			ns += v->real_offset;
		else if (clk == CLOCK_BOOTTIME)
			ns += v->boot_offset;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
	} while (__atomic_load_n(&v->seq, __ATOMIC_RELAXED) != seq);
	*out = ns;
	return true;
}

static bool computable(clockid_t clk)
{
	return clk == CLOCK_REALTIME || clk == CLOCK_MONOTONIC || clk == CLOCK_REALTIME_COARSE ||
	       clk == CLOCK_MONOTONIC_COARSE || clk == CLOCK_BOOTTIME;
}

int __vdso_clock_gettime(clockid_t clk, struct timespec *ts)
{
	uint64_t ns;

	if (!computable(clk) || !clock_ns(clk, &ns))
		return (int)hcall2(SYS_clock_gettime, clk, (long)ts);
	ts->tv_sec = (time_t)(ns / NSEC);
	ts->tv_nsec = (long)(ns % NSEC);
	return 0;
}

int __vdso_gettimeofday(struct timeval *tv, void *tz)
{
	uint64_t ns;

	if (tz || !clock_ns(CLOCK_REALTIME, &ns))
		return (int)hcall2(SYS_gettimeofday, (long)tv, (long)tz);
	if (tv) {
		tv->tv_sec = (time_t)(ns / NSEC);
		tv->tv_usec = (suseconds_t)(ns % NSEC / 1000);
	}
	return 0;
}

time_t __vdso_time(time_t *t)
{
	uint64_t ns;

	if (!clock_ns(CLOCK_REALTIME, &ns))
		return (time_t)hcall2(SYS_time, (long)t, 0);
	time_t s = (time_t)(ns / NSEC);
	if (t)
		*t = s;
	return s;
}

int __vdso_clock_getres(clockid_t clk, struct timespec *res)
{
	return (int)hcall2(SYS_clock_getres, clk, (long)res);
}

/* Kontain's own: the patched musl's getpid, which needs no exit. */
int __kontain_getpid(void)
{
	return clock_page()->pid;
}

int clock_gettime(clockid_t, struct timespec *) __attribute__((weak, alias("__vdso_clock_gettime")));
int gettimeofday(struct timeval *, void *) __attribute__((weak, alias("__vdso_gettimeofday")));
time_t time(time_t *) __attribute__((weak, alias("__vdso_time")));
int clock_getres(clockid_t, struct timespec *) __attribute__((weak, alias("__vdso_clock_getres")));
