/*
 * pthreads as a program uses them: argv[1] names the case. Each case prints
 * the same lines and ends with the same status natively and under km.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

#define NTHREADS 8

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;

static void start(pthread_t *t, void *(*fn)(void *), void *arg)
{
	int rc = pthread_create(t, NULL, fn, arg);
	errno = rc;
	CHECK(rc == 0, "pthread_create");
}

static void *join(pthread_t t)
{
	void *ret;
	int rc = pthread_join(t, &ret);
	errno = rc;
	CHECK(rc == 0, "pthread_join");
	return ret;
}

static double now(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct timespec in_ms(clockid_t clock, long ms)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	ts.tv_nsec += ms * 1000000;
	ts.tv_sec += ts.tv_nsec / 1000000000;
	ts.tv_nsec %= 1000000000;
	return ts;
}

static void *add_many(void *arg)
{
	for (long i = 0; i < 5000; i++) {
		pthread_mutex_lock(&lock);
		counter++;
		pthread_mutex_unlock(&lock);
	}
	return arg;
}

static void mutex_case(void)
{
	pthread_t t[NTHREADS];
	for (long i = 0; i < NTHREADS; i++)
		start(&t[i], add_many, (void *)i);
	for (long i = 0; i < NTHREADS; i++)
		CHECK(join(t[i]) == (void *)i, "thread %ld's return value", i);
	printf("counter %ld\n", counter);
}

/* A bounded queue: producers and consumers meet on two condition variables. */
#define QSIZE 16
#define ITEMS 20000
static struct {
	pthread_cond_t not_full, not_empty;
	long items[QSIZE];
	int head, count;
} q = { PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER };

static void *produce(void *arg)
{
	for (long i = 1; i <= ITEMS; i++) {
		pthread_mutex_lock(&lock);
		while (q.count == QSIZE)
			pthread_cond_wait(&q.not_full, &lock);
		q.items[(q.head + q.count++) % QSIZE] = i;
		pthread_cond_signal(&q.not_empty);
		pthread_mutex_unlock(&lock);
	}
	return arg;
}

static void *consume(void *arg)
{
	long sum = 0;
	for (long n = 0; n < ITEMS; n++) {
		pthread_mutex_lock(&lock);
		while (q.count == 0)
			pthread_cond_wait(&q.not_empty, &lock);
		sum += q.items[q.head];
		q.head = (q.head + 1) % QSIZE;
		q.count--;
		pthread_cond_signal(&q.not_full);
		pthread_mutex_unlock(&lock);
	}
	return (void *)sum;
}

static void condvar_case(void)
{
	pthread_t p[4], c[4];
	long total = 0;
	for (int i = 0; i < 4; i++) {
		start(&p[i], produce, NULL);
		start(&c[i], consume, NULL);
	}
	for (int i = 0; i < 4; i++) {
		join(p[i]);
		total += (long)join(c[i]);
	}
	printf("consumed sum %ld\n", total);
}

static pthread_barrier_t barrier;
static pthread_rwlock_t rwlock = PTHREAD_RWLOCK_INITIALIZER;
static __thread long mine = -1;
static long table[NTHREADS];

/* Each round every thread writes its slot under the write lock, then all read. */
static void *rounds(void *arg)
{
	long id = (long)arg;
	mine = id;
	for (int round = 0; round < 50; round++) {
		pthread_rwlock_wrlock(&rwlock);
		table[id] = round;
		pthread_rwlock_unlock(&rwlock);
		pthread_barrier_wait(&barrier);
		pthread_rwlock_rdlock(&rwlock);
		for (int i = 0; i < NTHREADS; i++)
			CHECK(table[i] == round, "slot %d in round %d", i, round);
		pthread_rwlock_unlock(&rwlock);
		pthread_barrier_wait(&barrier);
	}
	return (void *)(long)(mine == id);
}

static void sync_case(void)
{
	pthread_t t[NTHREADS];
	pthread_barrier_init(&barrier, NULL, NTHREADS);
	for (long i = 0; i < NTHREADS; i++)
		start(&t[i], rounds, (void *)i);
	for (long i = 0; i < NTHREADS; i++)
		CHECK(join(t[i]) == (void *)1, "thread %ld kept its own __thread value", i);
	printf("50 rounds of rwlock and barrier, thread-local values intact, main's is %ld\n", mine);
}

