/* Syscalls on open file descriptors: I/O, metadata, duplication, control. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <termios.h>
#include <unistd.h>

#include "syscalls.h"

#define STAT_SIZE 144
#define STATFS_SIZE 120
#define FLOCK_SIZE 32

KM_SYSCALL(read)
{
	long ret;
	FD_OR_EBADF(a[0]);
	if (km_signalfd_read(vcpu, (int)a[0], a[1], a[2], &ret))
		return ret;
	void *buf = KM_OUT(vcpu, a[1], a[2]);
	return buf ? km_host(read((int)a[0], buf, a[2])) : -EFAULT;
}

KM_SYSCALL(write)
{
	FD_OR_EBADF(a[0]);
	const void *buf = KM_IN(vcpu, a[1], a[2]);
	return buf ? km_host(write((int)a[0], buf, a[2])) : -EFAULT;
}

KM_SYSCALL(pread64)
{
	FD_OR_EBADF(a[0]);
	void *buf = KM_OUT(vcpu, a[1], a[2]);
	return buf ? km_host(pread((int)a[0], buf, a[2], (off_t)a[3])) : -EFAULT;
}

KM_SYSCALL(pwrite64)
{
	FD_OR_EBADF(a[0]);
	const void *buf = KM_IN(vcpu, a[1], a[2]);
	return buf ? km_host(pwrite((int)a[0], buf, a[2], (off_t)a[3])) : -EFAULT;
}

/* A guest iovec array, copied once and turned into host addresses; the data moves in place. */
long km_host_iov(struct km_vcpu *vcpu, uint64_t gva, uint64_t cnt, bool to_guest,
		 struct iovec **out)
{
	if (cnt > IOV_MAX_LINUX)
		return -EINVAL;
	struct iovec *h = calloc(cnt ? cnt : 1, sizeof(*h));
	if (h == NULL)
		return -ENOMEM;
	if (km_copy_in(vcpu->vm, h, gva, cnt * sizeof(*h)) < 0) {
		free(h);
		return -EFAULT;
	}
	for (uint64_t i = 0; i < cnt; i++) {
		h[i].iov_base = km_gva(vcpu->vm, (uint64_t)h[i].iov_base, h[i].iov_len,
				       to_guest ? PROT_WRITE : PROT_READ);
		if (h[i].iov_base == NULL) {
			free(h);
			return -EFAULT;
		}
	}
	*out = h;
	return 0;
}

static long vector_io(struct km_vcpu *vcpu, const uint64_t *a, long nr, bool to_guest)
{
	struct iovec *iov;

	if (!km_fd_ok(vcpu->vm, (long)a[0]))
		return -EBADF;
	long rc = km_host_iov(vcpu, a[1], a[2], to_guest, &iov);
	if (rc < 0)
		return rc;
	rc = km_host(syscall(nr, a[0], iov, a[2], a[3], a[4], a[5]));
	free(iov);
	return rc;
}

KM_SYSCALL(readv) { return vector_io(vcpu, a, SYS_readv, true); }
KM_SYSCALL(writev) { return vector_io(vcpu, a, SYS_writev, false); }
KM_SYSCALL(preadv) { return vector_io(vcpu, a, SYS_preadv, true); }
KM_SYSCALL(pwritev) { return vector_io(vcpu, a, SYS_pwritev, false); }
KM_SYSCALL(preadv2) { return vector_io(vcpu, a, SYS_preadv2, true); }
KM_SYSCALL(pwritev2) { return vector_io(vcpu, a, SYS_pwritev2, false); }

KM_SYSCALL(close)
{
	FD_OR_EBADF(a[0]);
	return km_host(close((int)a[0]));
}

KM_SYSCALL(lseek)
{
	FD_OR_EBADF(a[0]);
	return km_host(lseek((int)a[0], (off_t)a[1], (int)a[2]));
}

/* Syscalls whose only argument that matters to km is the fd in a[0]. */
static long on_fd(struct km_vcpu *vcpu, const uint64_t *a, long nr)
{
	FD_OR_EBADF(a[0]);
	return km_host(syscall(nr, a[0], a[1], a[2], a[3]));
}

KM_SYSCALL(fsync) { return on_fd(vcpu, a, SYS_fsync); }
KM_SYSCALL(fdatasync) { return on_fd(vcpu, a, SYS_fdatasync); }
KM_SYSCALL(ftruncate) { return on_fd(vcpu, a, SYS_ftruncate); }
KM_SYSCALL(fchmod) { return on_fd(vcpu, a, SYS_fchmod); }
KM_SYSCALL(fchown) { return on_fd(vcpu, a, SYS_fchown); }
KM_SYSCALL(fchdir) { return on_fd(vcpu, a, SYS_fchdir); }
KM_SYSCALL(flock) { return on_fd(vcpu, a, SYS_flock); }
KM_SYSCALL(fadvise64) { return on_fd(vcpu, a, SYS_fadvise64); }
KM_SYSCALL(fallocate) { return on_fd(vcpu, a, SYS_fallocate); }

