/*
 * thread_rates: thread create+join per second, and the round trip of a
 * futex ping-pong between two threads, in microseconds.
 */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *nothing(void *arg) { return arg; }

static _Atomic uint32_t turn;

static void wait_for(uint32_t want)
{
	uint32_t v;
	while ((v = atomic_load(&turn)) != want)
		syscall(SYS_futex, &turn, FUTEX_WAIT_PRIVATE, v, NULL, NULL, 0);
}

static void pass_to(uint32_t next)
{
	atomic_store(&turn, next);
	syscall(SYS_futex, &turn, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

#define ROUNDS 2000

static void *pong(void *arg)
{
	for (int i = 0; i < ROUNDS; i++) {
		wait_for(1);
		pass_to(0);
	}
	return arg;
}

int main(void)
{
	const int n = 500;
	double t0 = now();
	for (int i = 0; i < n; i++) {
		pthread_t t;
		pthread_create(&t, NULL, nothing, NULL);
		pthread_join(t, NULL);
	}
	double create = now() - t0;

	pthread_t t;
	pthread_create(&t, NULL, pong, NULL);
	t0 = now();
	for (int i = 0; i < ROUNDS; i++) {
		pass_to(1);
		wait_for(0);
	}
	double pingpong = now() - t0;
	pthread_join(t, NULL);
	printf("create+join: %.0f threads/s\nfutex ping-pong round trip: %.1f us\n", n / create,
	       pingpong / ROUNDS * 1e6);
	return 0;
}
