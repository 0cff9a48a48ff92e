/*
 * Signals: queues, posting, and getting a vCPU's attention.
 *
 * A posted signal is queued on its thread or on the process. The vCPU that
 * should take it is kicked with SIG_KICK, whose handler sets the vCPU's
 * immediate_exit: KVM_RUN then returns at once, and a blocking host call in
 * a hypercall returns EINTR. A kick that lands after a vCPU's last check but
 * before it blocks would be lost, so the routing thread repeats kicks until
 * the vCPU acknowledges one at a check point. The routing thread also takes
 * every host signal sent to km (SIGINT, SIGTERM...) and posts it to the guest.
 * Delivery itself, the frame on the guest stack, is in sigframe.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "km.h"

#define SIG_KICK (SIGRTMIN + 30) /* 64: a vCPU thread, to stop and look */
#define SIG_WAKE (SIGRTMIN + 29) /* 63: the routing thread, to repeat kicks */
#define GUEST_SIGRTMIN 32
#define REKICK_NS 2000000
#define QUEUE_LIMIT 4096

static __thread struct kvm_run *kick_run;
static __thread struct km_vcpu *self;
static sigset_t routed; /* host signals km passes to the guest */

static void on_kick(int sig)
{
	(void)sig;
	if (kick_run)
		kick_run->immediate_exit = 1;
}

bool km_sig_default_ignored(int sig)
{
	return sig == SIGCHLD || sig == SIGURG || sig == SIGWINCH || sig == SIGCONT;
}

