/*
 * Start-up work shared between km's first thread and a start-up thread put
 * on another CPU. The steps (main.c) install km's seccomp filter, prepare
 * the guest (memory, system area, signals; then the program and its stack)
 * and ask KVM for its CPUID; the first thread meanwhile makes the VM. Each
 * thread takes the first step nobody has taken whose own needs are done, so
 * the work falls where a thread is free whichever step is long here:
 * KVM_CREATE_VM, when it waits for an RCU grace period (Linux 6.1 makes
 * KVM's NX-recovery thread join km's cgroups in it: 15-20 ms in the nested
 * VM), or the filter and the CPUID query, when KVM's exits are costly (on
 * PVM the host's CPUID is an exit of the host's own VM, once per leaf).
 * The first thread makes the VM itself because it is already running: a
 * new thread can take a while to start (3 ms when the nested VM's emulator
 * runs its vCPUs in turn). Another CPU, because the scheduler leaves a new
 * thread on its parent's CPU until the parent sleeps. A thread waits
 * spinning, for a while: a CPU that sleeps halts, and on a virtual
 * machine's host waking it again takes 100-300 µs, longer than the wait.
 * With one CPU there is no thread: the first thread's waits run the steps.
 */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <time.h>

#include "km.h"

#define SPIN_NS 2000000l /* longer than a step takes on PVM */

static struct {
	pthread_mutex_t lock;
	pthread_cond_t moved;
	unsigned taken, done; /* bits of steps; done is read unlocked too */
	const struct km_step *steps;
	void *arg;
	cpu_set_t allowed; /* km's CPUs, which the threads made beside inherit */
} beside = { .lock = PTHREAD_MUTEX_INITIALIZER, .moved = PTHREAD_COND_INITIALIZER };

static unsigned done_steps(void)
{
	return __atomic_load_n(&beside.done, __ATOMIC_ACQUIRE);
}

enum taking { RAN, NONE_READY, NONE_LEFT };

/* Runs the first step untaken and ready, if there is one; else says whether any is untaken. */
static enum taking take_a_step(void)
{
	bool untaken = false;
	int step;

	pthread_mutex_lock(&beside.lock);
	for (step = 0; step < KM_STEPS; step++) {
		unsigned needs = beside.steps[step].needs;
		if (beside.taken & 1u << step)
			continue;
		untaken = true;
		if ((beside.done & needs) == needs)
			break;
	}
	if (step < KM_STEPS)
		beside.taken |= 1u << step;
	pthread_mutex_unlock(&beside.lock);
	if (step == KM_STEPS)
		return untaken ? NONE_READY : NONE_LEFT;
	beside.steps[step].run(beside.arg);
	pthread_mutex_lock(&beside.lock);
	__atomic_or_fetch(&beside.done, 1u << step, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&beside.moved);
	pthread_mutex_unlock(&beside.lock);
	return RAN;
}

/* Returns once another thread has finished a step since done read `seen`. */
static void wait_for_more(unsigned seen)
{
	int64_t start = km_ns_of(CLOCK_MONOTONIC);

	do {
		if (done_steps() != seen)
			return;
		__builtin_ia32_pause();
	} while (km_ns_of(CLOCK_MONOTONIC) - start < SPIN_NS);
	pthread_mutex_lock(&beside.lock);
	while (beside.done == seen)
		pthread_cond_wait(&beside.moved, &beside.lock);
	pthread_mutex_unlock(&beside.lock);
}

static void *beside_main(void *arg)
{
	enum taking taken;

	(void)arg;
	sched_setaffinity(0, sizeof(beside.allowed), &beside.allowed); /* started where it should */
	do {
		unsigned seen = done_steps();
		if ((taken = take_a_step()) == NONE_READY)
			wait_for_more(seen); /* a step this one needs is the first thread's */
	} while (taken != NONE_LEFT);
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

void km_beside_start(const struct km_step *steps, void *arg)
{
	int cpu = next_cpu();
	pthread_attr_t attr;
	pthread_t thread;
	cpu_set_t there;
	sigset_t mask;

	beside.steps = steps;
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
	pthread_create(&thread, &attr, beside_main, NULL);
	pthread_attr_destroy(&attr);
}

/* Returns once step is done, meanwhile running any step ready that no thread has taken. */
void km_beside_wait(int step)
{
	unsigned seen;

	while (!((seen = done_steps()) & 1u << step))
		if (take_a_step() != RAN)
			wait_for_more(seen);
}
