/*
 * Guest threads. Each runs on a vCPU, and each vCPU on a host thread of its
 * own, so a hypercall that blocks holds up only its thread. A thread that
 * exits parks its vCPU and host thread for the next clone: KVM cannot
 * destroy a vCPU, and creating one costs far more than reusing it.
 */
#include <errno.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "km.h"

#define VCPU_THREAD_STACK (256ul << 10)

void km_threads_init(struct km_vm *vm)
{
	int max = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);

	vm->max_vcpus = max > 0 && max < KM_MAX_VCPUS ? max : KM_MAX_VCPUS;
}

/* The guest saw exit_group, or its last thread left: the process ends here. */
static _Noreturn void process_exit(int status)
{
	char ended[32];

	snprintf(ended, sizeof(ended), "exit status %d", status & 0xff);
	km_stats_write(ended);
	km_gdb_exit(status, 0);
	fflush(NULL);
	_exit(status & 0xff);
}

static void run_guest_thread(struct km_vcpu *vcpu)
{
	km_x86_load_start(vcpu);
	km_gdb_start(vcpu);
	km_run(vcpu);
	if (vcpu->vm->exiting)
		process_exit(vcpu->vm->exit_status);
}

/* A parked vCPU's host thread: wait for a clone to hand it a guest thread. */
static void *vcpu_thread(void *arg)
{
	struct km_vcpu *vcpu = arg;
	struct km_vm *vm = vcpu->vm;

	km_signals_vcpu_thread(vcpu);
	pthread_mutex_lock(&vm->thread_lock);
	vcpu->tid = gettid();
	pthread_cond_broadcast(&vcpu->wake);
	for (;;) {
		while (vcpu->state != KM_VCPU_STARTING)
			pthread_cond_wait(&vcpu->wake, &vm->thread_lock);
		vcpu->state = KM_VCPU_RUNNING;
		pthread_mutex_unlock(&vm->thread_lock);
		run_guest_thread(vcpu);
		pthread_mutex_lock(&vm->thread_lock);
		vcpu->state = KM_VCPU_PARKED;
		vcpu->parked_seq = ++vm->park_seq;
	}
	return NULL;
}

/* A new parked vCPU, or NULL when KVM or the open-files limit has no room for one. */
static struct km_vcpu *new_vcpu(struct km_vm *vm)
{
	struct km_vcpu *vcpu = km_vcpu_create(vm, vm->nvcpu);

	if (vcpu == NULL)
		return NULL;
	pthread_cond_init(&vcpu->wake, NULL);
	vcpu->state = KM_VCPU_PARKED;
	km_x86_init_vcpu(vcpu);
	vm->vcpus[vm->nvcpu++] = vcpu;
	return vcpu;
}

/* Called with thread_lock held; the new host thread reports its tid before we return. */
static bool start_host_thread(struct km_vcpu *vcpu)
{
	pthread_attr_t attr;
	sigset_t all, old;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, VCPU_THREAD_STACK);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	sigfillset(&all);
	sigdelset(&all, SIGSYS); /* a host call outside km's filter, even this early, says so */
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int rc = pthread_create(&vcpu->thread, &attr, vcpu_thread, vcpu);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (rc != 0)
		return false;
	while (vcpu->tid == 0)
		pthread_cond_wait(&vcpu->wake, &vcpu->vm->thread_lock);
	return true;
}

/* A new vCPU with its host thread running, or NULL. */
static struct km_vcpu *fresh_vcpu(struct km_vm *vm)
{
	struct km_vcpu *vcpu = vm->nvcpu < vm->max_vcpus ? new_vcpu(vm) : NULL;

	if (vcpu && !start_host_thread(vcpu)) {
		vcpu->state = KM_VCPU_EXITED; /* never used again */
		vcpu = NULL;
	}
	return vcpu;
}

/* The vCPU parked longest ago, or NULL. */
static struct km_vcpu *oldest_parked(struct km_vm *vm)
{
	struct km_vcpu *found = NULL;

	for (int i = 1; i < vm->nvcpu; i++) {
		struct km_vcpu *v = vm->vcpus[i];
		if (v->state == KM_VCPU_PARKED && (!found || v->parked_seq < found->parked_seq))
			found = v;
	}
	return found;
}

/*
 * A vCPU for a new guest thread, parked and with its tid known, or NULL
 * when the VM has no room for another (the caller's EAGAIN). A guest tid is
 * its host thread's, which a reused vCPU keeps (a new host thread on an old
 * vCPU would cost KVM an RCU grace period at its first KVM_RUN, ~20 ms on a
 * 6.1 kernel): so the first KM_FRESH_VCPUS threads get vCPUs of their own,
 * then the one parked longest ago is reused, and a tid comes back only
 * after that many others have ended, where Linux cycles through pid_max.
 */
#define KM_FRESH_VCPUS 16

struct km_vcpu *km_thread_claim(struct km_vm *vm)
{
	struct km_vcpu *found = NULL;

	pthread_mutex_lock(&vm->thread_lock);
	if (vm->nvcpu < KM_FRESH_VCPUS)
		found = fresh_vcpu(vm);
	if (!found)
		found = oldest_parked(vm);
	if (!found)
		found = fresh_vcpu(vm);
	if (found) {
		found->state = KM_VCPU_CLAIMED;
		vm->live++;
	}
	pthread_mutex_unlock(&vm->thread_lock);
	return found;
}

