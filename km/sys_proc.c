/* The process: identity, limits, randomness, thread-pointer setup. */
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
#define RUSAGE_SIZE 144
#define SYSINFO_SIZE 112
#define TASK_COMM_LEN 16

KM_SYSCALL(getpid) { return getpid(); }
KM_SYSCALL(getppid) { return getppid(); }
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

	if (syscall(nr, &ids[0], &ids[1], &ids[2]) != 0)
		return -errno;
	for (int i = 0; i < 3; i++)
		if (km_copy_out(vcpu->vm, a[i], &ids[i], sizeof(ids[i])) < 0)
			return -EFAULT;
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
	struct rlimit want, *new = NULL;

	if (old_gva && KM_OUT(vcpu, old_gva, sizeof(struct rlimit)) == NULL)
		return -EFAULT;
	if (new_gva) {
		if (km_copy_in(vcpu->vm, &want, new_gva, sizeof(want)) < 0)
			return -EFAULT;
		new = &want;
	}
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
	clamp_limit(vcpu->vm, resource, &cur);
	return old_gva ? km_copy_out(vcpu->vm, old_gva, &cur, sizeof(cur)) : 0;
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
		return km_x86_set_fs_base(vcpu, a[1]);
	case ARCH_GET_FS: {
		uint64_t base = km_x86_get_fs_base(vcpu);
		return km_copy_out(vcpu->vm, a[1], &base, sizeof(base));
	}
	default:
		return -EINVAL;
	}
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
		char name[TASK_COMM_LEN];
		long rc = km_string_in(vcpu->vm, name, a[1], sizeof(name));
		if (rc < 0 && rc != -ENAMETOOLONG) /* longer names are cut, as Linux cuts them */
			return rc;
		name[TASK_COMM_LEN - 1] = 0;
		memcpy(vcpu->name, name, sizeof(name));
		return 0;
	}
	case PR_GET_NAME:
		return km_copy_out(vcpu->vm, a[1], vcpu->name, TASK_COMM_LEN);
	case PR_GET_DUMPABLE:
		return 1;
	default:
		return -EINVAL;
	}
}
