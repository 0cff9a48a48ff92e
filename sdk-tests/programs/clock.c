/* Clocks tick and sleeps sleep. */
#include <sys/time.h>
#include <time.h>

#include "check.h"

static double now(clockid_t c)
{
	struct timespec ts;
	CHECK(clock_gettime(c, &ts) == 0, "clock_gettime");
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(void)
{
	double t0 = now(CLOCK_MONOTONIC);
	struct timespec ten_ms = { 0, 10 * 1000 * 1000 };
	CHECK(nanosleep(&ten_ms, NULL) == 0, "nanosleep");
	double slept = now(CLOCK_MONOTONIC) - t0;
	CHECK(slept >= 0.010 && slept < 2.0, "slept %.4f s", slept);
	OK("nanosleep 10 ms");

	struct timeval tv;
	CHECK(gettimeofday(&tv, NULL) == 0, "gettimeofday");
	time_t t = time(NULL);
	CHECK(t > 1600000000 && t - tv.tv_sec <= 1, "time %ld vs gettimeofday %ld", (long)t,
	      (long)tv.tv_sec);
	CHECK(now(CLOCK_REALTIME) > 1600000000.0, "realtime");
	OK("realtime clocks agree");

	clock_t c0 = clock();
	volatile unsigned long spin = 0;
	while (clock() - c0 < CLOCKS_PER_SEC / 50)
		spin++;
	CHECK(spin > 0, "clock() advances");
	OK("clock() measures cpu time");
	return 0;
}
