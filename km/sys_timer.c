/*
 * POSIX timers. Each guest timer is a host timer on km that signals the
 * routing thread with KM_SIG_TIMER; the routing thread turns that into the
 * guest's own signal (SI_TIMER, timer id, overrun count, value) for the
 * process or, with SIGEV_THREAD_ID (musl's SIGEV_THREAD), for one thread.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "syscalls.h"

#define SIGEV_THREAD_ID_LINUX 4
#define MAX_TIMERS 1024

struct guest_sigevent {
	uint64_t value;
	int32_t signo, notify;
	int32_t tid;
	int32_t pad[11];
};

struct guest_timer {
	bool used;
	int host_id, signo, notify;
	pid_t tid;
	uint64_t value;
};

static struct guest_timer timers[MAX_TIMERS];
static pthread_mutex_t timers_lock = PTHREAD_MUTEX_INITIALIZER;

static struct guest_timer *find(int id)
{
	for (int i = 0; i < MAX_TIMERS; i++)
		if (timers[i].used && timers[i].host_id == id)
			return &timers[i];
	return NULL;
}

KM_SYSCALL(timer_create)
{
	struct guest_sigevent ev = { .signo = SIGALRM, .notify = SIGEV_SIGNAL };

	if (KM_OUT(vcpu, a[2], sizeof(int32_t)) == NULL)
		return -EFAULT;
	if (a[1] && km_copy_in(vcpu->vm, &ev, a[1], sizeof(ev)) < 0)
		return -EFAULT;
	if (ev.notify != SIGEV_NONE && ev.notify != SIGEV_SIGNAL &&
	    ev.notify != (SIGEV_SIGNAL | SIGEV_THREAD_ID_LINUX))
		return -EINVAL;
	if (ev.notify != SIGEV_NONE && (ev.signo < 1 || ev.signo > KM_NSIG))
		return -EINVAL;
	if ((ev.notify & SIGEV_THREAD_ID_LINUX) && km_thread_by_tid(vcpu->vm, ev.tid) == NULL)
		return -EINVAL;

	pthread_mutex_lock(&timers_lock);
	struct guest_timer *t = NULL;
	for (int i = 0; i < MAX_TIMERS && !t; i++)
		if (!timers[i].used)
			t = &timers[i];
	if (t == NULL) {
		pthread_mutex_unlock(&timers_lock);
		return -EAGAIN;
	}
	struct sigevent host = { .sigev_notify = SIGEV_NONE };
	if (ev.notify != SIGEV_NONE) {
		host.sigev_notify = SIGEV_THREAD_ID_LINUX;
		host.sigev_signo = KM_SIG_TIMER;
		host.sigev_value.sival_int = (int)(t - timers);
		host._sigev_un._tid = km_router_tid(vcpu->vm);
	}
	int id;
	long rc = km_host(syscall(SYS_timer_create, (clockid_t)a[0], &host, &id));
	if (rc == 0)
		*t = (struct guest_timer){ .used = true, .host_id = id, .signo = ev.signo,
					   .notify = ev.notify, .tid = ev.tid, .value = ev.value };
	pthread_mutex_unlock(&timers_lock);
	if (rc == 0 && km_copy_out(vcpu->vm, a[2], &id, sizeof(id)) < 0) {
		syscall(SYS_timer_delete, id); /* as Linux: no id given, no timer */
		pthread_mutex_lock(&timers_lock);
		t->used = false;
		pthread_mutex_unlock(&timers_lock);
		return -EFAULT;
	}
	return rc;
}

/* The routing thread got KM_SIG_TIMER: the guest gets its timer's signal. */
void km_timer_fired(struct km_vm *vm, const siginfo_t *host)
{
	int slot = host->si_value.sival_int;
	if (slot < 0 || slot >= MAX_TIMERS)
		return;
	pthread_mutex_lock(&timers_lock);
	struct guest_timer t = timers[slot];
	pthread_mutex_unlock(&timers_lock);
	if (!t.used)
		return;
	siginfo_t info = { .si_signo = t.signo, .si_code = SI_TIMER };
	info.si_timerid = t.host_id;
	info.si_overrun = host->si_overrun;
	info.si_value.sival_ptr = (void *)t.value;
	struct km_vcpu *target = NULL;
	if (t.notify & SIGEV_THREAD_ID_LINUX && (target = km_thread_by_tid(vm, t.tid)) == NULL)
		return;
	km_signal_post(vm, target, &info, false);
}

static long known(int id)
{
	pthread_mutex_lock(&timers_lock);
	bool ok = find(id) != NULL;
	pthread_mutex_unlock(&timers_lock);
	return ok ? 0 : -EINVAL;
}

KM_SYSCALL(timer_settime)
{
	const struct itimerspec *in = KM_IN(vcpu, a[2], sizeof(*in));
	struct itimerspec *old = NULL;
	if (in == NULL || (a[3] && (old = KM_OUT(vcpu, a[3], sizeof(*old))) == NULL))
		return -EFAULT;
	long rc = known((int)a[0]);
	return rc ? rc : km_host(syscall(SYS_timer_settime, (int)a[0], (int)a[1], in, old));
}

KM_SYSCALL(timer_gettime)
{
	struct itimerspec *out = KM_OUT(vcpu, a[1], sizeof(*out));
	if (out == NULL)
		return -EFAULT;
	long rc = known((int)a[0]);
	return rc ? rc : km_host(syscall(SYS_timer_gettime, (int)a[0], out));
}

KM_SYSCALL(timer_getoverrun)
{
	long rc = known((int)a[0]);
	return rc ? rc : km_host(syscall(SYS_timer_getoverrun, (int)a[0]));
}

KM_SYSCALL(timer_delete)
{
	pthread_mutex_lock(&timers_lock);
	struct guest_timer *t = find((int)a[0]);
	long rc = -EINVAL;
	if (t) {
		rc = km_host(syscall(SYS_timer_delete, (int)a[0]));
		t->used = false;
	}
	pthread_mutex_unlock(&timers_lock);
	return rc;
}

/* Around a fork: no timer is half made while the address space is copied. */
void km_timers_hold(void) { pthread_mutex_lock(&timers_lock); }
void km_timers_release(void) { pthread_mutex_unlock(&timers_lock); }

/* A forked child has none of its parent's timers, as the host has none of km's. */
void km_timers_after_fork(void)
{
	memset(timers, 0, sizeof(timers));
	pthread_mutex_init(&timers_lock, NULL);
}
