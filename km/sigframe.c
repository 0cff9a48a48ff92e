/*
 * Signal delivery: the Linux x86-64 rt_sigframe on the guest's stack, the
 * jump to the handler, and rt_sigreturn. The layout is the kernel's, so a
 * handler may read and rewrite the saved context (the restorer is musl's
 * __restore_rt, which makes the rt_sigreturn hypercall with rsp at the
 * ucontext).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "km.h"

#define REDZONE 128
#define UC_FP_XSTATE 0x1
#define UC_SIGCONTEXT_SS 0x2
#define UC_STRICT_RESTORE_SS 0x4
#define XSTATE_MAGIC1 0x46505853u
#define XSTATE_MAGIC2 0x46505845u
#define SW_BYTES_OFFSET 464
#define SA_RESTORER_FLAG 0x04000000
#define SS_ONSTACK_FLAG 1
#define SS_DISABLE_FLAG 2
#define SS_AUTODISARM_FLAG (1u << 31)
#define RFLAGS_TF (1ul << 8)
#define RFLAGS_DF (1ul << 10)
#define RFLAGS_AC (1ul << 18)
#define RFLAGS_RF (1ul << 16)
/* The flags a handler may change in the saved context, as Linux's FIX_EFLAGS. */
#define RFLAGS_USER KM_RFLAGS_USER

struct sigcontext64 {
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
	uint16_t cs, gs, fs, ss;
	uint64_t err, trapno, oldmask, cr2, fpstate;
	uint64_t reserved[8];
};

struct ucontext64 {
	uint64_t flags, link;
	uint64_t ss_sp;
	uint32_t ss_flags, ss_pad;
	uint64_t ss_size;
	struct sigcontext64 mc;
	uint64_t sigmask;
};

struct rt_sigframe {
	uint64_t pretcode;
	struct ucontext64 uc;
	siginfo_t info;
};

_Static_assert(sizeof(struct sigcontext64) == 256, "sigcontext layout");
_Static_assert(offsetof(struct ucontext64, mc) == 40, "ucontext layout");
_Static_assert(sizeof(struct rt_sigframe) == 440, "rt_sigframe layout");

/* The interrupted context: registers, and what the CPU said of a fault. */
struct sigctx {
	struct kvm_regs regs;
	uint64_t err, trapno, cr2;
};

bool km_on_altstack(const struct km_vcpu *vcpu, uint64_t sp)
{
	return vcpu->altstack[2] && sp > vcpu->altstack[0] && sp - vcpu->altstack[0] <= vcpu->altstack[2];
}

static void save_regs(struct sigcontext64 *mc, const struct kvm_regs *r)
{
	*mc = (struct sigcontext64){
		.r8 = r->r8, .r9 = r->r9, .r10 = r->r10, .r11 = r->r11, .r12 = r->r12,
		.r13 = r->r13, .r14 = r->r14, .r15 = r->r15, .rdi = r->rdi, .rsi = r->rsi,
		.rbp = r->rbp, .rbx = r->rbx, .rdx = r->rdx, .rax = r->rax, .rcx = r->rcx,
		.rsp = r->rsp, .rip = r->rip, .eflags = r->rflags,
		.cs = KM_SEL_UCODE, .ss = KM_SEL_UDATA,
	};
}

/*
 * Writes the frame for sig below the context's stack (or on the alternate
 * stack) and returns its address, or 0 when that memory is not writable.
 * The frame is built in km and copied out whole.
 */
