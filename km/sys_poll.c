/*
 * Waiting on many fds: poll, select, epoll, and the fds made to be waited
 * on (eventfd, timerfd). Guest fds are host fds, so the host kernel does the
 * waiting; km checks the fds and pointers, and applies the signal mask that
 * ppoll, pselect6 and epoll_pwait carry to the guest thread, not to km.
 */
#include <poll.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "syscalls.h"

#define SIGSET_SIZE 8
#define EPOLL_EVENT_SIZE 12 /* packed on x86-64 */

/*
 * Takes the guest thread's mask from a guest sigset for the length of a
 * wait. A signal it lets through ends the wait with EINTR and is delivered
 * with the old mask saved in its frame, as sigsuspend does.
 */
long km_temp_mask(struct km_vcpu *vcpu, uint64_t gva, bool *applied)
{
	*applied = false;
	if (gva == 0)
		return 0;
	uint64_t mask;
	if (km_copy_in(vcpu->vm, &mask, gva, sizeof(mask)) < 0)
		return -EFAULT;
	km_sigmask_wait_with(vcpu, mask);
	*applied = true;
	return km_signal_deliverable(vcpu) ? -EINTR : 0;
}

long km_end_mask(struct km_vcpu *vcpu, bool applied, long rc)
{
	/* Kept only for a signal about to be delivered; a bare kick repeats the call. */
	if (applied && (rc != -EINTR || !km_signal_deliverable(vcpu)))
		km_sigmask_end_wait(vcpu);
	return rc;
}

/*
 * The pollfds, copied once: the host polls km's copy, in which fds the guest
 * may not use read as invalid, and the guest gets the copy back with revents.
 */
static long do_poll(struct km_vcpu *vcpu, uint64_t fds_gva, uint64_t nfds,
		    const struct timespec *ts)
{
	if (nfds > (uint64_t)vcpu->vm->fd_limit)
		return -EINVAL;
	if (KM_OUT(vcpu, fds_gva, nfds * sizeof(struct pollfd)) == NULL)
		return -EFAULT;
	struct pollfd *g = malloc((nfds ? nfds : 1) * 2 * sizeof(*g)), *h = g + nfds;
	if (g == NULL)
		return -ENOMEM;
	long rc = km_copy_in(vcpu->vm, g, fds_gva, nfds * sizeof(*g));
	for (uint64_t i = 0; rc == 0 && i < nfds; i++) {
		h[i] = g[i];
		if (g[i].fd >= vcpu->vm->fd_limit)
			h[i].fd = -1;
	}
	if (rc == 0)
		rc = km_host(syscall(SYS_ppoll, h, nfds, ts, NULL, 0));
	for (uint64_t i = 0; rc >= 0 && i < nfds; i++) {
		g[i].revents = h[i].revents;
		if (g[i].fd >= vcpu->vm->fd_limit) {
			g[i].revents = POLLNVAL;
			rc++;
		}
	}
	if (rc >= 0 && km_copy_out(vcpu->vm, fds_gva, g, nfds * sizeof(*g)) < 0)
		rc = -EFAULT;
	free(g);
	return rc;
}

KM_SYSCALL(poll)
{
	int ms = (int)a[2];
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };
	return do_poll(vcpu, a[0], a[1], ms < 0 ? NULL : &ts);
}

KM_SYSCALL(ppoll)
{
	struct timespec *ts = NULL;
	bool applied;

	if (a[2] && (ts = KM_OUT(vcpu, a[2], sizeof(*ts))) == NULL)
		return -EFAULT;
	if (a[3] && a[4] != SIGSET_SIZE)
		return -EINVAL;
	long rc = km_temp_mask(vcpu, a[3], &applied);
	if (rc == 0)
		rc = do_poll(vcpu, a[0], a[1], ts);
	return km_end_mask(vcpu, applied, rc);
}

/* The fd_sets, copied once; a set naming an fd the guest may not use is EBADF. */
static long do_select(struct km_vcpu *vcpu, const uint64_t *a, void *timeout, bool is_timespec)
{
	int nfds = (int)a[0];
	fd_set copies[3], *sets[3] = { NULL, NULL, NULL };

	if (nfds < 0 || nfds > FD_SETSIZE)
		return -EINVAL;
	size_t bytes = (size_t)(nfds + 63) / 64 * 8;
	for (int i = 0; i < 3; i++) {
		if (a[1 + i] == 0)
			continue;
		sets[i] = &copies[i];
		if (KM_OUT(vcpu, a[1 + i], bytes) == NULL ||
		    km_copy_in(vcpu->vm, sets[i], a[1 + i], bytes) < 0)
			return -EFAULT;
		for (int fd = vcpu->vm->fd_limit; fd < nfds; fd++)
			if (FD_ISSET(fd, sets[i]))
				return -EBADF;
	}
	long rc = is_timespec
			  ? km_host(syscall(SYS_pselect6, nfds, sets[0], sets[1], sets[2], timeout, NULL))
			  : km_host(syscall(SYS_select, nfds, sets[0], sets[1], sets[2], timeout));
	for (int i = 0; rc >= 0 && i < 3; i++)
		if (sets[i] && km_copy_out(vcpu->vm, a[1 + i], sets[i], bytes) < 0)
			rc = -EFAULT;
	return rc;
}

