/*
 * All-stop: when a thread reports an event (a breakpoint, a step, a
 * watchpoint, a signal) or gdb interrupts, every vCPU is sent out of the
 * guest and waits at the run loop; a thread blocked in a host call stays
 * there, and waits when the call returns. Breakpoints (hardware ones too)
 * are int3, steps the trap flag; watchpoints are the trap flag as well:
 * while one is set, every thread runs an instruction at a time and km
 * compares the watched bytes after each. The guest's debug registers would
 * be faster, but neither PVM nor QEMU's nested SVM here honours them; this
 * way works, the same, on every KVM (docs/debugging.md).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "gdb.h"

#define TF (1ul << 8)

/* ---- threads ----------------------------------------------------------------- */

bool gdb_live(const struct km_vcpu *v)
{
	enum km_vcpu_state st = __atomic_load_n(&v->state, __ATOMIC_ACQUIRE);
	return st == KM_VCPU_RUNNING || st == KM_VCPU_STARTING;
}

struct km_vcpu *gdb_thread(pid_t tid)
{
	int n = __atomic_load_n(&session.vm->nvcpu, __ATOMIC_ACQUIRE);

	for (int i = 0; i < n; i++) {
		struct km_vcpu *v = session.vm->vcpus[i];
		if (gdb_live(v) && (tid <= 0 || v->tid == tid))
			return v;
	}
	return NULL;
}

/* The thread register packets are for: Hg's, else the one that stopped. */
struct km_vcpu *gdb_reg_thread(void)
{
	struct km_vcpu *v = session.g_tid > 0 ? gdb_thread(session.g_tid) : NULL;
	if (v == NULL && session.event_vcpu && gdb_live(session.event_vcpu))
		v = session.event_vcpu;
	return v ? v : gdb_thread(0);
}

/* ---- stopping and resuming the vCPUs ---------------------------------------- */

bool km_gdb_attached(void)
{
	return __atomic_load_n(&session.connected, __ATOMIC_ACQUIRE);
}

bool gdb_stopping(void)
{
	return __atomic_load_n(&session.stopping, __ATOMIC_ACQUIRE);
}

/* Whether the run loop has anything to do for gdb: one load per exit, idle or not. */
bool km_gdb_busy(void)
{
	return __atomic_load_n(&session.stopping, __ATOMIC_ACQUIRE) |
	       (__atomic_load_n(&session.nwatch, __ATOMIC_ACQUIRE) > 0);
}

/* With session.lock held: every vCPU out of the guest, the server told. */
void gdb_stop_all(struct km_vcpu *event, const char *reply)
{
	snprintf(session.event, sizeof(session.event), "%s", reply);
	session.event_vcpu = event;
	__atomic_store_n(&session.stopping, 1, __ATOMIC_RELEASE);
	int n = __atomic_load_n(&session.vm->nvcpu, __ATOMIC_ACQUIRE);
	for (int i = 0; i < n; i++)
		if (gdb_live(session.vm->vcpus[i]))
			km_vcpu_interrupt(session.vm->vcpus[i]);
	char b = 1;
	if (write(session.wake[1], &b, 1) < 0) {
		/* the pipe is full: the server has a wakeup to read already */
	}
}

/* gdb's resume for this thread, as it leaves the stop. */
static void take_resume(struct km_vcpu *vcpu)
{
	if (vcpu->gdb.step) {
		struct kvm_regs r;
		gdb_user_regs(vcpu, &r);
		r.rflags |= TF;
		gdb_set_user_regs(vcpu, &r);
		vcpu->gdb.stepping = true;
	}
}

static bool in_exception_entry(struct km_vcpu *vcpu)
{
	uint64_t rip = vcpu->run->s.regs.regs.rip, stub = KM_SYS_VA + KM_SYS_STUB;
	return rip - stub < (uint64_t)(km_stub_fault_out - km_stub_start);
}

/*
 * A vCPU at the run loop while gdb has the program stopped: waits there.
 * One inside an exception entry first runs to its `out`, where km (and
 * gdb) find the program's context; the I/O of its last exit is completed,
 * so that gdb may move rip.
 */
void gdb_park(struct km_vcpu *vcpu)
{
	if (in_exception_entry(vcpu))
		return;
	if (vcpu->run->exit_reason == KVM_EXIT_IO)
		km_vcpu_complete_io(vcpu);
	pthread_mutex_lock(&session.lock);
	if (!session.stopping) {
		pthread_mutex_unlock(&session.lock);
		return;
	}
	uint64_t seq = session.resume_seq;
	vcpu->gdb.parked = true;
	pthread_cond_broadcast(&session.cond);
	while (session.resume_seq == seq)
		pthread_cond_wait(&session.cond, &session.lock);
	vcpu->gdb.parked = false;
	take_resume(vcpu);
	pthread_mutex_unlock(&session.lock);
}

