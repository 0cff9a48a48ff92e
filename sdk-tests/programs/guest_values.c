/*
 * Hostile numbers in system call arguments: addresses and lengths that wrap
 * or reach past the user address space, fds with bits above the int, calls
 * at the fd limit. argv[1] names the case; each prints what the calls
 * returned, in words that are the same on Linux and under km.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

#define PAGE 4096ul
#define TASK_SIZE 0x7ffffffff000ul /* the end of x86-64 Linux's user address space */
#define HIGH_BITS 0xffffffff00000000ul

/* "success", or the name of the errno of a failed call (musl has no strerrorname_np). */
static const char *outcome(long rc)
{
	return rc != -1 ? "success" : errno_name(errno);
}

/* The memory calls themselves: libc's wrappers round lengths or refuse huge ones first. */
static long sys_mremap(void *old, uint64_t old_len, uint64_t new_len, int flags, uint64_t to)
{
	return syscall(SYS_mremap, old, old_len, new_len, flags, to);
}

static long sys_mmap(uint64_t at, uint64_t len, int prot, int flags)
{
	return syscall(SYS_mmap, at, len, prot, flags, -1, 0);
}

static char *map_pages(size_t n, char fill)
{
	char *m = mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(m != MAP_FAILED, "mmap %zu pages", n);
	memset(m, fill, n * PAGE);
	return m;
}

static const char *intact(const char *m, size_t n, char fill)
{
	for (size_t i = 0; i < n * PAGE; i += PAGE / 2)
		if (m[i] != fill)
			return "changed";
	return "intact";
}

static void brk_case(void)
{
	/* -4 first: the number of EINTR, which is not a kick's when brk returns it. */
	static const uint64_t asks[] = { (uint64_t)-4, 0xfffffffffffff001ul, 0xffffffffffffffff,
					 0x8000000000000000ul, TASK_SIZE + 1, 0xffff800000000000ul };
	long start = syscall(SYS_brk, 0);

	for (size_t i = 0; i < sizeof(asks) / sizeof(asks[0]); i++) {
		long rc = syscall(SYS_brk, asks[i]);
		printf("brk(0x%lx): %s\n", (unsigned long)asks[i],
		       rc == start ? "the break stays" : rc == -1 ? outcome(rc) : "the break moved");
	}
	long grown = syscall(SYS_brk, start + 3 * PAGE);
	if (grown == start + 3 * (long)PAGE)
		memset((char *)start, 1, 3 * PAGE);
	printf("brk grows by 3 pages afterwards: %d\n", grown == start + 3 * (long)PAGE);
	printf("brk shrinks back: %d\n", syscall(SYS_brk, start) == start);
	printf("the program's image is still there\n");
}

