/* The process: exit, identity, limits, randomness, thread-pointer setup. */
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "syscalls.h"

#define ARCH_SET_GS 0x1001
#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003
#define ARCH_GET_GS 0x1004
#define FUTEX_CMD_MASK 0x7f
#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_WAIT_BITSET 9
#define FUTEX_WAKE_BITSET 10
#define RUSAGE_SIZE 144
#define SYSINFO_SIZE 112
#define TASK_COMM_LEN 16

KM_SYSCALL(exit_group)
{
	vcpu->vm->exiting = true;
	vcpu->vm->exit_status = (int)(a[0] & 0xff);
	return 0;
}

/* One thread per process for now, so the thread's exit is the process's. */
KM_SYSCALL(exit) { return km_sys_exit_group(vcpu, a); }

KM_SYSCALL(getpid) { return getpid(); }
KM_SYSCALL(getppid) { return getppid(); }
KM_SYSCALL(gettid) { return vcpu->tid; }
KM_SYSCALL(getuid) { return getuid(); }
KM_SYSCALL(geteuid) { return geteuid(); }
KM_SYSCALL(getgid) { return getgid(); }
KM_SYSCALL(getegid) { return getegid(); }
KM_SYSCALL(getpgrp) { return getpgrp(); }
KM_SYSCALL(getpgid) { return km_host(getpgid((pid_t)a[0])); }
KM_SYSCALL(getsid) { return km_host(getsid((pid_t)a[0])); }
KM_SYSCALL(setpgid) { return km_host(setpgid((pid_t)a[0], (pid_t)a[1])); }
KM_SYSCALL(setsid) { return km_host(setsid()); }

static long three_ids(struct km_vcpu *vcpu, const uint64_t *a, long nr)
{
	unsigned ids[3];
	unsigned *out[3];

	for (int i = 0; i < 3; i++)
		if ((out[i] = KM_OUT(vcpu, a[i], sizeof(unsigned))) == NULL)
			return -EFAULT;
	if (syscall(nr, &ids[0], &ids[1], &ids[2]) != 0)
		return -errno;
	for (int i = 0; i < 3; i++)
		*out[i] = ids[i];
	return 0;
}

KM_SYSCALL(getresuid) { return three_ids(vcpu, a, SYS_getresuid); }
KM_SYSCALL(getresgid) { return three_ids(vcpu, a, SYS_getresgid); }

KM_SYSCALL(getgroups)
{
	if ((int)a[0] < 0)
		return -EINVAL;
	void *list = KM_OUT(vcpu, a[1], a[0] * sizeof(gid_t));
	return list ? km_host(syscall(SYS_getgroups, a[0], list)) : -EFAULT;
}

KM_SYSCALL(uname)
{
	struct utsname *u = KM_OUT(vcpu, a[0], sizeof(struct utsname));
	return u ? km_host(uname(u)) : -EFAULT;
}

/* The guest sees an open-files limit that keeps km's own fds out of reach. */
static void clamp_limit(struct km_vm *vm, int resource, struct rlimit *r)
{
	if (resource == RLIMIT_NOFILE) {
		if (r->rlim_cur > (rlim_t)vm->fd_limit)
			r->rlim_cur = (rlim_t)vm->fd_limit;
		if (r->rlim_max > (rlim_t)vm->fd_limit)
			r->rlim_max = (rlim_t)vm->fd_limit;
	}
}

static long limits(struct km_vcpu *vcpu, int resource, uint64_t new_gva, uint64_t old_gva)
{
	struct rlimit *old = NULL;
	const struct rlimit *new = NULL;

	if (old_gva && (old = KM_OUT(vcpu, old_gva, sizeof(*old))) == NULL)
		return -EFAULT;
	if (new_gva && (new = KM_IN(vcpu, new_gva, sizeof(*new))) == NULL)
		return -EFAULT;
	if (new && resource == RLIMIT_NOFILE) {
		if (new->rlim_cur > new->rlim_max)
			return -EINVAL;
		if (new->rlim_max > (rlim_t)vcpu->vm->fd_limit)
			return -EPERM;
		new = NULL; /* km's own fds sit at the host limit: leave it */
	}
	struct rlimit cur;
	if (prlimit(0, resource, new, &cur) != 0)
		return -errno;
	if (old) {
		clamp_limit(vcpu->vm, resource, &cur);
		*old = cur;
	}
	return 0;
}

KM_SYSCALL(getrlimit) { return limits(vcpu, (int)a[0], 0, a[1]); }
KM_SYSCALL(setrlimit) { return limits(vcpu, (int)a[0], a[1], 0); }

KM_SYSCALL(prlimit64)
{
	if (a[0] != 0 && (pid_t)a[0] != getpid())
		return -ESRCH;
	return limits(vcpu, (int)a[1], a[2], a[3]);
}

