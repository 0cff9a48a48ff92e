/*
 * Signals as programs use them: argv[1] names the case. Each case prints the
 * same lines and ends with the same status natively and under km.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <semaphore.h>
#include <time.h>
#include <ucontext.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static volatile sig_atomic_t hits;
static volatile int last_sig, last_code, last_pid_ok;
static void *volatile last_addr;
static sigjmp_buf jump;

static void on_signal(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	hits++;
	last_sig = sig;
	last_code = si->si_code;
	last_pid_ok = si->si_pid == getpid();
	last_addr = si->si_addr;
}

static void on_signal_jump(int sig, siginfo_t *si, void *uc)
{
	on_signal(sig, si, uc);
	siglongjmp(jump, 1);
}

static void handle(int sig, void (*fn)(int, siginfo_t *, void *), int flags)
{
	struct sigaction sa = { .sa_sigaction = fn, .sa_flags = SA_SIGINFO | flags };
	sigemptyset(&sa.sa_mask);
	CHECK(sigaction(sig, &sa, NULL) == 0, "sigaction %d", sig);
}

static const char *code_name(int code)
{
	switch (code) {
	case SI_USER: return "SI_USER";
	case SI_TKILL: return "SI_TKILL";
	case SI_QUEUE: return "SI_QUEUE";
	case SI_KERNEL: return "SI_KERNEL";
	default: return "other";
	}
}

static void raise_case(void)
{
	handle(SIGUSR1, on_signal, 0);
	raise(SIGUSR1);
	printf("raise: handler ran %d time, signal %d, %s, sender is us: %d\n", hits, last_sig,
	       code_name(last_code), last_pid_ok);
	kill(getpid(), SIGUSR1);
	printf("kill: handler ran %d times, %s\n", hits, code_name(last_code));
}

static void mask_case(void)
{
	sigset_t set, pending;
	handle(SIGUSR1, on_signal, 0);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	raise(SIGUSR1);
	raise(SIGUSR1);
	sigpending(&pending);
	printf("blocked: %d runs, pending: %d\n", hits, sigismember(&pending, SIGUSR1));
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	printf("unblocked: %d run (standard signals merge)\n", hits);
}

static void segv_case(void)
{
	handle(SIGSEGV, on_signal_jump, 0);
	if (sigsetjmp(jump, 1) == 0)
		*(volatile int *)0 = 1;
	printf("NULL write: caught SIGSEGV, code %s, address %p\n",
	       last_code == SEGV_MAPERR ? "SEGV_MAPERR" : "other", last_addr);
	char *page = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (sigsetjmp(jump, 1) == 0)
		page[100] = 1;
	printf("read-only write: code %s, address is the byte: %d\n",
	       last_code == SEGV_ACCERR ? "SEGV_ACCERR" : "other", last_addr == page + 100);
	if (sigsetjmp(jump, 1) == 0)
		*(volatile int *)0 = 2;
	printf("caught again after siglongjmp: %d catches\n", hits);
}

static void skip_ud2(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	on_signal(sig, si, ucv);
	uc->uc_mcontext.gregs[REG_RIP] += 2;
}

static void rip_case(void)
{
	handle(SIGILL, skip_ud2, 0);
	__asm__ volatile("ud2");
	printf("resumed after ud2: code %s, si_addr is the instruction: %d\n",
	       last_code == ILL_ILLOPN ? "ILL_ILLOPN" : "other", last_addr != NULL);
}

static void fpe_case(void)
{
	volatile int zero = 0, one = 1;
	handle(SIGFPE, on_signal_jump, 0);
	if (sigsetjmp(jump, 1) == 0)
		printf("%d\n", one / zero);
	printf("divide by zero: SIGFPE %s\n", last_code == FPE_INTDIV ? "FPE_INTDIV" : "other");
}

static char *alt;
static volatile int on_alt;

static void check_alt(int sig, siginfo_t *si, void *uc)
{
	char here;
	on_alt = &here >= alt && &here < alt + SIGSTKSZ * 4;
	on_signal_jump(sig, si, uc);
}

static int recurse(int n)
{
	volatile char pad[4096];
	pad[0] = (char)n;
	return recurse(n + 1) + pad[0];
}

static void altstack_case(void)
{
	alt = malloc(SIGSTKSZ * 4);
	stack_t ss = { .ss_sp = alt, .ss_size = SIGSTKSZ * 4 };
	CHECK(sigaltstack(&ss, NULL) == 0, "sigaltstack");
	handle(SIGSEGV, check_alt, SA_ONSTACK);
	if (sigsetjmp(jump, 1) == 0)
		recurse(0);
	printf("stack overflow caught on the alternate stack: %d\n", on_alt);
	stack_t now;
	sigaltstack(NULL, &now);
	printf("alternate stack still set: %d\n", now.ss_sp == alt && !(now.ss_flags & SS_DISABLE));
}

static void resethand_case(void)
{
	handle(SIGUSR2, on_signal, SA_RESETHAND | SA_NODEFER);
	raise(SIGUSR2);
	printf("first SIGUSR2 handled; the second kills\n");
	fflush(stdout);
	raise(SIGUSR2);
	printf("not reached\n");
}

static pthread_t main_thread;

static void *send_later(void *arg)
{
	usleep(50000);
	pthread_kill(main_thread, (int)(long)arg);
	return NULL;
}

static void suspend_case(void)
{
	sigset_t block, old, wait_mask;
	handle(SIGUSR1, on_signal, 0);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &old);
	main_thread = pthread_self();
	pthread_t t;
	pthread_create(&t, NULL, send_later, (void *)(long)SIGUSR1);
	wait_mask = old;
	sigdelset(&wait_mask, SIGUSR1);
	int rc = sigsuspend(&wait_mask);
	pthread_join(t, NULL);
	sigset_t after;
	sigprocmask(SIG_BLOCK, NULL, &after);
	printf("sigsuspend returned %d (%s) after %d handler run, mask restored: %d\n", rc,
	       errno == EINTR ? "EINTR" : "?", hits, sigismember(&after, SIGUSR1));
}

static void *queue_values(void *arg)
{
	(void)arg;
	for (int i = 1; i <= 100; i++)
		sigqueue(getpid(), SIGRTMIN + 1, (union sigval){ .sival_int = i });
	return NULL;
}

static void timedwait_case(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN + 1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	pthread_t t;
	pthread_create(&t, NULL, queue_values, NULL);
	long sum = 0;
	for (int i = 0; i < 100; i++) {
		siginfo_t si;
		CHECK(sigwaitinfo(&set, &si) == SIGRTMIN + 1, "sigwaitinfo");
		CHECK(si.si_code == SI_QUEUE, "si_code %d", si.si_code);
		sum += si.si_value.sival_int;
	}
	pthread_join(t, NULL);
	printf("100 queued real-time signals, values summing to %ld\n", sum);
	struct timespec ts = { 0, 50000000 };
	int rc = sigtimedwait(&set, NULL, &ts);
	printf("sigtimedwait with nothing pending: %d %s\n", rc, errno == EAGAIN ? "EAGAIN" : "?");
}

static int pipe_fds[2];

static void *write_later(void *arg)
{
	usleep(100000);
	pthread_kill(main_thread, SIGUSR1);
	usleep(100000);
	CHECK(write(pipe_fds[1], "x", 1) == 1, "write");
	return arg;
}

static void eintr_case(void)
{
	main_thread = pthread_self();
	for (int restart = 0; restart < 2; restart++) {
		handle(SIGUSR1, on_signal, restart ? SA_RESTART : 0);
		CHECK(pipe(pipe_fds) == 0, "pipe");
		pthread_t t;
		pthread_create(&t, NULL, write_later, NULL);
		char c;
		errno = 0;
		ssize_t n = read(pipe_fds[0], &c, 1);
		int err = errno;
		if (n < 0)
			CHECK(read(pipe_fds[0], &c, 1) == 1, "read after EINTR");
		pthread_join(t, NULL);
		printf("%s: read %s\n", restart ? "SA_RESTART" : "no SA_RESTART",
		       n == 1 ? "restarted and got the byte"
		       : n < 0 && err == EINTR ? "failed with EINTR"
					       : "returned neither the byte nor EINTR");
		close(pipe_fds[0]);
		close(pipe_fds[1]);
	}
}

/*
 * A signal another process sends goes to the main thread when it does not
 * block it (Linux's complete_signal prefers the thread group's leader), not
 * to whichever of the busy threads returns from a call first.
 */