static void *nothing(void *arg) { return arg; }

/* More threads than KVM has vCPUs, so they must be reused. */
static void many_case(void)
{
	enum { TOTAL = 2000, BATCH = 16 };
	for (long done = 0; done < TOTAL; done += BATCH) {
		pthread_t t[BATCH];
		for (long i = 0; i < BATCH; i++)
			start(&t[i], nothing, (void *)(done + i));
		for (long i = 0; i < BATCH; i++)
			CHECK(join(t[i]) == (void *)(done + i), "thread %ld", done + i);
	}
	printf("%d threads created and joined\n", TOTAL);
}

static long case_count = 100; /* argv[2], for the cases that take a count */

static pthread_barrier_t all_alive;

static void *alive_until_all_are(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&all_alive);
	return (void *)(long)syscall(SYS_gettid);
}

static int by_value(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;
	return (x > y) - (x < y);
}

/* A short-lived thread, created and joined while the long-lived ones wait. */
static void churn(long *churned)
{
	pthread_t t;
	start(&t, nothing, (void *)*churned);
	CHECK(join(t) == (void *)*churned, "short-lived thread %ld", *churned);
	++*churned;
}

/* case_count threads alive at once, short-lived ones coming and going around them. */
static void concurrent_case(void)
{
	long n = case_count, churned = 0;
	pthread_t *t = calloc((size_t)n, sizeof(*t));
	long *tids = calloc((size_t)n, sizeof(*tids));
	CHECK(t && tids, "calloc");
	pthread_barrier_init(&all_alive, NULL, (unsigned)n + 1);
	for (long i = 0; i < n; i++) {
		start(&t[i], alive_until_all_are, NULL);
		if (i % 10 == 9)
			churn(&churned);
	}
	while (churned < n / 10 + 100)
		churn(&churned);
	pthread_barrier_wait(&all_alive);
	for (long i = 0; i < n; i++)
		tids[i] = (long)join(t[i]);
	qsort(tids, (size_t)n, sizeof(*tids), by_value);
	for (long i = 1; i < n; i++)
		CHECK(tids[i] != tids[i - 1], "thread ids are distinct: %ld twice", tids[i]);
	printf("%ld threads alive at once with %ld short-lived ones around them, %ld distinct thread ids\n",
	       n, churned, n);
}

static pthread_mutex_t held = PTHREAD_MUTEX_INITIALIZER;

static void *wait_for_held(void *arg)
{
	pthread_mutex_lock(&held);
	pthread_mutex_unlock(&held);
	return arg;
}

/*
 * Threads until pthread_create fails or case_count are alive; then all end
 * and the process carries on with threads as before.
 */
static void limit_case(void)
{
	long n = 0, max = case_count;
	pthread_t *t = calloc((size_t)max, sizeof(*t));
	CHECK(t, "calloc");
	pthread_mutex_lock(&held);
	int rc = 0;
	while (n < max && (rc = pthread_create(&t[n], NULL, wait_for_held, (void *)n)) == 0)
		n++;
	if (rc)
		printf("pthread_create failed with %s after %ld threads\n",
		       rc == EAGAIN ? "EAGAIN" : strerror(rc), n);
	else
		printf("%ld threads created\n", n);
	pthread_mutex_unlock(&held);
	for (long i = 0; i < n; i++)
		CHECK(join(t[i]) == (void *)i, "thread %ld", i);
	pthread_t again;
	start(&again, nothing, (void *)7);
	CHECK(join(again) == (void *)7, "a thread after the others ended");
	printf("all joined; threads work as before\n");
}

static sem_t sem;

static void *post(void *arg)
{
	sem_post(&sem);
	return arg;
}

/* Detached threads unmap their own stacks on the way out. */
static void detached_case(void)
{
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	sem_init(&sem, 0, 0);
	for (int i = 0; i < 300; i++) {
		pthread_t t;
		CHECK(pthread_create(&t, &attr, post, NULL) == 0, "detached thread %d", i);
		if (i % 16 == 15)
			for (int k = 0; k < 16; k++)
				sem_wait(&sem);
	}
	for (int k = 0; k < 300 % 16; k++)
		sem_wait(&sem);
	printf("300 detached threads posted\n");
}

