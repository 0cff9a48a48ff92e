/*
 * The floating-point environment is the program's own: MXCSR and the x87
 * control and status words, exception flags included, survive calls,
 * signals (a handler starts with the default one), threads, fork and exec.
 */
#define _GNU_SOURCE
#include <cpuid.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

struct fpenv {
	uint32_t mxcsr;
	uint16_t fcw, fsw;
};

static struct fpenv get_env(void)
{
	struct fpenv e;
	__asm__ volatile("stmxcsr %0" : "=m"(e.mxcsr));
	__asm__ volatile("fnstcw %0" : "=m"(e.fcw));
	__asm__ volatile("fnstsw %0" : "=m"(e.fsw));
	return e;
}

/* Round toward zero, overflow unmasked, double precision, and flags raised in both units. */
static void set_env(void)
{
	uint32_t mxcsr = (0x1f80 & ~(1u << 10)) | (3u << 13);
	uint16_t fcw = (0x37f & ~(3u << 8)) | (2u << 8);
	__asm__ volatile("ldmxcsr %0" : : "m"(mxcsr));
	__asm__ volatile("fldcw %0" : : "m"(fcw));
	volatile double one = 1.0, three = 3.0;
	volatile double third = one / three; /* SSE: sets PE in MXCSR */
	(void)third;
	volatile long double x = 1.0L, y = 3.0L;
	volatile long double q = x / y; /* x87: sets PE in FSW */
	(void)q;
}

static void show(const char *when, struct fpenv e)
{
	printf("%s: mxcsr 0x%04x fcw 0x%04x fsw-flags 0x%02x\n", when, e.mxcsr, e.fcw, e.fsw & 0x3f);
}

static volatile sig_atomic_t in_handler_done;
static struct fpenv in_handler;

static void on_usr1(int sig)
{
	(void)sig;
	in_handler = get_env();
	set_env(); /* a handler's own changes must not leak out */
	__asm__ volatile("ldmxcsr %0" : : "m"((uint32_t){ 0x1f80 | (1u << 13) }));
	in_handler_done = 1;
}

static void *thread_main(void *arg)
{
	*(struct fpenv *)arg = get_env();
	return NULL;
}

static volatile unsigned long alarms;

static void clobber_ymm(int sig)
{
	(void)sig;
	__asm__ volatile("vpcmpeqd %%ymm3, %%ymm3, %%ymm3" ::: "xmm3");
	alarms++;
}

static bool have_avx(void)
{
	unsigned a, b, c, d, lo, hi;
	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE) || !(c & bit_AVX))
		return false;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return (lo & 6) == 6;
}

/* The upper halves of the YMM registers (AVX) survive signals whose handlers change them. */
static void ymm_case(void)
{
	if (!have_avx()) {
		printf("ymm registers: no AVX here\n");
		return;
	}
	signal(SIGALRM, clobber_ymm);
	struct itimerval every = { { 0, 1000 }, { 0, 1000 } }, off = { { 0, 0 }, { 0, 0 } };
	setitimer(ITIMER_REAL, &every, NULL);
	unsigned long bad = 0;
	for (long n = 0; alarms < 20; n++) {
		uint64_t in[4] = { (uint64_t)n, 0x1111, (uint64_t)n * 3, 0x2222 }, out[4];
		__asm__ volatile("vmovdqu %1, %%ymm3\n\tmov $100, %%ecx\n1:\tpause\n\tdec %%ecx\n\tjnz 1b\n\t"
				 "vmovdqu %%ymm3, %0"
				 : "=m"(out) : "m"(in) : "xmm3", "ecx");
		bad += memcmp(in, out, sizeof(in)) != 0;
	}
	setitimer(ITIMER_REAL, &off, NULL);
	signal(SIGALRM, SIG_IGN); /* one may still be on its way */
	printf("ymm registers survive signals that change them: %s\n", bad ? "no" : "yes");
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "exec-child") == 0) {
		show("after exec", get_env());
		return 0;
	}
	show("at start", get_env());
	set_env();
	struct fpenv set = get_env();
	show("set", set);

	for (int i = 0; i < 100; i++)
		syscall(SYS_getppid);
	show("after 100 calls", get_env());

	signal(SIGUSR1, on_usr1);
	kill(getpid(), SIGUSR1);
	CHECK(in_handler_done, "the handler ran");
	show("in a handler", in_handler);
	show("after the handler", get_env());

	pthread_t t;
	struct fpenv in_thread;
	CHECK(pthread_create(&t, NULL, thread_main, &in_thread) == 0, "pthread_create");
	pthread_join(t, NULL);
	show("in a new thread", in_thread);

	fflush(stdout);
	pid_t pid = fork();
	CHECK(pid >= 0, "fork");
	if (pid == 0) {
		show("in the forked child", get_env());
		fflush(stdout);
		execl("/proc/self/exe", argv[0], "exec-child", (char *)NULL);
		_exit(127);
	}
	int status;
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "the child");
	show("at the end", get_env());
	ymm_case();
	return 0;
}
