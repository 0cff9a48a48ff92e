/* The hypercall dispatcher: a table indexed by Linux syscall number. */
#include <linux/kvm.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "syscalls.h"

#define KM_ENTRY(name) [__NR_##name] = km_sys_##name,
static const km_hc_fn table[] = { KM_SYSCALLS(KM_ENTRY) };
#undef KM_ENTRY

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

/* Calls a handler with SA_RESTART does not make again after a signal, as signal(7) lists. */
static bool never_restarted(uint64_t nr)
{
	switch (nr) {
	case __NR_poll: case __NR_ppoll: case __NR_select: case __NR_pselect6:
	case __NR_epoll_wait: case __NR_epoll_pwait: case __NR_epoll_pwait2:
	case __NR_nanosleep: case __NR_clock_nanosleep: case __NR_rt_sigsuspend:
	case __NR_rt_sigtimedwait: case __NR_pause:
		return true;
	default:
		return false;
	}
}

/* A write to a pipe or socket with no reader raises SIGPIPE in the writer, unless told not to. */
static void maybe_sigpipe(struct km_vcpu *vcpu, uint64_t nr, const uint64_t *a)
{
	switch (nr) {
	case __NR_sendto: case __NR_sendmsg: case __NR_sendmmsg:
		if ((nr == __NR_sendmsg ? a[2] : a[3]) & MSG_NOSIGNAL)
			return;
		break;
	case __NR_write: case __NR_writev: case __NR_pwrite64: case __NR_pwritev:
	case __NR_pwritev2: case __NR_splice: case __NR_sendfile:
		break;
	default:
		return;
	}
	siginfo_t info = { .si_signo = SIGPIPE, .si_code = SI_USER };
	info.si_pid = getpid();
	info.si_uid = getuid();
	km_signal_post(vcpu->vm, vcpu, &info, false);
}

void km_hcall(struct km_vcpu *vcpu)
{
	struct kvm_regs *r = &vcpu->run->s.regs.regs;
	const uint64_t a[6] = { r->rdi, r->rsi, r->rdx, r->r10, r->r8, r->r9 };
	uint64_t nr = r->rax;
	bool interrupted = false;
	long ret;

	if (nr < TABLE_SIZE && table[nr]) {
		/*
		 * EINTR means a kick: resume the call unless a signal is there to
		 * take. rt_sigreturn's result is the restored rax, whatever it is.
		 */
		bool waits = nr == __NR_rt_sigsuspend || nr == __NR_pause ||
			     nr == __NR_rt_sigtimedwait || nr == __NR_rt_sigreturn;
		while ((ret = table[nr](vcpu, a)) == -EINTR && !waits && !km_signal_deliverable(vcpu))
			;
		interrupted = ret == -EINTR && !waits && !never_restarted(nr);
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
	if (ret == -EPIPE)
		maybe_sigpipe(vcpu, nr, a);
	/* After rt_sigreturn the registers are the restored context, not this call's. */
	km_signal_deliver(vcpu, nr != __NR_rt_sigreturn, interrupted, nr);
}
