/* Time through the vDSO: every clock, across threads, and in step with the kernel's. */
#include <pthread.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static int64_t ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

/* Every clock the vDSO computes, many times: none may fail or step back. */
static void clocks(void)
{
	static const clockid_t ids[] = { CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME,
					 CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC_COARSE };
	for (size_t c = 0; c < sizeof(ids) / sizeof(ids[0]); c++) {
		struct timespec prev = { 0 }, ts;
		for (int i = 0; i < 2000; i++) {
			CHECK(clock_gettime(ids[c], &ts) == 0, "clock %d", ids[c]);
			CHECK(ns(&ts) >= ns(&prev), "clock %d stepped back", ids[c]);
			prev = ts;
		}
	}
	struct timeval tv;
	for (int i = 0; i < 2000; i++)
		CHECK(gettimeofday(&tv, NULL) == 0 && time(NULL) >= tv.tv_sec, "time and gettimeofday");
	struct timespec mono, boot;
	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_BOOTTIME, &boot);
	CHECK(ns(&boot) >= ns(&mono), "boottime is behind monotonic");
	OK("5 clocks, gettimeofday and time, 2000 calls each, never backwards");
}

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t latest;

static void *reader(void *arg)
{
	(void)arg;
	for (int i = 0; i < 20000; i++) {
		struct timespec ts;
		pthread_mutex_lock(&lock);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		CHECK(ns(&ts) >= latest, "monotonic went back by %lld ns across threads",
		      (long long)(latest - ns(&ts)));
		latest = ns(&ts);
		pthread_mutex_unlock(&lock);
	}
	return NULL;
}

/* Readings taken in turn by 4 threads (on 4 vCPUs under km) only go forward. */
static void threads(void)
{
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		CHECK(pthread_create(&t[i], NULL, reader, NULL) == 0, "pthread_create");
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	OK("80000 monotonic readings in turn from 4 threads, never backwards");
}

/*
 * The vDSO's clock against the kernel's own (the syscall, which under km is
 * a hypercall answered by the host), read in between: the three are in
 * order, give or take a millisecond, for 3 seconds, while km re-ties the
 * guest's clock to the host's each second.
 */
static void in_step(void)
{
	int64_t worst = 0;
	struct timespec a, b, c, start;

	clock_gettime(CLOCK_MONOTONIC, &start);
	do {
		clock_gettime(CLOCK_MONOTONIC, &a);
		syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &b);
		clock_gettime(CLOCK_MONOTONIC, &c);
		int64_t ahead = ns(&a) - ns(&b), behind = ns(&b) - ns(&c);
		worst = ahead > worst ? ahead : worst;
		worst = behind > worst ? behind : worst;
		usleep(1000);
	} while (ns(&c) - ns(&start) < 3000000000ll);
	CHECK(worst < 1000000, "the vDSO's clock and the kernel's disagree by %lld ns",
	      (long long)worst);
	OK("the vDSO's monotonic clock and the kernel's agree for 3 s");
}

int main(int argc, char **argv)
{
	static const struct test_case cases[] = {
		{ "clocks", clocks },
		{ "threads", threads },
		{ "in-step", in_step },
	};
	return RUN_CASE(argc, argv, cases);
}
