/*
 * Dies of a signal that dumps core, in a way a debugger should show:
 *   crash segv      a write through a bad pointer, three calls deep
 *   crash threads   eight threads, each spinning in a function of its own,
 *                   then a write through a bad pointer in main's thread
 *   crash quit      says "ready", then waits for SIGQUIT from outside
 *   crash fpe       an integer division by zero
 *   crash setuid    becomes user 65534 (from root), then crashes as segv
 *   crash undumpable  prctl(PR_SET_DUMPABLE, 0), then crashes as segv
 * debug.bats reads the core files with gdb.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

int crash_marker = 1234; /* a global the core must hold */
static pthread_barrier_t started;
static volatile int divisor;

__attribute__((noinline)) static void write_through(int *p, int value)
{
	*p = value;
}

__attribute__((noinline)) static void descend(int depth, int *p)
{
	if (depth == 0)
		write_through(p, crash_marker);
	else
		descend(depth - 1, p);
	__asm__ volatile("" ::: "memory"); /* no tail call: every frame stays */
}

#define SPINNER(n)                                                      \
	__attribute__((noinline)) static void spin_in_##n(volatile long *count) \
	{                                                               \
		pthread_barrier_wait(&started);                          \
		for (;;)                                                \
			++*count;                                       \
	}
SPINNER(0) SPINNER(1) SPINNER(2) SPINNER(3) SPINNER(4) SPINNER(5) SPINNER(6) SPINNER(7)

static void (*const spinners[8])(volatile long *) = { spin_in_0, spin_in_1, spin_in_2, spin_in_3,
						      spin_in_4, spin_in_5, spin_in_6, spin_in_7 };

static volatile long counts[8];

static void *spinner(void *arg)
{
	spinners[(long)arg](&counts[(long)arg]);
	return NULL;
}

/* Every spinner past the barrier and in its loop: on a loaded machine 50 ms was not always enough. */
static void wait_for_spinners(void)
{
	for (int i = 0; i < 8; i++)
		while (counts[i] == 0)
			usleep(1000);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "segv";

	setvbuf(stdout, NULL, _IONBF, 0);
	if (strcmp(mode, "threads") == 0) {
		pthread_t t;
		pthread_barrier_init(&started, NULL, 9);
		for (long i = 0; i < 8; i++)
			pthread_create(&t, NULL, spinner, (void *)i);
		pthread_barrier_wait(&started);
		wait_for_spinners();
	} else if (strcmp(mode, "quit") == 0) {
		printf("ready\n");
		for (;;)
			pause();
	} else if (strcmp(mode, "fpe") == 0) {
		printf("%d\n", crash_marker / divisor);
	} else if (strcmp(mode, "setuid") == 0) {
		if (setuid(65534) != 0) {
			perror("crash: setuid");
			return 1;
		}
	} else if (strcmp(mode, "undumpable") == 0) {
		if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0 || prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0) {
			perror("crash: PR_SET_DUMPABLE");
			return 1;
		}
	}
	descend(3, (int *)16);
	return 0;
}
