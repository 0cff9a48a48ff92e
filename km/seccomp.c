/*
 * km confines itself: a seccomp filter, with no_new_privs, lets km make only
 * the host calls its handlers and its own machinery make, so that a km bug
 * cannot widen the guest's reach. The allowed calls are every number in
 * KM_SYSCALLS (the same X-macro that builds the dispatch table, so the two
 * cannot drift) and the list below of what km's machinery and libc need.
 * ioctl passes for KVM's requests and the terminal ones sys_io.c serves.
 * Anything else raises SIGSYS, which ends km with one line saying which
 * call it was: a km bug. See docs/architecture.md, "Confinement".
 *
 * km installs the filter before setting up the VM, because its own exec
 * (km runs itself again for the guest's execve) inherits the filter, so the
 * setup of every later km runs under it anyway; a km started by that exec
 * is told so (--seccomp-inherited) and adds no second copy.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "syscalls.h"

#define SIGSYS_SECCOMP 1 /* si_code of a seccomp SIGSYS (asm-generic/siginfo.h) */
#define LEAF 4		 /* runs of numbers a leaf of the search tree compares one by one */
#define MAX_INSNS 4096	 /* the kernel's BPF_MAXINSNS */

/* The guest's calls: their handlers make these calls on the host (most do). */
#define KM_NR(name, policy) __NR_##name,
static const int table_calls[] = { KM_SYSCALLS(KM_NR) };
#undef KM_NR

/*
 * What km makes besides, listed whether or not a guest call of the same
 * number exists, so that the table can change without breaking km: found
 * by reading km and checked by running every suite under strace -f (see
 * docs/architecture.md, "Confinement").
 */
static const int machinery_calls[] = {
	/* glibc's start of a static-PIE program, in every km (an exec'd one too) */
	__NR_arch_prctl, __NR_set_tid_address, __NR_set_robust_list, __NR_rseq, __NR_brk,
	__NR_getrandom, __NR_prlimit64, __NR_readlink,
	/* memory: guest memory, vCPU run pages, malloc, thread stacks */
	__NR_mmap, __NR_munmap, __NR_mprotect, __NR_madvise, __NR_mremap,
	/* core dumps: which guest pages exist; the cleaning child's fds */
	__NR_mincore, __NR_close_range,
	/* threads: vCPU and routing threads (pthread_create: clone3), their wakeups and ends;
	 * the start-up helper's CPU (beside.c) */
	__NR_clone3, __NR_exit, __NR_exit_group, __NR_futex, __NR_gettid, __NR_getpid,
	__NR_sched_yield, __NR_sched_getaffinity, __NR_sched_setaffinity,
	/* signals: kicks, the routing thread, pending signals across exec, dying of one */
	__NR_rt_sigaction, __NR_rt_sigprocmask, __NR_rt_sigreturn, __NR_rt_sigtimedwait,
	__NR_tgkill, __NR_rt_tgsigqueueinfo,
	/* the kernel's own resumption of a sleep a stop (SIGSTOP, then SIGCONT) interrupted */
	__NR_restart_syscall,
	/* clocks: the vDSO's fallback for the clocks it does not serve */
	__NR_clock_gettime,
	/* the guest's POSIX timers are host timers that signal the routing thread */
	__NR_timer_create, __NR_timer_settime, __NR_timer_gettime, __NR_timer_getoverrun,
	__NR_timer_delete,
	/* files: /dev/kvm, the log, the program and exec's checks of it, km's own fds */
	__NR_openat, __NR_close, __NR_read, __NR_write, __NR_pread64, __NR_lseek,
	__NR_newfstatat, __NR_access, __NR_fcntl, __NR_dup3, __NR_pipe2,
	/* /proc: opens decided on the file (openat2, probed once), /proc/self files as sealed memfds */
	__NR_openat2, __NR_fstatfs, __NR_memfd_create,
	/* --allow-path: km restricts itself with Landlock after setup */
	__NR_landlock_create_ruleset, __NR_landlock_add_rule, __NR_landlock_restrict_self,
	/* limits: whether km may raise a hard limit (CAP_SYS_RESOURCE) */
	__NR_capget,
	/* processes: fork is a host fork (clone); exec runs /proc/self/exe; PR_GET_SECCOMP */
	__NR_clone, __NR_execve, __NR_prctl,
	/* KVM, and the guest's terminal requests: the request is checked, see tty_ioctls */
	__NR_ioctl,
	/* handlers' host calls under another number than the guest's call */
	__NR_readlinkat, __NR_renameat2, __NR_linkat, __NR_symlinkat, __NR_clock_nanosleep,
	__NR_ppoll, __NR_pselect6, __NR_epoll_pwait, __NR_epoll_create1, __NR_eventfd2,
	__NR_accept4, __NR_setitimer, __NR_sendmsg, __NR_recvmsg,
};