bool km_sig_default_stops(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

bool km_sig_ignored(struct km_vm *vm, int sig)
{
	uint64_t h = vm->sigact[sig].handler;
	return h == (uint64_t)SIG_IGN || (h == (uint64_t)SIG_DFL && km_sig_default_ignored(sig));
}

/* Signals whose default death a shell does not report; km says nothing either. */
static bool quiet(int sig)
{
	return sig == SIGPIPE || sig == SIGINT || sig == SIGTERM || sig == SIGHUP || sig == SIGKILL;
}

/* The guest dies of sig's default action: km dies of the same signal. */
_Noreturn void km_signal_fatal(struct km_vm *vm, int sig)
{
	if (!quiet(sig) || km_verbose) {
		const char *name = sigabbrev_np(sig);
		if (name)
			km_err("km: %s: killed by SIG%s", vm->exe_path, name);
		else
			km_err("km: %s: killed by signal %d", vm->exe_path, sig);
	}
	km_core_die(vm, sig);
}

/* The vCPU whose host thread this is, or NULL (the routing thread, or before any). */
struct km_vcpu *km_current_vcpu(void)
{
	return self;
}

/* The vCPU running guest thread tid, or NULL. */
struct km_vcpu *km_thread_by_tid(struct km_vm *vm, pid_t tid)
{
	int n = __atomic_load_n(&vm->nvcpu, __ATOMIC_ACQUIRE);
	for (int i = 0; i < n; i++) {
		struct km_vcpu *v = vm->vcpus[i];
		enum km_vcpu_state st = __atomic_load_n(&v->state, __ATOMIC_ACQUIRE);
		if (v->tid == tid && (st == KM_VCPU_RUNNING || st == KM_VCPU_STARTING))
			return v;
	}
	return NULL;
}

static bool live(const struct km_vcpu *v)
{
	enum km_vcpu_state st = __atomic_load_n(&v->state, __ATOMIC_ACQUIRE);
	return st == KM_VCPU_RUNNING || st == KM_VCPU_STARTING || st == KM_VCPU_CLAIMED;
}

static struct km_vcpu *first_taker(struct km_vm *vm, uint64_t bit);

/*
 * The process's pending signals (of set) that vcpu is to take: those that
 * went to it when they were sent (pick_thread), or, where that thread can no
 * longer take one, those the first thread that can is vcpu; as on Linux,
 * where only the woken thread takes a shared signal, not any thread that
 * happens to return from a call first. A server's SIGTERM goes to its main
 * thread, blocked in accept, rather than to a worker on its way out.
 */
static uint64_t shared_for(struct km_vcpu *vcpu, uint64_t set)
{
	struct km_vm *vm = vcpu->vm;
	uint64_t mine = 0;

	for (uint64_t rest = set & ~vcpu->sigmask; rest; rest &= rest - 1) {
		uint64_t bit = rest & -rest;
		struct km_vcpu *t = vm->sig_taker[__builtin_ctzll(bit) + 1];
		if (t == NULL || !live(t) || (t->sigmask & bit))
			t = first_taker(vm, bit);
		if (t == vcpu)
			mine |= bit;
	}
	return mine;
}

bool km_signal_deliverable(struct km_vcpu *vcpu)
{
	uint64_t own = __atomic_load_n(&vcpu->sig_pending.set, __ATOMIC_ACQUIRE);
	uint64_t shared = __atomic_load_n(&vcpu->vm->sig_pending.set, __ATOMIC_ACQUIRE);
	return (own & ~vcpu->sigmask) != 0 || shared_for(vcpu, shared) != 0;
}

/* Wakes vcpu from a signal wait and, unless it is us, kicks it out of the guest. */
static void wake(struct km_vm *vm, struct km_vcpu *v)
{
	__atomic_add_fetch(&v->sig_seq, 1, __ATOMIC_RELEASE);
	syscall(SYS_futex, &v->sig_seq, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	if (v == self)
		return;
	__atomic_store_n(&v->kick_pending, 1, __ATOMIC_RELEASE);
	syscall(SYS_tgkill, getpid(), v->tid, SIG_KICK);
	pid_t router = __atomic_load_n(&vm->sig_thread_tid, __ATOMIC_ACQUIRE);
	if (router) /* else it has yet to start, and will repeat kicks first thing */
		syscall(SYS_tgkill, getpid(), router, SIG_WAKE);
}

/* The main thread if it can take the signal, else the first that can: Linux's choice. */
static struct km_vcpu *first_taker(struct km_vm *vm, uint64_t bit)
{
	int n = __atomic_load_n(&vm->nvcpu, __ATOMIC_ACQUIRE);
	for (int i = 0; i < n; i++)
		if (live(vm->vcpus[i]) && !(vm->vcpus[i]->sigmask & bit))
			return vm->vcpus[i];
	return NULL;
}

/*
 * The thread to take a process-directed signal: the caller if it can (as
 * Linux 6.x does for a thread signalling its own process), else first_taker.
 */
static struct km_vcpu *pick_thread(struct km_vm *vm, uint64_t bit)
{
	if (self && live(self) && !(self->sigmask & bit))
		return self;
	return first_taker(vm, bit);
}

void km_vcpu_kick(struct km_vm *vm, struct km_vcpu *v)
{
	wake(vm, v);
}

/*
 * Out of the guest, not to take a signal (gdb's stop): once is enough, the
 * handler's immediate_exit stays until the next KVM_RUN, and the run loop
 * looks before it. A host call it blocks in is made again, as for a kick.
 */
void km_vcpu_interrupt(struct km_vcpu *v)
{
	if (v != self)
		syscall(SYS_tgkill, getpid(), v->tid, SIG_KICK);
}

static void wake_waiters(struct km_vm *vm)
{
	int n = __atomic_load_n(&vm->nvcpu, __ATOMIC_ACQUIRE);
	for (int i = 0; i < n; i++) {
		struct km_vcpu *v = vm->vcpus[i];
		if (live(v) && __atomic_load_n(&v->sig_waiting, __ATOMIC_ACQUIRE)) {
			__atomic_add_fetch(&v->sig_seq, 1, __ATOMIC_RELEASE);
			syscall(SYS_futex, &v->sig_seq, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
		}
	}
}

static void enqueue(struct km_vm *vm, struct km_sigpend *q, const siginfo_t *info)
{
	struct km_sigq *e = calloc(1, sizeof(*e));
	if (e == NULL)
		km_die(1, "km: out of memory");
	e->info = *info;
	struct km_sigq **at = &q->head;
	while (*at)
		at = &(*at)->next;
	*at = e;
	vm->sig_queued++;
	__atomic_or_fetch(&q->set, KM_SIG_BIT(info->si_signo), __ATOMIC_RELEASE);
}

/* Takes the lowest-numbered signal in allowed from q. Called with sig_lock held. */
static bool dequeue(struct km_vm *vm, struct km_sigpend *q, uint64_t allowed, siginfo_t *out)
{
	uint64_t ready = q->set & allowed;
	if (ready == 0)
		return false;
	int sig = __builtin_ctzll(ready) + 1;
	bool more = false;
	for (struct km_sigq **at = &q->head; *at;) {
		struct km_sigq *e = *at;
		if (e->info.si_signo != sig) {
			at = &e->next;
		} else if (out) {
			*out = e->info;
			*at = e->next;
			free(e);
			vm->sig_queued--;
			out = NULL;
		} else {
			more = true;
			break;
		}
	}
	if (!more)
		__atomic_and_fetch(&q->set, ~KM_SIG_BIT(sig), __ATOMIC_RELEASE);
	return true;
}

/* The thread's own signals first, then the process's. */
bool km_sig_dequeue(struct km_vcpu *vcpu, uint64_t allowed, siginfo_t *out)
{
	return dequeue(vcpu->vm, &vcpu->sig_pending, allowed, out) ||
	       dequeue(vcpu->vm, &vcpu->vm->sig_pending, allowed, out);
}

/* The next signal for a handler on vcpu: its own, or a process signal it is the thread to take. */
bool km_sig_dequeue_for_handler(struct km_vcpu *vcpu, siginfo_t *out)
{
	return dequeue(vcpu->vm, &vcpu->sig_pending, ~vcpu->sigmask, out) ||
	       dequeue(vcpu->vm, &vcpu->vm->sig_pending, shared_for(vcpu, vcpu->vm->sig_pending.set), out);
}

/* Drops every queued instance of sig (it became ignored). Called with sig_lock held. */
static void discard(struct km_vm *vm, struct km_sigpend *q, int sig)
{
	siginfo_t scratch;
	while (q->set & KM_SIG_BIT(sig))
		dequeue(vm, q, KM_SIG_BIT(sig), &scratch);
}

void km_signal_discard(struct km_vm *vm, int sig)
{
	discard(vm, &vm->sig_pending, sig);
	int n = __atomic_load_n(&vm->nvcpu, __ATOMIC_ACQUIRE);
	for (int i = 0; i < n; i++)
		discard(vm, &vm->vcpus[i]->sig_pending, sig);
}

static bool blocked_everywhere(struct km_vm *vm, uint64_t bit)
{
	int n = __atomic_load_n(&vm->nvcpu, __ATOMIC_ACQUIRE);
	for (int i = 0; i < n; i++)
		if (live(vm->vcpus[i]) && !(vm->vcpus[i]->sigmask & bit))
			return false;
	return true;
}

/*
 * Posts info->si_signo to target (NULL: the process). Ignored signals are
 * dropped and default deaths happen here, at generation, as on Linux;
 * standard signals already pending merge; a real-time signal that cannot be
 * queued fails with EAGAIN when must_queue (sigqueue), else is dropped.
 */
long km_signal_post(struct km_vm *vm, struct km_vcpu *target, const siginfo_t *info, bool must_queue)
{
	int sig = info->si_signo;
	uint64_t bit = KM_SIG_BIT(sig);

	pthread_mutex_lock(&vm->sig_lock);
	bool blocked = target ? (target->sigmask & bit) != 0 : blocked_everywhere(vm, bit);
	if (sig == SIGKILL || (!blocked && vm->sigact[sig].handler == (uint64_t)SIG_DFL &&
			       !km_sig_default_ignored(sig) && !km_sig_default_stops(sig))) {
		pthread_mutex_unlock(&vm->sig_lock);
		km_signal_fatal(vm, sig);
	}
	if (!blocked && km_sig_ignored(vm, sig)) {
		pthread_mutex_unlock(&vm->sig_lock);
		return 0;
	}
	if (!blocked && vm->sigact[sig].handler == (uint64_t)SIG_DFL && km_sig_default_stops(sig)) {
		pthread_mutex_unlock(&vm->sig_lock);
		raise(SIGSTOP); /* the whole VM stops, as the process would */
		return 0;
	}
	struct km_sigpend *q = target ? &target->sig_pending : &vm->sig_pending;
	if (sig < GUEST_SIGRTMIN && (q->set & bit)) {
		pthread_mutex_unlock(&vm->sig_lock);
		return 0;
	}
	if (sig >= GUEST_SIGRTMIN && vm->sig_queued >= QUEUE_LIMIT) {
		pthread_mutex_unlock(&vm->sig_lock);
		return must_queue ? -EAGAIN : 0;
	}
	enqueue(vm, q, info);
	struct km_vcpu *to = target ? (blocked ? NULL : target) : pick_thread(vm, bit);
	if (!target)
		vm->sig_taker[sig] = to;
	pthread_mutex_unlock(&vm->sig_lock);
	km_signalfd_update(vm);
	if (to)
		wake(vm, to);
	wake_waiters(vm);
	return 0;
}

/* A leaving thread's own signals go with it; the process's find another thread. */
void km_signal_thread_exit(struct km_vcpu *vcpu)
{
	struct km_vm *vm = vcpu->vm;
	siginfo_t scratch;

	pthread_mutex_lock(&vm->sig_lock);
	while (dequeue(vm, &vcpu->sig_pending, ~0ull, &scratch))
		;
	__atomic_store_n(&vcpu->kick_pending, 0, __ATOMIC_RELEASE);
	vcpu->sigmask = ~0ull; /* no longer a candidate */
	uint64_t pending = vm->sig_pending.set;
	struct km_vcpu *to = pending ? first_taker(vm, pending & -pending) : NULL;
	pthread_mutex_unlock(&vm->sig_lock);
	if (to && to != vcpu)
		wake(vm, to);
}

/*
 * A process signal this thread now blocks, and was to take, goes to the
 * next thread that can (Linux's retarget_shared_pending).
 */
void km_sigmask_set(struct km_vcpu *vcpu, uint64_t mask)
{
	struct km_vm *vm = vcpu->vm;

	pthread_mutex_lock(&vm->sig_lock);
	uint64_t was_mine = shared_for(vcpu, vm->sig_pending.set);
	vcpu->sigmask = mask & ~(KM_SIG_BIT(SIGKILL) | KM_SIG_BIT(SIGSTOP));
	uint64_t moved = was_mine & vcpu->sigmask;
	struct km_vcpu *to = moved ? first_taker(vm, moved & -moved) : NULL;
	pthread_mutex_unlock(&vm->sig_lock);
	if (to && to != vcpu)
		wake(vm, to);
}

/*
 * sigsuspend's mask change: mask replaces the thread's until a signal is
 * delivered (its frame saves the old one) or km_sigmask_end_wait.
 */
void km_sigmask_wait_with(struct km_vcpu *vcpu, uint64_t mask)
{
	vcpu->saved_sigmask = vcpu->sigmask;
	vcpu->restore_sigmask = true;
	km_sigmask_set(vcpu, mask);
}

void km_sigmask_end_wait(struct km_vcpu *vcpu)
{
	km_sigmask_set(vcpu, vcpu->saved_sigmask);
	vcpu->restore_sigmask = false;
}

/*
 * Sleeps until a signal is posted to this thread or the process, or until
 * the CLOCK_MONOTONIC deadline (NULL: none). 0, or -EAGAIN on timeout.
 */
long km_signal_wait(struct km_vcpu *vcpu, const struct timespec *deadline)
{
	uint32_t seq = __atomic_load_n(&vcpu->sig_seq, __ATOMIC_ACQUIRE);
	long rc = 0;

	__atomic_store_n(&vcpu->sig_waiting, true, __ATOMIC_RELEASE);
	if (!km_signal_deliverable(vcpu) &&
	    syscall(SYS_futex, &vcpu->sig_seq, FUTEX_WAIT_BITSET_PRIVATE, seq, deadline, NULL,
		    FUTEX_BITSET_MATCH_ANY) < 0 &&
	    errno == ETIMEDOUT)
		rc = -EAGAIN;
	__atomic_store_n(&vcpu->sig_waiting, false, __ATOMIC_RELEASE);
	__atomic_store_n(&vcpu->kick_pending, 0, __ATOMIC_RELEASE);
	return rc;
}

static bool repeat_kicks(struct km_vm *vm)
{
	int n = __atomic_load_n(&vm->nvcpu, __ATOMIC_ACQUIRE);
	bool any = false;
	for (int i = 0; i < n; i++) {
		struct km_vcpu *v = vm->vcpus[i];
		if (__atomic_load_n(&v->kick_pending, __ATOMIC_ACQUIRE)) {
			syscall(SYS_tgkill, getpid(), v->tid, SIG_KICK);
			any = true;
		}
	}
	return any;
}

/*
 * SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP and SIGSYS that another process
 * sent km (kill, sigqueue): not km's faults but the guest's signals. mem.c's
 * fault handler (seccomp.c's for SIGSYS) hands them here, where a slot per signal holds one until the
 * router posts it (a second one meanwhile merges with it, as standard
 * signals do).
 */
enum { SENT_EMPTY, SENT_FILLING, SENT_READY };
static const int sent_sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS };
#define NSENT (sizeof(sent_sigs) / sizeof(sent_sigs[0]))
static struct {
	int state;
	siginfo_t info;
} sent[NSENT];
static pid_t *router_tid; /* &vm->sig_thread_tid, for the handler */

/* From a signal handler: only atomics and tgkill. */
void km_signal_sent(const siginfo_t *info)
{
	size_t i = 0;
	int empty = SENT_EMPTY;

	while (i < NSENT && sent_sigs[i] != info->si_signo)
		i++;
	if (i == NSENT)
		return;
	if (!__atomic_compare_exchange_n(&sent[i].state, &empty, SENT_FILLING, false,
					 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return;
	sent[i].info = *info;
	__atomic_store_n(&sent[i].state, SENT_READY, __ATOMIC_RELEASE);
	pid_t router = router_tid ? __atomic_load_n(router_tid, __ATOMIC_ACQUIRE) : 0;
	if (router)
		syscall(SYS_tgkill, getpid(), router, SIG_WAKE);
}

static void post_sent(struct km_vm *vm)
{
	for (size_t i = 0; i < NSENT; i++) {
		int ready = SENT_READY; /* the router and a forking thread may both look */
		if (!__atomic_compare_exchange_n(&sent[i].state, &ready, SENT_FILLING, false,
						 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			continue;
		siginfo_t info = sent[i].info;
		__atomic_store_n(&sent[i].state, SENT_EMPTY, __ATOMIC_RELEASE);
		km_signal_post(vm, NULL, &info, false);
	}
}

static uint64_t settle_tickets, settle_acked; /* km_signal_settle's, acked by the router */

/*
 * After a wait that reported a child. Linux makes the child's SIGCHLD
 * pending before the child can be waited for, so a program with a handler
 * runs it as its wait returns; km's router takes host signals on its own
 * time. So the caller asks the router for an ack: a SIG_WAKE carrying a
 * ticket, sent to the process (every km thread blocks it; only the router
 * waits for it), which the host dequeues after any SIGCHLD already pending
 * there (lower numbers first), and which the router acks after it has
 * posted that.
 */
void km_signal_settle(struct km_vm *vm)
{
	uint64_t handler = __atomic_load_n(&vm->sigact[SIGCHLD].handler, __ATOMIC_RELAXED);
	pid_t router = __atomic_load_n(&vm->sig_thread_tid, __ATOMIC_ACQUIRE);

	if (handler == (uint64_t)SIG_DFL || handler == (uint64_t)SIG_IGN || router == 0)
		return;
	uint64_t ticket = __atomic_add_fetch(&settle_tickets, 1, __ATOMIC_RELAXED);
	siginfo_t si = { .si_signo = SIG_WAKE, .si_code = SI_QUEUE };
	si.si_pid = getpid();
	si.si_value.sival_ptr = (void *)ticket;
	/* To the process, not the router's thread: a thread's own queue is taken before the process's. */
	if (syscall(SYS_rt_sigqueueinfo, getpid(), SIG_WAKE, &si) != 0)
		return; /* the host's queue is full: no ack to wait for */
	while (__atomic_load_n(&settle_acked, __ATOMIC_ACQUIRE) < ticket)
		sched_yield();
}

static void ack_settle(const siginfo_t *info)
{
	uint64_t ticket = (uint64_t)info->si_value.sival_ptr;

	if (info->si_code == SI_QUEUE && info->si_pid == getpid() &&
	    ticket > __atomic_load_n(&settle_acked, __ATOMIC_RELAXED))
		__atomic_store_n(&settle_acked, ticket, __ATOMIC_RELEASE);
}

static void *router(void *arg)
{
	struct km_vm *vm = arg;
	sigset_t wait_for = routed;
	bool outstanding = false;

	sigaddset(&wait_for, SIG_WAKE);
	sigaddset(&wait_for, KM_SIG_TIMER);
	__atomic_store_n(&vm->sig_thread_tid, gettid(), __ATOMIC_RELEASE);
	outstanding = repeat_kicks(vm); /* kicks made before it started had no one to wake it */
	post_sent(vm);			/* and so had signals sent meanwhile */
	for (;;) {
		const struct timespec rekick = { 0, REKICK_NS }, second = { 1, 0 };
		siginfo_t info;
		int sig = sigtimedwait(&wait_for, &info, outstanding ? &rekick : &second);
		km_clock_tick();
		if (sig == KM_SIG_TIMER)
			km_timer_fired(vm, &info);
		else if (sig > 0 && sig != SIG_WAKE)
			km_signal_post(vm, NULL, &info, false);
		post_sent(vm);
		if (sig == SIG_WAKE)
			ack_settle(&info);
		if (sig < 0 || sig == SIG_WAKE || outstanding)
			outstanding = repeat_kicks(vm);
	}
	return NULL;
}

/* False when the host has no room for one more thread (RLIMIT_NPROC, threads-max). */
static bool start_router(struct km_vm *vm)
{
	pthread_t t;
	pthread_attr_t attr;
	bool started;

	vm->sig_thread_tid = 0;
	router_tid = &vm->sig_thread_tid;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 << 10);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	started = pthread_create(&t, &attr, router, vm) == 0;
	pthread_attr_destroy(&attr);
	return started;
}

/* The routing thread's tid, which POSIX timers name as their target; waits for it to start. */
pid_t km_router_tid(struct km_vm *vm)
{
	pid_t tid;
	while ((tid = __atomic_load_n(&vm->sig_thread_tid, __ATOMIC_ACQUIRE)) == 0)
		sched_yield();
	return tid;
}

/*
 * Routed signals pending on this host thread or the process, into the
 * guest's queues: on the first thread after km_signals_start, what the exec
 * that started km kept pending.
 */
void km_signals_take_pending(struct km_vm *vm)
{
	const struct timespec now = { 0, 0 };
	siginfo_t info;

	while (sigtimedwait(&routed, &info, &now) > 0)
		km_signal_post(vm, NULL, &info, false);
}

/* The host signals km passes to the guest. */
static void routed_set(sigset_t *set)
{
	sigemptyset(set);
	for (int sig = 1; sig <= KM_NSIG; sig++) {
		switch (sig) {
		case SIGKILL: case SIGSTOP: case SIGSEGV: case SIGBUS: case SIGILL: case SIGFPE:
		case SIGTRAP: case SIGSYS: case SIGPIPE:
			continue; /* km's own faults stay km's; SIGPIPE is raised in the guest */
		}
		if (sig == 32 || sig == 33 || sig == SIG_KICK || sig == SIG_WAKE || sig == KM_SIG_TIMER)
			continue; /* glibc's own, and km's */
		sigaddset(set, sig);
	}
}

/* What every km thread but the router blocks: the routed signals and km's own wakeups. */
void km_signals_blocked(sigset_t *set)
{
	routed_set(set);
	sigaddset(set, SIG_KICK);
	sigaddset(set, SIG_WAKE);
	sigaddset(set, KM_SIG_TIMER);
}

/*
 * The signals km was started with ignored, from SigIgn in /proc/self/status:
 * one read instead of a sigaction per signal. False without /proc.
 */
static bool ignored_at_start(uint64_t *set)
{
	char text[4096];
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, text, sizeof(text) - 1);

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return false;
	text[n] = '\0';
	const char *line = strstr(text, "\nSigIgn:");
	char *end;
	if (line == NULL)
		return false;
	errno = 0;
	*set = strtoull(line + 8, &end, 16);
	return errno == 0 && end != line + 8 && *end == '\n';
}

/*
 * On the first thread, before any other exists: every routed signal (and
 * km's own wakeups) blocked, as in every km thread but the router, which
 * waits for them. The mask exec kept becomes the guest's first thread's.
 */
void km_signals_init(struct km_vm *vm)
{
	sigset_t block, start;

	routed_set(&routed);
	km_signals_blocked(&block);
	pthread_sigmask(SIG_BLOCK, &block, &start);
	for (int sig = 1; sig <= KM_NSIG; sig++)
		if (sigismember(&routed, sig) == 1 && sigismember(&start, sig) == 1)
			vm->start_sigmask |= KM_SIG_BIT(sig);
}

/*
 * The dispositions, from any thread once the first has blocked the routed
 * signals: the kick handler, SIGPIPE ignored (km raises the guest's own),
 * and the routing thread. Signals ignored at start (exec keeps them so)
 * start ignored in the guest; on the host they return to default, blocked,
 * so that the router still receives them if the guest takes them up.
 */
void km_signals_start(struct km_vm *vm)
{
	struct sigaction kick = { .sa_handler = on_kick };

	sigaction(SIG_KICK, &kick, NULL);
	if (signal(SIGPIPE, SIG_IGN) == SIG_IGN)
		vm->sigact[SIGPIPE].handler = (uint64_t)SIG_IGN;
	uint64_t ignored = 0;
	bool listed = ignored_at_start(&ignored);
	for (int sig = 1; sig <= KM_NSIG; sig++) {
		struct sigaction old;
		if (sigismember(&routed, sig) == 1 &&
		    (listed ? (ignored & KM_SIG_BIT(sig)) != 0
			    : sigaction(sig, NULL, &old) == 0 && old.sa_handler == SIG_IGN)) {
			vm->sigact[sig].handler = (uint64_t)SIG_IGN;
			signal(sig, SIG_DFL);
		}
	}
	km_signals_sigchld(vm);
	if (!start_router(vm))
		km_die(1, "km: cannot start the signal thread");
}

static void no_op(int sig)
{
	(void)sig;
}

/*
 * The guest's children are km's, so reaping them is the host's business:
 * SIGCHLD ignored, or SA_NOCLDWAIT, goes onto km's own SIGCHLD. Otherwise it
 * stays at default, blocked, for the router.
 */
void km_signals_sigchld(struct km_vm *vm)
{
	const struct km_sigaction *g = &vm->sigact[SIGCHLD];
	struct sigaction host = { .sa_handler = SIG_DFL };

	if (g->handler == (uint64_t)SIG_IGN) {
		host.sa_handler = SIG_IGN;
	} else if (g->flags & SA_NOCLDWAIT) {
		host.sa_handler = no_op;
		host.sa_flags = SA_NOCLDWAIT;
	}
	sigaction(SIGCHLD, &host, NULL);
}

/*
 * On each vCPU's host thread before it runs a guest thread: kicks may now
 * reach it, and so may the faults km turns into EFAULT (mem.c) and the
 * SIGSYS of a host call outside km's seccomp filter (seccomp.c), which the
 * kernel would otherwise deliver blocked, that is kill km with, unexplained.
 */
void km_signals_vcpu_thread(struct km_vcpu *vcpu)
{
	sigset_t open;

	kick_run = vcpu->run;
	self = vcpu;
	pthread_sigmask(SIG_BLOCK, &routed, NULL);
	sigemptyset(&open);
	sigaddset(&open, SIG_KICK);
	sigaddset(&open, SIGSEGV);
	sigaddset(&open, SIGBUS);
	sigaddset(&open, SIGSYS);
	pthread_sigmask(SIG_UNBLOCK, &open, NULL);
}

/*
 * Before fork, in the forking thread: kicks wait. A forked km's vCPU thread
 * gets a new kvm_run in place of the one its kick handler would write to
 * (km_kvm_rebuild_after_fork unmaps it), so the child takes kicks only once
 * km_signals_after_fork has pointed the handler at the new one; a kick sent
 * to the child meanwhile (another process's kill of km's signal 64) stays
 * pending until then. The parent restores its mask with km_signals_fork_done.
 */
void km_signals_before_fork(struct km_vm *vm, sigset_t *saved)
{
	sigset_t kick;

	post_sent(vm); /* the parent's, so that the child's copy is empty */
	sigemptyset(&kick);
	sigaddset(&kick, SIG_KICK);
	pthread_sigmask(SIG_BLOCK, &kick, saved);
}

void km_signals_fork_done(const sigset_t *saved)
{
	pthread_sigmask(SIG_SETMASK, saved, NULL);
}

/*
 * In a forked km, on the one thread it has: nothing is pending in a new
 * process, and the routing thread stayed with the parent. False when the
 * child cannot have one of its own.
 */
bool km_signals_after_fork(struct km_vcpu *vcpu)
{
	struct km_vm *vm = vcpu->vm;
	siginfo_t scratch;

	while (dequeue(vm, &vcpu->sig_pending, ~0ull, &scratch))
		;
	while (dequeue(vm, &vm->sig_pending, ~0ull, &scratch))
		;
	memset(vm->sig_taker, 0, sizeof(vm->sig_taker)); /* the parent's threads */
	vcpu->kick_pending = 0;
	km_signals_vcpu_thread(vcpu);
	return start_router(vm);
}

/*
 * Before km execs itself for the guest: what exec keeps is handed over in
 * the host's own state, where the new km reads it back (km_signals_init,
 * km_signals_start). Ignored signals stay ignored, handled ones return to
 * default, and the calling thread's mask of routed signals is kept; km's
 * own stay blocked.
 */
void km_signals_before_exec(struct km_vcpu *vcpu, sigset_t *saved)
{
	struct km_vm *vm = vcpu->vm;
	sigset_t mask;
	uint64_t keep = 0; /* the routed signals this thread blocks */

	sigemptyset(&mask);
	for (int sig = 1; sig <= KM_NSIG; sig++)
		if (sigismember(&routed, sig) == 1 && (vcpu->sigmask & KM_SIG_BIT(sig))) {
			sigaddset(&mask, sig);
			keep |= KM_SIG_BIT(sig);
		}
	sigaddset(&mask, SIG_KICK);
	sigaddset(&mask, SIG_WAKE);
	sigaddset(&mask, KM_SIG_TIMER);
	pthread_sigmask(SIG_SETMASK, &mask, saved);
	for (int sig = 1; sig <= KM_NSIG; sig++)
		if (sigismember(&routed, sig) == 1 || sig == SIGPIPE)
			signal(sig, vm->sigact[sig].handler == (uint64_t)SIG_IGN ? SIG_IGN : SIG_DFL);
	/*
	 * Blocked signals stay pending across exec: this thread's and the
	 * process's go onto this host thread, blocked there too, and the new km
	 * takes them back (km_signals_take_pending). Unblocked ones stay with
	 * km, for delivery should the exec fail.
	 */
	siginfo_t info;
	pthread_mutex_lock(&vm->sig_lock);
	while (km_sig_dequeue(vcpu, keep, &info))
		syscall(SYS_rt_tgsigqueueinfo, getpid(), gettid(), info.si_signo, &info);
	pthread_mutex_unlock(&vm->sig_lock);
	km_signalfd_update(vm);
}

/* The exec failed: back to km's own dispositions and this thread's mask. */
void km_signals_exec_failed(struct km_vm *vm, const sigset_t *saved)
{
	for (int sig = 1; sig <= KM_NSIG; sig++)
		if (sigismember(&routed, sig) == 1)
			signal(sig, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	km_signals_sigchld(vm);
	km_signals_take_pending(vm);
	pthread_sigmask(SIG_SETMASK, saved, NULL);
}