static void mremap_case(void)
{
	static const uint64_t lens[] = { 0xfffffffffffff000ul, 0xffffffffffffe001ul,
					 0x8000000000000000ul, TASK_SIZE + PAGE, (uint64_t)-1 };
	static const int flags[] = { 0, MREMAP_MAYMOVE };
	char *m = map_pages(2, 'm');

	for (size_t f = 0; f < 2; f++) {
		for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
			long rc = sys_mremap(m, 2 * PAGE, lens[i], flags[f], 0);
			/* A length that does not round to 0: ENOMEM on Linux 6.1, EINVAL on 6.18. */
			int refused = rc == -1 && (errno == ENOMEM || errno == EINVAL) &&
				      ((lens[i] + PAGE - 1) & ~(PAGE - 1)) != 0;
			printf("mremap(2 pages to 0x%lx%s): %s%s, the mapping is %s\n",
			       (unsigned long)lens[i], flags[f] ? ", MAYMOVE" : "",
			       refused ? "refused" : outcome(rc), rc == (long)m ? " in place" : "",
			       intact(m, 2, 'm'));
		}
	}
	/* Old lengths: 0 (no duplicates of private memory), and ones that leave the user space. */
	static const uint64_t old_lens[] = { 0, (uint64_t)-1, 0xfffffffffffff000ul, TASK_SIZE };
	for (size_t i = 0; i < sizeof(old_lens) / sizeof(old_lens[0]); i++) {
		long rc = sys_mremap(m, old_lens[i], PAGE, MREMAP_MAYMOVE, 0);
		printf("mremap(old length 0x%lx to 1 page): %s, the mapping is %s\n",
		       (unsigned long)old_lens[i], outcome(rc), intact(m, 2, 'm'));
	}
	/* MREMAP_FIXED: where the new range ends past the user address space. */
	static const struct { uint64_t to, len; } fixed[] = {
		{ 0x100000000ul, 0xfffffffffffff000ul },
		{ TASK_SIZE - PAGE, 2 * PAGE },
		{ 0xfffffffffffff000ul, 2 * PAGE },
		{ 0xffff800000000000ul, PAGE },
	};
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		long rc = sys_mremap(m, PAGE, fixed[i].len, MREMAP_MAYMOVE | MREMAP_FIXED, fixed[i].to);
		printf("mremap(1 page to 0x%lx bytes at 0x%lx, FIXED): %s, the mapping is %s\n",
		       (unsigned long)fixed[i].len, (unsigned long)fixed[i].to, outcome(rc),
		       intact(m, 2, 'm'));
	}
	void *moved = mremap(m, 2 * PAGE, 4 * PAGE, MREMAP_MAYMOVE);
	CHECK(moved != MAP_FAILED, "an ordinary mremap afterwards");
	printf("an ordinary mremap afterwards keeps the contents: %s\n", intact(moved, 2, 'm'));
	/* The start of a larger mapping, to the same (rounded) length; flags above the int. */
	char *big = map_pages(16, 'b');
	long rc = sys_mremap(big, 2 * PAGE, PAGE + 1, 0, 0);
	printf("mremap(2 of 16 pages to 0x1001 bytes): %s%s, the mapping is %s\n", outcome(rc),
	       rc == (long)big ? " in place" : "", intact(big, 16, 'b'));
	rc = syscall(SYS_mremap, big, 2 * PAGE, 2 * PAGE, 0x100000000ul | MREMAP_MAYMOVE, 0);
	printf("mremap(2 pages, flags 0x100000001): %s, the mapping is %s\n", outcome(rc),
	       intact(big, 16, 'b'));
}

static void munmap_case(void)
{
	static const struct { uint64_t at, len; } asks[] = {
		{ 0, 0xffffffffc0000000ul },
		{ 0, (uint64_t)-PAGE },
		{ PAGE, (uint64_t)-PAGE },
		{ 0, TASK_SIZE + PAGE },
		{ TASK_SIZE, PAGE },
		{ 0xffff800000000000ul, PAGE },
		{ 0xfffffffffffff000ul, PAGE },
	};
	char *m = map_pages(1, 'u');

	for (size_t i = 0; i < sizeof(asks) / sizeof(asks[0]); i++)
		printf("munmap(0x%lx, 0x%lx): %s\n", (unsigned long)asks[i].at,
		       (unsigned long)asks[i].len, outcome(syscall(SYS_munmap, asks[i].at, asks[i].len)));
	printf("the program and its mapping are still there: %s\n", intact(m, 1, 'u'));
}

static void mprotect_case(void)
{
	char *m = map_pages(2, 'p');
	static const uint64_t lens[] = { (uint64_t)-1, (uint64_t)-PAGE, (uint64_t)-2 * PAGE + 1 };

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
		printf("mprotect(a mapping, 0x%lx, PROT_READ): %s\n", (unsigned long)lens[i],
		       outcome(syscall(SYS_mprotect, m, lens[i], PROT_READ)));
	printf("mprotect(0xfffffffffffff000, 1 page, PROT_READ): %s\n",
	       outcome(syscall(SYS_mprotect, 0xfffffffffffff000ul, PAGE, PROT_READ)));
	printf("mprotect(past the user space, 0, PROT_READ): %s\n",
	       outcome(syscall(SYS_mprotect, 0xfffffffffffff000ul, 0, PROT_READ)));
	m[0] = 'w'; /* still writable */
	printf("the mapping is still writable\n");
}

