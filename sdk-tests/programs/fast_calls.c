/*
 * Calls that km may take without an exit (fast calls, km/fastcall.c), used
 * as a program uses them, with output that must match Linux's own:
 *   big-pipe | big-socket   one write/send far bigger than the pipe or socket
 *                           holds, read slowly on the other side
 *   would-wait              reads that must wait, and non-blocking ones that must not
 *   signals                 calls in a loop while signals arrive, whose handler calls too
 *   threads                 threads calling at once: each gets its own answers
 *   fork                    a forked child's calls
 *   scribble                the program writes garbage over km's fast-call area
 *   identity                calls in a loop, then root becomes nobody: every id asked after
 *                           is nobody's (run as root)
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

#define BIG (4 << 20)
#define UNSERVED_NR 1000 /* no Linux call: ENOSYS everywhere */

static uint8_t pattern(size_t i)
{
	return (uint8_t)(i * 7 + i / 4093);
}

struct writer {
	int fd;
	bool socket;
	long result;
};

static void *write_big(void *arg)
{
	struct writer *w = arg;
	uint8_t *buf = malloc(BIG);
	CHECK(buf != NULL, "malloc");
	for (size_t i = 0; i < BIG; i++)
		buf[i] = pattern(i);
	w->result = w->socket ? send(w->fd, buf, BIG, 0) : write(w->fd, buf, BIG);
	free(buf);
	return NULL;
}

/* One call writes it all; the reader takes it in small reads with pauses: the writer must wait. */
static void big(bool socket)
{
	int fds[2];
	pthread_t t;
	struct writer w = { .socket = socket };
	uint8_t chunk[4096];
	size_t got = 0, reads = 0;

	CHECK((socket ? socketpair(AF_UNIX, SOCK_STREAM, 0, fds) : pipe(fds)) == 0, "pair");
	w.fd = fds[1];
	CHECK(pthread_create(&t, NULL, write_big, &w) == 0, "pthread_create");
	while (got < BIG) {
		ssize_t n = read(fds[0], chunk, sizeof(chunk));
		CHECK(n > 0, "read at %zu", got);
		for (ssize_t i = 0; i < n; i++)
			CHECK(chunk[i] == pattern(got + (size_t)i), "byte %zu", got + (size_t)i);
		got += (size_t)n;
		if (++reads % 256 == 0)
			usleep(1000);
	}
	pthread_join(t, NULL);
	printf("%s: one %s of %d bytes returned %ld; read back %zu bytes, every one in place\n",
	       socket ? "socket" : "pipe", socket ? "send" : "write", BIG, w.result, got);
}

static void *write_later(void *arg)
{
	usleep(100000);
	CHECK(write(*(int *)arg, "late", 4) == 4, "write");
	return NULL;
}

static void would_wait(void)
{
	int p[2], s[2];
	char buf[16];
	pthread_t t;

	CHECK(pipe(p) == 0 && socketpair(AF_UNIX, SOCK_STREAM, 0, s) == 0, "pipes");
	for (int i = 0; i < 1000; i++) /* under km, the poller is up and polling from here on */
		getppid();
	CHECK(pthread_create(&t, NULL, write_later, &p[1]) == 0, "pthread_create");
	ssize_t n = read(p[0], buf, sizeof(buf));
	pthread_join(t, NULL);
	printf("blocking read waited for the writer: %zd bytes, \"%.*s\"\n", n, (int)n, buf);

	CHECK(pthread_create(&t, NULL, write_later, &s[1]) == 0, "pthread_create");
	n = recv(s[0], buf, sizeof(buf), 0);
	pthread_join(t, NULL);
	printf("blocking recv waited for the sender: %zd bytes, \"%.*s\"\n", n, (int)n, buf);

	n = recv(s[0], buf, sizeof(buf), MSG_DONTWAIT);
	printf("recv MSG_DONTWAIT on nothing: %zd %s\n", n, errno_name(errno));
	CHECK(fcntl(p[0], F_SETFL, O_NONBLOCK) == 0, "O_NONBLOCK");
	n = read(p[0], buf, sizeof(buf));
	printf("read O_NONBLOCK on nothing: %zd %s\n", n, errno_name(errno));

	CHECK(write(s[1], "ab", 2) == 2, "write");
	CHECK(pthread_create(&t, NULL, write_later, &s[1]) == 0, "pthread_create");
	n = recv(s[0], buf, 6, MSG_WAITALL);
	pthread_join(t, NULL);
	printf("recv MSG_WAITALL waited for all 6: %zd \"%.*s\"\n", n, (int)n, buf);

	close(p[0]);
	signal(SIGPIPE, SIG_IGN);
	n = write(p[1], "x", 1);
	printf("write to a pipe without readers: %zd %s\n", n, errno_name(errno));
	errno = 0;
	long r = syscall(UNSERVED_NR);
	printf("an unknown call: %ld %s\n", r, errno_name(errno));
}

