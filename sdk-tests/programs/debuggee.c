/*
 * A program to debug with gdb (debug.bats):
 *   debuggee            sums squares, watching `counter`, then prints "total N"
 *   debuggee float      passes 2.5 and 4.0 in SSE registers to scale()
 *   debuggee signal     raises SIGUSR1; its handler runs
 *   debuggee threads    eight threads, each with its own thread-local value, in a function of its own
 *   debuggee wait       says "ready", then spins until gdb sets `released`
 *   debuggee fork       a child and its parent each sum squares, and say so
 *   debuggee exec       runs itself again (execv), to sum squares
 *   debuggee name       names its thread with XML's special characters, then sums squares
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

volatile int counter;
volatile int released;
volatile int handled;
__thread int tls_value;
static pthread_barrier_t all_in;

__attribute__((noinline)) int square(int x)
{
	return x * x;
}

__attribute__((noinline)) int accumulate(int n)
{
	int total = 0;
	for (int i = 1; i <= n; i++) {
		counter = i;
		total += square(i);
	}
	return total;
}

__attribute__((noinline)) double scale(double x, double by)
{
	return x * by;
}

void on_usr1(int sig)
{
	handled = sig;
}

__attribute__((noinline)) void checkpoint(int id)
{
	__asm__ volatile("" : : "r"(id) : "memory");
}

#define WORKER(n)                                                        \
	__attribute__((noinline)) static void work_##n(void)              \
	{                                                                \
		tls_value = 100 + n;                                     \
		pthread_barrier_wait(&all_in);                           \
		checkpoint(n);                                           \
		pthread_barrier_wait(&all_in);                           \
	}
WORKER(0) WORKER(1) WORKER(2) WORKER(3) WORKER(4) WORKER(5) WORKER(6) WORKER(7)

static void (*const workers[8])(void) = { work_0, work_1, work_2, work_3,
					   work_4, work_5, work_6, work_7 };

static void *worker(void *arg)
{
	workers[(long)arg]();
	return NULL;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "sum";

	setvbuf(stdout, NULL, _IONBF, 0);
	if (strcmp(mode, "float") == 0) {
		printf("scaled %g\n", scale(2.5, 4.0));
	} else if (strcmp(mode, "signal") == 0) {
		signal(SIGUSR1, on_usr1);
		raise(SIGUSR1);
		printf("handled %d\n", handled);
	} else if (strcmp(mode, "threads") == 0) {
		pthread_t t[8];
		pthread_barrier_init(&all_in, NULL, 8);
		for (long i = 0; i < 8; i++)
			pthread_create(&t[i], NULL, worker, (void *)i);
		for (int i = 0; i < 8; i++)
			pthread_join(t[i], NULL);
		printf("threads done\n");
	} else if (strcmp(mode, "wait") == 0) {
		printf("ready\n");
		while (!released)
			;
		printf("released\n");
	} else if (strcmp(mode, "name") == 0) {
		prctl(PR_SET_NAME, "a<b>&\"c'\x01", 0, 0, 0);
		printf("total %d\n", accumulate(2));
	} else if (strcmp(mode, "exec") == 0) {
		char *again[] = { argv[0], "sum", NULL };
		printf("exec %s\n", argv[0]);
		execv(argv[0], again);
		perror("execv");
		return 1;
	} else if (strcmp(mode, "fork") == 0) {
		pid_t pid = fork();
		int total = accumulate(3), status = 0;
		if (pid == 0) {
			printf("child total %d\n", total);
			return 0;
		}
		waitpid(pid, &status, 0);
		printf("parent total %d, child status %d\n", total, status);
	} else {
		printf("total %d\n", accumulate(5));
	}
	return 0;
}
