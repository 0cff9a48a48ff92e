/*
 * Linux AIO (io_setup, io_submit, io_getevents, io_cancel, io_destroy),
 * served by km: a request runs when it is submitted, as the kernel runs
 * buffered file I/O, and its event waits in km for io_getevents; a POLL
 * request that is not ready waits there too, and io_getevents polls for
 * it. The host's own AIO would map its ring into km's address space and
 * name km's copies of the iocbs in its events. A context's id is the
 * address of a read-only page of the guest's, as the kernel's is its
 * ring's: libaio looks for the kernel's magic there and, not finding it,
 * makes the calls.
 */
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "syscalls.h"

#define AIO_MAX_EVENTS 65536 /* the kernel's default aio-max-nr, for all contexts */
#define AIO_MAX_CONTEXTS 64
#define AIO_BATCH 64 /* events io_getevents takes per look */


struct waiting_poll {
	struct io_event ev;
	int fd, resfd;
	short events;
};

struct aio_ctx {
	uint64_t id; /* the guest page's address */
	unsigned asked, cap, head, ndone, npolls, busy; /* busy: submitted, not yet in either */
	struct io_event *done;	    /* a ring of cap */
	struct waiting_poll *polls; /* cap at most */
	int *tell, ntell;	    /* the guest's eventfds to tell, once aio_lock is let go */
	int wake; /* km's eventfd: readable while events wait or the context is gone */
	int users;
	bool dead;
};

static pthread_mutex_t aio_lock = PTHREAD_MUTEX_INITIALIZER;
static struct aio_ctx *ctxs[AIO_MAX_CONTEXTS];
static unsigned events_total;

/* The live context of this id, with one more user; NULL if none. Under aio_lock. */
static struct aio_ctx *get_ctx(uint64_t id)
{
	for (int i = 0; i < AIO_MAX_CONTEXTS; i++)
		if (ctxs[i] && ctxs[i]->id == id && !ctxs[i]->dead) {
			ctxs[i]->users++;
			return ctxs[i];
		}
	return NULL;
}

static void free_ctx(struct aio_ctx *c)
{
	if (c->wake >= 0)
		close(c->wake);
	free(c->done);
	free(c->polls);
	free(c->tell);
	free(c);
}

static void put_ctx(struct aio_ctx *c)
{
	if (--c->users == 0 && c->dead)
		free_ctx(c);
}

static void notify(int fd)
{
	uint64_t one = 1;
	ssize_t n = write(fd, &one, sizeof(one));
	(void)n;
}

/* Whether the guest's fd is an eventfd, as IOCB_FLAG_RESFD needs. */
static long eventfd_check(struct km_vm *vm, uint32_t fd)
{
	char path[40], link[32];

	if (vm && !km_fd_ok(vm, fd))
		return -EBADF;
	snprintf(path, sizeof(path), "/proc/self/fd/%u", fd);
	ssize_t n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -EBADF;
	link[n] = '\0';
	return strcmp(link, "anon_inode:[eventfd]") == 0 ? 0 : -EINVAL;
}

/* An event is done: into the ring, its eventfd to be told. Under aio_lock. */
static void complete(struct aio_ctx *c, const struct io_event *ev, int resfd)
{
	c->done[(c->head + c->ndone++) % c->cap] = *ev;
	if (resfd >= 0 && c->ntell < (int)c->cap)
		c->tell[c->ntell++] = resfd;
	notify(c->wake);
}

/*
 * The guest's eventfds of done requests, told outside aio_lock: each that
 * still is an eventfd (a guest fd, checked at submit) and has room, as the
 * kernel's count stops at its top rather than wait; a write that waits
 * anyway (another thread filled it meanwhile) ends at the next kick.
 */
static void tell_eventfds(struct aio_ctx *c)
{
	for (;;) {
		int fds[16], n = 0;
		pthread_mutex_lock(&aio_lock);
		while (n < 16 && c->ntell > 0)
			fds[n++] = c->tell[--c->ntell];
		pthread_mutex_unlock(&aio_lock);
		if (n == 0)
			return;
		for (int i = 0; i < n; i++) {
			struct pollfd p = { .fd = fds[i], .events = POLLOUT };
			if (eventfd_check(NULL, (uint32_t)fds[i]) == 0 && poll(&p, 1, 0) == 1 &&
			    (p.revents & POLLOUT))
				notify(fds[i]);
		}
	}
}