static atomic_int handled_on_main = -1, workers_stop;
static pid_t main_tid;

static void on_usr2(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)si, (void)uc;
	atomic_store(&handled_on_main, gettid() == main_tid);
}

static void *busy_worker(void *arg)
{
	while (!atomic_load(&workers_stop))
		syscall(SYS_getppid); /* a call that leaves the guest under km */
	return arg;
}

static void process_directed_case(void)
{
	pthread_t t[4];
	char c;

	main_tid = gettid();
	handle(SIGUSR2, on_usr2, 0);
	CHECK(pipe(pipe_fds) == 0, "pipe");
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, busy_worker, NULL);
	pid_t sender = fork();
	CHECK(sender >= 0, "fork");
	if (sender == 0) {
		usleep(100000);
		kill(getppid(), SIGUSR2);
		_exit(0);
	}
	errno = 0;
	ssize_t n = read(pipe_fds[0], &c, 1); /* nothing is ever written */
	int err = errno;
	atomic_store(&workers_stop, 1);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	CHECK(waitpid(sender, NULL, 0) == sender, "waitpid");
	printf("SIGUSR2 from another process, four threads busy: handled on the main thread: %s; "
	       "main's read: %s\n",
	       atomic_load(&handled_on_main) == 1 ? "yes" : "no",
	       n < 0 && err == EINTR ? "EINTR" : "not interrupted");
}

