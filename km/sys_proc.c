/* The process: identity, limits, randomness, thread-pointer setup. */
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <linux/capability.h>
#include <linux/utsname.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
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

/*
 * Credentials change for the calling thread only, as the raw calls do on
 * Linux (libc makes every thread call them): the guest thread is km's vCPU
 * thread, which then opens files with the guest's new identity.
 */
KM_SYSCALL(setuid) { return km_host(syscall(SYS_setuid, (uid_t)a[0])); }
KM_SYSCALL(setgid) { return km_host(syscall(SYS_setgid, (gid_t)a[0])); }
KM_SYSCALL(setreuid) { return km_host(syscall(SYS_setreuid, (uid_t)a[0], (uid_t)a[1])); }
KM_SYSCALL(setregid) { return km_host(syscall(SYS_setregid, (gid_t)a[0], (gid_t)a[1])); }
KM_SYSCALL(setresuid)
{
	return km_host(syscall(SYS_setresuid, (uid_t)a[0], (uid_t)a[1], (uid_t)a[2]));
}
KM_SYSCALL(setresgid)
{
	return km_host(syscall(SYS_setresgid, (gid_t)a[0], (gid_t)a[1], (gid_t)a[2]));
}

#define NGROUPS_MAX_LINUX 65536

KM_SYSCALL(setgroups)
{
	if (a[0] > NGROUPS_MAX_LINUX)
		return -EINVAL;
	const void *list = a[0] ? KM_IN(vcpu, a[1], a[0] * sizeof(gid_t)) : NULL;
	if (a[0] && list == NULL)
		return -EFAULT;
	return km_host(syscall(SYS_setgroups, (int)a[0], list));
}

/* The header is read once and written back, as the kernel writes its version there. */
KM_SYSCALL(capget)
{
	struct __user_cap_header_struct hdr;
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	if (km_copy_in(vcpu->vm, &hdr, a[0], sizeof(hdr)) < 0)
		return -EFAULT;
	long rc = km_host(syscall(SYS_capget, &hdr, a[1] ? data : NULL));
	if (km_copy_out(vcpu->vm, a[0], &hdr, sizeof(hdr)) < 0)
		return -EFAULT;
	size_t n = hdr.version == _LINUX_CAPABILITY_VERSION_1 ? 1 : _LINUX_CAPABILITY_U32S_3;
	if (rc == 0 && a[1] && km_copy_out(vcpu->vm, a[1], data, n * sizeof(data[0])) < 0)
		return -EFAULT;
	return rc;
}

static long set_uts_name(struct km_vcpu *vcpu, int nr, uint64_t name, uint64_t len)
{
	char buf[__NEW_UTS_LEN];

	if (len > sizeof(buf))
		return -EINVAL;
	if (len && km_copy_in(vcpu->vm, buf, name, len) < 0)
		return -EFAULT;
	return km_host(syscall(nr, buf, (size_t)len));
}

KM_SYSCALL(sethostname) { return set_uts_name(vcpu, SYS_sethostname, a[0], a[1]); }
KM_SYSCALL(setdomainname) { return set_uts_name(vcpu, SYS_setdomainname, a[0], a[1]); }

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

/*
 * getrlimit, setrlimit and prlimit64 of the calling process. AS, DATA and
 * STACK are the guest's own (limits.c), NOFILE is what fdtab.c keeps for
 * it, and the others are km's process's, which meter what km's host calls
 * do for the guest. As on Linux, the new limit is read first and the old
 * one written last, after the new one is set.
 */
static long limits(struct km_vcpu *vcpu, uint64_t resource, uint64_t new_gva, uint64_t old_gva)
{
	struct km_vm *vm = vcpu->vm;
	struct rlimit want, *new = NULL, cur;
	long rc;

	if (new_gva) {
		if (km_copy_in(vm, &want, new_gva, sizeof(want)) < 0)
			return -EFAULT;
		new = &want;
	}
	if ((unsigned)resource >= RLIM_NLIMITS)
		return -EINVAL;
	if (km_rlimit_viewed((int)resource)) {
		rc = km_rlimit_view(vm, (int)resource, new, &cur);
	} else if (resource == RLIMIT_NOFILE && new) {
		if (new->rlim_cur > new->rlim_max)
			return -EINVAL;
		if (new->rlim_max > (rlim_t)vm->fd_limit)
			return -EPERM;
		/* km's own fds sit at the host limit: leave it */
		rc = prlimit(0, RLIMIT_NOFILE, NULL, &cur) == 0 ? 0 : -errno;
	} else {
		rc = prlimit(0, (int)resource, new, &cur) == 0 ? 0 : -errno;
	}
	if (rc < 0)
		return rc;
	clamp_limit(vm, (int)resource, &cur);
	return old_gva ? km_copy_out(vm, old_gva, &cur, sizeof(cur)) : 0;
}

KM_SYSCALL(getrlimit) { return limits(vcpu, (unsigned)a[0], 0, a[1]); }
KM_SYSCALL(setrlimit) { return limits(vcpu, (unsigned)a[0], a[1], 0); }

KM_SYSCALL(prlimit64)
{
	if (a[0] != 0 && (pid_t)a[0] != getpid())
		return -ESRCH;
	return limits(vcpu, (unsigned)a[1], a[2], a[3]);
}

KM_SYSCALL(getrusage)
{
	void *out = KM_OUT(vcpu, a[1], RUSAGE_SIZE);
	return out ? km_host(syscall(SYS_getrusage, a[0], out)) : -EFAULT;
}

/*
 * The host's figures, except that the guest's memory is its limit: programs
 * size themselves from totalram (sysconf(_SC_PHYS_PAGES), the JVM's heap).
 */
KM_SYSCALL(sysinfo)
{
	struct sysinfo si;

	if (sysinfo(&si) != 0)
		return -errno;
	uint64_t limit = vcpu->vm->mem_limit / (si.mem_unit ? si.mem_unit : 1);
	if (si.totalram > limit)
		si.totalram = limit;
	if (si.freeram > si.totalram)
		si.freeram = si.totalram;
	if (si.sharedram > si.totalram)
		si.sharedram = si.totalram;
	if (si.bufferram > si.totalram)
		si.bufferram = si.totalram;
	_Static_assert(sizeof(si) == SYSINFO_SIZE, "struct sysinfo is the kernel's");
	return km_copy_out(vcpu->vm, a[0], &si, sizeof(si)) < 0 ? -EFAULT : 0;
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

/* Guest tids are km's host tids, so "who" needs no translation; the raw call returns 20 - nice. */
KM_SYSCALL(getpriority) { return km_host(syscall(SYS_getpriority, (int)a[0], (id_t)a[1])); }
KM_SYSCALL(setpriority) { return km_host(setpriority((int)a[0], (id_t)a[1], (int)a[2])); }

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
		return km_copy_out(vcpu->vm, a[1], km_thread_name(vcpu->vm, vcpu), TASK_COMM_LEN);
	/* km's own flag: Linux clears it on a change of credentials, and it decides the core */
	case PR_GET_DUMPABLE:
		return km_host(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
	case PR_SET_DUMPABLE:
		if (a[1] > 1) /* SUID_DUMP_DISABLE or SUID_DUMP_USER, as Linux lets a program choose */
			return -EINVAL;
		return km_host(prctl(PR_SET_DUMPABLE, a[1], 0, 0, 0));
	default:
		return -EINVAL;
	}
}