/* Syscalls that fill a guest buffer of known size named by a[1]. */
static long fd_to_buf(struct km_vcpu *vcpu, const uint64_t *a, long nr, uint64_t size)
{
	FD_OR_EBADF(a[0]);
	void *buf = KM_OUT(vcpu, a[1], size);
	return buf ? km_host(syscall(nr, a[0], buf, a[2])) : -EFAULT;
}

KM_SYSCALL(fstat) { return fd_to_buf(vcpu, a, SYS_fstat, STAT_SIZE); }
KM_SYSCALL(fstatfs) { return fd_to_buf(vcpu, a, SYS_fstatfs, STATFS_SIZE); }
KM_SYSCALL(getdents64)
{
	bool task_dir;

	FD_OR_EBADF(a[0]);
	long rc = km_proc_task_dents(vcpu, (int)a[0], a[1], a[2], &task_dir);
	return task_dir ? rc : fd_to_buf(vcpu, a, SYS_getdents64, a[2]);
}

KM_SYSCALL(dup)
{
	FD_OR_EBADF(a[0]);
	return km_fd_new(vcpu->vm, km_host(dup((int)a[0])));
}

KM_SYSCALL(dup2)
{
	FD_OR_EBADF(a[0]);
	FD_OR_EBADF(a[1]);
	return km_host(dup2((int)a[0], (int)a[1]));
}

KM_SYSCALL(dup3)
{
	FD_OR_EBADF(a[0]);
	FD_OR_EBADF(a[1]);
	return km_host(syscall(SYS_dup3, a[0], a[1], a[2]));
}

static long make_pipe(struct km_vcpu *vcpu, uint64_t gva, int flags)
{
	int fds[2];

	if (KM_OUT(vcpu, gva, 2 * sizeof(int)) == NULL)
		return -EFAULT;
	if (pipe2(fds, flags) != 0)
		return -errno;
	return km_fd_pair_new(vcpu->vm, fds, gva);
}

KM_SYSCALL(pipe) { return make_pipe(vcpu, a[0], 0); }
KM_SYSCALL(pipe2) { return make_pipe(vcpu, a[0], (int)a[1]); }

KM_SYSCALL(fcntl)
{
	int cmd = (int)a[1];

	FD_OR_EBADF(a[0]);
	switch (cmd) {
	case F_DUPFD:
	case F_DUPFD_CLOEXEC:
		if (a[2] >= (uint64_t)vcpu->vm->fd_limit) /* the lowest fd to give: a long */
			return -EINVAL;
		return km_fd_new(vcpu->vm, km_host(fcntl((int)a[0], cmd, (int)a[2])));
	case F_GETFD:
	case F_SETFD:
	case F_GETFL:
	case F_SETFL:
	case F_GETOWN:
	case F_SETOWN:
	case F_GETSIG:
	case F_SETSIG:
	case F_GETLEASE:
	case F_SETLEASE:
	case F_NOTIFY:
	case F_SETPIPE_SZ:
	case F_GETPIPE_SZ:
	case F_ADD_SEALS:
	case F_GET_SEALS:
		return km_host(fcntl((int)a[0], cmd, a[2]));
	case F_GETLK:
	case F_SETLK:
	case F_SETLKW:
	case F_OFD_GETLK:
	case F_OFD_SETLK:
	case F_OFD_SETLKW: {
		void *lk = km_gva(vcpu->vm, a[2], FLOCK_SIZE, cmd == F_GETLK || cmd == F_OFD_GETLK
								     ? PROT_WRITE : PROT_READ);
		return lk ? km_host(fcntl((int)a[0], cmd, lk)) : -EFAULT;
	}
	default:
		return -EINVAL;
	}
}

/* KM_IOCTLS with their argument sizes; nothing else passes. */
static const struct {
	unsigned long req;
	uint32_t size;
	int dir; /* PROT_READ: km reads the guest's buffer; PROT_WRITE: writes it; 0: by value */
} ioctls[] = {
#define KM_IOCTL_ENTRY(req, size, dir) { req, size, dir },
	KM_IOCTLS(KM_IOCTL_ENTRY)
#undef KM_IOCTL_ENTRY
};

