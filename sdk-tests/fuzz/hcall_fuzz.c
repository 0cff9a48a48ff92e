/*
 * The hypercall fuzzer: a guest that makes random calls, km's own and
 * others, with adversarial arguments (NULL, unmapped, just past a mapping,
 * guard pages, a MAP_SHARED file past its end, the kernel half, km's
 * supervisor area, unaligned, lengths that wrap), each batch in a forked
 * child so that a guest that kills itself or blocks is contained: the
 * parent waits with a timeout, kills, and counts what became of each child.
 *
 *   hcall_fuzz.km fuzz [-s SEED] [-t SECONDS] [-n CALLS] [-m MEM_LIMIT_MIB] [-b BATCH]
 *                      [-a rlimit]
 *
 * -a rlimit steers around a known defect: it never sets RLIMIT_FSIZE,
 * which km still applies to itself, losing its own messages.
 *
 * Batch b replays the same calls from the same seed: -b B runs only it and
 * prints each call before making it. Run it with sdk-tests/fuzz/hcall-fuzz,
 * which sandboxes km (the calls reach the host's files and processes as
 * km passes them on) and judges km's own messages; this program reports
 * the children's outcomes and the calls it made on stdout, and a line
 * starting "fuzz: FINDING" for what only it can see: a child km that
 * exited with a status of km's own, or that stayed in one call that does
 * not wait, twice. docs/fuzzing.md says what it tries and why.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <kontain/hcall_abi.h>

/* km's layout (km/km.h), which the pools aim at. */
#define KM_TOP 0x7ffffffff000ul
#define KM_SYS_VA 0xffffffffc0000000ul
#define PAGE 4096ul

#define NCALLS_MAX 4096
#define CALL_TIMEOUT_MS 300 /* one call that does not wait, or the stretch between two */
#define BATCH_LIMIT_MS 20000
#define TICK_US 5000 /* the child's interval timer: a blocked call gets EINTR */

/* ---- the calls ---------------------------------------------------------- */

/*
 * Argument kinds, one letter per argument:
 *   f fd      F dirfd (mostly AT_FDCWD)   s path   e exec path   v argv/envp
 *   p buffer  l its length                m structure (words from the pools)
 *   a address for mmap & co               z their length
 *   i int or flags    n pid (safe ones only: km passes kill on to the host)
 *   g signal  q sigset size   c clone flags   x anything
 *   k an AIO context (io_setup's last)   b a list of iocbs for io_submit
 */
struct sig {
	const char *name;
	const char *args;
};

static const struct sig sigs[] = {
	{ "read", "fpl" }, { "write", "fpl" }, { "pread64", "fpli" }, { "pwrite64", "fpli" },
	{ "readv", "fmi" }, { "writev", "fmi" }, { "preadv", "fmiii" }, { "pwritev", "fmiii" },
	{ "preadv2", "fmiiii" }, { "pwritev2", "fmiiii" }, { "close", "f" }, { "lseek", "fii" },
	{ "fsync", "f" }, { "fdatasync", "f" }, { "ftruncate", "fi" }, { "fstat", "fp" },
	{ "fstatfs", "fp" }, { "getdents64", "fpl" }, { "fchmod", "fi" }, { "fchown", "fii" },
	{ "fchdir", "f" }, { "flock", "fi" }, { "fadvise64", "fiii" }, { "dup", "f" },
	{ "dup2", "ff" }, { "dup3", "ffi" }, { "pipe", "p" }, { "pipe2", "pi" }, { "fcntl", "fix" },
	{ "ioctl", "fix" }, { "fallocate", "fiii" },
	{ "open", "sii" }, { "openat", "Fsii" }, { "creat", "si" }, { "stat", "sp" },
	{ "lstat", "sp" }, { "newfstatat", "Fspi" }, { "statx", "Fsiip" }, { "access", "si" },
	{ "faccessat", "Fsi" }, { "faccessat2", "Fsii" }, { "readlink", "spl" },
	{ "readlinkat", "Fspl" }, { "rename", "ss" }, { "renameat", "FsFs" },
	{ "renameat2", "FsFsi" }, { "unlink", "s" }, { "unlinkat", "Fsi" }, { "mkdir", "si" },
	{ "mkdirat", "Fsi" }, { "rmdir", "s" }, { "link", "ss" }, { "linkat", "FsFsi" },
	{ "symlink", "ss" }, { "symlinkat", "sFs" }, { "chmod", "si" }, { "fchmodat", "Fsi" },
	{ "chown", "sii" }, { "lchown", "sii" }, { "fchownat", "Fsiii" }, { "truncate", "si" },
	{ "getcwd", "pl" }, { "chdir", "s" }, { "umask", "i" }, { "utimensat", "Fsmi" },
	{ "statfs", "sp" }, { "mknod", "sii" }, { "mknodat", "Fsii" },
	{ "brk", "a" }, { "mmap", "aziifi" }, { "munmap", "az" }, { "mprotect", "azi" },
	{ "mremap", "azzia" }, { "madvise", "azi" }, { "msync", "azi" }, { "mlock", "az" },
	{ "munlock", "az" }, { "mlockall", "i" }, { "munlockall", "" },
	{ "clock_gettime", "ip" }, { "clock_getres", "ip" }, { "gettimeofday", "pp" },
	{ "time", "p" }, { "nanosleep", "mp" }, { "clock_nanosleep", "iimp" }, { "times", "p" },
	{ "getpid", "" }, { "getppid", "" }, { "getuid", "" }, { "geteuid", "" }, { "getgid", "" },
	{ "getegid", "" }, { "getresuid", "ppp" }, { "getresgid", "ppp" }, { "getgroups", "ip" },
	{ "getpgrp", "" }, { "getpgid", "n" }, { "getsid", "n" }, { "setpgid", "nn" },
	{ "setsid", "" }, { "uname", "p" }, { "getrlimit", "ip" }, { "setrlimit", "im" },
	{ "prlimit64", "nimp" }, { "getrusage", "ip" }, { "sysinfo", "p" }, { "getrandom", "pli" },
	{ "arch_prctl", "ix" }, { "sched_yield", "" }, { "sched_getaffinity", "nlp" },
	{ "prctl", "ixxxx" }, { "getcpu", "ppp" },
	{ "fork", "" }, { "vfork", "" }, { "execve", "evv" }, { "execveat", "Fevvi" },
	{ "wait4", "nmim" }, { "waitid", "inmim" },
	{ "clone", "cppmx" }, { "gettid", "" }, { "set_tid_address", "p" },
	{ "set_robust_list", "ml" }, { "get_robust_list", "npp" }, { "futex", "pixmpi" },
	{ "rt_sigaction", "gmmq" }, { "rt_sigprocmask", "immq" }, { "rt_sigpending", "mq" },
	{ "sigaltstack", "mm" }, { "kill", "ng" }, { "tkill", "ng" }, { "tgkill", "nng" },
	{ "rt_sigqueueinfo", "ngm" }, { "rt_tgsigqueueinfo", "nngm" }, { "rt_sigsuspend", "mq" },
	{ "pause", "" }, { "rt_sigtimedwait", "mmmq" }, { "rt_sigreturn", "" }, { "alarm", "i" },
	{ "setitimer", "imm" }, { "getitimer", "im" },
	{ "timer_create", "imp" }, { "timer_settime", "iimm" }, { "timer_gettime", "im" },
	{ "timer_getoverrun", "i" }, { "timer_delete", "i" },
	{ "poll", "mii" }, { "ppoll", "mimmq" }, { "select", "immmm" }, { "pselect6", "immmmm" },
	{ "epoll_create", "i" }, { "epoll_create1", "i" }, { "epoll_ctl", "fifm" },
	{ "epoll_wait", "fmii" }, { "epoll_pwait", "fmiimq" }, { "eventfd", "ii" },
	{ "eventfd2", "ii" }, { "timerfd_create", "ii" }, { "timerfd_settime", "fimm" },
	{ "timerfd_gettime", "fm" }, { "signalfd", "fmq" }, { "signalfd4", "fmqi" },
	{ "socket", "iii" }, { "socketpair", "iiip" }, { "bind", "fml" }, { "connect", "fml" },
	{ "listen", "fi" }, { "accept", "fmm" }, { "accept4", "fmmi" }, { "getsockname", "fmm" },
	{ "getpeername", "fmm" }, { "sendto", "fplimi" }, { "recvfrom", "fplimm" },
	{ "sendmsg", "fmi" }, { "recvmsg", "fmi" }, { "setsockopt", "fiiml" },
	{ "getsockopt", "fiimm" }, { "shutdown", "fi" }, { "sendmmsg", "fmii" },
	{ "recvmmsg", "fmiim" },
	{ "io_setup", "im" }, { "io_destroy", "k" }, { "io_submit", "kib" },
	{ "io_getevents", "kiimm" }, { "io_pgetevents", "kiimmm" }, { "io_cancel", "kmm" },
};

