/*
 * Start-up work runs beside km's first thread, on a thread put on another
 * CPU, while the first thread makes the VM: installing km's seccomp filter
 * and preparing the guest (its memory, the program, its stack), then asking
 * KVM for its CPUID (on PVM the host's CPUID, an exit of the host's own VM,
 * once per leaf: 300 µs and more). KVM_CREATE_VM can be long: Linux 6.1
 * starts KVM's NX-recovery thread in it and waits while that thread joins
 * km's cgroups, for an RCU grace period (15-20 ms in the nested VM), time
 * the preparation fills. The first thread makes the VM itself because it is
 * already running: a new thread can take a while to start (3 ms when the
 * nested VM's emulator runs its vCPUs in turn). Another CPU, because the
 * scheduler leaves a new thread on its parent's CPU until the parent
 * sleeps. The first thread waits for a step spinning, for a while: a CPU
 * that sleeps halts, and on a virtual machine's host waking it again takes
 * 100-300 µs, longer than the wait. With one CPU there is no thread: each
 * step runs where it is first waited for.
 */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <time.h>

#include "km.h"

#define SPIN_NS 2000000l /* longer than both steps take on PVM */

static struct {
	pthread_mutex_t lock;
	pthread_cond_t moved;
	int done; /* steps finished, in order */
	bool thread;
	struct km_vm *vm;
	void (*prepare)(void *);
	void *arg;
	cpu_set_t allowed; /* km's CPUs, which the threads made beside inherit */
} beside = { .lock = PTHREAD_MUTEX_INITIALIZER, .moved = PTHREAD_COND_INITIALIZER };

static void run_step(int step)
{
	if (step == KM_BESIDE_PREPARED)
		beside.prepare(beside.arg);
	else
		km_kvm_query_cpuid(beside.vm);
}

static void *beside_main(void *arg)
{
	(void)arg;
	sched_setaffinity(0, sizeof(beside.allowed), &beside.allowed); /* started where it should */
	for (int step = 0; step < KM_BESIDE_STEPS; step++) {
		run_step(step);
		pthread_mutex_lock(&beside.lock);
		__atomic_store_n(&beside.done, step + 1, __ATOMIC_RELEASE);
		pthread_cond_broadcast(&beside.moved);
		pthread_mutex_unlock(&beside.lock);
	}
	return NULL;
}

/* The allowed CPU after the one km runs on, round the set, or -1 if there is none. */
static int next_cpu(void)
{
	int here = sched_getcpu();

	if (here < 0 || sched_getaffinity(0, sizeof(beside.allowed), &beside.allowed) != 0)
		return -1;
	for (int i = 1; i < CPU_SETSIZE; i++) {
		int cpu = (here + i) % CPU_SETSIZE;
		if (CPU_ISSET(cpu, &beside.allowed))
			return cpu;
	}
	return -1;
}

void km_beside_start(struct km_vm *vm, void (*prepare)(void *), void *arg)
{
	int cpu = next_cpu();
	pthread_attr_t attr;
	pthread_t thread;
	cpu_set_t there;
	sigset_t mask;

	beside.vm = vm;
	beside.prepare = prepare;
	beside.arg = arg;
	if (cpu < 0)
		return;
	CPU_ZERO(&there);
	CPU_SET(cpu, &there);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 << 10); /* the program's load */
	pthread_attr_setaffinity_np(&attr, sizeof(there), &there);
	/* Signals sent to km are the router's: one taken here would have its default action on km. */
	km_signals_blocked(&mask);
	pthread_attr_setsigmask_np(&attr, &mask);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	beside.thread = pthread_create(&thread, &attr, beside_main, NULL) == 0;
	pthread_attr_destroy(&attr);
}

/* Returns once step and those before it are done, here if no thread does them. */
void km_beside_wait(int step)
{
	if (!beside.thread) {
		for (; beside.done <= step; beside.done++)
			run_step(beside.done);
		return;
	}
	if (__atomic_load_n(&beside.done, __ATOMIC_ACQUIRE) > step)
		return; /* every wait after the first: each vCPU's CPUID lookups */
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	do {
		if (__atomic_load_n(&beside.done, __ATOMIC_ACQUIRE) > step)
			return;
		__builtin_ia32_pause();
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while ((now.tv_sec - start.tv_sec) * 1000000000l + now.tv_nsec - start.tv_nsec < SPIN_NS);
	pthread_mutex_lock(&beside.lock);
	while (beside.done <= step)
		pthread_cond_wait(&beside.moved, &beside.lock);
	pthread_mutex_unlock(&beside.lock);
}
