/* Syscalls that name files by path. Paths are guest strings copied into km. */
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "syscalls.h"

#define STAT_SIZE 144
#define STATX_BUF_SIZE 256
#define STATFS_SIZE 120
#define TIMESPEC2_SIZE 32

#define PATH_ARG(var, gva)                                                   \
	char var[PATH_MAX];                                                  \
	do {                                                                 \
		long rc_ = km_string_in(vcpu->vm, var, (gva), sizeof(var));  \
		if (rc_ < 0)                                                 \
			return rc_;                                          \
	} while (0)

#define DIRFD_OR_EBADF(fd)                               \
	do {                                             \
		if (!km_dirfd_ok(vcpu->vm, (long)(fd)))  \
			return -EBADF;                   \
	} while (0)

static long open_at(struct km_vcpu *vcpu, long dirfd, uint64_t path, long flags, long mode)
{
	DIRFD_OR_EBADF(dirfd);
	PATH_ARG(p, path);
	return km_fd_new(vcpu->vm, km_proc_open(vcpu->vm, (int)dirfd, p, (int)flags, (mode_t)mode));
}

KM_SYSCALL(open) { return open_at(vcpu, AT_FDCWD, a[0], (long)a[1], (long)a[2]); }
KM_SYSCALL(openat) { return open_at(vcpu, (long)a[0], a[1], (long)a[2], (long)a[3]); }
KM_SYSCALL(creat) { return open_at(vcpu, AT_FDCWD, a[0], O_CREAT | O_WRONLY | O_TRUNC, (long)a[1]); }

/* One path, then up to three plain arguments. */
static long path_call(struct km_vcpu *vcpu, long nr, uint64_t path, uint64_t x, uint64_t y,
		      uint64_t z)
{
	PATH_ARG(p, path);
	return km_host(syscall(nr, p, x, y, z));
}

/* A dirfd and a path, then up to three plain arguments. */
static long at_call(struct km_vcpu *vcpu, long nr, const uint64_t *a)
{
	DIRFD_OR_EBADF(a[0]);
	PATH_ARG(p, a[1]);
	return km_host(syscall(nr, a[0], p, a[2], a[3], a[4]));
}

/* Two paths, each possibly relative to a dirfd. */
static long two_paths(struct km_vcpu *vcpu, long nr, long dfd1, uint64_t p1, long dfd2,
		      uint64_t p2, uint64_t flags)
{
	DIRFD_OR_EBADF(dfd1);
	DIRFD_OR_EBADF(dfd2);
	PATH_ARG(from, p1);
	PATH_ARG(to, p2);
	return km_host(syscall(nr, dfd1, from, dfd2, to, flags));
}

static long stat_at(struct km_vcpu *vcpu, long dirfd, uint64_t path, uint64_t buf, long flags)
{
	DIRFD_OR_EBADF(dirfd);
	void *out = KM_OUT(vcpu, buf, STAT_SIZE);
	if (out == NULL)
		return -EFAULT;
	char name[PATH_MAX] = "";
	if (path || !(flags & AT_EMPTY_PATH)) {
		long rc = km_string_in(vcpu->vm, name, path, sizeof(name));
		if (rc < 0)
			return rc;
	}
	const char *p = name;
	struct stat st; /* km's copy: km decides on it, then gives it to the guest */
	long rc = km_host(syscall(SYS_newfstatat, dirfd, p, &st, flags));
	const char *exe = rc == 0 ? km_proc_stat_exe(vcpu->vm, (int)dirfd, p, (int)flags, st.st_dev,
						     st.st_ino) :
				    NULL;
	if (exe)
		rc = km_host(syscall(SYS_newfstatat, AT_FDCWD, exe, &st, 0));
	return rc == 0 ? km_copy_out(vcpu->vm, buf, &st, sizeof(st)) : rc;
}

KM_SYSCALL(stat) { return stat_at(vcpu, AT_FDCWD, a[0], a[1], 0); }
KM_SYSCALL(lstat) { return stat_at(vcpu, AT_FDCWD, a[0], a[1], AT_SYMLINK_NOFOLLOW); }
KM_SYSCALL(newfstatat) { return stat_at(vcpu, (long)a[0], a[1], a[2], (long)a[3]); }