/* At the run loop when km_gdb_busy: wait while gdb holds the program; step while it watches */
void km_gdb_run_loop(struct km_vcpu *vcpu)
{
	if (session.child_waits) {
		gdb_child_waits(vcpu);
		return;
	}
	if (gdb_stopping())
		gdb_park(vcpu);
	if (__atomic_load_n(&session.nwatch, __ATOMIC_ACQUIRE) > 0 && !in_exception_entry(vcpu)) {
		struct kvm_regs r;
		gdb_user_regs(vcpu, &r);
		if (!(r.rflags & TF)) {
			r.rflags |= TF;
			gdb_set_user_regs(vcpu, &r);
		}
		vcpu->gdb.watching = true;
	}
}

/*
 * vcpu has an event for gdb: stops everything and waits for gdb's resume.
 * False when another thread's stop came first and this event is to be
 * dropped (the caller repeats or forgets it): gdb resumed in between.
 */
static bool report(struct km_vcpu *vcpu, const char *reply, bool drop_if_late)
{
	pthread_mutex_lock(&session.lock);
	while (session.stopping) {
		pthread_mutex_unlock(&session.lock);
		gdb_park(vcpu);
		if (drop_if_late)
			return false;
		pthread_mutex_lock(&session.lock);
	}
	if (!session.connected) {
		pthread_mutex_unlock(&session.lock);
		return false;
	}
	gdb_stop_all(vcpu, reply);
	pthread_mutex_unlock(&session.lock);
	gdb_park(vcpu);
	return true;
}

/* The step is over, and the watchpoints' stepping until the run loop sets it again. */
static void clear_step(struct km_vcpu *vcpu, struct km_fault_frame *f)
{
	f->rflags &= ~TF;
	vcpu->gdb.stepping = false;
	vcpu->gdb.watching = false;
}

bool km_gdb_trap(struct km_vcpu *vcpu, struct km_fault_frame *f)
{
	char reply[96];

	if (f->vector == 3) {
		pthread_mutex_lock(&session.lock);
		struct gdb_breakpoint *b = gdb_breakpoint_at(f->rip - 1);
		bool ours = b != NULL, hw = ours && b->hw;
		bool gone = !ours && gdb_removed_breakpoint(f->rip - 1);
		pthread_mutex_unlock(&session.lock);
		if (gone) {
			f->rip--;
			return true;
		}
		if (!ours)
			return false; /* the program's own int3: a SIGTRAP, which gdb sees as a signal */
		f->rip--;
		if (vcpu->gdb.stepping)
			clear_step(vcpu, f);
		snprintf(reply, sizeof(reply), "T05thread:%x;%s:;", vcpu->tid, hw ? "hwbreak" : "swbreak");
		report(vcpu, reply, true);
		return true;
	}
	/* A #DB: the trap flag of gdb's step or of the watchpoints' stepping, or the program's own */
	bool mine = vcpu->gdb.stepping || vcpu->gdb.watching;
	if (!mine)
		return false;
	if (__atomic_load_n(&session.nwatch, __ATOMIC_ACQUIRE) > 0) {
		pthread_mutex_lock(&session.lock);
		struct gdb_watchpoint *w = gdb_changed_watch();
		uint64_t addr = w ? w->addr : 0;
		pthread_mutex_unlock(&session.lock);
		if (w) {
			clear_step(vcpu, f);
			snprintf(reply, sizeof(reply), "T05thread:%x;watch:%lx;", vcpu->tid,
				 (unsigned long)addr);
			report(vcpu, reply, false);
			return true;
		}
	} else {
		vcpu->gdb.watching = false;
	}
	if (vcpu->gdb.stepping) {
		clear_step(vcpu, f);
		snprintf(reply, sizeof(reply), "T05thread:%x;", vcpu->tid);
		report(vcpu, reply, true);
		return true;
	}
	if (!vcpu->gdb.watching)
		f->rflags &= ~TF;
	return true;
}

int km_gdb_signal(struct km_vcpu *vcpu, int sig)
{
	char reply[64];

	if (sig < 1 || sig > KM_NSIG || (session.pass & KM_SIG_BIT(sig)))
		return sig;
	snprintf(reply, sizeof(reply), "T%02xthread:%x;", gdb_signal_of(sig), vcpu->tid);
	vcpu->gdb.signal = sig;
	if (!report(vcpu, reply, false))
		return sig;
	return vcpu->gdb.signal;
}

/* Every vCPU goes, each with the action gdb gave it. */
void gdb_resume_all(void)
{
	pthread_mutex_lock(&session.lock);
	__atomic_store_n(&session.stopping, 0, __ATOMIC_RELEASE);
	session.resume_seq++;
	pthread_cond_broadcast(&session.cond);
	pthread_mutex_unlock(&session.lock);
}