static void sigpipe_case(int ignore)
{
	int fds[2];
	CHECK(pipe(fds) == 0, "pipe");
	close(fds[0]);
	if (ignore)
		signal(SIGPIPE, SIG_IGN);
	printf("writing to a pipe with no reader\n");
	fflush(stdout);
	ssize_t n = write(fds[1], "x", 1);
	printf("write returned %zd, %s\n", n, errno == EPIPE ? "EPIPE" : "?");
}

static void sigpipe_default_case(void) { sigpipe_case(0); }
static void sigpipe_ignored_case(void) { sigpipe_case(1); }

static void alarm_case(void)
{
	handle(SIGALRM, on_signal, 0);
	struct itimerval it = { .it_value = { 0, 100000 } };
	setitimer(ITIMER_REAL, &it, NULL);
	int rc = pause();
	printf("pause returned %d %s after SIGALRM: %d\n", rc, errno == EINTR ? "EINTR" : "?",
	       last_sig == SIGALRM);
}

static void clobber_fpu(int sig)
{
	(void)sig;
	volatile double x = 1e300;
	for (int i = 0; i < 50; i++)
		x = x * 0.5 + 3.0;
	hits++;
}

static double harmonic(long n)
{
	volatile double sum = 0;
	for (long i = 1; i <= n; i++)
		sum += 1.0 / (double)(i % 1000 + 1);
	return sum;
}

/* Handlers that use the FPU interrupt a floating-point loop; its result must not change. */
static void fpu_case(void)
{
	const long n = 2000000;
	double expect = harmonic(n);
	signal(SIGALRM, clobber_fpu);
	struct itimerval it = { .it_value = { 0, 1000 }, .it_interval = { 0, 1000 } };
	setitimer(ITIMER_REAL, &it, NULL);
	int same = 1;
	while (hits < 5)
		same &= harmonic(n) == expect;
	it = (struct itimerval){ 0 };
	setitimer(ITIMER_REAL, &it, NULL);
	printf("floating-point loop interrupted by FPU-using handlers: results equal: %d\n", same);
}

static volatile int timer_value_ok;

static void on_timer(int sig, siginfo_t *si, void *uc)
{
	on_signal(sig, si, uc);
	timer_value_ok = si->si_value.sival_int == 7;
}

static sem_t ticks;

static void on_thread_timer(union sigval v)
{
	if (v.sival_int == 9)
		sem_post(&ticks);
}

/* timer_create with SIGEV_SIGNAL, then with SIGEV_THREAD (a thread per expiry). */
static void timers_case(void)
{
	handle(SIGRTMIN, on_timer, 0);
	struct sigevent ev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGRTMIN,
			       .sigev_value.sival_int = 7 };
	timer_t t;
	CHECK(timer_create(CLOCK_MONOTONIC, &ev, &t) == 0, "timer_create");
	struct itimerspec its = { .it_value = { 0, 20000000 }, .it_interval = { 0, 20000000 } };
	CHECK(timer_settime(t, 0, &its, NULL) == 0, "timer_settime");
	while (hits < 3)
		pause();
	CHECK(timer_delete(t) == 0, "timer_delete");
	printf("SIGEV_SIGNAL timer: 3 expiries, si_code %s, value passed: %d\n",
	       last_code == SI_TIMER ? "SI_TIMER" : "other", timer_value_ok);

	sem_init(&ticks, 0, 0);
	ev = (struct sigevent){ .sigev_notify = SIGEV_THREAD, .sigev_notify_function = on_thread_timer,
				.sigev_value.sival_int = 9 };
	CHECK(timer_create(CLOCK_REALTIME, &ev, &t) == 0, "timer_create SIGEV_THREAD");
	CHECK(timer_settime(t, 0, &its, NULL) == 0, "timer_settime");
	for (int i = 0; i < 3; i++)
		sem_wait(&ticks);
	struct itimerspec left;
	CHECK(timer_gettime(t, &left) == 0 && timer_getoverrun(t) >= 0, "gettime, getoverrun");
	CHECK(timer_delete(t) == 0, "timer_delete");
	printf("SIGEV_THREAD timer: 3 callbacks\n");
}

