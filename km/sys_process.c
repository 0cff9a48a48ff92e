/* Processes: fork, vfork, clone of a new process, execve, and waiting for children. */
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "syscalls.h"

/* What a clone of a new process may ask for: km copies, so CLONE_VM only with CLONE_VFORK. */
#define PROCESS_FLAGS                                                                        \
	(CLONE_VFORK | CLONE_VM | CLONE_PARENT_SETTID | CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | \
	 CLONE_SETTLS)
#define RUSAGE_SIZE 144
#define MAX_ARG_STRLEN (32 * KM_PAGE_SIZE) /* Linux's limit on one argument */
#define MAX_ARG_TOTAL (32ul << 20)

long km_clone_process(struct km_vcpu *vcpu, const uint64_t *a)
{
	struct km_fork_args args = { a[0], a[1], a[2], a[3], a[4] };

	if ((args.flags & ~(uint64_t)CSIGNAL & ~(uint64_t)PROCESS_FLAGS) ||
	    ((args.flags & CLONE_VM) && !(args.flags & CLONE_VFORK)) ||
	    (args.flags & CSIGNAL) != SIGCHLD) {
		if (km_verbose)
			km_log("km: clone flags 0x%lx are not supported for a new process",
			       (unsigned long)args.flags);
		return -EINVAL;
	}
	if ((args.flags & CLONE_PARENT_SETTID) && !KM_OUT(vcpu, args.ptid, sizeof(uint32_t)))
		return -EFAULT;
	if ((args.flags & CLONE_CHILD_SETTID) && !KM_OUT(vcpu, args.ctid, sizeof(uint32_t)))
		return -EFAULT;
	return km_fork(vcpu, &args);
}

KM_SYSCALL(fork)
{
	const struct km_fork_args args = { .flags = SIGCHLD };
	return km_fork(vcpu, &args);
}

KM_SYSCALL(vfork)
{
	const struct km_fork_args args = { .flags = CLONE_VFORK | SIGCHLD };
	return km_fork(vcpu, &args);
}

/* A guest's NULL-terminated string array, as host pointers into guest memory. */
static long string_vector(struct km_vcpu *vcpu, uint64_t gva, char ***out)
{
	size_t n = 0, cap = 16, total = 0;
	char **v = malloc(cap * sizeof(*v));
	long rc = 0;

	for (; v && gva; n++) {
		const uint64_t *p = KM_IN(vcpu, gva + n * sizeof(uint64_t), sizeof(uint64_t));
		const char *s;
		if (p == NULL) {
			rc = -EFAULT;
			break;
		}
		if (*p == 0)
			break;
		if ((rc = km_gstr_max(vcpu->vm, *p, MAX_ARG_STRLEN, &s)) < 0 ||
		    (total += strlen(s) + 1 + sizeof(char *)) > MAX_ARG_TOTAL) {
			rc = rc == -ENAMETOOLONG || rc == 0 ? -E2BIG : rc;
			break;
		}
		if (n + 1 == cap) {
			char **grown = realloc(v, (cap *= 2) * sizeof(*v));
			if (grown == NULL) {
				rc = -ENOMEM;
				break;
			}
			v = grown;
		}
		v[n] = (char *)s;
	}
	if (v == NULL)
		return -ENOMEM;
	if (rc < 0) {
		free(v);
		return rc;
	}
	v[n] = NULL;
	*out = v;
	return 0;
}

static long exec_path(struct km_vcpu *vcpu, const char *path, uint64_t argv, uint64_t envp)
{
	struct km_exec_args x = { .path = path };
	long rc = string_vector(vcpu, argv, &x.argv);
	if (rc < 0)
		return rc;
	if ((rc = string_vector(vcpu, envp, &x.envp)) == 0) {
		rc = km_exec(vcpu, &x);
		free(x.envp);
	}
	free(x.argv);
	return rc;
}

KM_SYSCALL(execve)
{
	const char *path;
	long rc = km_gstr(vcpu->vm, a[0], &path);
	return rc < 0 ? rc : exec_path(vcpu, path, a[1], a[2]);
}

/* execveat(dirfd, path, argv, envp, flags): named through /proc/self/fd when relative. */
KM_SYSCALL(execveat)
{
	const char *path;
	char buf[PATH_MAX + 32];
	long rc = km_gstr(vcpu->vm, a[1], &path);
	int dirfd = (int)a[0], flags = (int)a[4];

	if (rc < 0)
		return rc;
	if (flags & ~(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
		return -EINVAL;
	if (path[0] != '/' && dirfd != AT_FDCWD) {
		FD_OR_EBADF(dirfd);
		if (path[0] == '\0' && !(flags & AT_EMPTY_PATH))
			return -ENOENT;
		snprintf(buf, sizeof(buf), path[0] ? "/proc/self/fd/%d/%s" : "/proc/self/fd/%d",
			 dirfd, path);
		char *real = realpath(buf, NULL); /* the fd may close at exec */
		if (real == NULL)
			return -errno;
		rc = exec_path(vcpu, real, a[2], a[3]);
		free(real);
		return rc;
	}
	return exec_path(vcpu, path, a[2], a[3]);
}

/* The guest's children are km's own: their statuses are the guests' (see km_die_by_signal). */
KM_SYSCALL(wait4)
{
	int *status = NULL;
	void *ru = NULL;

	if (a[1] && (status = KM_OUT(vcpu, a[1], sizeof(*status))) == NULL)
		return -EFAULT;
	if (a[3] && (ru = KM_OUT(vcpu, a[3], RUSAGE_SIZE)) == NULL)
		return -EFAULT;
	return km_host(syscall(SYS_wait4, (pid_t)a[0], status, (int)a[2], ru));
}

KM_SYSCALL(waitid)
{
	siginfo_t *info = NULL;
	void *ru = NULL;

	if (a[2] && (info = KM_OUT(vcpu, a[2], sizeof(*info))) == NULL)
		return -EFAULT;
	if (a[4] && (ru = KM_OUT(vcpu, a[4], RUSAGE_SIZE)) == NULL)
		return -EFAULT;
	return km_host(syscall(SYS_waitid, (int)a[0], (pid_t)a[1], info, (int)a[3], ru));
}
