/*
 * A JIT's pattern: one thread takes a code page's execute right away and
 * gives it back, again and again, while other threads keep reading the
 * page, which every one of those rights allows. No read may fail.
 */
#include <pthread.h>
#include <stdio.h>
#include <sys/mman.h>
#include <time.h>

#include "check.h"

#define READERS 3
#define PATTERN 0x5a

static volatile unsigned char *page;
static volatile int done;

static void *read_on(void *arg)
{
	long reads = 0, wrong = 0;

	while (!done)
		for (int i = 0; i < 4096; i += 64, reads++)
			wrong += page[i] != PATTERN;
	*(long *)arg = wrong;
	return (void *)reads;
}

static double seconds(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(void)
{
	pthread_t t[READERS];
	long wrong[READERS], flips = 0, reads = 0, wrongs = 0;
	unsigned char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	CHECK(p != MAP_FAILED, "mmap");
	for (int i = 0; i < 4096; i++)
		p[i] = PATTERN;
	CHECK(mprotect(p, 4096, PROT_READ | PROT_EXEC) == 0, "mprotect");
	page = p;
	for (int i = 0; i < READERS; i++)
		CHECK(pthread_create(&t[i], NULL, read_on, &wrong[i]) == 0, "pthread_create");
	for (double end = seconds() + 2; seconds() < end; flips++) {
		CHECK(mprotect(p, 4096, PROT_READ) == 0, "mprotect read");
		CHECK(mprotect(p, 4096, PROT_READ | PROT_EXEC) == 0, "mprotect read-exec");
	}
	done = 1;
	for (int i = 0; i < READERS; i++) {
		void *n;
		pthread_join(t[i], &n);
		reads += (long)n;
		wrongs += wrong[i];
	}
	CHECK(flips > 0 && reads > 0, "flips and reads");
	printf("execute taken away and given back while %d threads read: wrong reads: %ld\n",
	       READERS, wrongs);
	return wrongs != 0;
}