/* km's table, generated from km/syscalls.h: every call km serves is fuzzed. */
static const struct {
	long nr;
	const char *name;
} km_calls[] = {
#define X(name) { __NR_##name, #name },
#include "km_syscalls.inc"
#undef X
};

#define NKM (sizeof(km_calls) / sizeof(km_calls[0]))

struct call_kind {
	long nr;
	const char *name, *args;
};
static struct call_kind kinds[NKM];
static size_t nkinds;

/* Calls that end the guest for sure, or that run a program: never made at random. */
static bool never_random(long nr)
{
	return nr == __NR_exit || nr == __NR_exit_group || nr == __NR_execve ||
	       nr == __NR_execveat || nr == __NR_rt_sigreturn || nr == __NR_kill ||
	       nr == __NR_tkill || nr == __NR_tgkill || nr == __NR_clone || nr == __NR_fork ||
	       nr == __NR_vfork || nr == __NR_clone3;
}

static bool is_km_call(long nr)
{
	for (size_t i = 0; i < NKM; i++)
		if (km_calls[i].nr == nr)
			return true;
	return false;
}

/* ---- randomness: splitmix64, one stream per batch ------------------------ */

static uint64_t rng;

static uint64_t mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t rnd(void)
{
	return mix(rng += 0x9e3779b97f4a7c15ull);
}

static uint64_t below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

static bool chance(unsigned percent)
{
	return below(100) < percent;
}

#define PICK(arr) ((arr)[below(sizeof(arr) / sizeof((arr)[0]))])

/* ---- what the parent and the child share -------------------------------- */

/*
 * A MAP_SHARED page of a file: km maps it from the host file, so a forked
 * child's writes are the parent's to read, even after the child died or
 * while it is blocked in a call.
 */
#define SHARED_MAGIC 0x6b6d2d66757a7a21ull
#define KM_ROUND_PAGES(n) (((n) + PAGE - 1) & ~(PAGE - 1))

struct shared {
	volatile uint64_t magic;   /* the child's test that this is still the shared page */
	volatile uint64_t calls;   /* made by this batch's child so far */
	volatile uint32_t stage;   /* of the batch's child: 0 forking, 1 setting up, 2 calling */
	volatile uint32_t in_call; /* 1 while a call is in km */
	volatile uint32_t wild;    /* the batch made an rt_sigreturn: its code may be anywhere */
	volatile uint32_t index;   /* of the current call in the batch */
	volatile uint64_t nr, args[6];
	volatile uint32_t made[512], succeeded[512];
	volatile uint64_t other_made, other_enosys;
};
static struct shared *shared;

/* ---- the child's pools ---------------------------------------------------- */

struct region {
	uint64_t base, len;
};

enum {
	R_RW,	  /* 16 pages, read-write, structures built here */
	R_GUARD,  /* page, PROT_NONE page, page */
	R_RO,	  /* 2 pages, read only */
	R_EDGE,	  /* 2 pages followed by a hole */
	R_SHARED, /* 4 pages MAP_SHARED of a 100-byte file: pages 1-3 are past its end */
	R_STR,	  /* the path strings, then a PROT_NONE page */
	NREGIONS
};
static struct region regions[NREGIONS];
static uint64_t text_addr, stack_addr, mem_limit = 256ul << 20;

#define MAX_FDS 24
static int fds[MAX_FDS], nfds;
static int fd_limit, dir_fd;
static pid_t self_pid, self_tid, last_child;
static uint64_t last_aio_ctx; /* what io_setup wrote, when it succeeded */

static const char *const paths[] = {
	"", ".", "..", "/", "f0", "f1", "dir", "dir/f2", "nofile", "fifo", "sock", "script",
	"dyn-elf", "trunc-elf", "/proc/self/maps", "/proc/self/mem", "/proc/self/exe",
	"/proc/self/status", "/proc/self/fd/0", "/proc/self/fd/3", "/proc/self/cmdline",
	"/proc/self/auxv", "/proc/self/environ", "/proc/self/task", "/proc/self/pagemap",
	"/proc/thread-self/mem", "/proc/1/mem", "/proc/self/root/proc/self/mem", "/proc/self/smaps",
	"/proc/self/map_files", "/proc/self/stat", "/proc/self/fdinfo/0", "/proc/self/cwd",
	"/dev/null", "/dev/zero", "/dev/kvm", "/etc/passwd", "/nonexistent/x", "//", "./f0/",
};
/* Programs the guest may try to exec: none of them can run. */
static const char *const exec_paths[] = {
	"", ".", "dir", "f0", "nofile", "script", "script-nested", "script-long", "script-dyn",
	"script-empty", "noexec", "dyn-elf", "trunc-elf", "trunc-elf-phdr", "/nonexistent/x",
	"/dev/null", "/proc",
};
static uint64_t path_addr[sizeof(paths) / sizeof(paths[0])];
static uint64_t exec_addr[sizeof(exec_paths) / sizeof(exec_paths[0])];
static uint64_t long_name, long_path, unterminated, unterminated_bus;

static uint64_t region_at(int r, uint64_t off)
{
	return regions[r].base + off;
}