static void mmap_case(void)
{
	static const uint64_t lens[] = { (uint64_t)-1, 0xfffffffffffff000ul, 0x8000000000000000ul,
					 TASK_SIZE + PAGE };
	int anon = MAP_PRIVATE | MAP_ANONYMOUS;

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		printf("mmap(NULL, 0x%lx): %s\n", (unsigned long)lens[i],
		       outcome(sys_mmap(0, lens[i], PROT_READ | PROT_WRITE, anon)));
	}
	static const struct { uint64_t at, len; } fixed[] = {
		{ 0xfffffffffffff000ul, 2 * PAGE },
		{ TASK_SIZE - PAGE, 2 * PAGE },
		{ 0xffff800000000000ul, PAGE },
	};
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		printf("mmap(0x%lx, 0x%lx, MAP_FIXED): %s\n", (unsigned long)fixed[i].at,
		       (unsigned long)fixed[i].len,
		       outcome(sys_mmap(fixed[i].at, fixed[i].len, PROT_READ, anon | MAP_FIXED)));
	}
	printf("mmap with a hint past the user space: %s\n",
	       outcome(sys_mmap(0xfffffffffffff000ul, 2 * PAGE, PROT_READ, anon)));
}

/* Advice and locks: a length that rounds to 0, an end that wraps, each call's own answer. */
static void advice_case(void)
{
	static const uint64_t lens[] = { (uint64_t)-1, (uint64_t)-PAGE, (uint64_t)-2 * PAGE + 1 };
	char *m = map_pages(2, 'a');

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		unsigned long len = (unsigned long)lens[i];
		printf("madvise(a mapping, 0x%lx, MADV_DONTNEED): %s\n", len,
		       outcome(syscall(SYS_madvise, m, len, MADV_DONTNEED)));
		printf("msync(a mapping, 0x%lx): %s\n", len, outcome(syscall(SYS_msync, m, len, MS_SYNC)));
		printf("mlock(a mapping, 0x%lx): %s\n", len, outcome(syscall(SYS_mlock, m, len)));
		printf("munlock(a mapping, 0x%lx): %s\n", len, outcome(syscall(SYS_munlock, m, len)));
	}
	const uint64_t top = 0xfffffffffffff000ul;
	printf("madvise(0x%lx, 1 page): %s\n", (unsigned long)top,
	       outcome(syscall(SYS_madvise, top, PAGE, MADV_DONTNEED)));
	printf("msync(0x%lx, 1 page): %s\n", (unsigned long)top,
	       outcome(syscall(SYS_msync, top, PAGE, MS_SYNC)));
	printf("mlock(0x%lx, 1 page): %s\n", (unsigned long)top, outcome(syscall(SYS_mlock, top, PAGE)));
	printf("the mapping is %s\n", intact(m, 2, 'a'));
}

static void fd_bits_case(void)
{
	int p[2];
	char buf[8] = "";

	CHECK(pipe(p) == 0, "pipe");
	long w = syscall(SYS_write, HIGH_BITS | (unsigned)p[1], "hi", 2);
	printf("write(0xffffffff%08x, \"hi\"): %ld\n", p[1], w);
	long r = syscall(SYS_read, HIGH_BITS | (unsigned)p[0], buf, sizeof(buf));
	printf("read(0xffffffff%08x): %ld \"%s\"\n", p[0], r, r > 0 ? buf : "");
	long d = syscall(SYS_dup, 0x100000000ul | (unsigned)p[0]);
	printf("dup(0x1%08x): %s\n", p[0], outcome(d < 0 ? -1 : 0));
	struct stat st;
	printf("fstat(0xffffffff%08x): %s\n", p[0],
	       outcome(syscall(SYS_fstat, HIGH_BITS | (unsigned)p[0], &st)));
	int dir = open("/", O_RDONLY | O_DIRECTORY);
	CHECK(dir >= 0, "open /");
	long fd = syscall(SYS_openat, HIGH_BITS | (unsigned)dir, "proc", O_RDONLY | O_DIRECTORY);
	printf("openat(0xffffffff%08x, \"proc\"): %s\n", dir, outcome(fd < 0 ? -1 : 0));
	long cwd = syscall(SYS_openat, 0x1ffffff9cul, ".", O_RDONLY | O_DIRECTORY); /* AT_FDCWD */
	printf("openat(0x1ffffff9c = AT_FDCWD, \".\"): %s\n", outcome(cwd < 0 ? -1 : 0));
	printf("read(0xffffffffffffffff): %s\n", outcome(syscall(SYS_read, -1L, buf, 1)));
	printf("read(0x00000000ffffffff): %s\n", outcome(syscall(SYS_read, 0xfffffffful, buf, 1)));
	printf("close(0xffffffff%08x): %s\n", p[1], outcome(syscall(SYS_close, HIGH_BITS | (unsigned)p[1])));
	printf("write after that close: %s\n", outcome(write(p[1], "x", 1)));
}