static uint64_t write_frame(struct km_vcpu *vcpu, const struct sigctx *ctx, const siginfo_t *info,
			    const struct km_sigaction *act, uint64_t saved_mask)
{
	struct km_vm *vm = vcpu->vm;
	uint64_t sp = ctx->regs.rsp - REDZONE;
	size_t fpu_size = km_x86_fpu_size(vm);
	bool xsave = vm->has_xsave;

	if ((act->flags & SA_ONSTACK) && vcpu->altstack[2] && !(vcpu->altstack[1] & SS_DISABLE_FLAG) &&
	    !km_on_altstack(vcpu, ctx->regs.rsp))
		sp = vcpu->altstack[0] + vcpu->altstack[2];
	uint64_t fpstate = KM_ROUND_DOWN(sp - fpu_size - (xsave ? 4 : 0), 64);
	uint64_t frame = ((fpstate - sizeof(struct rt_sigframe) + 8) & ~15ul) - 8;

	uint8_t fp[sizeof(struct kvm_xsave) + 4];
	struct rt_sigframe frame_copy, *f = &frame_copy;
	if (fpu_size + 4 > sizeof(fp))
		return 0;
	km_x86_fpu_save(vcpu, fp);
	if (xsave) {
		uint32_t sw[12] = { XSTATE_MAGIC1, (uint32_t)fpu_size + 4, (uint32_t)vm->xcr0,
				    (uint32_t)(vm->xcr0 >> 32), (uint32_t)fpu_size };
		uint32_t magic2 = XSTATE_MAGIC2;
		memcpy(fp + SW_BYTES_OFFSET, sw, sizeof(sw));
		memcpy(fp + fpu_size, &magic2, sizeof(magic2));
	}

	memset(f, 0, sizeof(*f));
	f->pretcode = act->restorer;
	f->uc.flags = UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS | (xsave ? UC_FP_XSTATE : 0);
	f->uc.ss_sp = vcpu->altstack[0];
	f->uc.ss_size = vcpu->altstack[2];
	f->uc.ss_flags = (uint32_t)vcpu->altstack[1] & SS_AUTODISARM_FLAG;
	if (!vcpu->altstack[2] || (vcpu->altstack[1] & SS_DISABLE_FLAG))
		f->uc.ss_flags = SS_DISABLE_FLAG;
	else if (km_on_altstack(vcpu, ctx->regs.rsp))
		f->uc.ss_flags |= SS_ONSTACK_FLAG;
	save_regs(&f->uc.mc, &ctx->regs);
	f->uc.mc.err = ctx->err;
	f->uc.mc.trapno = ctx->trapno;
	f->uc.mc.cr2 = ctx->cr2;
	f->uc.mc.oldmask = saved_mask;
	f->uc.mc.fpstate = fpstate;
	f->uc.sigmask = saved_mask;
	f->info = *info;
	if (km_copy_out(vm, fpstate, fp, fpu_size + (xsave ? 4 : 0)) < 0 ||
	    km_copy_out(vm, frame, f, sizeof(*f)) < 0)
		return 0;
	km_x86_fpu_init(vcpu); /* the handler starts with the defaults, as on Linux */
	if ((act->flags & SA_ONSTACK) && (vcpu->altstack[1] & SS_AUTODISARM_FLAG)) {
		vcpu->altstack[0] = vcpu->altstack[2] = 0;
		vcpu->altstack[1] = SS_DISABLE_FLAG;
	}
	return frame;
}

/*
 * What running sig's handler does to the thread's mask and, with
 * SA_RESETHAND, to the disposition. Called with sig_lock held.
 */
static void take_handler(struct km_vcpu *vcpu, int sig, const struct km_sigaction *act)
{
	struct km_vm *vm = vcpu->vm;

	vcpu->sigmask |= act->mask | (act->flags & SA_NODEFER ? 0 : KM_SIG_BIT(sig));
	vcpu->sigmask &= ~(KM_SIG_BIT(SIGKILL) | KM_SIG_BIT(SIGSTOP));
	if (act->flags & SA_RESETHAND) {
		vm->sigact[sig].handler = (uint64_t)SIG_DFL;
		vm->sigact[sig].flags &= ~(uint64_t)SA_SIGINFO;
	}
}

/*
 * Takes the next signal vcpu can take and decides what it does. True, with
 * *act and *saved_mask filled in, when a handler must run.
 */
static bool next_for_handler(struct km_vcpu *vcpu, siginfo_t *info, struct km_sigaction *act,
			     uint64_t *saved_mask)
{
	struct km_vm *vm = vcpu->vm;
	bool took = false;

	pthread_mutex_lock(&vm->sig_lock);
	while (km_sig_dequeue_for_handler(vcpu, info)) {
		int sig = info->si_signo;
		took = true;
		if (km_gdb_attached()) { /* gdb sees it first, and may cancel or change it */
			pthread_mutex_unlock(&vm->sig_lock);
			sig = km_gdb_signal(vcpu, sig);
			pthread_mutex_lock(&vm->sig_lock);
			if (sig == 0)
				continue;
			if (sig != info->si_signo)
				*info = (siginfo_t){ .si_signo = sig, .si_code = SI_USER };
		}
		*act = vm->sigact[sig];
		if (km_sig_ignored(vm, sig))
			continue;
		if (act->handler == (uint64_t)SIG_DFL) {
			pthread_mutex_unlock(&vm->sig_lock);
			if (km_sig_default_stops(sig)) {
				raise(SIGSTOP);
				pthread_mutex_lock(&vm->sig_lock);
				continue;
			}
			km_signal_fatal(vm, sig);
		}
		*saved_mask = vcpu->restore_sigmask ? vcpu->saved_sigmask : vcpu->sigmask;
		vcpu->restore_sigmask = false;
		take_handler(vcpu, sig, act);
		pthread_mutex_unlock(&vm->sig_lock);
		km_signalfd_update(vm); /* what a handler takes is no longer pending for a signalfd */
		return true;
	}
	if (vcpu->restore_sigmask) {
		vcpu->sigmask = vcpu->saved_sigmask;
		vcpu->restore_sigmask = false;
	}
	pthread_mutex_unlock(&vm->sig_lock);
	if (took)
		km_signalfd_update(vm);
	return false;
}