/* A pointer: into a region (start, inside, unaligned, end, just past), or nowhere good. */
static uint64_t pointer(void)
{
	static const uint64_t wild[] = {
		0, 1, 8, 0xfff, 0x1000, 0x10000, 0x400000,
		0x0000800000000000ull, /* the first non-canonical address */
		KM_TOP, KM_TOP - 1, KM_TOP - 8, KM_TOP - PAGE, 0x7fffffffffffull,
		0xffff800000000000ull, 0xffff888000000000ull, 0xffffffff80000000ull,
		KM_SYS_VA, KM_SYS_VA + 0x1000, KM_SYS_VA + 0x2000, KM_SYS_VA + 0x3000,
		KM_SYS_VA + 0x4000, KM_SYS_VA + 0x4ff8, KM_SYS_VA + 0x10000, KM_SYS_VA + 0x10ff8,
		0xffffffffff600000ull, 0xfffffffffffff000ull, 0xfffffffffffffff8ull, ~0ull,
		0x8000000000000000ull,
	};
	switch (below(12)) {
	case 0:
		return PICK(wild);
	case 1: { /* the edges of the two windows of guest memory (km/mem.c's space_for) */
		uint64_t space = 4 * mem_limit < (16ull << 30) ? 16ull << 30 : 4 * mem_limit;
		uint64_t edges[] = { space, KM_TOP - space, mem_limit, KM_TOP - mem_limit };
		return PICK(edges) + (below(3) - 1) * 8;
	}
	case 2:
		return chance(50) ? text_addr : stack_addr;
	case 3:
		return rnd() & (chance(50) ? 0x7fffffffffffull : ~0ull);
	default: {
		const struct region *r = &regions[below(NREGIONS)];
		uint64_t offs[] = { 0, 1, 7, 8, r->len - 1, r->len - 8, r->len, r->len + PAGE,
				    below(r->len), below(r->len) & ~7ul, PAGE - 1, PAGE - 4 };
		return r->base + PICK(offs);
	}
	}
}

/* A length for the pointer just chosen: plain numbers, or one that reaches just past its region. */
static uint64_t length(uint64_t ptr)
{
	static const uint64_t plain[] = { 0, 1, 2, 7, 8, 16, 64, 100, 4095, 4096, 4097, 8192,
					   1ul << 16, 1ul << 20, 1ul << 28, 1ul << 31, 1ul << 32,
					   0x7fffffff, 0x80000000, 0xffffffff, 0x7ffffffffffff000,
					   0xfffffffffffff000, ~0ull, ~0ull - 1, 0x7fffffffffffffff };
	if (chance(30)) {
		for (int r = 0; r < NREGIONS; r++) {
			if (ptr >= regions[r].base && ptr < regions[r].base + regions[r].len) {
				uint64_t extra[] = { 0, 1, 8, PAGE };
				return regions[r].base + regions[r].len - ptr + PICK(extra);
			}
		}
	}
	if (chance(25))
		return below(512);
	return chance(10) ? rnd() : PICK(plain);
}

static uint64_t integer(void)
{
	static const uint64_t plain[] = { 0, 1, 2, 3, 4, 8, 16, 0x7fffffff, 0x80000000, 0xffffffff,
					   0x100000000, 0x100000003, ~0ull, ~0ull - 1, 0x8000000000000000 };
	switch (below(6)) {
	case 0:
		return below(32);
	case 1:
		return PICK(plain);
	case 2:
		return 1ull << below(64);
	case 3:
		return rnd() & rnd() & rnd() & 0xffffffff; /* a few flag bits */
	case 4:
		return (uint64_t)(int64_t)(int32_t)rnd();
	default:
		return chance(50) ? below(4096) : rnd();
	}
}

static uint64_t fd(void)
{
	uint64_t lim = (uint64_t)fd_limit;
	switch (below(8)) {
	case 0: { /* at and above the guest's limit, where km keeps its own fds */
		uint64_t odd[] = { lim - 1, lim, lim + 1, lim + 2, lim + 5, 65535, 65536, 1u << 20,
				   0x7fffffff, ~0ull, (uint64_t)-100, 0x100000000 | 2 };
		return PICK(odd);
	}
	case 1:
		return below(64);
	case 2:
		return (rnd() & 0xffffffff00000000ull) | (uint64_t)fds[below(nfds)];
	default:
		return (uint64_t)fds[below(nfds)];
	}
}

static uint64_t dirfd_arg(void)
{
	if (chance(60))
		return (uint64_t)AT_FDCWD;
	return chance(50) ? (uint64_t)dir_fd : fd();
}

static uint64_t path(void)
{
	switch (below(10)) {
	case 0:
		return pointer();
	case 1: {
		uint64_t odd[] = { long_name, long_path, unterminated, unterminated_bus };
		return PICK(odd);
	}
	default:
		return PICK(path_addr);
	}
}

/* Never a program that could run (nor this one): km's exec checks, not another program. */
static uint64_t exec_path(void)
{
	static const uint64_t bad[] = { 0, 1, KM_TOP - 1, 0xffff800000000000ull, KM_SYS_VA };
	switch (below(8)) {
	case 0:
		return PICK(bad);
	case 1: {
		uint64_t odd[] = { long_name, long_path, unterminated, unterminated_bus,
				   region_at(R_GUARD, PAGE), region_at(R_SHARED, 2 * PAGE) };
		return PICK(odd);
	}
	default:
		return PICK(exec_addr);
	}
}

/* Pids that reach this process, its group, its children or nobody: never another's. */
static uint64_t pid(void)
{
	uint64_t p[] = { 0, (uint64_t)self_pid, (uint64_t)self_tid, (uint64_t)-(int64_t)self_pid,
			 0x3ffffff0, (uint64_t)-0x3ffffff0ll, (uint64_t)INT32_MIN,
			 (uint64_t)last_child };
	uint64_t v = PICK(p);
	if (v == 0 && below(3) == 0) /* -1 for wait4 and waitid only: the callers filter */
		return (uint64_t)-1;
	if (chance(10)) /* the bits above a pid_t, which km must drop as Linux does */
		v = (v & 0xffffffffull) | 0xdead00000000ull;
	return v;
}

static uint64_t signal_number(void)
{
	if (below(200) == 0)
		return chance(50) ? SIGKILL : SIGSTOP;
	uint64_t v = below(66);
	if (v == SIGKILL || v == SIGSTOP)
		v = SIGUSR1;
	return chance(5) ? (chance(50) ? (uint64_t)-1 : 1000) : v;
}

static uint64_t clone_flags(void)
{
	static const uint64_t f[] = {
		SIGCHLD,
		CLONE_VM | CLONE_VFORK | SIGCHLD,
		CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |
			CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID,
		CLONE_VM | CLONE_SIGHAND | CLONE_THREAD,
		CLONE_THREAD, /* without CLONE_SIGHAND: EINVAL */
		CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD,
		CLONE_PARENT_SETTID | SIGCHLD,
		CLONE_NEWUSER | SIGCHLD,
	};
	uint64_t v = PICK(f);
	return chance(20) ? v ^ (1ull << below(64)) : v;
}