/* What dup and F_DUPFD give once every fd below the limit is taken. */
static void fd_limit_case(void)
{
	struct rlimit rl;
	int last = -1;

	CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0, "getrlimit");
	int lim = (int)rl.rlim_cur;
	int fd;
	while ((fd = dup(0)) >= 0)
		last = fd;
	printf("dup until it fails: %s, the last fd is the limit less one: %d\n", outcome(fd),
	       last == lim - 1);
	printf("fcntl(0, F_DUPFD, 0): %s\n", outcome(fcntl(0, F_DUPFD, 0)));
	printf("fcntl(0, F_DUPFD_CLOEXEC, 3): %s\n", outcome(fcntl(0, F_DUPFD_CLOEXEC, 3)));
	printf("fcntl(0, F_DUPFD, limit): %s\n", outcome(fcntl(0, F_DUPFD, lim)));
	printf("fcntl(0, F_DUPFD, -1): %s\n", outcome(fcntl(0, F_DUPFD, -1)));
	printf("pipe: %s\n", outcome(pipe((int[2]){ 0 })));
	printf("dup2(0, limit): %s\n", outcome(dup2(0, lim)));
	close(last);
	printf("fcntl(0, F_DUPFD, 0) with one free: %s\n", outcome(fcntl(0, F_DUPFD, 0)));
}

static volatile sig_atomic_t hits;
static void on_alarm(int sig) { (void)sig; hits++; }

/* A call interrupted by a handler with SA_RESTART: made again, or EINTR as signal(7) lists. */
static void restart_case(void)
{
	struct sigaction sa = { .sa_handler = on_alarm, .sa_flags = SA_RESTART };
	const struct itimerval soon = { .it_value = { 0, 50000 } };
	int p[2];
	char c;

	sigaction(SIGALRM, &sa, NULL);
	CHECK(pipe(p) == 0, "pipe");
	pid_t child = fork();
	if (child == 0) { /* writes after the first signal, exits after the second */
		usleep(500000);
		int ok = write(p[1], "x", 1) == 1;
		usleep(500000);
		_exit(ok ? 0 : 1);
	}
	setitimer(ITIMER_REAL, &soon, NULL);
	long n = read(p[0], &c, 1);
	printf("read, SA_RESTART: %s after %d signal\n", n == 1 ? "restarted, got the byte" : outcome(n),
	       (int)hits);
	int status;
	setitimer(ITIMER_REAL, &soon, NULL);
	printf("wait4, SA_RESTART: %s\n", wait4(child, &status, 0, NULL) == child ? "restarted" : outcome(-1));

	setitimer(ITIMER_REAL, &soon, NULL);
	struct pollfd pfd = { .fd = p[0], .events = POLLIN };
	printf("poll, SA_RESTART: %s\n", outcome(poll(&pfd, 1, 2000)));
	setitimer(ITIMER_REAL, &soon, NULL);
	printf("nanosleep, SA_RESTART: %s\n", outcome(nanosleep(&(struct timespec){ 2, 0 }, NULL)));
	setitimer(ITIMER_REAL, &soon, NULL);
	sigset_t none;
	sigemptyset(&none);
	printf("sigsuspend, SA_RESTART: %s\n", outcome(sigsuspend(&none)));
	printf("signals taken: %d\n", (int)hits);
}

static volatile sig_atomic_t pipes;
static void on_pipe(int sig) { (void)sig; pipes++; }

