/* Threads: clone, exit, tid bookkeeping and futexes. */
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "syscalls.h"

/* Flags a thread-creating clone may carry; km shares all of these anyway. */
#define THREAD_FLAGS                                                                      \
	(CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM | \
	 CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID |   \
	 CLONE_DETACHED | CLONE_IO | CLONE_PTRACE | CLONE_UNTRACED)
#define THREAD_NEEDS (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD)

static long thread_flags_check(uint64_t flags)
{
	if ((flags & CLONE_THREAD) && !(flags & CLONE_SIGHAND))
		return -EINVAL;
	if ((flags & CLONE_SIGHAND) && !(flags & CLONE_VM))
		return -EINVAL;
	if ((flags & ~(uint64_t)CSIGNAL & ~(uint64_t)THREAD_FLAGS) ||
	    (flags & THREAD_NEEDS) != THREAD_NEEDS)
		return -EINVAL;
	return 0;
}

/* clone(flags, stack, parent_tid, child_tid, tls), the x86-64 argument order. */
KM_SYSCALL(clone)
{
	struct km_vm *vm = vcpu->vm;
	uint64_t flags = a[0];

	if (!(flags & CLONE_THREAD))
		return km_clone_process(vcpu, a);
	long rc = thread_flags_check(flags);
	if (rc < 0)
		return rc;
	if ((flags & CLONE_SETTLS) && a[4] >= KM_TOP)
		return -EPERM; /* as Linux: the base arch_prctl would refuse */
	if ((flags & CLONE_PARENT_SETTID) && !KM_OUT(vcpu, a[2], sizeof(uint32_t)))
		return -EFAULT;
	if ((flags & CLONE_CHILD_SETTID) && !KM_OUT(vcpu, a[3], sizeof(uint32_t)))
		return -EFAULT;

	struct km_vcpu *child = km_thread_claim(vm);
	if (child == NULL)
		return -EAGAIN;
	struct km_thread_start *st = &child->start;
	km_vcpu_complete_io(vcpu); /* the child starts past the parent's call */
	st->regs = vcpu->run->s.regs.regs;
	st->regs.rax = 0;
	if (km_x86_in_entry(st->regs.rip))
		km_x86_return_to_user(&st->regs); /* its vCPU starts at CPL 3, where sysretq faults */
	if (a[1])
		st->regs.rsp = a[1];
	st->fs_base = flags & CLONE_SETTLS ? a[4] : km_x86_get_fs_base(vcpu);
	km_x86_fpu_save(vcpu, st->fpu); /* as Linux, a thread starts with its creator's */
	st->fpu_inherited = true;

	child->clear_child_tid = flags & CLONE_CHILD_CLEARTID ? a[3] : 0;
	child->robust_list = 0;
	child->sigmask = vcpu->sigmask;
	child->restore_sigmask = false;
	memset(child->altstack, 0, sizeof(child->altstack));
	child->altstack[1] = SS_DISABLE;
	memcpy(child->name, vcpu->name, sizeof(child->name));
	/* As Linux, a tid word that went away meanwhile is not the clone's failure. */
	uint32_t tid = (uint32_t)child->tid;
	if (flags & CLONE_PARENT_SETTID)
		km_copy_out(vm, a[2], &tid, sizeof(tid));
	if (flags & CLONE_CHILD_SETTID)
		km_copy_out(vm, a[3], &tid, sizeof(tid));
	km_thread_launch(child);
	return (pid_t)tid;
}

/* clone3's arguments as far as Linux 5.7 (CLONE_ARGS_SIZE_VER2). */
struct clone_args_v2 {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
	uint64_t set_tid, set_tid_size, cgroup;
};
#define CLONE_ARGS_SIZE_VER0 64

/* Bytes [from, size) of the guest's larger struct must be 0, as Linux's copy_struct_from_user. */
static long tail_is_zero(struct km_vm *vm, uint64_t gva, uint64_t from, uint64_t size)
{
	uint8_t chunk[256];

	for (uint64_t at = from, n; at < size; at += n) {
		n = size - at < sizeof(chunk) ? size - at : sizeof(chunk);
		if (km_copy_in(vm, chunk, gva + at, n) < 0)
			return -EFAULT;
		for (uint64_t i = 0; i < n; i++)
			if (chunk[i])
				return -E2BIG;
	}
	return 0;
}

/*
 * clone3(args, size): clone's work with its arguments in a struct, read
 * once. What km's clone cannot do (a chosen tid, a pidfd, a cgroup, fresh
 * handlers) is EINVAL, as from a kernel without it.
 */