KM_SYSCALL(io_setup)
{
	struct km_vm *vm = vcpu->vm;
	unsigned nr = (unsigned)a[0];
	uint64_t cur;

	if (km_copy_in(vm, &cur, a[1], sizeof(cur)) < 0)
		return -EFAULT;
	if (cur != 0 || nr == 0 || nr > 0x10000000u / sizeof(struct io_event))
		return -EINVAL;
	if (nr > AIO_MAX_EVENTS)
		return -EAGAIN; /* over aio-max-nr */
	struct aio_ctx *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	c->asked = nr;
	c->cap = nr < 4 ? 8 : nr * 2; /* the kernel's ring holds twice what was asked */
	c->done = calloc(c->cap, sizeof(*c->done));
	c->polls = calloc(c->cap, sizeof(*c->polls));
	c->tell = calloc(c->cap, sizeof(*c->tell));
	c->wake = km_fd_high(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
	c->users = 1;
	long rc = c->done && c->polls && c->tell ? 0 : -ENOMEM;
	if (rc == 0 && c->wake < 0)
		rc = -EAGAIN;
	if (rc == 0) {
		pthread_rwlock_wrlock(&vm->mm_lock);
		rc = km_mmap(vm, 0, KM_PAGE_SIZE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0,
			     KM_VMA_ANON);
		pthread_rwlock_unlock(&vm->mm_lock);
	}
	int slot = -1;
	if (rc >= 0) {
		c->id = (uint64_t)rc;
		pthread_mutex_lock(&aio_lock);
		for (int i = 0; i < AIO_MAX_CONTEXTS && slot < 0; i++)
			if (ctxs[i] == NULL)
				slot = i;
		if (slot >= 0 && events_total + nr <= AIO_MAX_EVENTS) {
			ctxs[slot] = c;
			events_total += nr;
		} else {
			slot = -1;
		}
		pthread_mutex_unlock(&aio_lock);
		rc = slot >= 0 && km_copy_out(vm, a[1], &c->id, sizeof(c->id)) < 0 ? -EFAULT : rc;
		if (slot < 0 || rc < 0) {
			pthread_rwlock_wrlock(&vm->mm_lock);
			km_munmap(vm, c->id, KM_PAGE_SIZE);
			pthread_rwlock_unlock(&vm->mm_lock);
			rc = slot < 0 ? -EAGAIN : rc;
		}
	}
	if (rc >= 0)
		return 0;
	if (slot >= 0) {
		pthread_mutex_lock(&aio_lock);
		ctxs[slot] = NULL;
		events_total -= nr;
		pthread_mutex_unlock(&aio_lock);
	}
	free_ctx(c);
	return rc;
}

KM_SYSCALL(io_destroy)
{
	struct km_vm *vm = vcpu->vm;
	struct aio_ctx *c = NULL;

	pthread_mutex_lock(&aio_lock);
	for (int i = 0; i < AIO_MAX_CONTEXTS && c == NULL; i++)
		if (ctxs[i] && ctxs[i]->id == a[0] && !ctxs[i]->dead) {
			c = ctxs[i];
			ctxs[i] = NULL;
		}
	if (c) {
		events_total -= c->asked;
		c->dead = true;
		notify(c->wake); /* its waiters return */
		put_ctx(c);
	}
	pthread_mutex_unlock(&aio_lock);
	if (c == NULL)
		return -EINVAL;
	pthread_rwlock_wrlock(&vm->mm_lock);
	km_munmap(vm, a[0], KM_PAGE_SIZE);
	pthread_rwlock_unlock(&vm->mm_lock);
	return 0;
}

/* Errors the kernel finds before a read or write starts, which io_submit returns itself. */
static bool refused(long rc)
{
	return rc == -EBADF || rc == -EINVAL || rc == -EOPNOTSUPP;
}

/* preadv2 or pwritev2 at off, -1 for where the file is (its high half -1 too) */
static long vector_call(long nr, uint32_t fd, const struct iovec *iov, uint64_t cnt, int64_t off,
			uint32_t flags)
{
	return km_host(syscall(nr, fd, iov, cnt, off, off >> 32, flags));
}

/*
 * A read or write, its result for the event; *early when io_submit fails
 * with it instead, as where the kernel fails before the I/O starts (a
 * buffer it cannot reach fails in the event, the iovec array at submit).
 */
static long read_write(struct km_vcpu *vcpu, const struct iocb *cb, bool *early)
{
	bool to_guest = cb->aio_lio_opcode == IOCB_CMD_PREAD || cb->aio_lio_opcode == IOCB_CMD_PREADV;
	struct iovec one, *iov = &one;
	uint64_t cnt = 1;
	long rc;

	*early = false;
	if (to_guest && km_signalfd_read(vcpu, (int)cb->aio_fildes, cb->aio_buf,
					 cb->aio_lio_opcode == IOCB_CMD_PREAD ? cb->aio_nbytes : 0, &rc)) {
		*early = cb->aio_lio_opcode == IOCB_CMD_PREADV; /* km's signalfd: no vectors */
		return *early ? -EINVAL : rc;
	}
	if (cb->aio_offset == -1 && lseek((int)cb->aio_fildes, 0, SEEK_CUR) >= 0) {
		*early = true; /* -1 is no position for a file that has them */
		return -EINVAL;
	}
	if (cb->aio_lio_opcode == IOCB_CMD_PREAD || cb->aio_lio_opcode == IOCB_CMD_PWRITE) {
		one.iov_len = cb->aio_nbytes < 0x7ffff000 ? cb->aio_nbytes : 0x7ffff000; /* MAX_RW_COUNT */
		one.iov_base = km_gva(vcpu->vm, cb->aio_buf, one.iov_len, to_guest ? PROT_WRITE : PROT_READ);
		if (one.iov_base == NULL && one.iov_len)
			return -EFAULT;
	} else {
		cnt = cb->aio_nbytes;
		if (cnt > IOV_MAX_LINUX || KM_IN(vcpu, cb->aio_buf, cnt * sizeof(*iov)) == NULL) {
			*early = true;
			return cnt > IOV_MAX_LINUX ? -EINVAL : -EFAULT;
		}
		if ((rc = km_host_iov(vcpu, cb->aio_buf, cnt, to_guest, &iov)) < 0)
			return rc;
	}
	long nr = to_guest ? SYS_preadv2 : SYS_pwritev2;
	rc = vector_call(nr, cb->aio_fildes, iov, cnt, cb->aio_offset, cb->aio_rw_flags);
	if (rc == -ESPIPE) /* a pipe or socket: the kernel's AIO reads it where it is */
		rc = vector_call(nr, cb->aio_fildes, iov, cnt, -1, cb->aio_rw_flags);
	if (iov != &one)
		free(iov);
	*early = refused(rc) || rc == -EINTR;
	return rc;
}

static short ready_events(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };
	return poll(&p, 1, 0) == 1 ? (short)(p.revents & (events | POLLNVAL)) : 0;
}