/* The terminal and fd requests sys_io.c passes to the host. */
static const unsigned tty_ioctls[] = {
#define KM_IOCTL_REQUEST(req, size, dir) req,
	KM_IOCTLS(KM_IOCTL_REQUEST)
#undef KM_IOCTL_REQUEST
};

static bool confined; /* for the km that exec starts: see km_seccomp_exec_option */

/* Where a blocked call ends up: one line for the log, then km dies of SIGSYS. */
static char *put(char *at, const char *s)
{
	while (*s)
		*at++ = *s++;
	return at;
}

static char *put_hex(char *at, unsigned long n)
{
	char digits[16];
	int len = 0;

	do
		digits[len++] = "0123456789abcdef"[n & 15];
	while ((n >>= 4) != 0);
	at = put(at, "0x");
	while (len > 0)
		*at++ = digits[--len];
	return at;
}

static char *put_dec(char *at, unsigned long n)
{
	char digits[24];
	int len = 0;

	do
		digits[len++] = (char)('0' + n % 10);
	while ((n /= 10) != 0);
	while (len > 0)
		*at++ = digits[--len];
	return at;
}

static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	char line[256], *at = line;

	if (si->si_code <= 0) { /* sent by a process: the guest's signal */
		km_signal_sent(si);
		return;
	}
	if (si->si_code != SIGSYS_SECCOMP)
		km_die_by_signal(sig);
	unsigned long nr = (unsigned)si->si_syscall;
	at = put(at, "km: internal error: host call ");
	if (si->si_arch != AUDIT_ARCH_X86_64 || (nr & __X32_SYSCALL_BIT)) {
		at = put_hex(at, nr);
		at = put(at, si->si_arch != AUDIT_ARCH_X86_64 ? " of the 32-bit ABI" : " of the x32 ABI");
	} else {
		at = put(at, km_syscall_name(nr));
		at = put(at, " (");
		at = put_dec(at, nr);
		at = put(at, ")");
	}
	if (nr == __NR_ioctl) {
		at = put(at, " request ");
		at = put_hex(at, (unsigned long)((ucontext_t *)uc)->uc_mcontext.gregs[REG_RSI]);
	}
	at = put(at, " is not in km's seccomp filter: a km bug; ending km\n");
	km_write_err(line, (size_t)(at - line));
	km_die_by_signal(SIGSYS);
}

/*
 * A filtered call's SIGSYS is km's own, never blocked in km's threads (this
 * one's opened here); a sent one is the guest's, filter or not.
 */
void km_seccomp_catch(void)
{
	struct sigaction sa = { .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO };
	sigset_t sys;

	sigaction(SIGSYS, &sa, NULL);
	sigemptyset(&sys);
	sigaddset(&sys, SIGSYS);
	pthread_sigmask(SIG_UNBLOCK, &sys, NULL);
}

#define NR_BOUND 1024 /* above every x86-64 call number */