KM_SYSCALL(getrusage)
{
	void *out = KM_OUT(vcpu, a[1], RUSAGE_SIZE);
	return out ? km_host(syscall(SYS_getrusage, a[0], out)) : -EFAULT;
}

KM_SYSCALL(sysinfo)
{
	void *out = KM_OUT(vcpu, a[0], SYSINFO_SIZE);
	return out ? km_host(syscall(SYS_sysinfo, out)) : -EFAULT;
}

KM_SYSCALL(getrandom)
{
	void *out = KM_OUT(vcpu, a[0], a[1]);
	return out ? km_host(syscall(SYS_getrandom, out, a[1], a[2])) : -EFAULT;
}

KM_SYSCALL(arch_prctl)
{
	switch (a[0]) {
	case ARCH_SET_FS:
		vcpu->fs_base = a[1];
		return km_x86_set_fs_base(vcpu, a[1]);
	case ARCH_GET_FS: {
		uint64_t *out = KM_OUT(vcpu, a[1], sizeof(uint64_t));
		if (out == NULL)
			return -EFAULT;
		*out = vcpu->fs_base;
		return 0;
	}
	default:
		return -EINVAL;
	}
}

KM_SYSCALL(set_tid_address)
{
	vcpu->clear_child_tid = a[0];
	return vcpu->tid;
}

KM_SYSCALL(set_robust_list)
{
	if (a[1] != 24)
		return -EINVAL;
	vcpu->robust_list = a[0];
	return 0;
}

KM_SYSCALL(sched_yield) { return km_host(sched_yield()); }

KM_SYSCALL(sched_getaffinity)
{
	if (a[0] != 0 && (pid_t)a[0] != vcpu->tid)
		return -ESRCH;
	void *mask = KM_OUT(vcpu, a[2], a[1]);
	return mask ? km_host(syscall(SYS_sched_getaffinity, 0, a[1], mask)) : -EFAULT;
}

KM_SYSCALL(getcpu)
{
	unsigned *cpu = NULL, *node = NULL;
	if (a[0] && (cpu = KM_OUT(vcpu, a[0], sizeof(*cpu))) == NULL)
		return -EFAULT;
	if (a[1] && (node = KM_OUT(vcpu, a[1], sizeof(*node))) == NULL)
		return -EFAULT;
	return km_host(syscall(SYS_getcpu, cpu, node, NULL));
}

KM_SYSCALL(prctl)
{
	switch (a[0]) {
	case PR_SET_NAME: {
		const char *name = KM_IN(vcpu, a[1], 1);
		if (name == NULL)
			return -EFAULT;
		const char *s;
		long rc = km_gstr(vcpu->vm, a[1], &s);
		if (rc < 0)
			return rc;
		strncpy(vcpu->name, s, TASK_COMM_LEN - 1);
		return 0;
	}
	case PR_GET_NAME: {
		char *out = KM_OUT(vcpu, a[1], TASK_COMM_LEN);
		if (out == NULL)
			return -EFAULT;
		memcpy(out, vcpu->name, TASK_COMM_LEN);
		return 0;
	}
	case PR_GET_DUMPABLE:
		return 1;
	default:
		return -EINVAL;
	}
}

/*
 * With one thread nobody else can change a futex word or wake a waiter, so
 * a wait either fails at once or sleeps out its timeout, as on Linux.
 */
KM_SYSCALL(futex)
{
	int cmd = (int)a[1] & FUTEX_CMD_MASK;

	if (cmd == FUTEX_WAKE || cmd == FUTEX_WAKE_BITSET)
		return 0;
	if (cmd != FUTEX_WAIT && cmd != FUTEX_WAIT_BITSET)
		return -ENOSYS;
	const uint32_t *word = KM_IN(vcpu, a[0], sizeof(uint32_t));
	if (word == NULL)
		return -EFAULT;
	if (*word != (uint32_t)a[2])
		return -EAGAIN;
	if (a[3] == 0)
		km_guest_killed(vcpu->vm, SIGKILL, "deadlock: the only thread waits on a futex forever");
	const void *ts = KM_IN(vcpu, a[3], 16);
	if (ts == NULL)
		return -EFAULT;
	int clock = (int)a[1] & 256 ? CLOCK_REALTIME : CLOCK_MONOTONIC;
	int flags = cmd == FUTEX_WAIT_BITSET ? TIMER_ABSTIME : 0;
	long rc = syscall(SYS_clock_nanosleep, clock, flags, ts, NULL);
	return rc == 0 ? -ETIMEDOUT : -errno;
}

/* No child can exist until fork arrives, so there is never one to wait for. */
KM_SYSCALL(wait4) { return -ECHILD; }