KM_SYSCALL(statx)
{
	DIRFD_OR_EBADF(a[0]);
	PATH_ARG(p, a[1]);
	if (KM_OUT(vcpu, a[4], STATX_BUF_SIZE) == NULL)
		return -EFAULT;
	struct statx stx; /* km's copy, as stat's */
	long rc = km_host(syscall(SYS_statx, a[0], p, a[2], a[3], &stx));
	const char *exe = rc == 0 && (stx.stx_mask & STATX_INO) ?
				  km_proc_stat_exe(vcpu->vm, (int)a[0], p, (int)a[2],
						   makedev(stx.stx_dev_major, stx.stx_dev_minor),
						   stx.stx_ino) :
				  NULL;
	if (exe)
		rc = km_host(syscall(SYS_statx, AT_FDCWD, exe, 0, a[3], &stx));
	return rc == 0 ? km_copy_out(vcpu->vm, a[4], &stx, sizeof(stx)) : rc;
}

KM_SYSCALL(access) { return path_call(vcpu, SYS_access, a[0], a[1], 0, 0); }
KM_SYSCALL(faccessat) { return at_call(vcpu, SYS_faccessat, a); }
KM_SYSCALL(faccessat2) { return at_call(vcpu, SYS_faccessat2, a); }

/* /proc/<pid>/exe names the guest's program, not km; km's own fds have no links. */
static long readlink_at(struct km_vcpu *vcpu, long dirfd, uint64_t path, uint64_t buf,
			uint64_t size)
{
	DIRFD_OR_EBADF(dirfd);
	PATH_ARG(p, path);
	int len = (int)size; /* the kernel's bufsiz is an int */
	if (len <= 0)
		return -EINVAL;
	char *out = KM_OUT(vcpu, buf, (uint64_t)len);
	if (out == NULL)
		return -EFAULT;
	char link[PATH_MAX];
	long rc = km_proc_readlink(vcpu->vm, (int)dirfd, p, link,
				   (size_t)len < sizeof(link) ? (size_t)len : sizeof(link));
	return rc > 0 ? km_copy_out(vcpu->vm, buf, link, (size_t)rc) ?: rc : rc;
}

KM_SYSCALL(readlink) { return readlink_at(vcpu, AT_FDCWD, a[0], a[1], a[2]); }
KM_SYSCALL(readlinkat) { return readlink_at(vcpu, (long)a[0], a[1], a[2], a[3]); }

KM_SYSCALL(rename) { return two_paths(vcpu, SYS_renameat2, AT_FDCWD, a[0], AT_FDCWD, a[1], 0); }
KM_SYSCALL(renameat) { return two_paths(vcpu, SYS_renameat2, (long)a[0], a[1], (long)a[2], a[3], 0); }
KM_SYSCALL(renameat2) { return two_paths(vcpu, SYS_renameat2, (long)a[0], a[1], (long)a[2], a[3], a[4]); }
KM_SYSCALL(link) { return two_paths(vcpu, SYS_linkat, AT_FDCWD, a[0], AT_FDCWD, a[1], 0); }
KM_SYSCALL(linkat) { return two_paths(vcpu, SYS_linkat, (long)a[0], a[1], (long)a[2], a[3], a[4]); }

KM_SYSCALL(symlink)
{
	PATH_ARG(target, a[0]);
	PATH_ARG(p, a[1]);
	return km_host(syscall(SYS_symlinkat, target, AT_FDCWD, p));
}

KM_SYSCALL(symlinkat)
{
	DIRFD_OR_EBADF(a[1]);
	PATH_ARG(target, a[0]);
	PATH_ARG(p, a[2]);
	return km_host(syscall(SYS_symlinkat, target, a[1], p));
}

