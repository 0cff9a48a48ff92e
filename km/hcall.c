/* The hypercall dispatcher: a table indexed by Linux syscall number. */
#include <linux/kvm.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "syscalls.h"

struct km_hc {
	km_hc_fn fn;
	unsigned policy; /* KM_BLOCKS, KM_RESTART...: see syscalls.h */
};

#define KM_ENTRY(name, p) [__NR_##name] = { km_sys_##name, p },
static const struct km_hc table[] = { KM_SYSCALLS(KM_ENTRY) };
#undef KM_ENTRY

#define KM_CHECK(name, p) _Static_assert(KM_POLICY_OK(p), "policy of " #name);
KM_SYSCALLS(KM_CHECK)
#undef KM_CHECK

#define TABLE_SIZE (sizeof(table) / sizeof(table[0]))

extern const char *const km_syscall_names[];
extern const unsigned km_syscall_names_count;

const char *km_syscall_name(uint64_t nr)
{
	if (nr < km_syscall_names_count && km_syscall_names[nr])
		return km_syscall_names[nr];
	return "?";
}

#define OUT_IMM8 0xe7 /* outl %eax, $imm8 */

/*
 * Where the hypercall that ends at rip starts, to make it again (SA_RESTART),
 * or 0 if the code there is not one (the guest used another form of `out`).
 * rip is past the call: km_vcpu_complete_io() has run.
 */
uint64_t km_hypercall_at(struct km_vm *vm, uint64_t rip)
{
	const uint64_t at = rip - 2;
	uint8_t code[2];

	if (at - (KM_SYS_VA + KM_SYS_ENTRY) < KM_PAGE_SIZE - 1)
		memcpy(code, km_sys(vm, at - KM_SYS_VA), sizeof(code));
	else if (km_gva(vm, at, 2, PROT_NONE) == NULL || km_copy_in(vm, code, at, sizeof(code)) < 0)
		return 0;
	return code[0] == OUT_IMM8 && code[1] == KM_HCALL_PORT ? at : 0;
}

/* EPIPE from a call that writes raises SIGPIPE in the writer, unless the call says MSG_NOSIGNAL. */
static void raise_sigpipe(struct km_vcpu *vcpu, uint64_t nr, const uint64_t *a)
{
	uint64_t flags = nr == __NR_sendto || nr == __NR_sendmmsg ? a[3] : nr == __NR_sendmsg ? a[2] : 0;

	if (flags & MSG_NOSIGNAL)
		return;
	siginfo_t info = { .si_signo = SIGPIPE, .si_code = SI_USER };
	info.si_pid = getpid();
	info.si_uid = getuid();
	km_signal_post(vcpu->vm, vcpu, &info, false);
}

/*
 * Only a call that blocks in the host can have been ended by a kick: its
 * EINTR makes it again unless a signal is there to take, which then
 * interrupts it. Any other handler's -EINTR is its result, made once.
 */
static long call(struct km_vcpu *vcpu, const struct km_hc *hc, const uint64_t *a)
{
	long ret = hc->fn(vcpu, a);

	if (hc->policy & KM_BLOCKS)
		while (ret == -EINTR && !km_signal_deliverable(vcpu))
			ret = hc->fn(vcpu, a);
	return ret;
}

void km_hcall(struct km_vcpu *vcpu)
{
	struct kvm_regs *r = &vcpu->run->s.regs.regs;
	const uint64_t a[6] = { r->rdi, r->rsi, r->rdx, r->r10, r->r8, r->r9 };
	uint64_t nr = r->rax;
	const struct km_hc *hc = nr < TABLE_SIZE && table[nr].fn ? &table[nr] : NULL;
	unsigned policy = hc ? hc->policy : KM_PLAIN;
	long ret;

	if (hc) {
		ret = call(vcpu, hc, a);
	} else {
		ret = -ENOSYS;
		if (km_verbose)
			km_log("km: unimplemented syscall %s (%lu): returning ENOSYS",
			       km_syscall_name(nr), (unsigned long)nr);
	}
	if (km_verbose)
		km_log("km: %s(0x%lx, 0x%lx, 0x%lx, 0x%lx) = %ld", km_syscall_name(nr),
		       (unsigned long)a[0], (unsigned long)a[1], (unsigned long)a[2],
		       (unsigned long)a[3], ret);
	r = &vcpu->run->s.regs.regs; /* a fork's child has a new vCPU */
	r->rax = (uint64_t)ret;
	vcpu->run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
	if (ret == -EPIPE && (policy & KM_SIGPIPE))
		raise_sigpipe(vcpu, nr, a);
	/*
	 * A call interrupted by a signal is made again after a SA_RESTART
	 * handler if its policy says so (KM_RESTART has KM_BLOCKS). After
	 * rt_sigreturn the registers are the restored context, not this call's.
	 */
	km_signal_deliver(vcpu, !(policy & KM_SIGRETURN), ret == -EINTR && (policy & KM_RESTART), nr);
}