static volatile sig_atomic_t handled;
static int sig_pipe[2];
static pid_t parent;

static void on_alarm(int sig)
{
	(void)sig;
	int saved = errno;
	CHECK(getppid() == parent, "getppid in the handler");
	CHECK(write(sig_pipe[1], "s", 1) == 1, "write in the handler");
	handled++;
	errno = saved;
}

/* Calls in a loop, each checked, while a timer interrupts them a few hundred times. */
static void signals(void)
{
	struct sigaction sa = { .sa_handler = on_alarm, .sa_flags = SA_RESTART };
	struct itimerval every = { { 0, 500 }, { 0, 500 } }, off = { 0 };
	int data[2];
	char c;
	struct utsname u;
	long calls = 0;

	parent = getppid();
	CHECK(pipe(sig_pipe) == 0 && pipe(data) == 0, "pipe");
	CHECK(sigaction(SIGALRM, &sa, NULL) == 0, "sigaction");
	CHECK(setitimer(ITIMER_REAL, &every, NULL) == 0, "setitimer");
	while (handled < 300) {
		CHECK(getppid() == parent, "getppid");
		CHECK(uname(&u) == 0 && strcmp(u.sysname, "Linux") == 0, "uname");
		errno = 0;
		CHECK(syscall(UNSERVED_NR) == -1 && errno == ENOSYS, "unknown call");
		c = (char)('a' + calls % 26);
		CHECK(write(data[1], &c, 1) == 1, "write");
		char back;
		CHECK(read(data[0], &back, 1) == 1 && back == c, "read back");
		calls++;
	}
	CHECK(setitimer(ITIMER_REAL, &off, NULL) == 0, "setitimer off");
	int from_handler = 0;
	CHECK(fcntl(sig_pipe[0], F_SETFL, O_NONBLOCK) == 0, "O_NONBLOCK");
	while (read(sig_pipe[0], &c, 1) == 1)
		from_handler++;
	printf("300 or more signals interrupted the calls; every call's answer was right; "
	       "each handler's write arrived: %d\n",
	       from_handler == handled);
}

#define THREADS 8
#define ROUNDS 5000

static void *each_its_own(void *arg)
{
	pid_t tid = (pid_t)syscall(SYS_gettid), ppid = getppid();
	for (int i = 0; i < ROUNDS; i++) {
		CHECK(syscall(SYS_gettid) == tid, "gettid");
		CHECK(getppid() == ppid, "getppid");
	}
	*(pid_t *)arg = tid;
	return NULL;
}

static void threads(void)
{
	pthread_t t[THREADS];
	pid_t tids[THREADS];
	int distinct = 1;

	for (int i = 0; i < THREADS; i++)
		CHECK(pthread_create(&t[i], NULL, each_its_own, &tids[i]) == 0, "pthread_create");
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < THREADS; i++)
		for (int j = 0; j < i; j++)
			if (tids[i] == tids[j] || tids[i] == getpid())
				distinct = 0;
	printf("%d threads, %d calls each: every thread saw its own tid, all distinct: %d\n",
	       THREADS, 2 * ROUNDS, distinct);
}