static _Noreturn void bad_frame(struct km_vcpu *vcpu, int sig)
{
	char why[96];
	snprintf(why, sizeof(why), "no room for the frame of signal %d on its stack", sig);
	km_guest_killed(vcpu->vm, SIGSEGV, why);
}

/* Sets up the handler's registers; the context's rip and rsp go where *rip and *rsp say. */
static void enter_handler(struct km_vcpu *vcpu, const struct km_sigaction *act, uint64_t frame,
			  int sig, uint64_t *rip, uint64_t *rsp, uint64_t *rflags)
{
	struct kvm_regs *r = &vcpu->run->s.regs.regs;

	*rip = act->handler;
	*rsp = frame;
	*rflags &= ~(RFLAGS_TF | RFLAGS_DF | RFLAGS_AC | RFLAGS_RF);
	r->rdi = (uint64_t)sig;
	r->rsi = frame + offsetof(struct rt_sigframe, info);
	r->rdx = frame + offsetof(struct rt_sigframe, uc);
	r->rax = 0;
	vcpu->run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
}

/*
 * Runs the handler of a pending signal, if any. After a hypercall
 * (after_hcall), completed first, the context resumes after it, or, when
 * the call was interrupted (restart) and the handler has SA_RESTART, at the
 * call itself with rax = nr so that it is made again. A call that came
 * through the syscall entry (a `syscall` instruction) resumes where that
 * returns: rcx, with r11's flags, as sysretq would. Otherwise (async) the
 * context is wherever the vCPU stopped. Other contexts at km's supervisor
 * pages (an exception entry) are left alone: their signals wait for the
 * next check.
 */
void km_signal_deliver(struct km_vcpu *vcpu, bool after_hcall, bool restart, uint64_t nr)
{
	struct kvm_regs *r = &vcpu->run->s.regs.regs;
	struct km_sigaction act;
	siginfo_t info;
	uint64_t saved_mask;

	__atomic_store_n(&vcpu->kick_pending, 0, __ATOMIC_RELEASE);
	if (vcpu->state != KM_VCPU_RUNNING || vcpu->vm->exiting)
		return;
	if (!km_signal_deliverable(vcpu) && !vcpu->restore_sigmask)
		return;
	bool entry = after_hcall && km_x86_in_entry(r->rip);
	if (r->rip >= KM_SYS_VA && !entry)
		return;
	if (!next_for_handler(vcpu, &info, &act, &saved_mask))
		return;
	km_fast_settle(vcpu);
	if (after_hcall)
		km_vcpu_complete_io(vcpu);
	struct sigctx ctx = { .regs = *r };
	if (entry)
		km_x86_return_to_user(&ctx.regs);
	uint64_t call = after_hcall && restart && (act.flags & SA_RESTART)
				? km_call_insn_at(vcpu->vm, ctx.regs.rip)
				: 0;
	if (call) {
		ctx.regs.rip = call;
		ctx.regs.rax = nr;
	}
	if (!(act.flags & SA_RESTORER_FLAG))
		km_guest_killed(vcpu->vm, SIGSEGV, "a signal handler without a restorer");
	uint64_t frame = write_frame(vcpu, &ctx, &info, &act, saved_mask);
	if (frame == 0)
		bad_frame(vcpu, info.si_signo);
	if (km_verbose)
		km_log("km: signal %d: handler 0x%lx, frame 0x%lx, resumes at 0x%llx", info.si_signo,
		       (unsigned long)act.handler, (unsigned long)frame, ctx.regs.rip);
	if (entry)
		km_x86_leave_entry(vcpu);
	uint64_t rip = ctx.regs.rip, rsp = r->rsp, rflags = ctx.regs.rflags;
	enter_handler(vcpu, &act, frame, info.si_signo, &rip, &rsp, &rflags);
	r->rip = rip;
	r->rsp = rsp;
	r->rflags = rflags;
}

/* A signal that arrived while the guest ran (KVM_RUN returned EINTR). */
void km_signal_async(struct km_vcpu *vcpu)
{
	km_signal_deliver(vcpu, false, false, 0);
}

/*
 * A guest exception as a signal: true if a handler takes it. The CPU's
 * frame on the supervisor stack (iret: rip, cs, rflags, rsp, ss) is
 * rewritten so the stub's iretq lands in the handler at CPL 3.
 */