static void say_pipe(const char *call, long rc)
{
	const char *how = outcome(rc);
	printf("%s: %s, SIGPIPE %d\n", call, how, (int)pipes);
}

/* EPIPE raises SIGPIPE from the calls that write, unless MSG_NOSIGNAL says not to. */
static void sigpipe_case(void)
{
	int s[2], p[2];
	struct iovec iov = { "x", 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct mmsghdr mm = { .msg_hdr = msg };

	signal(SIGPIPE, on_pipe);
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, s) == 0 && pipe(p) == 0, "socketpair, pipe");
	close(s[1]);
	close(p[0]);
	say_pipe("write", write(p[1], "x", 1));
	say_pipe("writev", writev(p[1], &iov, 1));
	say_pipe("pwritev2", syscall(SYS_pwritev2, p[1], &iov, 1, -1L, -1L, 0));
	say_pipe("send", send(s[0], "x", 1, 0));
	say_pipe("send, MSG_NOSIGNAL", send(s[0], "x", 1, MSG_NOSIGNAL));
	say_pipe("sendmsg", sendmsg(s[0], &msg, 0));
	say_pipe("sendmsg, MSG_NOSIGNAL", sendmsg(s[0], &msg, MSG_NOSIGNAL));
	say_pipe("sendmmsg", sendmmsg(s[0], &mm, 1, 0));
	say_pipe("sendmmsg, MSG_NOSIGNAL", sendmmsg(s[0], &mm, 1, MSG_NOSIGNAL));
	say_pipe("write to the socket", write(s[0], "x", 1));
}

/* clone with CLONE_SETTLS by the raw syscall; a child that should not exist exits at once. */
static long clone_tls(uint64_t flags, uint64_t tls)
{
	register uint64_t r10 __asm__("r10") = 0;
	register uint64_t r8 __asm__("r8") = tls;
	long rc;

	__asm__ volatile("syscall\n\t"
			 "test %%rax, %%rax\n\t"
			 "jnz 1f\n\t"
			 "mov $60, %%eax\n\t"
			 "xor %%edi, %%edi\n\t"
			 "syscall\n"
			 "1:"
			 : "=a"(rc)
			 : "a"(SYS_clone), "D"(flags), "S"(0), "d"(0), "r"(r10), "r"(r8)
			 : "rcx", "r11", "memory");
	if (rc > 0 && !(flags & CLONE_THREAD))
		waitpid((pid_t)rc, NULL, 0);
	if (rc < 0) {
		errno = (int)-rc;
		return -1;
	}
	return rc;
}

/* An FS base outside the user address space: arch_prctl and clone refuse it, EPERM. */
static void fs_base_case(void)
{
	static const uint64_t bases[] = { TASK_SIZE, 0x8000000000000000ul, 0xffff800000000000ul };
	const uint64_t thread = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
				CLONE_SYSVSEM | CLONE_SETTLS;

	for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
		printf("arch_prctl(ARCH_SET_FS, 0x%lx): %s\n", bases[i],
		       outcome(syscall(SYS_arch_prctl, 0x1002 /* ARCH_SET_FS */, bases[i])));
		printf("clone(a thread, tls 0x%lx): %s\n", bases[i], outcome(clone_tls(thread, bases[i])));
		printf("clone(a process, tls 0x%lx): %s\n", bases[i],
		       outcome(clone_tls(SIGCHLD | CLONE_SETTLS, bases[i])));
	}
	printf("the program goes on with its own TLS: %s\n", errno == EPERM ? "yes" : "no");
}

int main(int argc, char **argv)
{
	static const struct test_case cases[] = {
		{ "brk", brk_case },	       { "mremap", mremap_case },
		{ "munmap", munmap_case },     { "mprotect", mprotect_case },
		{ "mmap", mmap_case },	       { "advice", advice_case },
		{ "fd-bits", fd_bits_case },
		{ "fd-limit", fd_limit_case }, { "restart", restart_case },
		{ "sigpipe", sigpipe_case },   { "fs-base", fs_base_case },
	};
	setvbuf(stdout, NULL, _IOLBF, 0);
	return RUN_CASE(argc, argv, cases);
}
