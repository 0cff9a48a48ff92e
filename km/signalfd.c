/*
 * signalfd: the guest's signals are km's, not the host's, so a signalfd is
 * km's too. The guest's fd is the read end of a host pipe, which km keeps
 * readable (one byte in it) while a signal in the fd's mask is pending, so
 * poll, select and epoll see it as they would; a read from it takes
 * signals from km's queues. km knows its pipes by inode, so dup'd copies
 * work and a closed one is forgotten once its byte can no longer be written.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "syscalls.h"

#define MAX_SIGFDS 64
#define UNBLOCKABLE (KM_SIG_BIT(SIGKILL) | KM_SIG_BIT(SIGSTOP))

struct sigfd {
	ino_t ino; /* of the pipe; 0 for a free slot */
	int read_fd, write_fd; /* km's own ends, above the guest's range */
	uint64_t mask;
	bool armed; /* the byte is in the pipe */
};

static struct sigfd sigfds[MAX_SIGFDS];
static int nsigfd; /* slots ever used; read without the lock as a hint */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static struct sigfd *find(int fd)
{
	struct stat st;

	if (fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode))
		return NULL;
	for (int i = 0; i < nsigfd; i++)
		if (sigfds[i].ino == st.st_ino)
			return &sigfds[i];
	return NULL;
}

static uint64_t pending_anywhere(struct km_vm *vm)
{
	uint64_t p = __atomic_load_n(&vm->sig_pending.set, __ATOMIC_ACQUIRE);
	int n = __atomic_load_n(&vm->nvcpu, __ATOMIC_ACQUIRE);
	for (int i = 0; i < n; i++)
		p |= __atomic_load_n(&vm->vcpus[i]->sig_pending.set, __ATOMIC_ACQUIRE);
	return p;
}

/* Called with lock held: the byte in the pipe says whether a masked signal waits. */
static void set_ready(struct sigfd *s, bool ready)
{
	char byte = 0;

	if (ready && !s->armed) {
		if (write(s->write_fd, &byte, 1) == 1) {
			s->armed = true;
		} else if (errno == EPIPE) { /* the guest closed every copy */
			close(s->write_fd);
			close(s->read_fd);
			memset(s, 0, sizeof(*s));
		}
	} else if (!ready && s->armed && read(s->read_fd, &byte, 1) == 1) {
		s->armed = false;
	}
}

/* After signals are posted or taken: every signalfd's readiness follows its mask. */
void km_signalfd_update(struct km_vm *vm)
{
	if (__atomic_load_n(&nsigfd, __ATOMIC_ACQUIRE) == 0)
		return;
	uint64_t pending = pending_anywhere(vm);
	pthread_mutex_lock(&lock);
	for (int i = 0; i < nsigfd; i++)
		if (sigfds[i].ino)
			set_ready(&sigfds[i], (pending & sigfds[i].mask) != 0);
	pthread_mutex_unlock(&lock);
}

static long create(struct km_vcpu *vcpu, uint64_t mask, int flags)
{
	int p[2];
	struct stat st;

	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) != 0)
		return -errno;
	/* The guest's end: a copy of the read end with the guest's flags. */
	int guest = fcntl(p[0], (flags & SFD_CLOEXEC) ? F_DUPFD_CLOEXEC : F_DUPFD, 0);
	if (guest < 0 || fstat(p[0], &st) != 0) {
		close(p[0]);
		close(p[1]);
		return -errno;
	}
	if (!(flags & SFD_NONBLOCK))
		fcntl(guest, F_SETFL, fcntl(guest, F_GETFL) & ~O_NONBLOCK);
	int rd = km_fd_high(p[0]), wr = km_fd_high(p[1]);
	pthread_mutex_lock(&lock);
	struct sigfd *s = NULL;
	for (int i = 0; i < MAX_SIGFDS && !s; i++)
		if (sigfds[i].ino == 0)
			s = &sigfds[i];
	if (s == NULL || rd < 0 || wr < 0) {
		pthread_mutex_unlock(&lock);
		close(guest);
		close(rd);
		close(wr);
		return s == NULL ? -ENOMEM : -EMFILE;
	}
	*s = (struct sigfd){ st.st_ino, rd, wr, mask, false };
	if (s - sigfds >= nsigfd)
		__atomic_store_n(&nsigfd, (int)(s - sigfds) + 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&lock);
	km_signalfd_update(vcpu->vm);
	return km_fd_new(vcpu->vm, guest);
}

