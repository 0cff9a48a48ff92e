/* Clocks and sleeps, served by the host's clocks. */
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "syscalls.h"

#define TIMESPEC_SIZE 16
#define TIMEVAL_SIZE 16
#define TIMEZONE_SIZE 8
#define TMS_SIZE 32

KM_SYSCALL(clock_gettime)
{
	void *ts = KM_OUT(vcpu, a[1], TIMESPEC_SIZE);
	return ts ? km_host(syscall(SYS_clock_gettime, a[0], ts)) : -EFAULT;
}

KM_SYSCALL(clock_getres)
{
	void *ts = NULL;
	if (a[1] && (ts = KM_OUT(vcpu, a[1], TIMESPEC_SIZE)) == NULL)
		return -EFAULT;
	return km_host(syscall(SYS_clock_getres, a[0], ts));
}

/* The kernel decides: EPERM without CAP_SYS_TIME, EINVAL for a clock that cannot be set. */
KM_SYSCALL(clock_settime)
{
	struct timespec ts;

	if (km_copy_in(vcpu->vm, &ts, a[1], sizeof(ts)) < 0)
		return -EFAULT;
	return km_host(syscall(SYS_clock_settime, (clockid_t)a[0], &ts));
}

KM_SYSCALL(gettimeofday)
{
	void *tv = NULL, *tz = NULL;
	if (a[0] && (tv = KM_OUT(vcpu, a[0], TIMEVAL_SIZE)) == NULL)
		return -EFAULT;
	if (a[1] && (tz = KM_OUT(vcpu, a[1], TIMEZONE_SIZE)) == NULL)
		return -EFAULT;
	return km_host(syscall(SYS_gettimeofday, tv, tz));
}

KM_SYSCALL(time)
{
	time_t now = time(NULL);
	if (a[0] && km_copy_out(vcpu->vm, a[0], &now, sizeof(now)) < 0)
		return -EFAULT;
	return (long)now;
}

static long sleep_for(struct km_vcpu *vcpu, long clock, long flags, uint64_t req, uint64_t rem)
{
	const void *in = KM_IN(vcpu, req, TIMESPEC_SIZE);
	void *out = NULL;
	if (in == NULL || (rem && (out = KM_OUT(vcpu, rem, TIMESPEC_SIZE)) == NULL))
		return -EFAULT;
	return km_host(syscall(SYS_clock_nanosleep, clock, flags, in, out));
}

KM_SYSCALL(nanosleep) { return sleep_for(vcpu, CLOCK_REALTIME, 0, a[0], a[1]); }

KM_SYSCALL(clock_nanosleep) { return sleep_for(vcpu, (long)a[0], (long)a[1], a[2], a[3]); }

KM_SYSCALL(times)
{
	void *buf = NULL;
	if (a[0] && (buf = KM_OUT(vcpu, a[0], TMS_SIZE)) == NULL)
		return -EFAULT;
	return km_host(syscall(SYS_times, buf));
}