static uint64_t mm_address(void)
{
	static const uint64_t odd[] = { 0, 0x1000, 0x10000, 0x400000, 0x7fffffff000, KM_TOP - PAGE,
					KM_TOP, KM_TOP - 2 * PAGE, 0xfffffffffffff000,
					0xffffffffc0000000, 0x0000800000000000, 1, 0xfff };
	if (chance(1))
		return (chance(50) ? text_addr : stack_addr) & ~(PAGE - 1);
	if (chance(20))
		return PICK(odd);
	if (chance(10))
		return pointer();
	const struct region *r = &regions[below(NREGIONS)];
	return r->base + below(r->len / PAGE + 2) * PAGE;
}

static uint64_t mm_length(void)
{
	static const uint64_t lens[] = { 0, 1, PAGE, 2 * PAGE, 3 * PAGE, 16 * PAGE, 1ul << 20,
					 1ul << 30, 1ul << 40, KM_TOP, (uint64_t)-PAGE, ~0ull,
					 0xffffffffc0000000, PAGE + 1 };
	return chance(80) ? PICK(lens) : rnd() & (chance(50) ? 0xffffff : ~0ull);
}

static uint64_t anything(void)
{
	switch (below(4)) {
	case 0:
		return pointer();
	case 1:
		return fd();
	case 2:
		return length(0);
	default:
		return integer();
	}
}

/*
 * A structure the call will read: words from the pools, so iovecs, msghdrs,
 * sigactions, timespecs and argv arrays carry adversarial pointers and
 * lengths. Eight slots of 512 bytes at the start of R_RW, rebuilt per use.
 */
static unsigned next_slot;

static uint64_t structure(void)
{
	if (chance(35))
		return pointer();
	uint64_t base = region_at(R_RW, (next_slot++ % 8) * 512);
	uint64_t *w = (uint64_t *)base;
	for (int i = 0; i < 64; i++) {
		switch (below(8)) {
		case 0:
		case 1:
			w[i] = pointer();
			break;
		case 2:
			w[i] = length(w[i ? i - 1 : 0]);
			break;
		case 3:
			w[i] = (uint64_t)fds[below(nfds)] | ((uint64_t)below(8) << 32);
			break;
		case 4:
			w[i] = rnd();
			break;
		default:
			w[i] = below(16);
		}
	}
	if (chance(10)) /* a timespec or timeval that ends soon */
		w[0] = 0, w[1] = below(2000000);
	return base + (chance(10) ? below(16) : 0);
}

static uint64_t aio_context(void)
{
	return chance(80) ? last_aio_ctx + (chance(10) ? PAGE : 0) : pointer();
}

/* Up to four iocbs and the list of them: real fds and regions, odd fields now and then. */
static uint64_t iocb_list(void)
{
	if (chance(10))
		return pointer();
	uint64_t base = region_at(R_RW, (next_slot++ % 8) * 512);
	uint64_t *list = (uint64_t *)base;
	struct iocb *cbs = (struct iocb *)(base + 64);
	for (int i = 0; i < 4; i++) {
		struct iocb *cb = &cbs[i];
		memset(cb, 0, sizeof(*cb));
		cb->aio_data = rnd();
		cb->aio_lio_opcode = (uint16_t)below(10);
		cb->aio_fildes = (uint32_t)fds[below(nfds)];
		cb->aio_buf = cb->aio_lio_opcode == IOCB_CMD_POLL ? below(0x400) : pointer();
		cb->aio_nbytes = cb->aio_lio_opcode >= IOCB_CMD_PREADV ? below(8) : length(cb->aio_buf);
		cb->aio_offset = chance(80) ? (int64_t)below(8192) : (int64_t)rnd();
		cb->aio_flags = chance(80) ? 0 : (uint32_t)below(4);
		cb->aio_resfd = (uint32_t)fds[below(nfds)];
		cb->aio_rw_flags = chance(90) ? 0 : (uint32_t)below(64);
		cb->aio_reserved2 = chance(95) ? 0 : rnd();
		list[i] = chance(95) ? (uint64_t)cb : pointer();
	}
	return base;
}

/* An argv or envp: paths, wild pointers, NULL-terminated or not. */
static uint64_t vector(void)
{
	if (chance(20))
		return chance(50) ? 0 : pointer();
	uint64_t base = region_at(R_RW, (next_slot++ % 8) * 512);
	uint64_t *w = (uint64_t *)base;
	int n = (int)below(8);
	for (int i = 0; i < 64; i++)
		w[i] = i < n ? (chance(80) ? PICK(path_addr) : pointer()) : i == n ? 0 : pointer();
	if (chance(10)) /* no NULL before the end of the buffer's page */
		for (int i = 0; i < 64; i++)
			w[i] = long_name;
	return base;
}

static uint64_t sigset_size(void)
{
	return chance(85) ? 8 : integer();
}

/* ---- making calls ----------------------------------------------------------- */

struct call {
	uint64_t nr, a[6];
	uint64_t exit_if_zero; /* fork, vfork, clone: the new process or thread exits at once */
};

/*
 * The hypercall itself. The child of a fork or clone returns here on a stack
 * that may not be its own (clone's), so it exits before touching memory.
 */
long fz_call(const struct call *c);
__asm__(".text\n"
	".globl fz_call\n"
	"fz_call:\n"
	"	mov %rdi, %r11\n"
	"	mov 0(%r11), %rax\n"
	"	mov 8(%r11), %rdi\n"
	"	mov 16(%r11), %rsi\n"
	"	mov 24(%r11), %rdx\n"
	"	mov 32(%r11), %r10\n"
	"	mov 40(%r11), %r8\n"
	"	mov 48(%r11), %r9\n"
	"	outl %eax, $0xE8\n"
	"	test %rax, %rax\n"
	"	jnz 1f\n"
	"	cmpq $0, 56(%r11)\n"
	"	je 1f\n"
	"	mov $60, %eax\n" /* exit(0): the thread or the new process */
	"	xor %edi, %edi\n"
	"	outl %eax, $0xE8\n"
	"	ud2\n"
	"1:	ret\n");

static uint64_t arg_of(char kind, uint64_t prev)
{
	switch (kind) {
	case 'f': return fd();
	case 'F': return dirfd_arg();
	case 's': return path();
	case 'e': return exec_path();
	case 'v': return vector();
	case 'p': return pointer();
	case 'l': return length(prev);
	case 'm': return structure();
	case 'a': return mm_address();
	case 'z': return mm_length();
	case 'n': return pid();
	case 'g': return signal_number();
	case 'q': return sigset_size();
	case 'c': return clone_flags();
	case 'k': return aio_context();
	case 'b': return iocb_list();
	case 'i': return integer();
	default: return anything();
	}
}

static bool avoid_rlimit;

/*
 * A limit km still applies to itself when the guest sets it (issue 12
 * item 4 keeps AS, DATA and STACK as the guest's own view now): with a
 * small RLIMIT_FSIZE km's own lines to a log file fail with EFBIG, and a
 * guest that dies of a signal dies without a word.
 */
static bool km_rlimit(uint64_t resource)
{
	return (int)resource == RLIMIT_FSIZE;
}

