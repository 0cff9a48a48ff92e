/*
 * Code on a page of its own, far from the rest, called once told to: what
 * memory.bats uses to see the program's code mapped from its file. Prints
 * "ready", waits for SIGUSR1, calls it.
 */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

static volatile sig_atomic_t go;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

/* 64 KiB on, so no access before the call brings its page in. */
__attribute__((noinline, aligned(65536))) static int far_away(int x)
{
	return x * 6 + 4;
}

int main(void)
{
	signal(SIGUSR1, on_usr1);
	printf("ready\n");
	fflush(stdout);
	while (!go)
		pause();
	printf("far away: %d\n", far_away(7));
	return 0;
}
