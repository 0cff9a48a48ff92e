/*
 * KM_HC_INIT_TP (kontain/hcall_abi.h), the first thread's start in one
 * hypercall, made again by hand: with hostile values it must change
 * nothing, with good ones do all three of its calls. Kontain-only: it makes
 * hypercalls.
 */
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <kontain/hcall_abi.h>

#define ARCH_GET_FS 0x1003
#define SENTINEL 0x5a5a5a5a5a5a5a5al

static __thread int tls_word = 7;
static volatile int cleared = 1;

static uint64_t fs_base(void)
{
	uint64_t base = 0;
	syscall(SYS_arch_prctl, ARCH_GET_FS, &base);
	return base;
}

static const char *verdict(long rc)
{
	return rc == -EPERM ? "EPERM" : rc == -EFAULT ? "EFAULT" : rc < 0 ? "another error" : "success";
}

/* Waits for the main thread's exit to clear `cleared` and wake it, as set_tid_address asks. */
static void *watcher(void *arg)
{
	const struct timespec limit = { 5, 0 };
	(void)arg;
	for (int i = 0; i < 3 && cleared; i++)
		syscall(SYS_futex, &cleared, FUTEX_WAIT, 1, &limit, NULL, 0);
	printf("the first thread's exit cleared its tid address: %s\n", cleared ? "no" : "yes");
	fflush(stdout);
	syscall(SYS_exit_group, cleared);
	return NULL;
}

int main(void)
{
	uint64_t tp = fs_base();
	long slot = SENTINEL;

	long rc = km_hcall6(KM_HC_INIT_TP, (long)0x800000000000ul, (long)&cleared, (long)&slot, 0, 0, 0);
	printf("an FS base past the user address space: %s; FS base kept: %s; slot untouched: %s\n",
	       verdict(rc), fs_base() == tp ? "yes" : "no", slot == SENTINEL ? "yes" : "no");

	rc = km_hcall6(KM_HC_INIT_TP, (long)tp + 64, (long)&cleared, (long)0xffff800000000000ul, 0, 0, 0);
	printf("a slot address in km's half: %s; FS base kept: %s\n", verdict(rc),
	       fs_base() == tp ? "yes" : "no");
	rc = km_hcall6(KM_HC_INIT_TP, (long)tp + 64, (long)&cleared, (long)0x1000, 0, 0, 0);
	printf("a slot address never mapped: %s; FS base kept: %s\n", verdict(rc),
	       fs_base() == tp ? "yes" : "no");

	rc = km_hcall6(KM_HC_INIT_TP, (long)tp, (long)&cleared, (long)&slot, 0, 0, 0);
	printf("good values: the tid: %s; TLS still %d\n", rc == syscall(SYS_gettid) ? "yes" : "no",
	       tls_word);
	if ((unsigned long)slot >= KM_FAST_SLOTS_VA &&
	    (unsigned long)slot < KM_FAST_SLOTS_VA + 1024ul * KM_FAST_SLOT_SIZE &&
	    slot % KM_FAST_SLOT_SIZE == 0)
		printf("the slot: one of the fast-call slots\n");
	else
		printf("the slot: %s\n", slot == -EOPNOTSUPP ? "none (EOPNOTSUPP)" : "something else");
	fflush(stdout);

	pthread_t t;
	if (pthread_create(&t, NULL, watcher, NULL) != 0)
		return 1;
	syscall(SYS_exit, 0); /* this thread only; the watcher ends the program */
	return 1;
}