static void choose(struct call *c)
{
	memset(c, 0, sizeof(*c));
	if (chance(8)) { /* a number km does not serve, or no syscall at all */
		static const uint64_t odd[] = { 500, 511, 512, 1000, KM_HC_BASE, KM_HC_BASE + 1,
						0xffffffff, 0x100000000, (uint64_t)-1, 0x8000000000000000 };
		do
			c->nr = chance(70) ? below(460) : PICK(odd);
		while (is_km_call((long)c->nr) || never_random((long)c->nr));
		for (int i = 0; i < 6; i++)
			c->a[i] = anything();
		return;
	}
	const struct call_kind *k;
	do
		k = &kinds[below(nkinds)];
	while ((k->nr == __NR_rt_sigreturn && !chance(3)) || /* it takes the batch somewhere wild */
	       ((k->nr == __NR_execve || k->nr == __NR_execveat) && !chance(30)));
	c->nr = (uint64_t)k->nr;
	for (int i = 0; k->args[i] && i < 6; i++)
		c->a[i] = arg_of(k->args[i], i ? c->a[i - 1] : 0);
	/* kill(-1) would signal every process of the sandbox: the parent too. */
	if ((c->nr == __NR_kill || c->nr == __NR_setpgid || c->nr == __NR_getpgid ||
	     c->nr == __NR_getsid || c->nr == __NR_prlimit64) && (int32_t)c->a[0] == -1)
		c->a[0] = 0;
	if (c->nr == __NR_tgkill && (int32_t)c->a[0] == -1)
		c->a[0] = (uint64_t)self_pid;
	/* -a rlimit: those limits stay as they are; the call sets RLIMIT_CORE instead. */
	if (avoid_rlimit && ((c->nr == __NR_setrlimit && km_rlimit(c->a[0])) ||
			     (c->nr == __NR_prlimit64 && km_rlimit(c->a[1]) && c->a[2])))
		c->a[c->nr == __NR_prlimit64] = RLIMIT_CORE;
	/* io_setup needs a 0 where it writes the context: mostly given, so that the rest get one. */
	if (c->nr == __NR_io_setup && chance(70))
		c->a[1] = region_at(R_RW, (next_slot++ % 8) * 512), *(uint64_t *)c->a[1] = 0;
	c->exit_if_zero = c->nr == __NR_clone || c->nr == __NR_fork || c->nr == __NR_vfork;
}

static const char *call_name(uint64_t nr)
{
	for (size_t i = 0; i < NKM; i++)
		if ((uint64_t)km_calls[i].nr == nr)
			return km_calls[i].name;
	return "?";
}

/* ---- the child: set up, then a batch of calls --------------------------------- */

static int say_fd = 1;

static void say(const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if (write(say_fd, line, (size_t)n) < 0)
		return;
}

static void on_tick(int sig)
{
	(void)sig;
}

/* The tick that ends blocked calls, set again: the batch's own calls may have stopped it. */
static void rearm_tick(void)
{
	struct sigaction sa = { .sa_handler = on_tick };
	struct itimerval it = { { 0, TICK_US }, { 0, TICK_US } };
	sigset_t set;

	sigaction(SIGALRM, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGALRM);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
}

static uint64_t map(uint64_t len, int prot, int flags, int fd_, const char *what)
{
	void *p = mmap(NULL, len, prot, flags, fd_, 0);
	if (p == MAP_FAILED) {
		say("fuzz: setup: mmap for %s failed: %s", what, strerror(errno));
		_exit(99);
	}
	return (uint64_t)p;
}

static void add_fd(int f)
{
	if (f >= 0 && nfds < MAX_FDS)
		fds[nfds++] = f;
}

static uint64_t put_string(uint64_t *at, const char *s)
{
	uint64_t where = *at;
	strcpy((char *)where, s);
	*at += strlen(s) + 1;
	return where;
}

