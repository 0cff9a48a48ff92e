/* Guest exceptions: which signal each becomes, and how the guest dies of it. */
#include <errno.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "km.h"

#define VEC_PF 14
#define PF_WRITE (1u << 1)
#define PF_FETCH (1u << 4)

static const struct {
	int sig;
	const char *what;
} vectors[32] = {
	[0] = { SIGFPE, "divide error" },	  [1] = { SIGTRAP, "debug trap" },
	[3] = { SIGTRAP, "breakpoint" },	  [4] = { SIGSEGV, "overflow" },
	[5] = { SIGSEGV, "bound range" },	  [6] = { SIGILL, "invalid opcode" },
	[7] = { SIGSEGV, "device not available" }, [8] = { SIGSEGV, "double fault" },
	[10] = { SIGSEGV, "invalid TSS" },	  [11] = { SIGBUS, "segment not present" },
	[12] = { SIGBUS, "stack fault" },	  [13] = { SIGSEGV, "general protection" },
	[14] = { SIGSEGV, "page fault" },	  [16] = { SIGFPE, "x87 floating-point error" },
	[17] = { SIGBUS, "alignment check" },	  [19] = { SIGFPE, "SIMD floating-point error" },
};

_Noreturn void km_guest_killed(struct km_vm *vm, int sig, const char *why)
{
	const char *name = sigabbrev_np(sig);

	km_err("km: %s: killed by SIG%s: %s", vm->exe_path, name ? name : "?", why);
	km_core_die(vm, sig);
}

static struct km_fault_frame *frame_of(struct km_vcpu *vcpu)
{
	uint64_t rsp = vcpu->run->s.regs.regs.rsp;
	uint64_t page = KM_SYS_VA + KM_SYS_VCPU + (uint64_t)vcpu->id * KM_PAGE_SIZE;
	uint64_t lo = page + KM_VCPU_STACK_LO, hi = page + KM_VCPU_STACK_HI;

	if (rsp < lo || rsp > hi - sizeof(struct km_fault_frame))
		km_die(1, "km: internal: exception frame outside the supervisor stack");
	return km_sys(vcpu->vm, rsp - KM_SYS_VA);
}

/*
 * The frame of the exception a vCPU is reporting, if it stopped at the
 * stub's `out` (before it, on hardware KVM; past it, on PVM or once the I/O
 * is complete): its user context is there, not in the registers.
 */
struct km_fault_frame *km_fault_frame_at_out(struct km_vcpu *vcpu)
{
	uint64_t out = KM_SYS_VA + KM_SYS_STUB + (uint64_t)(km_stub_fault_out - km_stub_start);
	uint64_t rip = vcpu->run->s.regs.regs.rip;

	return rip - out <= 2 ? frame_of(vcpu) : NULL;
}

static bool mapped(struct km_vm *vm, uint64_t addr)
{
	pthread_rwlock_rdlock(&vm->mm_lock);
	bool found = km_vma_find(vm, addr) != NULL;
	pthread_rwlock_unlock(&vm->mm_lock);
	return found;
}

/*
 * A page fault the current page tables no longer explain is stale; retry it.
 * They are read under the address-space lock, so that a fault taken while another
 * thread's mmap or mprotect was half done (page tables give only the rights
 * old and new share until km's host mapping has the new ones) sees it done.
 */
static bool spurious(struct km_vcpu *vcpu, uint64_t addr, uint64_t error)
{
	struct km_vm *vm = vcpu->vm;

	pthread_rwlock_rdlock(&vm->mm_lock);
	int have = km_pte_prot(vm, addr);
	bool found = km_vma_find(vm, addr) != NULL;
	pthread_rwlock_unlock(&vm->mm_lock);
	if (have == PROT_NONE || !found)
		return false;
	if ((error & PF_WRITE) && !(have & PROT_WRITE))
		return false;
	if ((error & PF_FETCH) && !(have & PROT_EXEC))
		return false;
	return true;
}

void km_guest_fault(struct km_vcpu *vcpu)
{
	struct km_fault_frame *f = frame_of(vcpu);
	char why[160];
	uint64_t vec = f->vector < 32 ? f->vector : 13;
	int sig = vectors[vec].sig ? vectors[vec].sig : SIGSEGV;
	const char *what = vectors[vec].what ? vectors[vec].what : "unexpected exception";

	/* si_code and si_addr as Linux reports them for each exception. */
	int code = SI_KERNEL;
	uint64_t addr = 0;
	bool user = (f->cs & 3) == 3;

	if (user && (vec == 1 || vec == 3) && km_gdb_attached() && km_gdb_trap(vcpu, f))
		return;

	if (vec == VEC_PF) {
		struct kvm_sregs sregs;
		if (ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0)
			km_die(1, "km: KVM_GET_SREGS failed: %s", strerror(errno));
		addr = sregs.cr2;
		if (spurious(vcpu, addr, f->error))
			return;
		code = mapped(vcpu->vm, addr) ? SEGV_ACCERR : SEGV_MAPERR;
	} else if (sig == SIGFPE || sig == SIGILL) {
		addr = f->rip;
		code = vec == 0 ? FPE_INTDIV : vec == 6 ? ILL_ILLOPN : 0;
	} else if (vec == 17) {
		code = BUS_ADRALN;
	}
	if (user && km_gdb_attached()) {
		int chosen = km_gdb_signal(vcpu, sig); /* gdb sees it first, and may cancel or change it */
		if (chosen == 0)
			return; /* the instruction runs again */
		if (chosen != sig)
			code = SI_KERNEL, sig = chosen;
	}
	if (user && km_signal_fault(vcpu, sig, code, addr, &f->rip, f->error, vec))
		return;

	if (vec == VEC_PF) {
		const char *access = f->error & PF_FETCH ? "execute" : f->error & PF_WRITE ? "write" : "read";
		snprintf(why, sizeof(why), "%s of address 0x%lx (%s) at rip 0x%lx", access,
			 (unsigned long)addr, mapped(vcpu->vm, addr) ? "not permitted" : "not mapped",
			 (unsigned long)f->rip);
	} else {
		snprintf(why, sizeof(why), "%s at rip 0x%lx", what, (unsigned long)f->rip);
	}
	/* The core shows the faulting instruction's context, as the CPU left it. */
	struct kvm_regs ctx = vcpu->run->s.regs.regs;
	ctx.rip = f->rip;
	ctx.rsp = f->rsp;
	ctx.rflags = f->rflags;
	siginfo_t info = { .si_signo = sig, .si_code = code };
	info.si_addr = (void *)addr;
	km_core_fault_context(&ctx, &info);
	km_guest_killed(vcpu->vm, sig, why);
}
