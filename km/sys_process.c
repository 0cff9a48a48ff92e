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
	if ((args.flags & CLONE_SETTLS) && args.tls >= KM_TOP)
		return -EPERM; /* as Linux: the base arch_prctl would refuse */
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

static void free_vector(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* One more string of the guest's at gva, copied into km, onto v: 0 or -errno. */
static long push_string(struct km_vcpu *vcpu, uint64_t gva, char *scratch, char ***v, size_t *n,
			size_t *cap, size_t *total)
{
	long len = km_string_in(vcpu->vm, scratch, gva, MAX_ARG_STRLEN);
	if (len < 0)
		return len == -ENAMETOOLONG ? -E2BIG : len;
	if ((*total += (size_t)len + 1 + sizeof(char *)) > MAX_ARG_TOTAL)
		return -E2BIG;
	if (*n + 1 == *cap) {
		char **grown = realloc(*v, (*cap *= 2) * sizeof(**v));
		if (grown == NULL)
			return -ENOMEM;
		*v = grown;
	}
	if (((*v)[*n] = strndup(scratch, (size_t)len)) == NULL)
		return -ENOMEM;
	(*v)[++*n] = NULL;
	return 0;
}

/* A guest's NULL-terminated string array, copied into km (free_vector frees it). */
static long string_vector(struct km_vcpu *vcpu, uint64_t gva, char ***out)
{
	size_t n = 0, cap = 16, total = 0;
	char **v = calloc(cap, sizeof(*v));
	char *scratch = malloc(MAX_ARG_STRLEN);
	long rc = v && scratch ? 0 : -ENOMEM;

	for (uint64_t at = gva; rc == 0 && at; at += sizeof(uint64_t)) {
		uint64_t p;
		if (km_copy_in(vcpu->vm, &p, at, sizeof(p)) < 0)
			rc = -EFAULT;
		else if (p == 0)
			break;
		else
			rc = push_string(vcpu, p, scratch, &v, &n, &cap, &total);
	}
	free(scratch);
	if (rc < 0) {
		free_vector(v);
		return rc;
	}
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
		free_vector(x.envp);
	}
	free_vector(x.argv);
	return rc;
}

KM_SYSCALL(execve)
{
	char path[PATH_MAX];
	long rc = km_string_in(vcpu->vm, path, a[0], sizeof(path));
	return rc < 0 ? rc : exec_path(vcpu, path, a[1], a[2]);
}

/* execveat(dirfd, path, argv, envp, flags): named through /proc/self/fd when relative. */
KM_SYSCALL(execveat)
{
	char path[PATH_MAX], buf[PATH_MAX + 32];
	long rc = km_string_in(vcpu->vm, path, a[1], sizeof(path));
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
	long rc = km_host(syscall(SYS_wait4, (pid_t)a[0], status, (int)a[2], ru));
	if (rc > 0)
		km_signal_settle(vcpu->vm);
	return rc;
}

KM_SYSCALL(waitid)
{
	siginfo_t *info = NULL;
	void *ru = NULL;

	if (a[2] && (info = KM_OUT(vcpu, a[2], sizeof(*info))) == NULL)
		return -EFAULT;
	if (a[4] && (ru = KM_OUT(vcpu, a[4], RUSAGE_SIZE)) == NULL)
		return -EFAULT;
	if ((int)a[0] == P_PIDFD && !km_fd_ok(vcpu->vm, (int)a[1]))
		return -EBADF;
	long rc = km_host(syscall(SYS_waitid, (int)a[0], (pid_t)a[1], info, (int)a[3], ru));
	if (rc == 0)
		km_signal_settle(vcpu->vm);
	return rc;
}

/*
 * A pidfd is the host's: the guest's processes are km processes with the
 * same pids. Of a process only (PIDFD_NONBLOCK, as before Linux 6.9): a
 * thread's would reach km's own threads too.
 */
KM_SYSCALL(pidfd_open)
{
	if ((unsigned)a[1] & ~(unsigned)O_NONBLOCK)
		return -EINVAL;
	return km_fd_new(vcpu->vm, km_host(syscall(SYS_pidfd_open, (pid_t)a[0], (unsigned)a[1])));
}
