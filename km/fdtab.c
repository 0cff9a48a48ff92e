/*
 * Guest fds are km's host fds below vm->fd_limit; above it live km's own
 * (/dev/kvm, the VM, one per vCPU, logs, signalfd pipes), out of the
 * guest's reach. km's part grows with what km opens: km raises its own soft
 * RLIMIT_NOFILE as it needs, up to the hard limit, while the guest keeps
 * seeing fd_limit as its limit. See docs/architecture.md, "Files".
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "syscalls.h"

#define GUEST_FD_MAX 65536 /* bounds poll and select sets */
#define KM_FDS_MIN 8	   /* /dev/kvm, the VM, the first vCPU, a log, a few to spare */
#define KM_FDS_MAX (KM_MAX_VCPUS + 32)
#define GROW_MIN 32

static int km_base;	       /* km's fds are at or above it */
static struct rlimit at_start; /* the guest's limit, which an exec'd program inherits */

/*
 * The guest's limit: the soft limit km was given, less what km may need of
 * the hard limit when it cannot grow above (the hard limit is near or equal
 * to the soft one, as in containers): a quarter of it, at least km's fixed
 * fds, at most enough for every vCPU as well.
 */
void km_fds_init(struct km_vm *vm)
{
	if (getrlimit(RLIMIT_NOFILE, &at_start) != 0)
		km_die(1, "km: cannot read the open-files limit: %s", strerror(errno));
	rlim_t hard = at_start.rlim_max < RLIM_INFINITY ? at_start.rlim_max : 1u << 20;
	rlim_t km_share = hard / 4;
	if (km_share < KM_FDS_MIN)
		km_share = KM_FDS_MIN;
	if (km_share > KM_FDS_MAX)
		km_share = KM_FDS_MAX;
	rlim_t guest = at_start.rlim_cur;
	if (guest > GUEST_FD_MAX)
		guest = GUEST_FD_MAX;
	if (guest + km_share > hard)
		guest = hard > km_share ? hard - km_share : 0;
	if (guest < 3)
		km_die(2, "km: the open-files limit (%lu) leaves no room for the program's files and "
			  "km's own: raise it (ulimit -n)", (unsigned long)at_start.rlim_cur);
	vm->fd_limit = km_base = (int)guest;
}

/* One more step of room for km's fds: false when the hard limit is reached. */
static bool grow(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max)
		return false;
	rlim_t step = rl.rlim_cur > (rlim_t)km_base ? rl.rlim_cur - (rlim_t)km_base : 0;
	rlim_t want = rl.rlim_cur + (step < GROW_MIN ? GROW_MIN : step);
	rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
	return setrlimit(RLIMIT_NOFILE, &rl) == 0;
}

/* A copy of fd at km's lowest free number, or -1 (EMFILE when km's room is used up). */
int km_fd_dup_high(int fd)
{
	for (;;) {
		int high = fcntl(fd, F_DUPFD_CLOEXEC, km_base);
		/* EINVAL: km_base is at the soft limit, km has no room above it yet. */
		if (high >= 0 || (errno != EMFILE && errno != EINVAL))
			return high;
		if (!grow()) {
			errno = EMFILE;
			return -1;
		}
	}
}

/* fd, moved above the guest's range; -1 (fd closed) when there is no room. */
int km_fd_high(int fd)
{
	int high = km_fd_dup_high(fd);
	int saved = errno;
	close(fd);
	errno = saved;
	return high;
}

/* The same, for an fd km cannot run without. */
int km_fd_move_high(int fd)
{
	int high = km_fd_high(fd);
	if (high < 0)
		km_die(1, "km: cannot move a descriptor out of the guest's range: %s",
		       errno == EMFILE ? "the open-files limit is used up (ulimit -n)" : strerror(errno));
	return high;
}

/* fd takes km's descriptor number old (which it closes): the number stays km's. */
int km_fd_replace(int fd, int old)
{
	if (dup3(fd, old, O_CLOEXEC) < 0)
		km_die(1, "km: cannot reuse descriptor %d: %s", old, strerror(errno));
	close(fd);
	return old;
}

/* A file km opens that takes a number below km's (KVM_CREATE_VCPU): room for one more. */
bool km_fd_room(void)
{
	return grow();
}

/* An exec'd program starts with the limit this one was given, not km's raised one. */
void km_fds_before_exec(struct rlimit *raised)
{
	getrlimit(RLIMIT_NOFILE, raised);
	setrlimit(RLIMIT_NOFILE, &at_start);
}

void km_fds_exec_failed(const struct rlimit *raised)
{
	setrlimit(RLIMIT_NOFILE, raised);
}

bool km_fd_ok(const struct km_vm *vm, long fd)
{
	return fd >= 0 && fd < vm->fd_limit;
}

long km_dirfd_ok(const struct km_vm *vm, long fd)
{
	return (int)fd == AT_FDCWD || km_fd_ok(vm, fd);
}

/* Two fresh host fds (pipe, socketpair): both go to the guest's int[2] at gva, or neither exists. */
long km_fd_pair_new(struct km_vm *vm, const int fds[2], uint64_t gva)
{
	long rc = !km_fd_ok(vm, fds[0]) || !km_fd_ok(vm, fds[1]) ? -EMFILE
									: km_copy_out(vm, gva, fds, 2 * sizeof(int));
	if (rc < 0) {
		close(fds[0]);
		close(fds[1]);
	}
	return rc;
}

/* A host fd fresh from the kernel: keep it if the guest may see it. */
long km_fd_new(struct km_vm *vm, long fd)
{
	if (fd < 0 || km_fd_ok(vm, fd))
		return fd;
	close((int)fd);
	return -EMFILE;
}