static volatile sig_atomic_t term;

static void on_term(int sig)
{
	term = sig;
}

/* Waits for SIGTERM from outside km; the test sends it once "ready" is printed. */
static void external_case(void)
{
	signal(SIGTERM, on_term);
	printf("ready\n");
	fflush(stdout);
	while (!term)
		pause();
	printf("got SIGTERM, exiting cleanly\n");
}

static void external_default_case(void)
{
	printf("ready\n");
	fflush(stdout);
	for (;;)
		pause();
}

/*
 * The fault signals, sent by another process, are signals like any other:
 * the child's handlers get them (SI_USER, the sender's pid); without a
 * handler, SIGSEGV ends the child. Under km they are not km's own faults.
 */
static volatile sig_atomic_t chld_seen;

static void on_chld(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)si, (void)uc;
	chld_seen = 1;
}

/* Linux makes SIGCHLD pending before a child can be waited for: the handler has run when wait returns. */
static void chld_wait_case(void)
{
	int rounds = 200, ran = 0, status;
	handle(SIGCHLD, on_chld, SA_RESTART);
	for (int i = 0; i < rounds; i++) {
		chld_seen = 0;
		pid_t pid = fork();
		CHECK(pid >= 0, "fork");
		if (pid == 0)
			_exit(0);
		CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
		ran += chld_seen;
	}
	printf("the SIGCHLD handler had run when waitpid returned: %d of %d\n", ran, rounds);
}

/* A child without a handler for sig, sent sig by its parent, dies of it. */
static void sent_ends_child(int sig)
{
	int status;
	pid_t pid = fork();
	CHECK(pid >= 0, "fork");
	if (pid == 0) {
		for (;;)
			pause();
	}
	CHECK(kill(pid, sig) == 0, "kill");
	CHECK(waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) && WTERMSIG(status) == sig,
	      "signal %d: status 0x%x", sig, status);
}

static void sent_faults_case(void)
{
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS };
	const int n = sizeof(sigs) / sizeof(sigs[0]);
	int ready[2], ack[2];
	char byte;
	CHECK(pipe(ready) == 0 && pipe(ack) == 0, "pipe");
	pid_t pid = fork();
	CHECK(pid >= 0, "fork");
	if (pid == 0) {
		sigset_t block, none;
		sigemptyset(&block);
		sigemptyset(&none);
		for (int i = 0; i < n; i++) {
			sigaddset(&block, sigs[i]);
			handle(sigs[i], on_signal, 0);
		}
		CHECK(sigprocmask(SIG_BLOCK, &block, NULL) == 0, "sigprocmask");
		CHECK(write(ready[1], "r", 1) == 1, "ready");
		for (int i = 0; i < n; i++) {
			while (hits == i)
				sigsuspend(&none);
			CHECK(last_sig == sigs[i] && last_code == SI_USER && last_pid_ok == 0,
			      "signal %d code %s", last_sig, code_name(last_code));
			CHECK(write(ack[1], "a", 1) == 1, "ack");
		}
		_exit(0);
	}
	close(ready[1]);
	close(ack[1]); /* a child that dies is an end of file, not a wait */
	CHECK(read(ready[0], &byte, 1) == 1, "child ready");
	for (int i = 0; i < n; i++)
		CHECK(kill(pid, sigs[i]) == 0 && read(ack[0], &byte, 1) == 1, "signal %d handled",
		      sigs[i]);
	int status;
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "status 0x%x", status);

	sent_ends_child(SIGSEGV);
	sent_ends_child(SIGSYS);
	OK("SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP and SIGSYS from another process reach the "
	   "handlers (SI_USER); without one, SIGSEGV and SIGSYS end the child");
}

int main(int argc, char **argv)
{
	static const struct test_case cases[] = {
		{ "sent-faults", sent_faults_case }, { "chld-wait", chld_wait_case },
		{ "raise", raise_case },       { "mask", mask_case },		{ "segv", segv_case },
		{ "rip", rip_case },	       { "fpe", fpe_case },		{ "altstack", altstack_case },
		{ "resethand", resethand_case }, { "suspend", suspend_case },	{ "timedwait", timedwait_case },
		{ "eintr", eintr_case },       { "process-directed", process_directed_case },       { "alarm", alarm_case },		{ "fpu", fpu_case },
		{ "timers", timers_case },     { "external", external_case }, { "external-default", external_default_case },
		{ "sigpipe", sigpipe_default_case }, { "sigpipe-ignored", sigpipe_ignored_case },
	};
	setvbuf(stdout, NULL, _IOLBF, 0);
	return RUN_CASE(argc, argv, cases);
}
