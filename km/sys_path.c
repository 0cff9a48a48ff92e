/* Syscalls that name files by path. Paths are guest strings copied into km. */
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
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
	const char *self = km_proc_self_file(p);
	if (self) {
		long rc = km_proc_open(vcpu->vm, self, (int)flags);
		if (rc != 1)
			return km_fd_new(vcpu->vm, rc);
	}
	return km_fd_new(vcpu->vm, km_host(syscall(SYS_openat, dirfd, p, flags, mode)));
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
	const char *self = km_proc_self_file(p);
	if (self && strcmp(self, "exe") == 0)
		p = vcpu->vm->exe_path;
	return km_host(syscall(SYS_newfstatat, dirfd, p, out, flags));
}

KM_SYSCALL(stat) { return stat_at(vcpu, AT_FDCWD, a[0], a[1], 0); }
KM_SYSCALL(lstat) { return stat_at(vcpu, AT_FDCWD, a[0], a[1], AT_SYMLINK_NOFOLLOW); }
KM_SYSCALL(newfstatat) { return stat_at(vcpu, (long)a[0], a[1], a[2], (long)a[3]); }

KM_SYSCALL(statx)
{
	DIRFD_OR_EBADF(a[0]);
	PATH_ARG(p, a[1]);
	void *out = KM_OUT(vcpu, a[4], STATX_BUF_SIZE);
	return out ? km_host(syscall(SYS_statx, a[0], p, a[2], a[3], out)) : -EFAULT;
}

KM_SYSCALL(access) { return path_call(vcpu, SYS_access, a[0], a[1], 0, 0); }
KM_SYSCALL(faccessat) { return at_call(vcpu, SYS_faccessat, a); }
KM_SYSCALL(faccessat2) { return at_call(vcpu, SYS_faccessat2, a); }

/* /proc/self/exe names the guest's program, not km. */
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
	const char *self = km_proc_self_file(p);
	if (self && strcmp(self, "exe") == 0) {
		size_t n = strlen(vcpu->vm->exe_path);
		n = n < (size_t)len ? n : (size_t)len;
		return km_copy_out(vcpu->vm, buf, vcpu->vm->exe_path, n) ?: (long)n;
	}
	return km_host(syscall(SYS_readlinkat, dirfd, p, out, len));
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