KM_SYSCALL(clone3)
{
	struct clone_args_v2 c = { 0 };
	uint64_t size = a[1], end;

	if (size < CLONE_ARGS_SIZE_VER0)
		return -EINVAL;
	if (size > KM_PAGE_SIZE)
		return -E2BIG;
	if (km_copy_in(vcpu->vm, &c, a[0], size < sizeof(c) ? size : sizeof(c)) < 0)
		return -EFAULT;
	long rc = tail_is_zero(vcpu->vm, a[0], sizeof(c), size);
	if (rc < 0)
		return rc;
	if ((c.exit_signal & ~(uint64_t)CSIGNAL) || c.exit_signal >= KM_NSIG + 1 ||
	    (c.flags & (CLONE_DETACHED | CSIGNAL)) || (c.stack == 0) != (c.stack_size == 0) ||
	    (c.stack && !km_user_range(c.stack, c.stack_size, &end)))
		return -EINVAL;
	if (c.flags >> 32 || (c.flags & CLONE_PIDFD) || c.set_tid || c.set_tid_size) {
		if (km_verbose)
			km_log("km: clone3 flags 0x%lx or a chosen tid are not supported",
			       (unsigned long)c.flags);
		return -EINVAL;
	}
	const uint64_t args[5] = { c.flags | c.exit_signal, c.stack ? c.stack + c.stack_size : 0,
				   c.parent_tid, c.child_tid, c.tls };
	return km_sys_clone(vcpu, args);
}

KM_SYSCALL(exit)
{
	km_thread_exit(vcpu, (int)(a[0] & 0xff));
	return 0;
}

KM_SYSCALL(exit_group)
{
	vcpu->vm->exit_status = (int)(a[0] & 0xff);
	vcpu->vm->exiting = true;
	return 0;
}

KM_SYSCALL(gettid) { return vcpu->tid; }

KM_SYSCALL(set_tid_address)
{
	vcpu->clear_child_tid = a[0];
	return vcpu->tid;
}

/* KM_HC_INIT_TP (hcall_abi.h): three calls of a thread's start, checked first, in one exit. */
long km_init_tp(struct km_vcpu *vcpu, const uint64_t *a)
{
	long slot, rc;

	if (a[2] && !KM_OUT(vcpu, a[2], sizeof(slot)))
		return -EFAULT;
	if ((rc = km_x86_set_fs_base(vcpu, a[0])) < 0)
		return rc; /* EPERM, as arch_prctl's */
	vcpu->clear_child_tid = a[1];
	if (a[2]) {
		slot = km_fast_slot(vcpu);
		km_copy_out(vcpu->vm, a[2], &slot, sizeof(slot));
	}
	return vcpu->tid;
}

KM_SYSCALL(set_robust_list)
{
	if (a[1] != 24)
		return -EINVAL;
	vcpu->robust_list = a[0];
	return 0;
}

/* Only the calling thread's own list: other threads are not km's to expose. */
KM_SYSCALL(get_robust_list)
{
	if (a[0] != 0 && (pid_t)a[0] != vcpu->tid)
		return -EPERM;
	uint64_t len = 24;
	if (km_copy_out(vcpu->vm, a[1], &vcpu->robust_list, sizeof(uint64_t)) < 0 ||
	    km_copy_out(vcpu->vm, a[2], &len, sizeof(len)) < 0)
		return -EFAULT;
	return 0;
}

/*
 * Guest memory is km's memory, and guest tids are host tids, so the host
 * kernel can do every futex operation on the host addresses of the words:
 * waits block only this vCPU's thread, PI futexes see the right owners.
 */
KM_SYSCALL(futex)
{
	int op = (int)a[1];
	uint64_t arg4 = a[3];
	uint32_t *uaddr2 = NULL;

	uint32_t *uaddr = KM_IN(vcpu, a[0], sizeof(uint32_t));
	if (uaddr == NULL)
		return -EFAULT;
	switch (op & FUTEX_CMD_MASK) {
	case FUTEX_WAIT:
	case FUTEX_WAIT_BITSET:
	case FUTEX_LOCK_PI:
	case FUTEX_LOCK_PI2:
	case FUTEX_WAIT_REQUEUE_PI:
		if (arg4 && (arg4 = (uint64_t)KM_IN(vcpu, arg4, sizeof(struct timespec))) == 0)
			return -EFAULT;
		break;
	case FUTEX_WAKE:
	case FUTEX_WAKE_BITSET:
	case FUTEX_UNLOCK_PI:
	case FUTEX_TRYLOCK_PI:
		break;
	case FUTEX_REQUEUE:
	case FUTEX_CMP_REQUEUE:
	case FUTEX_CMP_REQUEUE_PI:
	case FUTEX_WAKE_OP:
		break; /* arg4 is a count, not a pointer */
	default:
		return -ENOSYS;
	}
	switch (op & FUTEX_CMD_MASK) {
	case FUTEX_REQUEUE:
	case FUTEX_CMP_REQUEUE:
	case FUTEX_CMP_REQUEUE_PI:
	case FUTEX_WAKE_OP:
	case FUTEX_WAIT_REQUEUE_PI:
		if ((uaddr2 = KM_IN(vcpu, a[4], sizeof(uint32_t))) == NULL)
			return -EFAULT;
		break;
	}
	return km_host(syscall(SYS_futex, uaddr, op, (uint32_t)a[2], arg4, uaddr2, (uint32_t)a[5]));
}