/* One request, run now (a POLL not ready waits); an errno io_submit returns, else 0. */
static long submit_one(struct km_vcpu *vcpu, struct aio_ctx *c, uint64_t gva)
{
	struct km_vm *vm = vcpu->vm;
	struct iocb cb;
	uint32_t key = 0;
	long rc;

	if (km_copy_in(vm, &cb, gva, sizeof(cb)) < 0)
		return -EFAULT;
	if (cb.aio_reserved2 || (int64_t)cb.aio_nbytes < 0)
		return -EINVAL;
	if ((cb.aio_flags & IOCB_FLAG_RESFD) && (rc = eventfd_check(vm, cb.aio_resfd)) < 0)
		return rc;
	if (!km_fd_ok(vm, cb.aio_fildes) || fcntl((int)cb.aio_fildes, F_GETFD) < 0)
		return -EBADF;
	if (km_copy_out(vm, gva + offsetof(struct iocb, aio_key), &key, sizeof(key)) < 0)
		return -EFAULT;
	struct io_event ev = { .data = cb.aio_data, .obj = gva };
	int resfd = cb.aio_flags & IOCB_FLAG_RESFD ? (int)cb.aio_resfd : -1;
	switch (cb.aio_lio_opcode) {
	case IOCB_CMD_PREAD:
	case IOCB_CMD_PWRITE:
	case IOCB_CMD_PREADV:
	case IOCB_CMD_PWRITEV: {
		bool early;
		rc = read_write(vcpu, &cb, &early);
		if (early)
			return rc;
		break;
	}
	case IOCB_CMD_FSYNC:
	case IOCB_CMD_FDSYNC: {
		if (cb.aio_buf || cb.aio_offset || cb.aio_nbytes || cb.aio_rw_flags)
			return -EINVAL;
		int fd = (int)cb.aio_fildes;
		rc = km_host(cb.aio_lio_opcode == IOCB_CMD_FSYNC ? fsync(fd) : fdatasync(fd));
		if (rc == -EINVAL || rc == -EINTR)
			return rc;
		break;
	}
	case IOCB_CMD_POLL: {
		if ((uint16_t)cb.aio_buf != cb.aio_buf || cb.aio_offset || cb.aio_nbytes || cb.aio_rw_flags)
			return -EINVAL;
		short events = (short)(cb.aio_buf | POLLERR | POLLHUP);
		rc = ready_events((int)cb.aio_fildes, events);
		if (rc == 0) {
			pthread_mutex_lock(&aio_lock);
			c->polls[c->npolls++] = (struct waiting_poll){ ev, (int)cb.aio_fildes, resfd, events };
			c->busy--;
			notify(c->wake); /* a waiter polls for it too */
			pthread_mutex_unlock(&aio_lock);
			return 0;
		}
		break;
	}
	default:
		return -EINVAL;
	}
	ev.res = rc;
	pthread_mutex_lock(&aio_lock);
	complete(c, &ev, resfd);
	c->busy--;
	pthread_mutex_unlock(&aio_lock);
	return 0;
}