static void mark(bool *allowed, int nr)
{
	if (nr < 0 || nr >= NR_BOUND)
		km_die(1, "km: internal: call number %d out of the seccomp filter's range", nr);
	allowed[nr] = true;
}

/*
 * The allowed numbers, sorted, each once, ioctl left out (its requests are
 * checked apart). Sorted by marking, not qsort, whose malloc would give the
 * thread beside (beside.c) an arena of its own.
 */
static size_t allowed_calls(int *out)
{
	bool allowed[NR_BOUND] = { false };
	size_t kept = 0;

	for (size_t i = 0; i < sizeof(table_calls) / sizeof(table_calls[0]); i++)
		mark(allowed, table_calls[i]);
	for (size_t i = 0; i < sizeof(machinery_calls) / sizeof(machinery_calls[0]); i++)
		mark(allowed, machinery_calls[i]);
	for (int nr = 0; nr < NR_BOUND; nr++)
		if (allowed[nr] && nr != __NR_ioctl)
			out[kept++] = nr;
	return kept;
}

/* The BPF program, as it is written out. */
struct program {
	struct sock_filter insns[MAX_INSNS];
	size_t len;
};

static size_t emit(struct program *p, uint16_t code, uint32_t k, uint8_t jt, uint8_t jf)
{
	if (p->len == MAX_INSNS)
		km_die(1, "km: internal: the seccomp filter is longer than the kernel takes");
	p->insns[p->len] = (struct sock_filter){ code, jt, jf, k };
	return p->len++;
}

#define LOAD(p, field) emit(p, BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, field), 0, 0)
#define RET(p, action) emit(p, BPF_RET | BPF_K, action, 0, 0)

/* Runs of consecutive allowed numbers: the search compares with their ends, not each number. */
struct run {
	uint32_t first, last;
};

/*
 * A leaf: its runs in order, each a JEQ if it is one number, else a JGT
 * past it and a JGE into it; a number below a run is below every later one,
 * so it falls through to the trap. Every jump stays within the leaf.
 */
static void leaf(struct program *p, const struct run *runs, size_t n)
{
	size_t len = 0, at = 0;

	for (size_t i = 0; i < n; i++)
		len += runs[i].first == runs[i].last ? 1 : 2;
	for (size_t i = 0; i < n; i++) {
		uint8_t to_trap = (uint8_t)(len - at - 1); /* from the next instruction */
		if (runs[i].first == runs[i].last) {
			emit(p, BPF_JMP | BPF_JEQ | BPF_K, runs[i].first, to_trap + 1, 0);
			at += 1;
			continue;
		}
		emit(p, BPF_JMP | BPF_JGT | BPF_K, runs[i].last, 1, 0);
		emit(p, BPF_JMP | BPF_JGE | BPF_K, runs[i].first, to_trap, to_trap - 1);
		at += 2;
	}
	RET(p, SECCOMP_RET_TRAP);
	RET(p, SECCOMP_RET_ALLOW);
}

/*
 * A balanced search over runs [lo, hi), nr loaded: every level halves them
 * with one comparison, and a leaf of a few runs has its own returns, so
 * every jump but the long one over a left half (BPF_JA) stays within a byte.
 */
static void search(struct program *p, const struct run *runs, size_t lo, size_t hi)
{
	if (hi - lo <= LEAF) {
		leaf(p, runs + lo, hi - lo);
		return;
	}
	size_t mid = lo + (hi - lo) / 2;
	emit(p, BPF_JMP | BPF_JGE | BPF_K, runs[mid].first, 0, 1);
	size_t over_left = emit(p, BPF_JMP | BPF_JA, 0, 0, 0);
	search(p, runs, lo, mid);
	p->insns[over_left].k = (uint32_t)(p->len - over_left - 1);
	search(p, runs, mid, hi);
}