bool km_signal_fault(struct km_vcpu *vcpu, int sig, int code, uint64_t addr, uint64_t *iret,
		     uint64_t err, uint64_t trapno)
{
	struct km_vm *vm = vcpu->vm;
	struct kvm_regs *r = &vcpu->run->s.regs.regs;
	struct km_sigaction act;
	uint64_t saved_mask;

	pthread_mutex_lock(&vm->sig_lock);
	act = vm->sigact[sig];
	if ((vcpu->sigmask & KM_SIG_BIT(sig)) || act.handler == (uint64_t)SIG_DFL ||
	    act.handler == (uint64_t)SIG_IGN || !(act.flags & SA_RESTORER_FLAG)) {
		pthread_mutex_unlock(&vm->sig_lock);
		return false;
	}
	saved_mask = vcpu->sigmask;
	take_handler(vcpu, sig, &act);
	pthread_mutex_unlock(&vm->sig_lock);

	struct sigctx ctx = { .regs = *r, .err = err, .trapno = trapno };
	ctx.regs.rip = iret[0];
	ctx.regs.rflags = iret[2];
	ctx.regs.rsp = iret[3];
	if (trapno == 14)
		ctx.cr2 = addr;
	siginfo_t info = { .si_signo = sig, .si_code = code };
	info.si_addr = (void *)addr;
	uint64_t frame = write_frame(vcpu, &ctx, &info, &act, saved_mask);
	if (frame == 0)
		return false;
	enter_handler(vcpu, &act, frame, sig, &iret[0], &iret[3], &iret[2]);
	return true;
}

/* rt_sigreturn: rsp is at the ucontext, where the handler's ret left it. */
long km_signal_return(struct km_vcpu *vcpu)
{
	struct km_vm *vm = vcpu->vm;
	struct kvm_regs *r = &vcpu->run->s.regs.regs;
	struct ucontext64 frame, *uc = &frame;
	km_vcpu_complete_io(vcpu); /* rip is about to move */
	bool entry = km_x86_in_entry(r->rip);

	if (km_copy_in(vm, uc, r->rsp, sizeof(*uc)) < 0)
		km_guest_killed(vm, SIGSEGV, "rt_sigreturn without a signal frame on the stack");
	if (km_verbose)
		km_log("km: rt_sigreturn: frame at 0x%llx, to rip 0x%lx", r->rsp - 8,
		       (unsigned long)uc->mc.rip);
	const struct sigcontext64 *mc = &uc->mc;
	if (mc->fpstate) {
		size_t size = km_x86_fpu_size(vm);
		uint8_t fp[sizeof(struct kvm_xsave) + 4];
		uint32_t magic1 = 0, magic2 = 0;
		bool ok = size + 4 <= sizeof(fp) && km_copy_in(vm, fp, mc->fpstate, 512) == 0;
		if (ok)
			memcpy(&magic1, fp + SW_BYTES_OFFSET, sizeof(magic1));
		bool full = ok && vm->has_xsave && magic1 == XSTATE_MAGIC1 &&
			    km_copy_in(vm, fp, mc->fpstate, size + 4) == 0;
		if (full)
			memcpy(&magic2, fp + size, sizeof(magic2));
		if (!ok || !km_x86_fpu_restore(vcpu, fp, full && magic2 == XSTATE_MAGIC2))
			km_guest_killed(vm, SIGSEGV, "rt_sigreturn with bad FPU state in its frame");
	}
	/* As Linux, the alternate stack is restored only from off it. */
	if (!km_on_altstack(vcpu, r->rsp)) {
		vcpu->altstack[0] = uc->ss_sp;
		vcpu->altstack[1] = uc->ss_flags & (SS_DISABLE_FLAG | SS_AUTODISARM_FLAG);
		vcpu->altstack[2] = uc->ss_size;
	}
	uint64_t flags = (r->rflags & ~RFLAGS_USER) | (mc->eflags & RFLAGS_USER);
	*r = (struct kvm_regs){
		.r8 = mc->r8, .r9 = mc->r9, .r10 = mc->r10, .r11 = mc->r11, .r12 = mc->r12,
		.r13 = mc->r13, .r14 = mc->r14, .r15 = mc->r15, .rdi = mc->rdi, .rsi = mc->rsi,
		.rbp = mc->rbp, .rbx = mc->rbx, .rdx = mc->rdx, .rax = mc->rax, .rcx = mc->rcx,
		.rsp = mc->rsp, .rip = mc->rip, .rflags = flags | 0x202,
	};
	vcpu->run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
	if (entry)
		km_x86_leave_entry(vcpu); /* the context is user code, not the entry's return */
	km_sigmask_set(vcpu, uc->sigmask);
	return (long)mc->rax;
}