KM_SYSCALL(io_submit)
{
	struct km_vm *vm = vcpu->vm;
	long nr = (long)a[1], done = 0, rc = 0;

	if (nr < 0)
		return -EINVAL;
	pthread_mutex_lock(&aio_lock);
	struct aio_ctx *c = get_ctx(a[0]);
	pthread_mutex_unlock(&aio_lock);
	if (c == NULL)
		return -EINVAL;
	if (nr > (long)c->asked)
		nr = c->asked;
	for (; done < nr; done++) {
		uint64_t gva;
		if (km_copy_in(vm, &gva, a[2] + (uint64_t)done * sizeof(gva), sizeof(gva)) < 0) {
			rc = -EFAULT;
			break;
		}
		pthread_mutex_lock(&aio_lock);
		bool full = c->ndone + c->npolls + c->busy >= c->cap;
		c->busy += !full; /* its place in the ring, held */
		pthread_mutex_unlock(&aio_lock);
		if (full) {
			rc = -EAGAIN;
			break;
		}
		if ((rc = submit_one(vcpu, c, gva)) < 0) {
			pthread_mutex_lock(&aio_lock);
			c->busy--;
			pthread_mutex_unlock(&aio_lock);
			break;
		}
	}
	tell_eventfds(c);
	pthread_mutex_lock(&aio_lock);
	put_ctx(c);
	pthread_mutex_unlock(&aio_lock);
	return done > 0 ? done : rc;
}

/* Waiting POLL requests that are ready now, done. Under aio_lock. */
static void check_polls(struct aio_ctx *c)
{
	for (unsigned i = 0; i < c->npolls;) {
		struct waiting_poll *w = &c->polls[i];
		short got = ready_events(w->fd, w->events);
		if (got == 0) {
			i++;
			continue;
		}
		w->ev.res = got;
		complete(c, &w->ev, w->resfd);
		*w = c->polls[--c->npolls];
	}
}

/*
 * Sleeps until an event may have come, the deadline (-1: none) or a kick.
 * The wake eventfd is emptied only here, under aio_lock, when no event
 * waits and the context lives, so that no waiter sleeps past one.
 */
static long wait_events(struct aio_ctx *c, int64_t deadline)
{
	pthread_mutex_lock(&aio_lock);
	nfds_t n = 1 + c->npolls;
	struct pollfd *fds = malloc(n * sizeof(*fds));
	if (fds == NULL) {
		pthread_mutex_unlock(&aio_lock);
		return -ENOMEM;
	}
	fds[0] = (struct pollfd){ .fd = c->wake, .events = POLLIN };
	for (unsigned i = 0; i < c->npolls; i++)
		fds[1 + i] = (struct pollfd){ .fd = c->polls[i].fd, .events = c->polls[i].events };
	uint64_t drained;
	if (c->ndone == 0 && !c->dead && read(c->wake, &drained, sizeof(drained)) < 0) {
		/* already empty */
	}
	pthread_mutex_unlock(&aio_lock);
	struct timespec ts, *tp = NULL;
	if (deadline >= 0) {
		int64_t left = deadline - km_ns_of(CLOCK_MONOTONIC);
		left = left > 0 ? left : 0;
		ts = (struct timespec){ left / 1000000000, left % 1000000000 };
		tp = &ts;
	}
	long rc = km_host(syscall(SYS_ppoll, fds, n, tp, NULL, 0));
	free(fds);
	return rc < 0 ? rc : 0;
}