KM_SYSCALL(ioctl)
{
	FD_OR_EBADF(a[0]);
	if ((uint32_t)a[1] == TIOCGPTPEER) /* opens the pty's other end: a new fd */
		return km_fd_new(vcpu->vm, km_host(ioctl((int)a[0], TIOCGPTPEER, (int)a[2])));
	if ((uint32_t)a[1] == TIOCSCTTY && a[2] != 0)
		return -EPERM; /* km takes no terminal from another session, whatever its rights */
	for (size_t i = 0; i < sizeof(ioctls) / sizeof(ioctls[0]); i++) {
		if (ioctls[i].req != (unsigned long)(uint32_t)a[1])
			continue;
		if (ioctls[i].dir == 0)
			return km_host(ioctl((int)a[0], ioctls[i].req, a[2]));
		void *arg = km_gva(vcpu->vm, a[2], ioctls[i].size, ioctls[i].dir);
		return arg ? km_host(ioctl((int)a[0], ioctls[i].req, arg)) : -EFAULT;
	}
	if (km_verbose)
		km_log("km: ioctl 0x%lx is not supported: returning ENOTTY", (unsigned long)a[1]);
	return -ENOTTY;
}

/* The offset, if any, is copied in and back out: the guest's word is read once. */
KM_SYSCALL(sendfile)
{
	off_t off;

	FD_OR_EBADF(a[0]);
	FD_OR_EBADF(a[1]);
	if (a[2] && km_copy_in(vcpu->vm, &off, a[2], sizeof(off)) < 0)
		return -EFAULT;
	long rc = km_host(sendfile((int)a[0], (int)a[1], a[2] ? &off : NULL, a[3]));
	if (rc >= 0 && a[2] && km_copy_out(vcpu->vm, a[2], &off, sizeof(off)) < 0)
		return -EFAULT;
	return rc;
}

/*
 * A loff_t the guest passes by address, as copy_file_range and splice
 * take them: copied in once, used from km's copy, copied back after.
 */
struct guest_off {
	uint64_t gva;
	loff_t val;
};

static long off_in(struct km_vcpu *vcpu, struct guest_off *o, uint64_t gva)
{
	o->gva = gva;
	return gva && km_copy_in(vcpu->vm, &o->val, gva, sizeof(o->val)) < 0 ? -EFAULT : 0;
}

static loff_t *off_ptr(struct guest_off *o)
{
	return o->gva ? &o->val : NULL;
}

/* The offsets back to the guest once the call has moved bytes. */
static long offs_out(struct km_vcpu *vcpu, long rc, const struct guest_off *in,
		     const struct guest_off *out)
{
	if (rc > 0 && in->gva && km_copy_out(vcpu->vm, in->gva, &in->val, sizeof(in->val)) < 0)
		return -EFAULT;
	if (rc > 0 && out->gva && km_copy_out(vcpu->vm, out->gva, &out->val, sizeof(out->val)) < 0)
		return -EFAULT;
	return rc;
}

/* copy_file_range(fd_in, off_in, fd_out, off_out, len, flags), and splice's same shape. */
static long two_fd_copy(struct km_vcpu *vcpu, long nr, const uint64_t *a)
{
	struct guest_off in, out;

	FD_OR_EBADF(a[0]);
	FD_OR_EBADF(a[2]);
	if (off_in(vcpu, &in, a[1]) < 0 || off_in(vcpu, &out, a[3]) < 0)
		return -EFAULT;
	long rc = km_host(syscall(nr, (int)a[0], off_ptr(&in), (int)a[2], off_ptr(&out),
				  (size_t)a[4], (unsigned)a[5]));
	return offs_out(vcpu, rc, &in, &out);
}

KM_SYSCALL(copy_file_range) { return two_fd_copy(vcpu, SYS_copy_file_range, a); }
KM_SYSCALL(splice) { return two_fd_copy(vcpu, SYS_splice, a); }

KM_SYSCALL(tee)
{
	FD_OR_EBADF(a[0]);
	FD_OR_EBADF(a[1]);
	return km_host(syscall(SYS_tee, (int)a[0], (int)a[1], (size_t)a[2], (unsigned)a[3]));
}

#define MEMFD_NAME_MAX 249 /* NAME_MAX less "memfd:", as Linux */

KM_SYSCALL(memfd_create)
{
	char name[MEMFD_NAME_MAX + 1];
	long rc = km_string_in(vcpu->vm, name, a[0], sizeof(name));

	if (rc < 0)
		return rc == -ENAMETOOLONG ? -EINVAL : rc;
	return km_fd_new(vcpu->vm, km_host(memfd_create(name, (unsigned)a[1])));
}