KM_SYSCALL(unlink) { return path_call(vcpu, SYS_unlink, a[0], 0, 0, 0); }
KM_SYSCALL(unlinkat) { return at_call(vcpu, SYS_unlinkat, a); }
KM_SYSCALL(mkdir) { return path_call(vcpu, SYS_mkdir, a[0], a[1], 0, 0); }
KM_SYSCALL(mkdirat) { return at_call(vcpu, SYS_mkdirat, a); }
KM_SYSCALL(rmdir) { return path_call(vcpu, SYS_rmdir, a[0], 0, 0, 0); }
KM_SYSCALL(chmod) { return path_call(vcpu, SYS_chmod, a[0], a[1], 0, 0); }
KM_SYSCALL(fchmodat) { return at_call(vcpu, SYS_fchmodat, a); }
KM_SYSCALL(chown) { return path_call(vcpu, SYS_chown, a[0], a[1], a[2], 0); }
KM_SYSCALL(lchown) { return path_call(vcpu, SYS_lchown, a[0], a[1], a[2], 0); }
KM_SYSCALL(fchownat) { return at_call(vcpu, SYS_fchownat, a); }
KM_SYSCALL(truncate) { return path_call(vcpu, SYS_truncate, a[0], a[1], 0, 0); }
KM_SYSCALL(chdir) { return path_call(vcpu, SYS_chdir, a[0], 0, 0, 0); }
KM_SYSCALL(mknod) { return path_call(vcpu, SYS_mknod, a[0], a[1], a[2], 0); }
KM_SYSCALL(mknodat) { return at_call(vcpu, SYS_mknodat, a); }

KM_SYSCALL(statfs)
{
	PATH_ARG(p, a[0]);
	void *out = KM_OUT(vcpu, a[1], STATFS_SIZE);
	return out ? km_host(syscall(SYS_statfs, p, out)) : -EFAULT;
}

KM_SYSCALL(getcwd)
{
	char *out = KM_OUT(vcpu, a[0], a[1]);
	return out ? km_host(syscall(SYS_getcwd, out, a[1])) : -EFAULT;
}

KM_SYSCALL(umask) { return (long)umask((mode_t)a[0]); }

KM_SYSCALL(utimensat)
{
	DIRFD_OR_EBADF(a[0]);
	char p[PATH_MAX];
	if (a[1]) {
		long rc = km_string_in(vcpu->vm, p, a[1], sizeof(p));
		if (rc < 0)
			return rc;
	}
	const void *times = NULL;
	if (a[2] && (times = KM_IN(vcpu, a[2], TIMESPEC2_SIZE)) == NULL)
		return -EFAULT;
	return km_host(syscall(SYS_utimensat, a[0], a[1] ? p : NULL, times, a[3]));
}

/* Extended attributes: Linux's limits on a name and a value, then the host's call. */
#define XATTR_NAME_MAX_LINUX 255
#define XATTR_SIZE_MAX_LINUX 65536

static long xattr_name(struct km_vcpu *vcpu, char *name, uint64_t gva)
{
	long rc = km_string_in(vcpu->vm, name, gva, XATTR_NAME_MAX_LINUX + 1);
	return rc == -ENAMETOOLONG ? -ERANGE : rc < 0 ? rc : 0;
}

/*
 * The object of an xattr call (a path, or an fd when `fd`) and, for all but
 * list, the attribute's name: each read once.
 */
struct xattr_of {
	bool fd;
	int fdnum;
	char path[PATH_MAX], name[XATTR_NAME_MAX_LINUX + 1];
};

static long xattr_of(struct km_vcpu *vcpu, const uint64_t *a, bool fd, bool named,
		     struct xattr_of *x)
{
	long rc;

	x->fd = fd;
	x->fdnum = (int)a[0];
	if (fd && !km_fd_ok(vcpu->vm, x->fdnum))
		return -EBADF;
	if (!fd && (rc = km_string_in(vcpu->vm, x->path, a[0], sizeof(x->path))) < 0)
		return rc;
	return named ? xattr_name(vcpu, x->name, a[1]) : 0;
}

/* The host's call on the object, with up to four more arguments. */
static long xattr_call(const struct xattr_of *x, long nr, uint64_t p, uint64_t q, uint64_t r,
		       uint64_t t)
{
	return km_host(x->fd ? syscall(nr, x->fdnum, p, q, r, t) : syscall(nr, x->path, p, q, r, t));
}

