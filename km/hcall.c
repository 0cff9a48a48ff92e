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

bool km_hcall_served(uint64_t nr)
{
	return nr < TABLE_SIZE && table[nr].fn != NULL;
}

extern const char *const km_syscall_names[];
extern const unsigned km_syscall_names_count;

const char *km_syscall_name(uint64_t nr)
{
	if (nr < km_syscall_names_count && km_syscall_names[nr])
		return km_syscall_names[nr];
	if (nr == KM_HC_FAST_SLOT)
		return "km_fast_slot";
	if (nr == KM_HC_INIT_TP)
		return "km_init_tp";
	return "?";
}

#define OUT_IMM8 0xe7 /* outl %eax, $imm8 */

/*
 * Where the call that returns to ret starts, to make it again (SA_RESTART):
 * a hypercall `out` (km's runtime) or a `syscall` instruction (any other
 * program, through the syscall entry), or 0 if the code there is neither.
 */
uint64_t km_call_insn_at(struct km_vm *vm, uint64_t ret)
{
	static const uint8_t out[2] = { OUT_IMM8, KM_HCALL_PORT }, syscall_insn[2] = { 0x0f, 0x05 };
	const uint64_t at = ret - 2;
	uint8_t code[2];

	if (at >= KM_TOP || km_gva(vm, at, 2, PROT_NONE) == NULL ||
	    km_copy_in(vm, code, at, sizeof(code)) < 0)
		return 0;
	return memcmp(code, out, 2) == 0 || memcmp(code, syscall_insn, 2) == 0 ? at : 0;
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
	bool entry = km_x86_in_entry(r->rip), user_entry = false;
	long ret;

	if (entry) {
		km_x86_entry_check(vcpu);
		user_entry = km_x86_entry_in_user_mode(vcpu); /* before a handler completes the I/O */
	}

	km_fast_missed(vcpu->vm, nr);
	if (hc) {
		ret = call(vcpu, hc, a);
	} else if (nr == KM_HC_FAST_SLOT) {
		ret = km_fast_slot(vcpu);
	} else if (nr == KM_HC_INIT_TP) {
		ret = km_init_tp(vcpu, a);
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
	if (user_entry && !(policy & KM_SIGRETURN))
		km_x86_return_to_user(r); /* the entry's sysretq is for CPL 0 only */
	if (ret == -EPIPE && (policy & KM_SIGPIPE))
		raise_sigpipe(vcpu, nr, a);
	/*
	 * A call interrupted by a signal is made again after a SA_RESTART
	 * handler if its policy says so (KM_RESTART has KM_BLOCKS). After
	 * rt_sigreturn the registers are the restored context, not this call's.
	 */
	km_signal_deliver(vcpu, !(policy & KM_SIGRETURN), ret == -EINTR && (policy & KM_RESTART), nr);
}