KM_SYSCALL(select)
{
	struct timeval *tv = NULL;
	if (a[4] && (tv = KM_OUT(vcpu, a[4], sizeof(*tv))) == NULL)
		return -EFAULT;
	return do_select(vcpu, a, tv, false);
}

/* pselect6's sixth argument points at { const sigset_t *ss; size_t ss_len; }. */
KM_SYSCALL(pselect6)
{
	struct timespec *ts = NULL;
	uint64_t mask = 0;
	bool applied;

	if (a[4] && (ts = KM_OUT(vcpu, a[4], sizeof(*ts))) == NULL)
		return -EFAULT;
	if (a[5]) {
		uint64_t data[2];
		if (km_copy_in(vcpu->vm, data, a[5], sizeof(data)) < 0)
			return -EFAULT;
		if (data[0] && data[1] != SIGSET_SIZE)
			return -EINVAL;
		mask = data[0];
	}
	long rc = km_temp_mask(vcpu, mask, &applied);
	if (rc == 0)
		rc = do_select(vcpu, a, ts, true);
	return km_end_mask(vcpu, applied, rc);
}

KM_SYSCALL(epoll_create)
{
	if ((int)a[0] <= 0)
		return -EINVAL;
	return km_fd_new(vcpu->vm, km_host(epoll_create1(0)));
}

KM_SYSCALL(epoll_create1) { return km_fd_new(vcpu->vm, km_host(epoll_create1((int)a[0]))); }

KM_SYSCALL(epoll_ctl)
{
	FD_OR_EBADF(a[0]);
	FD_OR_EBADF(a[2]);
	void *ev = NULL;
	if ((int)a[1] != EPOLL_CTL_DEL && (ev = KM_IN(vcpu, a[3], EPOLL_EVENT_SIZE)) == NULL)
		return -EFAULT;
	return km_host(syscall(SYS_epoll_ctl, a[0], a[1], a[2], ev));
}

static long do_epoll_wait(struct km_vcpu *vcpu, const uint64_t *a)
{
	FD_OR_EBADF(a[0]);
	if ((int)a[2] <= 0 || a[2] > 1u << 20)
		return -EINVAL;
	void *events = KM_OUT(vcpu, a[1], a[2] * EPOLL_EVENT_SIZE);
	if (events == NULL)
		return -EFAULT;
	return km_host(syscall(SYS_epoll_pwait, a[0], events, a[2], (int)a[3], NULL, 0));
}

KM_SYSCALL(epoll_wait) { return do_epoll_wait(vcpu, a); }

KM_SYSCALL(epoll_pwait)
{
	bool applied;
	if (a[4] && a[5] != SIGSET_SIZE)
		return -EINVAL;
	long rc = km_temp_mask(vcpu, a[4], &applied);
	if (rc == 0)
		rc = do_epoll_wait(vcpu, a);
	return km_end_mask(vcpu, applied, rc);
}

KM_SYSCALL(eventfd) { return km_fd_new(vcpu->vm, km_host(eventfd((unsigned)a[0], 0))); }

KM_SYSCALL(eventfd2)
{
	return km_fd_new(vcpu->vm, km_host(eventfd((unsigned)a[0], (int)a[1])));
}

KM_SYSCALL(timerfd_create)
{
	return km_fd_new(vcpu->vm, km_host(timerfd_create((int)a[0], (int)a[1])));
}

KM_SYSCALL(timerfd_settime)
{
	FD_OR_EBADF(a[0]);
	const struct itimerspec *in = KM_IN(vcpu, a[2], sizeof(*in));
	struct itimerspec *old = NULL;
	if (in == NULL || (a[3] && (old = KM_OUT(vcpu, a[3], sizeof(*old))) == NULL))
		return -EFAULT;
	return km_host(timerfd_settime((int)a[0], (int)a[1], in, old));
}

KM_SYSCALL(timerfd_gettime)
{
	FD_OR_EBADF(a[0]);
	struct itimerspec *out = KM_OUT(vcpu, a[1], sizeof(*out));
	return out ? km_host(timerfd_gettime((int)a[0], out)) : -EFAULT;
}