/* Sorted numbers as runs of consecutive ones. */
static size_t runs_of(const int *nrs, size_t n, struct run *runs)
{
	size_t count = 0;

	for (size_t i = 0; i < n; i++) {
		if (count > 0 && runs[count - 1].last + 1 == (uint32_t)nrs[i])
			runs[count - 1].last = (uint32_t)nrs[i];
		else
			runs[count++] = (struct run){ (uint32_t)nrs[i], (uint32_t)nrs[i] };
	}
	return count;
}

/*
 * ioctl: KVM's requests (type KVMIO) and the terminal ones pass. The
 * request is the low half of the argument: the kernel takes an unsigned int.
 */
static void ioctl_checks(struct program *p)
{
	const size_t n = sizeof(tty_ioctls) / sizeof(tty_ioctls[0]);

	LOAD(p, args[1]);
	emit(p, BPF_ALU | BPF_AND | BPF_K, 0xff00, 0, 0);
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, KVMIO << 8, (uint8_t)(n + 2), 0);
	LOAD(p, args[1]);
	for (size_t i = 0; i < n; i++)
		emit(p, BPF_JMP | BPF_JEQ | BPF_K, tty_ioctls[i], (uint8_t)(n - i), 0);
	RET(p, SECCOMP_RET_TRAP);
	RET(p, SECCOMP_RET_ALLOW);
}

/*
 * x86-64 calls only (no x32 numbers, no int 0x80), then ioctl's request,
 * then the search. An allowed call whose arguments the filter does not read
 * is one the kernel learns to let through without running it (its seccomp
 * action cache, Linux 5.11 and later).
 */
static void build(struct program *p)
{
	int nrs[sizeof(table_calls) / sizeof(int) + sizeof(machinery_calls) / sizeof(int)];
	struct run runs[sizeof(nrs) / sizeof(nrs[0])];
	size_t n = runs_of(nrs, allowed_calls(nrs), runs);

	LOAD(p, arch);
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
	RET(p, SECCOMP_RET_TRAP);
	LOAD(p, nr);
	emit(p, BPF_JMP | BPF_JGE | BPF_K, __X32_SYSCALL_BIT, 0, 1);
	RET(p, SECCOMP_RET_TRAP);
	size_t to_search = emit(p, BPF_JMP | BPF_JEQ | BPF_K, __NR_ioctl, 0, 0);
	ioctl_checks(p);
	p->insns[to_search].jf = (uint8_t)(p->len - to_search - 1);
	search(p, runs, 0, n);
}

static void install(void)
{
	static struct program p;

	build(&p);
	struct sock_fprog prog = { .len = (unsigned short)p.len, .filter = p.insns };
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		km_die(1, "km: cannot set no_new_privs: %s", strerror(errno));
	/*
	 * TSYNC: every thread of km, should there already be more than one.
	 * SPEC_ALLOW: no Speculative Store Bypass mitigation forced on km's
	 * threads (Linux before 5.16 did so for any filter): the filter guards
	 * against km's bugs, and no untrusted code runs in km's address space.
	 */
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
		    SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_SPEC_ALLOW, &prog) != 0)
		km_die(1, "km: cannot install km's seccomp filter: %s (km --no-seccomp runs without it)",
		       strerror(errno));
}

/*
 * Confines km, unless told not to, once km_seccomp_catch has run. A km that
 * an earlier one exec'd runs under that one's filter already
 * (PR_GET_SECCOMP: 2); were it not, it installs one, so the marker can only
 * ever add a filter, not remove one.
 */
void km_seccomp_confine(enum km_seccomp mode)
{
	if (mode == KM_SECCOMP_OFF)
		return;
	if (mode != KM_SECCOMP_INHERITED || prctl(PR_GET_SECCOMP, 0, 0, 0, 0) != 2)
		install();
	confined = true;
}

/* What km tells the km it execs for the guest, so that it neither stacks nor drops the filter. */
const char *km_seccomp_exec_option(void)
{
	return confined ? "--seccomp-inherited" : "--no-seccomp";
}