static void forked(void)
{
	int p[2];
	pid_t me = getpid();
	char buf[32];

	CHECK(pipe(p) == 0, "pipe");
	getppid(); /* the parent's calls before the fork */
	pid_t child = fork();
	CHECK(child >= 0, "fork");
	if (child == 0) {
		int ok = 1;
		for (int i = 0; i < 1000; i++)
			ok &= getppid() == me;
		CHECK(write(p[1], ok ? "child ok" : "child bad", ok ? 8 : 9) > 0, "write");
		_exit(0);
	}
	ssize_t n = read(p[0], buf, sizeof(buf));
	int status;
	CHECK(waitpid(child, &status, 0) == child, "waitpid");
	printf("the forked child's calls: \"%.*s\", status %d\n", (int)n, buf, WEXITSTATUS(status));
}

/*
 * Under km only (natively nothing is there): every word of km's fast-call
 * area overwritten for a while, then put back as it was. km must come
 * through unharmed and answer the calls made afterwards rightly.
 */
#define FAST_AREA_WORDS (17 * 512)
static volatile int stop_scribbling;

static void *scribble_forever(void *arg)
{
	volatile uint64_t *area = arg;
	uint64_t x = 0x9e3779b97f4a7c15ull, n = 0;
	/* Unaligned, km's own pages, the area itself, page 1: km must refuse each. */
	static const uint64_t odd[] = { 1, 0xffffffffc0411000ull, 0xffffffffc0000000ull, 0x1000, 12 };

	while (!stop_scribbling) {
		for (int i = 0; i < FAST_AREA_WORDS; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			area[i] = n % 3 == 0 ? odd[x % 5] : x;
		}
		n++;
	}
	return NULL;
}

static void scribble(void)
{
	pthread_t s, t[2];
	pid_t tids[2];
	uint64_t *area = (uint64_t *)0xffffffffc0410000ull; /* KM_FAST_VA */
	static uint64_t saved[FAST_AREA_WORDS];

	if (syscall(0x1001) != -1) { /* KM_HC_FAST_SLOT: only km with fast calls answers it */
		memcpy(saved, area, sizeof(saved));
		CHECK(pthread_create(&s, NULL, scribble_forever, area) == 0, "pthread_create");
		usleep(300000);
		stop_scribbling = 1;
		pthread_join(s, NULL);
		memcpy(area, saved, sizeof(saved));
	}
	for (int i = 0; i < 2; i++)
		CHECK(pthread_create(&t[i], NULL, each_its_own, &tids[i]) == 0, "pthread_create");
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	printf("after garbage over the fast-call area, two threads' %d calls were answered rightly\n",
	       2 * ROUNDS);
}

/* Credentials belong to the thread that set them, not to whichever thread answers. */
static void identity(void)
{
	const unsigned nobody = 65534, rounds = 500;
	pid_t ppid = getppid();
	uid_t r, e, s;
	gid_t g = nobody;
	int right = 1;

	CHECK(getuid() == 0, "run as root");
	for (int i = 0; i < 20000; i++) /* the poller, where there is one, is up and answering */
		CHECK(getppid() == ppid, "getppid");
	CHECK(setgroups(1, &g) == 0 && setresgid(nobody, nobody, nobody) == 0 &&
		      setresuid(nobody, nobody, nobody) == 0,
	      "setgroups, setresgid, setresuid");
	for (unsigned i = 0; i < rounds; i++) {
		right &= getuid() == nobody && geteuid() == nobody;
		right &= getgid() == nobody && getegid() == nobody;
		right &= getresuid(&r, &e, &s) == 0 && r == nobody && e == nobody && s == nobody;
		right &= getgroups(1, &g) == 1 && g == nobody;
	}
	printf("after root became nobody, %u rounds of every id getter said nobody: %d\n", rounds,
	       right);
}

static void big_pipe(void) { big(false); }
static void big_socket(void) { big(true); }

int main(int argc, char **argv)
{
	static const struct test_case cases[] = {
		{ "big-pipe", big_pipe },     { "big-socket", big_socket }, { "would-wait", would_wait },
		{ "signals", signals },	      { "threads", threads },	    { "fork", forked },
		{ "scribble", scribble },     { "identity", identity },
	};

	setvbuf(stdout, NULL, _IONBF, 0);
	return RUN_CASE(argc, argv, cases);
}