/* signalfd4(fd, mask, sizeof mask, flags): a new one for fd -1, else a new mask for fd. */
KM_SYSCALL(signalfd4)
{
	int fd = (int)a[0], flags = (int)a[3];
	uint64_t mask;

	if (a[2] != sizeof(mask) || (flags & ~(SFD_CLOEXEC | SFD_NONBLOCK)))
		return -EINVAL;
	if (km_copy_in(vcpu->vm, &mask, a[1], sizeof(mask)) < 0)
		return -EFAULT;
	if (fd == -1)
		return create(vcpu, mask & ~UNBLOCKABLE, flags);
	FD_OR_EBADF(fd);
	pthread_mutex_lock(&lock);
	struct sigfd *s = find(fd);
	if (s)
		s->mask = mask & ~UNBLOCKABLE;
	pthread_mutex_unlock(&lock);
	if (s == NULL)
		return -EINVAL;
	km_signalfd_update(vcpu->vm);
	return fd;
}

KM_SYSCALL(signalfd)
{
	const uint64_t b[4] = { a[0], a[1], a[2], 0 };
	return km_sys_signalfd4(vcpu, b);
}

static void to_ssi(const siginfo_t *si, struct signalfd_siginfo *o)
{
	memset(o, 0, sizeof(*o));
	o->ssi_signo = (uint32_t)si->si_signo;
	o->ssi_errno = si->si_errno;
	o->ssi_code = si->si_code;
	o->ssi_pid = (uint32_t)si->si_pid;
	o->ssi_uid = si->si_uid;
	o->ssi_status = si->si_status;
	o->ssi_int = si->si_value.sival_int;
	o->ssi_ptr = (uint64_t)si->si_value.sival_ptr;
	o->ssi_addr = (uint64_t)si->si_addr;
	if (si->si_code == SI_TIMER) {
		o->ssi_tid = (uint32_t)si->si_timerid;
		o->ssi_overrun = (uint32_t)si->si_overrun;
	}
}

/* Whether the guest has made a signalfd: until then no pipe is one. */
bool km_signalfd_any(void)
{
	return __atomic_load_n(&nsigfd, __ATOMIC_ACQUIRE) != 0;
}

/*
 * A read of a signalfd: true with *ret set if fd is one. Takes the masked
 * signals pending for this thread or the process, waiting for one unless
 * the fd is non-blocking; another signal to handle interrupts the wait.
 */
bool km_signalfd_read(struct km_vcpu *vcpu, int fd, uint64_t buf, uint64_t len, long *ret)
{
	struct km_vm *vm = vcpu->vm;

	if (__atomic_load_n(&nsigfd, __ATOMIC_ACQUIRE) == 0)
		return false;
	pthread_mutex_lock(&lock);
	struct sigfd *s = find(fd);
	uint64_t mask = s ? s->mask : 0;
	pthread_mutex_unlock(&lock);
	if (s == NULL)
		return false;
	size_t n = len / sizeof(struct signalfd_siginfo), got = 0;
	if (n == 0 || KM_OUT(vcpu, buf, n * sizeof(struct signalfd_siginfo)) == NULL) {
		*ret = n == 0 ? -EINVAL : -EFAULT;
		return true;
	}
	for (;;) {
		siginfo_t info;
		struct signalfd_siginfo ssi;
		for (bool more = true; more && got < n; got++) {
			pthread_mutex_lock(&vm->sig_lock);
			more = km_sig_dequeue(vcpu, mask, &info);
			pthread_mutex_unlock(&vm->sig_lock);
			if (!more)
				break;
			to_ssi(&info, &ssi);
			if (km_copy_out(vm, buf + got * sizeof(ssi), &ssi, sizeof(ssi)) < 0) {
				*ret = -EFAULT; /* the signal is gone, as on Linux */
				return true;
			}
		}
		if (got)
			break;
		if (fcntl(fd, F_GETFL) & O_NONBLOCK) {
			*ret = -EAGAIN;
			return true;
		}
		if (km_signal_deliverable(vcpu)) {
			*ret = -EINTR;
			return true;
		}
		km_signal_wait(vcpu, NULL);
	}
	km_signalfd_update(vm);
	*ret = (long)(got * sizeof(struct signalfd_siginfo));
	return true;
}

/* Around a fork, as the other km locks. */
void km_signalfd_hold(void) { pthread_mutex_lock(&lock); }
void km_signalfd_release(void) { pthread_mutex_unlock(&lock); }
void km_signalfd_after_fork(void) { pthread_mutex_init(&lock, NULL); }