/* Claimed, and its start state filled in: let it run. */
void km_thread_launch(struct km_vcpu *vcpu)
{
	pthread_mutex_lock(&vcpu->vm->thread_lock);
	vcpu->state = KM_VCPU_STARTING;
	pthread_cond_broadcast(&vcpu->wake);
	pthread_mutex_unlock(&vcpu->vm->thread_lock);
}

/* futex(2) robust-list layout, as the kernel walks it. */
struct guest_robust_head {
	uint64_t next;
	int64_t futex_offset;
	uint64_t pending;
};

#define ROBUST_LIST_LIMIT 2048

/* A robust futex word the dying thread owns, marked owner-dead (in km_guarded). */
struct owned_word {
	uint32_t *word;
	uint32_t tid;
	bool wake;
};

static void mark_owner_died(void *arg)
{
	struct owned_word *o = arg;
	uint32_t old = __atomic_load_n(o->word, __ATOMIC_SEQ_CST);
	while ((old & FUTEX_TID_MASK) == o->tid) {
		uint32_t died = (old & FUTEX_WAITERS) | FUTEX_OWNER_DIED;
		if (__atomic_compare_exchange_n(o->word, &old, died, false, __ATOMIC_SEQ_CST,
						__ATOMIC_SEQ_CST)) {
			o->wake = (old & FUTEX_WAITERS) != 0;
			return;
		}
	}
}

static void release_robust_futex(struct km_vcpu *vcpu, uint64_t entry, int64_t offset)
{
	struct owned_word o = {
		km_gva(vcpu->vm, entry + (uint64_t)offset, sizeof(uint32_t), PROT_WRITE),
		(uint32_t)vcpu->tid, false,
	};
	if (o.word && km_guarded(mark_owner_died, &o) && o.wake)
		syscall(SYS_futex, o.word, FUTEX_WAKE, 1, NULL, NULL, 0);
}

/* What the kernel does for a dying thread's robust mutexes: mark them owner-dead. */
static void release_robust_list(struct km_vcpu *vcpu)
{
	struct guest_robust_head head;
	if (km_copy_in(vcpu->vm, &head, vcpu->robust_list, sizeof(head)) < 0)
		return;
	uint64_t entry = head.next;
	for (int n = 0; entry != vcpu->robust_list && n < ROBUST_LIST_LIMIT; n++) {
		uint64_t following;
		if (km_copy_in(vcpu->vm, &following, entry, sizeof(following)) < 0)
			break;
		if (entry != head.pending)
			release_robust_futex(vcpu, entry, head.futex_offset);
		entry = following;
	}
	if (head.pending)
		release_robust_futex(vcpu, head.pending, head.futex_offset);
}

/* CLONE_CHILD_CLEARTID: zero the tid word and wake one joiner. */
static void clear_child_tid(struct km_vcpu *vcpu)
{
	const uint32_t zero = 0;
	uint64_t gva = vcpu->clear_child_tid;

	if (km_copy_out(vcpu->vm, gva, &zero, sizeof(zero)) == 0)
		syscall(SYS_futex, km_gva(vcpu->vm, gva, sizeof(zero), PROT_WRITE), FUTEX_WAKE, 1, NULL,
			NULL, 0);
}

/*
 * The guest thread on vcpu leaves (exit, not exit_group). Its vCPU stops
 * running when the hypercall returns; the last thread out ends the process
 * with the first thread's status, as Linux reports a thread group's.
 */
void km_thread_exit(struct km_vcpu *vcpu, int code)
{
	struct km_vm *vm = vcpu->vm;

	if (vcpu->robust_list)
		release_robust_list(vcpu);
	if (vcpu->clear_child_tid)
		clear_child_tid(vcpu);
	vcpu->robust_list = vcpu->clear_child_tid = 0;
	km_signal_thread_exit(vcpu);

	pthread_mutex_lock(&vm->thread_lock);
	vcpu->state = KM_VCPU_EXITED;
	if (vcpu->id == 0)
		vm->leader_exit_code = code;
	bool last = --vm->live == 0;
	pthread_mutex_unlock(&vm->thread_lock);
	if (last)
		process_exit(vm->leader_exit_code);
}

/*
 * The program's first thread runs on vCPU 0 on km's main thread, which
 * never takes another guest thread: its tid is the process id.
 */
_Noreturn void km_thread_main(struct km_vm *vm, uint64_t entry, uint64_t sp)
{
	struct km_vcpu *vcpu = new_vcpu(vm);

	int rc = vcpu ? km_vcpu_first_run(vcpu) : -errno;
	if (rc < 0)
		km_die(1, "km: cannot run the VM's first vCPU: %s", strerror(-rc));
	km_stack_set_hwcap(vm);
	km_clock_start(vcpu);
	vcpu->tid = getpid();
	vcpu->state = KM_VCPU_RUNNING;
	vcpu->altstack[1] = SS_DISABLE;
	vcpu->sigmask = vm->start_sigmask;
	km_signals_vcpu_thread(vcpu);
	vm->live = 1;
	vcpu->start = (struct km_thread_start){
		.regs = { .rip = entry, .rsp = sp, .rflags = 0x2 },
	};
	km_stats_step("guest");
	run_guest_thread(vcpu);
	/* The first thread left before the others: they carry on without it. */
	pthread_exit(NULL);
}