static void timeout_case(void)
{
	pthread_condattr_t ca;
	pthread_cond_t mono;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&mono, &ca);

	const struct {
		pthread_cond_t *cond;
		clockid_t clock;
		const char *name;
	} cases[] = { { &q.not_full, CLOCK_REALTIME, "realtime" }, { &mono, CLOCK_MONOTONIC, "monotonic" } };
	for (int i = 0; i < 2; i++) {
		double t0 = now(CLOCK_MONOTONIC);
		struct timespec until = in_ms(cases[i].clock, 100);
		pthread_mutex_lock(&lock);
		int rc = pthread_cond_timedwait(cases[i].cond, &lock, &until);
		pthread_mutex_unlock(&lock);
		double waited = now(CLOCK_MONOTONIC) - t0;
		CHECK(rc == ETIMEDOUT, "%s cond wait returned %d", cases[i].name, rc);
		CHECK(waited >= 0.099 && waited < 5, "%s cond wait lasted %.3f s", cases[i].name, waited);
		printf("%s timed wait: ETIMEDOUT after 100 ms\n", cases[i].name);
	}
	sem_init(&sem, 0, 0);
	struct timespec until = in_ms(CLOCK_REALTIME, 50);
	CHECK(sem_timedwait(&sem, &until) == -1 && errno == ETIMEDOUT, "sem_timedwait");
	printf("sem_timedwait: ETIMEDOUT\n");
}

static void *exit_process(void *arg)
{
	(void)arg;
	usleep(20000);
	printf("a thread calls exit(5)\n");
	exit(5);
}

static void exit_case(void)
{
	pthread_t t;
	start(&t, exit_process, NULL);
	join(t);
	printf("not reached\n");
}

static void *outlive(void *arg)
{
	usleep(50000);
	printf("worker outlived main\n");
	fflush(stdout);
	return arg;
}

/* main leaves first; the process lasts until its last thread does. */
static void main_exits_case(void)
{
	pthread_t t;
	start(&t, outlive, NULL);
	printf("main calls pthread_exit\n");
	fflush(stdout);
	pthread_exit(NULL);
}

static pthread_mutex_t robust;

static void *lock_and_leave(void *arg)
{
	pthread_mutex_lock(&robust);
	return arg;
}

static void robust_case(void)
{
	pthread_mutexattr_t ma;
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&robust, &ma);
	pthread_t t;
	start(&t, lock_and_leave, NULL);
	join(t);
	int rc = pthread_mutex_lock(&robust);
	printf("lock after the owner died: %s\n", rc == EOWNERDEAD ? "EOWNERDEAD" : strerror(rc));
	CHECK(pthread_mutex_consistent(&robust) == 0, "consistent");
	CHECK(pthread_mutex_unlock(&robust) == 0 && pthread_mutex_lock(&robust) == 0, "relock");
	printf("made consistent and locked again\n");
}

static pthread_mutex_t pi;

static void *pi_add(void *arg)
{
	for (int i = 0; i < 2000; i++) {
		pthread_mutex_lock(&pi);
		counter++;
		pthread_mutex_unlock(&pi);
	}
	return arg;
}

/* Priority-inheritance mutexes: the kernel reads the owner's tid from the word. */
static void pi_case(void)
{
	pthread_mutexattr_t ma;
	pthread_mutexattr_init(&ma);
	CHECK(pthread_mutexattr_setprotocol(&ma, PTHREAD_PRIO_INHERIT) == 0, "PRIO_INHERIT");
	pthread_mutex_init(&pi, &ma);
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		start(&t[i], pi_add, NULL);
	for (int i = 0; i < 4; i++)
		join(t[i]);
	printf("pi counter %ld\n", counter);
}

static long futex(uint32_t *uaddr, int op, uint32_t val, const void *ts_or_val2, uint32_t *uaddr2,
		  uint32_t val3)
{
	return syscall(SYS_futex, uaddr, op, val, ts_or_val2, uaddr2, val3);
}

static uint32_t word_a, word_b;
static atomic_int waiting, returned;

static void *wait_on_a(void *arg)
{
	atomic_fetch_add(&waiting, 1);
	while (futex(&word_a, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0) == -1 && errno == EINTR)
		;
	atomic_fetch_add(&returned, 1);
	return arg;
}