static void setup_memory(void)
{
	regions[R_RW] = (struct region){ map(16 * PAGE, PROT_READ | PROT_WRITE,
					     MAP_PRIVATE | MAP_ANONYMOUS, -1, "rw"), 16 * PAGE };
	uint64_t g = map(3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, "guard");
	mprotect((void *)(g + PAGE), PAGE, PROT_NONE);
	regions[R_GUARD] = (struct region){ g, 3 * PAGE };
	uint64_t ro = map(2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, "ro");
	memset((void *)ro, 0x5a, 2 * PAGE);
	mprotect((void *)ro, 2 * PAGE, PROT_READ);
	regions[R_RO] = (struct region){ ro, 2 * PAGE };
	uint64_t e = map(3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, "edge");
	munmap((void *)(e + 2 * PAGE), PAGE);
	regions[R_EDGE] = (struct region){ e, 2 * PAGE };

	int f = open("past-eof", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (f < 0 || ftruncate(f, 100) != 0) {
		say("fuzz: setup: past-eof: %s", strerror(errno));
		_exit(99);
	}
	uint64_t sh = map(4 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, f, "past-eof");
	close(f);
	memset((void *)(sh + PAGE - 64), 'b', 64); /* a string that runs into the pages past EOF */
	unterminated_bus = sh + PAGE - 64;
	regions[R_SHARED] = (struct region){ sh, 4 * PAGE };

	uint64_t s = map(3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, "strings");
	mprotect((void *)(s + 2 * PAGE), PAGE, PROT_NONE);
	regions[R_STR] = (struct region){ s, 2 * PAGE };
	uint64_t at = s;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		path_addr[i] = put_string(&at, paths[i]);
	for (size_t i = 0; i < sizeof(exec_paths) / sizeof(exec_paths[0]); i++)
		exec_addr[i] = put_string(&at, exec_paths[i]);
	char name[300];
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = 0;
	long_name = put_string(&at, name);
	/* A path longer than PATH_MAX, which still ends before the guard page. */
	long_path = at;
	for (int i = 0; i < 2300; i++)
		put_string(&at, "d"), ((char *)at)[-1] = '/';
	((char *)at)[-1] = 0;
	unterminated = s + 2 * PAGE - 48; /* up to the PROT_NONE page, with no NUL */
	memset((void *)unterminated, 'u', 48);

	char local;
	stack_addr = ((uint64_t)&local - (256ul << 10)) & ~7ul; /* deep in the stack, unused */
	text_addr = (uint64_t)&fz_call;
}

static void setup_fds(void)
{
	int p[2], sp[2];
	nfds = 0;
	add_fd(0), add_fd(1), add_fd(2);
	if (pipe2(p, O_CLOEXEC) == 0)
		add_fd(p[0]), add_fd(p[1]);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == 0)
		add_fd(sp[0]), add_fd(sp[1]);
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sp) == 0)
		add_fd(sp[0]), add_fd(sp[1]);
	add_fd(open("f0", O_RDWR | O_CREAT | O_CLOEXEC, 0644));
	add_fd(dir_fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
	add_fd(open("/proc/self/maps", O_RDONLY | O_CLOEXEC));
	add_fd(open("/dev/null", O_RDWR | O_CLOEXEC));
	add_fd((int)syscall(__NR_eventfd2, 0, O_CLOEXEC));
	add_fd((int)syscall(__NR_epoll_create1, O_CLOEXEC));
	add_fd((int)syscall(__NR_timerfd_create, CLOCK_MONOTONIC, O_CLOEXEC));
	uint64_t mask = 1ull << (SIGUSR2 - 1);
	add_fd((int)syscall(__NR_signalfd4, -1, &mask, 8, O_CLOEXEC));
	add_fd(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
	add_fd(socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
	struct rlimit rl;
	fd_limit = getrlimit(RLIMIT_NOFILE, &rl) == 0 ? (int)rl.rlim_cur : 1024;
}

static uint64_t now_ms(void);

static void run_calls(uint64_t seed, uint64_t batch, unsigned ncalls, bool trace)
{
	struct call c;

	rng = mix(seed + mix(batch + 1)); /* streams that do not overlap */
	for (unsigned i = 0; i < ncalls; i++) {
		if (shared->magic != SHARED_MAGIC)
			break; /* a call of the batch mapped over it: the parent would see nothing more */
		choose(&c);
		if (i % 32 == 0 || c.nr == __NR_pause || c.nr == __NR_rt_sigsuspend ||
		    c.nr == __NR_rt_sigtimedwait)
			rearm_tick();
		shared->index = i;
		shared->nr = c.nr;
		for (int j = 0; j < 6; j++)
			shared->args[j] = c.a[j];
		if (trace)
			say("fuzz: batch %lu call %u: %s(%lu) 0x%lx 0x%lx 0x%lx 0x%lx 0x%lx 0x%lx",
			    (unsigned long)batch, i, call_name(c.nr), (unsigned long)c.nr,
			    (unsigned long)c.a[0], (unsigned long)c.a[1], (unsigned long)c.a[2],
			    (unsigned long)c.a[3], (unsigned long)c.a[4], (unsigned long)c.a[5]);
		if (c.nr == __NR_rt_sigreturn)
			shared->wild = 1;
		uint64_t t0 = trace ? now_ms() : 0;
		shared->in_call = 1;
		long ret = fz_call(&c);
		shared->in_call = 0;
		shared->calls++;
		if (c.nr < 512) {
			shared->made[c.nr]++;
			if ((unsigned long)ret < (unsigned long)-4095)
				shared->succeeded[c.nr]++;
		}
		if (!is_km_call((long)c.nr)) {
			shared->other_made++;
			shared->other_enosys += ret == -ENOSYS;
		}
		if (trace)
			say("fuzz: batch %lu call %u: = %ld (%lu ms)", (unsigned long)batch, i, ret,
			    (unsigned long)(now_ms() - t0));
		if (c.nr == __NR_fork || c.nr == __NR_vfork || c.nr == __NR_clone)
			if (ret > 0)
				last_child = (pid_t)ret;
		if (c.nr == __NR_io_setup && ret == 0)
			memcpy(&last_aio_ctx, (const void *)c.a[1], sizeof(last_aio_ctx));
	}
}

static _Noreturn void child(uint64_t seed, uint64_t batch, unsigned ncalls, bool trace)
{
	shared->stage = 1;
	setpgid(0, 0); /* kill(0) and kill(-pid) reach this batch only */
	self_pid = getpid();
	self_tid = gettid();
	last_child = 0x3ffffff1;
	if (trace)
		say_fd = dup(1);
	int null = open("/dev/null", O_RDWR);
	dup2(null, 0), dup2(null, 1), dup2(null, 2);
	close(null);
	setup_memory();
	setup_fds();
	/* A handler for what a kill() may send, so the batch goes on; not for faults. */
	struct sigaction sa = { .sa_handler = on_tick };
	for (int sig = 1; sig < 65; sig++)
		if (sig != SIGKILL && sig != SIGSTOP && sig != SIGSEGV && sig != SIGBUS &&
		    sig != SIGILL && sig != SIGFPE && sig != SIGTRAP && sig != SIGSYS)
			sigaction(sig, &sa, NULL);
	shared->stage = 2;
	run_calls(seed, batch, ncalls, trace);
	syscall(__NR_exit_group, 0);
	_exit(0);
}

/* ---- the parent: batches, outcomes, the report -------------------------------- */

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct totals {
	uint64_t batches, calls, exited, exited_other, stopped, by_signal[65], timeouts_blocked,
		timeouts_unconfirmed, findings;
	uint32_t blocked_in[512];
};

static const char *signame(int sig)
{
	static const char *const names[] = {
		[SIGHUP] = "HUP", [SIGINT] = "INT", [SIGQUIT] = "QUIT", [SIGILL] = "ILL",
		[SIGTRAP] = "TRAP", [SIGABRT] = "ABRT", [SIGBUS] = "BUS", [SIGFPE] = "FPE",
		[SIGKILL] = "KILL", [SIGUSR1] = "USR1", [SIGSEGV] = "SEGV", [SIGUSR2] = "USR2",
		[SIGPIPE] = "PIPE", [SIGALRM] = "ALRM", [SIGTERM] = "TERM", [SIGSTKFLT] = "STKFLT",
		[SIGCHLD] = "CHLD", [SIGCONT] = "CONT", [SIGSTOP] = "STOP", [SIGTSTP] = "TSTP",
		[SIGTTIN] = "TTIN", [SIGTTOU] = "TTOU", [SIGURG] = "URG", [SIGXCPU] = "XCPU",
		[SIGXFSZ] = "XFSZ", [SIGVTALRM] = "VTALRM", [SIGPROF] = "PROF", [SIGWINCH] = "WINCH",
		[SIGIO] = "IO", [SIGPWR] = "PWR", [SIGSYS] = "SYS",
	};
	static char rt[16];
	if (sig > 0 && sig < (int)(sizeof(names) / sizeof(names[0])) && names[sig])
		return names[sig];
	snprintf(rt, sizeof(rt), "%d", sig);
	return rt;
}

static void describe_call(char *buf, size_t len)
{
	if (shared->stage < 2) {
		snprintf(buf, len, "%s", shared->stage ? "the child's setup" : "fork");
		return;
	}
	snprintf(buf, len, "call %u %s(0x%lx, 0x%lx, 0x%lx, 0x%lx, 0x%lx, 0x%lx)", shared->index,
		 call_name(shared->nr), (unsigned long)shared->args[0], (unsigned long)shared->args[1],
		 (unsigned long)shared->args[2], (unsigned long)shared->args[3],
		 (unsigned long)shared->args[4], (unsigned long)shared->args[5]);
}

/*
 * Calls that may wait for someone else: a timeout in one of them is the
 * guest's doing (a pause with SIGALRM blocked), so it is cut short. A
 * timeout anywhere else is replayed with a long timeout to see whether km
 * really stays there.
 */
static bool may_block(uint64_t nr)
{
	static const long nrs[] = {
		__NR_read, __NR_write, __NR_readv, __NR_writev, __NR_pread64, __NR_pwrite64,
		__NR_preadv, __NR_pwritev, __NR_preadv2, __NR_pwritev2, __NR_flock, __NR_fcntl,
		__NR_ioctl, __NR_open, __NR_openat, __NR_creat, __NR_nanosleep, __NR_clock_nanosleep,
		__NR_wait4, __NR_waitid, __NR_futex, __NR_rt_sigsuspend, __NR_pause,
		__NR_rt_sigtimedwait, __NR_poll, __NR_ppoll, __NR_select, __NR_pselect6,
		__NR_epoll_wait, __NR_epoll_pwait, __NR_connect, __NR_accept, __NR_accept4,
		__NR_sendto, __NR_recvfrom, __NR_sendmsg, __NR_recvmsg, __NR_sendmmsg, __NR_recvmmsg,
		__NR_msgsnd, __NR_msgrcv, __NR_semop, __NR_semtimedop, __NR_splice, __NR_tee,
		__NR_sendfile, __NR_io_submit, __NR_io_getevents, __NR_io_pgetevents,
	};
	for (size_t i = 0; i < sizeof(nrs) / sizeof(nrs[0]); i++)
		if ((uint64_t)nrs[i] == nr)
			return true;
	return false;
}

#define BLOCKED_MS 50	  /* in a call that may wait: the guest's own business */
#define CONFIRM_MS 5000 /* the replay of a batch that timed out elsewhere */

enum outcome { DONE, TIMED_OUT };

struct end {
	enum outcome how;
	int status;
	bool stopped, wild;
	bool in_call;
	uint32_t stage, index;
	uint64_t nr, cpu_ms, wall_ms;
	char what[256];
};

/*
 * Waits for a batch's child, killing it when one call (or the stretch
 * between two) lasts over limit_ms, or a call that may wait over BLOCKED_MS,
 * or the batch over BATCH_LIMIT_MS; says where it was.
 */
static void wait_child(pid_t pid, uint64_t limit_ms, bool cut_blocked, struct end *e)
{
	uint64_t start = now_ms(), pause_us = 200;
	struct rusage ru;

	uint64_t seen_calls = UINT64_MAX, seen_at = start; /* when the current call began, about */

	memset(e, 0, sizeof(*e));
	memset(&ru, 0, sizeof(ru));
	for (;;) {
		pid_t r = wait4(pid, &e->status, WNOHANG | WUNTRACED, &ru);
		if (r == pid && WIFSTOPPED(e->status)) { /* a SIGSTOP of its own: end it */
			e->stopped = true;
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			continue;
		}
		if (r == pid)
			break;
		uint64_t now = now_ms(), waited = now - start;
		if (shared->calls != seen_calls) {
			seen_calls = shared->calls;
			seen_at = now;
		}
		bool blocked = shared->stage == 2 && shared->in_call && may_block(shared->nr);
		if ((r < 0 && errno != EINTR) || now - seen_at > limit_ms || waited > BATCH_LIMIT_MS ||
		    (cut_blocked && blocked && now - seen_at > BLOCKED_MS)) {
			e->how = TIMED_OUT;
			e->in_call = shared->in_call;
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			while (wait4(pid, &e->status, 0, &ru) < 0 && errno == EINTR)
				;
			break;
		}
		usleep((useconds_t)pause_us);
		if (pause_us < 5000)
			pause_us *= 2;
	}
	e->wall_ms = now_ms() - start;
	e->cpu_ms = (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
		    (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
	e->stage = shared->stage;
	e->wild = shared->wild;
	e->index = shared->index;
	e->nr = shared->nr;
	describe_call(e->what, sizeof(e->what));
}

static pid_t start_batch(uint64_t seed, uint64_t batch, unsigned ncalls, bool trace)
{
	shared->calls = 0;
	shared->in_call = 0;
	shared->stage = 0;
	shared->wild = 0;
	pid_t pid = fork();
	if (pid == 0)
		child(seed, batch, ncalls, trace);
	return pid;
}

/* A timeout outside the calls that may wait: does the batch stop there again, given time? */
static void confirm(uint64_t seed, uint64_t batch, unsigned ncalls, const struct end *first,
		    struct totals *t)
{
	struct end e;
	pid_t pid = start_batch(seed, batch, ncalls, false);

	if (pid < 0)
		return;
	wait_child(pid, CONFIRM_MS, false, &e);
	if (e.how == TIMED_OUT && e.stage == first->stage && e.index == first->index) {
		t->findings++;
		say("fuzz: FINDING: batch %lu: stuck for %lu ms (cpu %lu ms) in %s, twice; reproduce "
		    "with -s %lu -b %lu -n %u", (unsigned long)batch, (unsigned long)e.wall_ms,
		    (unsigned long)e.cpu_ms, e.what, (unsigned long)seed, (unsigned long)batch, ncalls);
	} else {
		t->timeouts_unconfirmed++;
		say("fuzz: batch %lu: timed out in %s (cpu %lu of %lu ms), but not again with %u ms",
		    (unsigned long)batch, first->what, (unsigned long)first->cpu_ms,
		    (unsigned long)first->wall_ms, CONFIRM_MS);
	}
}

/* Runs batch b in a child and records what became of it. */
static void run_batch(uint64_t seed, uint64_t batch, unsigned ncalls, struct totals *t,
		      bool trace)
{
	struct end e;
	pid_t pid = start_batch(seed, batch, ncalls, trace);

	if (pid < 0) {
		say("fuzz: FINDING: fork failed: %s", strerror(errno));
		t->findings++;
		return;
	}
	t->batches++;
	wait_child(pid, trace ? CONFIRM_MS : CALL_TIMEOUT_MS, !trace, &e);
	t->calls += shared->calls;
	if (e.how == TIMED_OUT) {
		if (e.stage == 2 && e.in_call && may_block(e.nr)) {
			t->timeouts_blocked++;
			if (e.nr < 512)
				t->blocked_in[e.nr]++;
			if (trace)
				say("fuzz: batch %lu: blocked in %s", (unsigned long)batch, e.what);
		} else if (trace) {
			say("fuzz: batch %lu: stuck for %lu ms (cpu %lu ms) in %s", (unsigned long)batch,
			    (unsigned long)e.wall_ms, (unsigned long)e.cpu_ms, e.what);
		} else {
			confirm(seed, batch, ncalls, &e, t);
		}
		return;
	}
	int code = WIFEXITED(e.status) ? WEXITSTATUS(e.status) : -1;
	if (e.stopped) {
		t->stopped++;
	} else if (code == 0) {
		t->exited++;
	} else if (code > 128 && code <= 128 + 64 && !e.wild) {
		/* km's report of a signal it cannot die of itself (glibc keeps 32 and 33). */
		t->by_signal[code - 128]++;
		say("fuzz: batch %lu: exited with status %d (signal %d) during %s", (unsigned long)batch,
		    code, code - 128, e.what);
	} else if (code > 0 && !e.wild) {
		/* The child never exits so: km did (1: km failed; 2: an exec'd program km refused). */
		t->exited_other++;
		t->findings++;
		say("fuzz: FINDING: batch %lu: km exited with status %d during %s; reproduce with -s %lu "
		    "-b %lu -n %u", (unsigned long)batch, code, e.what, (unsigned long)seed,
		    (unsigned long)batch, ncalls);
	} else if (code > 0) {
		t->exited_other++;
		say("fuzz: batch %lu: exited with status %d after an rt_sigreturn, during %s",
		    (unsigned long)batch, code, e.what);
	} else if (WIFSIGNALED(e.status)) {
		int sig = WTERMSIG(e.status);
		t->by_signal[sig < 65 ? sig : 0]++;
		say("fuzz: batch %lu: killed by SIG%s during %s", (unsigned long)batch, signame(sig),
		    e.what);
	}
}

static void report(const struct totals *t, uint64_t seed, uint64_t ms)
{
	uint64_t calls = t->calls;
	char line[4096];
	size_t n = 0;

	say("fuzz: summary: seed %lu: %lu batches, %lu calls in %lu.%03lu s (%lu calls/s, %lu per "
	    "minute)", (unsigned long)seed, (unsigned long)t->batches, (unsigned long)calls,
	    (unsigned long)(ms / 1000), (unsigned long)(ms % 1000),
	    (unsigned long)(ms ? calls * 1000 / ms : 0), (unsigned long)(ms ? calls * 60000 / ms : 0));
	n += (size_t)snprintf(line + n, sizeof(line) - n, "fuzz: children: %lu finished, %lu exited "
			      "otherwise, %lu blocked in a call that waits (killed after %u ms), %lu "
			      "timed out once elsewhere, %lu stopped themselves", (unsigned long)t->exited,
			      (unsigned long)t->exited_other, (unsigned long)t->timeouts_blocked,
			      BLOCKED_MS, (unsigned long)t->timeouts_unconfirmed, (unsigned long)t->stopped);
	for (int s = 0; s < 65; s++)
		if (t->by_signal[s])
			n += (size_t)snprintf(line + n, sizeof(line) - n, ", SIG%s %lu", signame(s),
					      (unsigned long)t->by_signal[s]);
	say("%s", line);
	n = (size_t)snprintf(line, sizeof(line), "fuzz: blocked in:");
	for (int i = 0; i < 512; i++)
		if (t->blocked_in[i] && n < sizeof(line) - 64)
			n += (size_t)snprintf(line + n, sizeof(line) - n, " %s %u", call_name((uint64_t)i),
					      t->blocked_in[i]);
	say("%s", line);
	/* Made/succeeded per call, several to a line. */
	n = 0;
	for (size_t i = 0; i < nkinds; i++) {
		long nr = kinds[i].nr;
		n += (size_t)snprintf(line + n, sizeof(line) - n, "%s%s %u/%u", n ? ", " : "fuzz: calls: ",
				      kinds[i].name, shared->made[nr], shared->succeeded[nr]);
		if (n > 200 || i + 1 == nkinds) {
			say("%s", line);
			n = 0;
		}
	}
	say("fuzz: calls km does not serve: %lu made, %lu answered ENOSYS",
	    (unsigned long)shared->other_made, (unsigned long)shared->other_enosys);
	say("fuzz: findings: %lu", (unsigned long)t->findings);
}

static void build_kinds(void)
{
	for (size_t i = 0; i < NKM; i++) {
		if (km_calls[i].nr == __NR_exit || km_calls[i].nr == __NR_exit_group)
			continue;
		const char *args = NULL;
		for (size_t j = 0; j < sizeof(sigs) / sizeof(sigs[0]); j++)
			if (strcmp(sigs[j].name, km_calls[i].name) == 0)
				args = sigs[j].args;
		if (args == NULL) {
			say("fuzz: note: no argument kinds for %s: any argument goes", km_calls[i].name);
			args = "xxxxxx";
		}
		kinds[nkinds++] = (struct call_kind){ km_calls[i].nr, km_calls[i].name, args };
	}
}

static _Noreturn void usage(void)
{
	say("usage: hcall_fuzz.km fuzz [-s SEED] [-t SECONDS] [-n CALLS] [-m MEM_LIMIT_MIB] [-b BATCH] "
	    "[-a rlimit]");
	exit(2);
}

int main(int argc, char **argv)
{
	uint64_t seed = 0, seconds = 60, replay = UINT64_MAX;
	unsigned ncalls = 300;
	bool seeded = false;

	/* Run by its own random execve (an argv of garbage): nothing to do. */
	if (argc < 2 || strcmp(argv[1], "fuzz") != 0)
		return 0;
	for (int i = 2; i < argc; i++) {
		if (i + 1 >= argc)
			usage();
		const char *v = argv[++i];
		switch (argv[i - 1][1]) {
		case 's': seed = strtoull(v, NULL, 0); seeded = true; break;
		case 't': seconds = strtoull(v, NULL, 0); break;
		case 'n': ncalls = (unsigned)strtoul(v, NULL, 0); break;
		case 'm': mem_limit = strtoull(v, NULL, 0) << 20; break;
		case 'b': replay = strtoull(v, NULL, 0); break;
		case 'a':
			if (strcmp(v, "rlimit") != 0)
				usage();
			avoid_rlimit = true;
			break;
		default: usage();
		}
	}
	if (ncalls == 0 || ncalls > NCALLS_MAX)
		usage();
	if (!seeded && getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = (uint64_t)now_ms();
	build_kinds();

	/*
	 * The shared page goes low in the mmap window, away from the child's
	 * regions at its top, between PROT_NONE moats, so that few of the
	 * child's mmaps, munmaps and mremaps reach it; the child checks its magic
	 * before each call and stops where one did.
	 */
	int sf = open("shared-page", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (sf < 0 || ftruncate(sf, sizeof(struct shared)) != 0) {
		say("fuzz: cannot make the shared page in the current directory: %s", strerror(errno));
		return 1;
	}
	uint64_t low = KM_TOP - mem_limit + (mem_limit >> 3);
	mmap((void *)low, 64 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
	     -1, 0);
	shared = mmap((void *)(low + 64 * PAGE), sizeof(struct shared), PROT_READ | PROT_WRITE,
		      MAP_SHARED, sf, 0);
	if (shared == MAP_FAILED) {
		say("fuzz: cannot map the shared page: %s", strerror(errno));
		return 1;
	}
	close(sf);
	mmap((void *)((uint64_t)shared + KM_ROUND_PAGES(sizeof(struct shared))), 64 * PAGE,
	     PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	shared->magic = SHARED_MAGIC;

	say("fuzz: seed %lu, %lu s, %u calls per batch, %zu of km's calls typed, mem limit %lu MiB, "
	    "shared page at %p%s", (unsigned long)seed, (unsigned long)seconds, ncalls, nkinds,
	    (unsigned long)(mem_limit >> 20), (void *)shared,
	    avoid_rlimit ? "; never sets RLIMIT_FSIZE, which km applies to itself" : "");
	struct totals t = { 0 };
	uint64_t start = now_ms(), last_note = start;
	if (replay != UINT64_MAX) {
		run_batch(seed, replay, ncalls, &t, true);
	} else {
		for (uint64_t b = 0; now_ms() - start < seconds * 1000; b++) {
			run_batch(seed, b, ncalls, &t, false);
			if (now_ms() - last_note >= 10000) {
				last_note = now_ms();
				say("fuzz: %lu s: %lu batches, %lu calls",
				    (unsigned long)((last_note - start) / 1000), (unsigned long)t.batches,
				    (unsigned long)t.calls);
			}
		}
	}
	report(&t, seed, now_ms() - start);
	return 0; /* findings are the lines above; a status other than 0 is km's */
}
