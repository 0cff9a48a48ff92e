/*
 * The fast-call ABI (kontain/hcall_abi.h) at its most eager: one request,
 * reused for the next call the moment `done` says the last is answered, for
 * two seconds. Each answer must be its own call's: getppid's, never the 0 a
 * request starts with. Run under km --fast-calls=on; it makes hypercalls.
 */
#include <stdint.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>

#include <kontain/hcall_abi.h>

static const struct km_fast_hdr *const hdr = (const struct km_fast_hdr *)KM_FAST_VA;
static struct km_fast_req req __attribute__((aligned(64)));
static long posted, exits;

static uint64_t tsc(void)
{
	uint32_t lo, hi;
	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

/* One call: posted and waited for, or the hypercall when km declines or is slow. */
static long call(uint64_t *slot, long nr)
{
	volatile long *words = (volatile long *)&req;
	uint64_t expect = 0;

	words[0] = nr;
	for (size_t i = 1; i < sizeof(req) / sizeof(long); i++)
		words[i] = 0;
	if (!__atomic_load_n(&hdr->awake, __ATOMIC_RELAXED) ||
	    !__atomic_compare_exchange_n(slot, &expect, (uint64_t)(uintptr_t)&req, 0,
					 __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
		goto hypercall;
	for (uint64_t give_up = tsc() + hdr->spin_tsc;; __builtin_ia32_pause()) {
		unsigned long done = __atomic_load_n(&req.done, __ATOMIC_ACQUIRE);
		if (done == KM_FAST_DONE) {
			posted++;
			return req.ret;
		}
		if (done)
			goto hypercall;
		if (give_up && tsc() > give_up) {
			expect = (uint64_t)(uintptr_t)&req;
			if (__atomic_compare_exchange_n(slot, &expect, 0, 0, __ATOMIC_SEQ_CST,
							__ATOMIC_RELAXED))
				goto hypercall;
			give_up = 0; /* claimed: the answer is on its way */
		}
	}
hypercall:
	exits++;
	return km_hcall6(nr, 0, 0, 0, 0, 0, 0);
}

static double seconds(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(void)
{
	long slot = km_hcall6(KM_HC_FAST_SLOT, 0, 0, 0, 0, 0, 0);
	long ppid = km_hcall6(SYS_getppid, 0, 0, 0, 0, 0, 0), wrong = 0;

	if ((unsigned long)slot > -4096ul) { /* an errno */
		fprintf(stderr, "fast_calls_reuse: km takes no fast calls (%ld)\n", slot);
		return 1;
	}
	for (double end = seconds() + 2; seconds() < end;)
		for (int i = 0; i < 10000; i++)
			wrong += call((uint64_t *)slot, SYS_getppid) != ppid;
	fprintf(stderr, "fast_calls_reuse: %ld calls posted, %ld made as hypercalls\n", posted, exits);
	printf("calls reusing one request at once: wrong answers: %ld\n", wrong);
	return wrong != 0;
}