/*
 * get and list fill a value or list of at most XATTR_SIZE_MAX bytes (as Linux
 * reads size) in km, then copy it out: the guest's buffer is checked only
 * when there is something to write, where Linux faults, so a missing
 * attribute is ENODATA whatever the buffer.
 */
static long xattr_read(struct km_vcpu *vcpu, const struct xattr_of *x, long nr, const char *name,
		       uint64_t gva, uint64_t size)
{
	if (size > XATTR_SIZE_MAX_LINUX)
		size = XATTR_SIZE_MAX_LINUX;
	char *buf = size ? malloc(size) : NULL;
	if (size && buf == NULL)
		return -ENOMEM;
	long rc = name ? xattr_call(x, nr, (uint64_t)name, (uint64_t)buf, size, 0) :
			 xattr_call(x, nr, (uint64_t)buf, size, 0, 0);
	if (rc > 0 && size && km_copy_out(vcpu->vm, gva, buf, (size_t)rc) < 0)
		rc = -EFAULT;
	free(buf);
	return rc;
}

static long get_xattr(struct km_vcpu *vcpu, long nr, const uint64_t *a, bool fd)
{
	struct xattr_of x;
	long rc = xattr_of(vcpu, a, fd, true, &x);
	return rc < 0 ? rc : xattr_read(vcpu, &x, nr, x.name, a[2], a[3]);
}

static long set_xattr(struct km_vcpu *vcpu, long nr, const uint64_t *a, bool fd)
{
	struct xattr_of x;
	long rc = xattr_of(vcpu, a, fd, true, &x);

	if (rc < 0)
		return rc;
	if (a[3] > XATTR_SIZE_MAX_LINUX)
		return -E2BIG;
	const void *value = a[3] ? KM_IN(vcpu, a[2], a[3]) : NULL;
	if (a[3] && value == NULL)
		return -EFAULT;
	return xattr_call(&x, nr, (uint64_t)x.name, (uint64_t)value, a[3], (uint32_t)a[4]);
}

static long list_xattr(struct km_vcpu *vcpu, long nr, const uint64_t *a, bool fd)
{
	struct xattr_of x;
	long rc = xattr_of(vcpu, a, fd, false, &x);
	return rc < 0 ? rc : xattr_read(vcpu, &x, nr, NULL, a[1], a[2]);
}

static long remove_xattr(struct km_vcpu *vcpu, long nr, const uint64_t *a, bool fd)
{
	struct xattr_of x;
	long rc = xattr_of(vcpu, a, fd, true, &x);
	return rc < 0 ? rc : xattr_call(&x, nr, (uint64_t)x.name, 0, 0, 0);
}

KM_SYSCALL(getxattr) { return get_xattr(vcpu, SYS_getxattr, a, false); }
KM_SYSCALL(lgetxattr) { return get_xattr(vcpu, SYS_lgetxattr, a, false); }
KM_SYSCALL(fgetxattr) { return get_xattr(vcpu, SYS_fgetxattr, a, true); }
KM_SYSCALL(setxattr) { return set_xattr(vcpu, SYS_setxattr, a, false); }
KM_SYSCALL(lsetxattr) { return set_xattr(vcpu, SYS_lsetxattr, a, false); }
KM_SYSCALL(fsetxattr) { return set_xattr(vcpu, SYS_fsetxattr, a, true); }
KM_SYSCALL(listxattr) { return list_xattr(vcpu, SYS_listxattr, a, false); }
KM_SYSCALL(llistxattr) { return list_xattr(vcpu, SYS_llistxattr, a, false); }
KM_SYSCALL(flistxattr) { return list_xattr(vcpu, SYS_flistxattr, a, true); }
KM_SYSCALL(removexattr) { return remove_xattr(vcpu, SYS_removexattr, a, false); }
KM_SYSCALL(lremovexattr) { return remove_xattr(vcpu, SYS_lremovexattr, a, false); }
KM_SYSCALL(fremovexattr) { return remove_xattr(vcpu, SYS_fremovexattr, a, true); }