/* The futex operations themselves, as a runtime library issues them. */
static void futex_case(void)
{
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		start(&t[i], wait_on_a, NULL);
	while (atomic_load(&waiting) < 4)
		usleep(1000);
	usleep(200000); /* let them reach the kernel */
	long moved = futex(&word_a, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void *)3l, &word_b, 0);
	CHECK(moved >= 2, "cmp_requeue woke or moved %ld", moved);
	long woken = 0;
	while (atomic_load(&returned) < 4) {
		woken += futex(&word_b, FUTEX_WAKE_PRIVATE, 10, NULL, NULL, 0);
		futex(&word_a, FUTEX_WAKE_PRIVATE, 10, NULL, NULL, 0); /* any that came late */
		usleep(1000);
	}
	CHECK(woken >= 1, "wake on the second word");
	for (int i = 0; i < 4; i++)
		join(t[i]);
	printf("cmp_requeue woke one waiter and moved the others to a second word\n");

	CHECK(futex(&word_a, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void *)1l, &word_b, 7) == -1 &&
		      errno == EAGAIN,
	      "cmp_requeue with a stale value");
	printf("cmp_requeue with a stale value: EAGAIN\n");

	word_b = 1;
	long op = futex(&word_a, FUTEX_WAKE_OP_PRIVATE, 1, (void *)1l, &word_b,
			FUTEX_OP(FUTEX_OP_ADD, 41, FUTEX_OP_CMP_EQ, 1));
	printf("wake_op: %ld woken, second word now %u\n", op, word_b);

	for (int i = 0; i < 2; i++) {
		clockid_t clock = i ? CLOCK_REALTIME : CLOCK_MONOTONIC;
		struct timespec until = in_ms(clock, 30);
		int flags = i ? FUTEX_CLOCK_REALTIME : 0;
		long rc = futex(&word_a, FUTEX_WAIT_BITSET_PRIVATE | flags, 0, &until, NULL,
				FUTEX_BITSET_MATCH_ANY);
		CHECK(rc == -1 && errno == ETIMEDOUT, "absolute bitset wait");
	}
	struct timespec rel = { 0, 30000000 };
	CHECK(futex(&word_a, FUTEX_WAIT_PRIVATE, 0, &rel, NULL, 0) == -1 && errno == ETIMEDOUT,
	      "relative wait");
	CHECK(futex(&word_a, FUTEX_WAIT_PRIVATE, 1, NULL, NULL, 0) == -1 && errno == EAGAIN,
	      "wait on a changed value");
	CHECK(futex((uint32_t *)8, FUTEX_WAKE, 1, NULL, NULL, 0) == -1 && errno == EFAULT,
	      "wake at a bad address");
	printf("timeouts on both clocks, EAGAIN and EFAULT as expected\n");
}

static volatile int *shared_page;
static atomic_int step;

static void *read_twice(void *arg)
{
	printf("reader saw %d\n", *shared_page);
	fflush(stdout);
	atomic_store(&step, 1);
	while (atomic_load(&step) != 2)
		;
	printf("reader saw %d after munmap\n", *shared_page);
	return arg;
}

/* A page another thread has just read, and so cached, is unmapped: its next read faults. */
static void tlb_case(void)
{
	shared_page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	*shared_page = 42;
	pthread_t t;
	start(&t, read_twice, NULL);
	while (atomic_load(&step) != 1)
		;
	munmap((void *)shared_page, 4096);
	atomic_store(&step, 2);
	join(t);
}

int main(int argc, char **argv)
{
	static const struct test_case cases[] = {
		{ "mutex", mutex_case },     { "condvar", condvar_case }, { "sync", sync_case },
		{ "many", many_case },	     { "detached", detached_case }, { "timeout", timeout_case },
		{ "exit", exit_case },	     { "main-exits", main_exits_case },
		{ "robust", robust_case },   { "pi", pi_case },		  { "futex", futex_case },
		{ "tlb", tlb_case },	     { "concurrent", concurrent_case },
		{ "limit", limit_case },
	};
	if (argc > 2)
		case_count = atol(argv[2]);
	return RUN_CASE(argc, argv, cases);
}