static long get_events(struct km_vcpu *vcpu, const uint64_t *a)
{
	struct km_vm *vm = vcpu->vm;
	long min_nr = (long)a[1], nr = (long)a[2], got = 0;
	int64_t deadline = -1;

	if (a[4]) {
		struct timespec ts;
		if (km_copy_in(vm, &ts, a[4], sizeof(ts)) < 0)
			return -EFAULT;
		int64_t sec = ts.tv_sec < 1000000000 ? ts.tv_sec : 1000000000; /* 30 years */
		int64_t ns = ts.tv_nsec >= 0 && ts.tv_nsec < 1000000000 ? ts.tv_nsec : 0;
		deadline = sec < 0 ? 0 : km_ns_of(CLOCK_MONOTONIC) + sec * 1000000000LL + ns;
	}
	pthread_mutex_lock(&aio_lock);
	struct aio_ctx *c = get_ctx(a[0]);
	pthread_mutex_unlock(&aio_lock);
	if (c == NULL)
		return -EINVAL;
	long rc = min_nr > nr || min_nr < 0 || nr < 0 ? -EINVAL : 0;
	if (rc == 0 && nr > 0 && KM_OUT(vcpu, a[3], (uint64_t)nr * sizeof(struct io_event)) == NULL)
		rc = -EFAULT;
	while (rc == 0) {
		struct io_event batch[AIO_BATCH];
		long n = 0;
		pthread_mutex_lock(&aio_lock);
		check_polls(c);
		while (n < AIO_BATCH && got + n < nr && c->ndone > 0) {
			batch[n++] = c->done[c->head];
			c->head = (c->head + 1) % c->cap;
			c->ndone--;
		}
		bool dead = c->dead;
		pthread_mutex_unlock(&aio_lock);
		if (n && km_copy_out(vm, a[3] + (uint64_t)got * sizeof(batch[0]), batch,
				     (size_t)n * sizeof(batch[0])) < 0) {
			rc = -EFAULT;
			break;
		}
		got += n;
		if (got >= nr || (got >= min_nr && n < AIO_BATCH) || dead ||
		    (deadline >= 0 && km_ns_of(CLOCK_MONOTONIC) >= deadline))
			break;
		if (n == AIO_BATCH)
			continue;
		rc = wait_events(c, deadline);
	}
	tell_eventfds(c);
	pthread_mutex_lock(&aio_lock);
	put_ctx(c);
	pthread_mutex_unlock(&aio_lock);
	return got > 0 ? got : rc;
}

KM_SYSCALL(io_getevents) { return get_events(vcpu, a); }

/* With a signal mask for the wait, as ppoll has: struct { sigset_t *mask; size_t size; }. */
KM_SYSCALL(io_pgetevents)
{
	uint64_t sig[2] = { 0, 0 };
	bool applied;

	if (a[5] && km_copy_in(vcpu->vm, sig, a[5], sizeof(sig)) < 0)
		return -EFAULT;
	if (sig[0] && sig[1] != 8)
		return -EINVAL;
	long rc = km_temp_mask(vcpu, sig[0], &applied);
	if (rc == 0)
		rc = get_events(vcpu, a);
	return km_end_mask(vcpu, applied, rc);
}

/* Only a waiting POLL can still be cancelled: it ends with no events, as the kernel's. */
KM_SYSCALL(io_cancel)
{
	uint32_t key;

	if (km_copy_in(vcpu->vm, &key, a[1] + offsetof(struct iocb, aio_key), sizeof(key)) < 0)
		return -EFAULT;
	if (key != 0)
		return -EINVAL;
	pthread_mutex_lock(&aio_lock);
	struct aio_ctx *c = get_ctx(a[0]);
	long rc = -EINVAL;
	for (unsigned i = 0; c && i < c->npolls; i++)
		if (c->polls[i].ev.obj == a[1]) {
			c->polls[i].ev.res = 0;
			complete(c, &c->polls[i].ev, c->polls[i].resfd);
			c->polls[i] = c->polls[--c->npolls];
			rc = -EINPROGRESS;
			break;
		}
	pthread_mutex_unlock(&aio_lock);
	if (c) {
		tell_eventfds(c);
		pthread_mutex_lock(&aio_lock);
		put_ctx(c);
		pthread_mutex_unlock(&aio_lock);
	}
	return rc;
}

/*
 * A forked child has no AIO contexts, as on Linux. It has one thread: the
 * lock, which another thread may have held, is made anew, and the
 * contexts (a thread's reference included) go with their fds.
 */
void km_aio_after_fork(void)
{
	pthread_mutex_init(&aio_lock, NULL);
	for (int i = 0; i < AIO_MAX_CONTEXTS; i++) {
		if (ctxs[i])
			free_ctx(ctxs[i]);
		ctxs[i] = NULL;
	}
	events_total = 0;
}
