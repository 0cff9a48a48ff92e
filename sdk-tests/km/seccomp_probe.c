/*
 * km's seccomp filter, proved on its own. This program compiles
 * km/seccomp.c in, so that it can read the filter, and links km's other
 * objects, with this main instead of km's. It reads the filter's verdict
 * on every call number; or confines itself exactly as km does and makes
 * the host call it is told to (one the filter lets through returns, any
 * other ends the program with km's one line and km's status); or starts
 * km under a filter of someone else's; or times what the filter adds to a
 * host call. Nothing here is in km, so no guest can reach it.
 * sdk-tests/seccomp.bats runs it.
 */
#include "seccomp.c"

#include <fcntl.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>

#define I386_GETPID 20

/* A classic BPF interpreter for what build() writes; counts the comparisons made. */
static uint32_t verdict(const struct program *p, const struct seccomp_data *d, int *compares)
{
	uint32_t a = 0;

	for (size_t pc = 0; pc < p->len; pc++) {
		const struct sock_filter *f = &p->insns[pc];
		switch (f->code) {
		case BPF_LD | BPF_W | BPF_ABS: memcpy(&a, (const char *)d + f->k, sizeof(a)); break;
		case BPF_ALU | BPF_AND | BPF_K: a &= f->k; break;
		case BPF_JMP | BPF_JA: pc += f->k; break;
		case BPF_JMP | BPF_JEQ | BPF_K: ++*compares; pc += a == f->k ? f->jt : f->jf; break;
		case BPF_JMP | BPF_JGE | BPF_K: ++*compares; pc += a >= f->k ? f->jt : f->jf; break;
		case BPF_JMP | BPF_JGT | BPF_K: ++*compares; pc += a > f->k ? f->jt : f->jf; break;
		case BPF_RET | BPF_K: return f->k;
		default: printf("instruction %zu: unknown code 0x%x\n", pc, f->code); return 0;
		}
	}
	printf("the filter runs off its end\n");
	return 0;
}

static bool passes(const struct program *p, uint32_t arch, int nr, uint64_t arg1, int *compares)
{
	struct seccomp_data d = { .nr = nr, .arch = arch, .args = { 0, arg1 } };
	int scratch = 0;
	return verdict(p, &d, compares ? compares : &scratch) == SECCOMP_RET_ALLOW;
}

static int compare_ints(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

static bool listed(const int *nrs, size_t n, int nr)
{
	return bsearch(&nr, nrs, n, sizeof(*nrs), compare_ints) != NULL || nr == __NR_ioctl;
}

/* Each number passes exactly when it is listed; x32 and 32-bit calls never do. */
static int check_numbers(const struct program *p, const int *nrs, size_t n, int *worst)
{
	int wrong = 0;

	for (size_t i = 0; i < sizeof(table_calls) / sizeof(table_calls[0]); i++)
		if (!listed(nrs, n, table_calls[i]))
			wrong += printf("%s is in KM_SYSCALLS but not listed\n", km_syscall_name(table_calls[i])) > 0;
	for (int nr = 0; nr < NR_BOUND; nr++) {
		int compares = 0;
		bool pass = passes(p, AUDIT_ARCH_X86_64, nr, KVM_RUN, &compares);
		if (pass != listed(nrs, n, nr))
			wrong += printf("%s (%d) %s\n", km_syscall_name(nr), nr, pass ? "passes" : "traps") > 0;
		if (pass && nr != __NR_ioctl && compares > *worst)
			*worst = compares;
		if (passes(p, AUDIT_ARCH_X86_64, nr | __X32_SYSCALL_BIT, KVM_RUN, NULL) ||
		    passes(p, AUDIT_ARCH_I386, nr, KVM_RUN, NULL))
			wrong += printf("the x32 or 32-bit call %d passes\n", nr) > 0;
	}
	return wrong;
}

/* KVM's requests and the terminal ones pass, whatever the upper half; others trap. */
static int check_ioctls(const struct program *p)
{
	static const unsigned long kvm[] = { KVM_RUN, KVM_CREATE_VM, KVM_SET_USER_MEMORY_REGION,
					     KVM_GET_SUPPORTED_CPUID, KVM_SET_XSAVE };
	static const unsigned long never[] = { TIOCSTI, TIOCCONS, TIOCSETD, TIOCLINUX, TIOCMGET,
					       0 };
	int wrong = 0;

	for (size_t i = 0; i < sizeof(kvm) / sizeof(kvm[0]); i++)
		if (!passes(p, AUDIT_ARCH_X86_64, __NR_ioctl, kvm[i] | 0xffffffff00000000ul, NULL))
			wrong += printf("ioctl 0x%lx traps\n", kvm[i]) > 0;
	for (size_t i = 0; i < sizeof(tty_ioctls) / sizeof(tty_ioctls[0]); i++)
		if (!passes(p, AUDIT_ARCH_X86_64, __NR_ioctl, tty_ioctls[i], NULL))
			wrong += printf("ioctl 0x%x traps\n", tty_ioctls[i]) > 0;
	for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++)
		if (passes(p, AUDIT_ARCH_X86_64, __NR_ioctl, never[i], NULL))
			wrong += printf("ioctl 0x%lx passes\n", never[i]) > 0;
	return wrong;
}

/* Calls a hostile guest would want km to make for it. */
static int check_dangerous(const struct program *p)
{
	static const int never[] = {
		__NR_ptrace, __NR_process_vm_readv, __NR_process_vm_writev, __NR_mount, __NR_umount2,
		__NR_pivot_root, __NR_chroot, __NR_unshare, __NR_setns, __NR_bpf, __NR_perf_event_open,
		__NR_keyctl, __NR_add_key, __NR_init_module, __NR_finit_module, __NR_kexec_load,
		__NR_reboot, __NR_iopl, __NR_ioperm, __NR_userfaultfd, __NR_io_uring_setup,
		__NR_open_by_handle_at, __NR_capset, __NR_personality,
		__NR_seccomp, __NR_pidfd_getfd, __NR_kcmp, __NR_fanotify_init, __NR_swapon,
	};
	int wrong = 0;

	for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++)
		if (passes(p, AUDIT_ARCH_X86_64, never[i], 0, NULL))
			wrong += printf("%s passes\n", km_syscall_name(never[i])) > 0;
	return wrong;
}

static int check_verdicts(void)
{
	static struct program p;
	int nrs[sizeof(table_calls) / sizeof(int) + sizeof(machinery_calls) / sizeof(int)];
	size_t n = allowed_calls(nrs);
	int worst = 0;

	build(&p);
	int wrong = check_numbers(&p, nrs, n, &worst) + check_ioctls(&p) + check_dangerous(&p);
	printf("%zu calls pass (ioctl with %zu terminal requests and KVM's), %zu instructions, "
	       "at most %d comparisons\n", n + 1, sizeof(tty_ioctls) / sizeof(tty_ioctls[0]), p.len,
	       worst);
	printf("%s\n", wrong ? "the filter is not what its lists say" : "the filter is what its lists say");
	return wrong ? 1 : 0;
}

/* getpid through the 32-bit ABI's entry, as a 32-bit program would call it. */
static long int80_getpid(void)
{
	long ret = I386_GETPID;
	__asm__ volatile("int $0x80" : "+a"(ret) : : "memory");
	return ret;
}

static void call(const char *what)
{
	if (strcmp(what, "allowed") == 0) {
		int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
		long version = kvm < 0 ? -1 : ioctl(kvm, KVM_GET_API_VERSION, 0);
		printf("getpid: %s, KVM_GET_API_VERSION: %ld\n", getpid() > 0 ? "ok" : "failed", version);
	} else if (strcmp(what, "personality") == 0) {
		syscall(SYS_personality, 0xffffffff);
	} else if (strcmp(what, "tiocsti") == 0) {
		ioctl(0, TIOCSTI, "x");
	} else if (strcmp(what, "x32") == 0) {
		syscall(__X32_SYSCALL_BIT | SYS_getpid);
	} else if (strcmp(what, "int80") == 0) {
		int80_getpid();
	} else {
		printf("unknown call '%s'\n", what);
	}
}

#define COST_CALLS 100000
#define COST_ROUNDS 21

static double ns_per_call(long (*one)(int), int fd)
{
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < COST_CALLS; i++)
		one(fd);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / COST_CALLS;
}

static long getppid_call(int fd) { (void)fd; return syscall(SYS_getppid); }
static long kvm_ioctl_call(int fd) { return ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY); }
static long tty_ioctl_call(int fd) { return ioctl(fd, FIOCLEX); }

static const struct {
	const char *name;
	long (*one)(int);
} timed[] = {
	{ "getppid (arguments not read: the kernel's action cache)", getppid_call },
	{ "ioctl KVM_CHECK_EXTENSION (the filter runs: a KVM request)", kvm_ioctl_call },
	{ "ioctl FIOCLEX (the filter runs: the terminal requests)", tty_ioctl_call },
};
#define NTIMED (sizeof(timed) / sizeof(timed[0]))

static int compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* One side's rounds, each after the other side's (turn: read to go, write when done). */
static void time_rounds(int kvm, int go, int done, double out[NTIMED][COST_ROUNDS])
{
	char token = 0;

	for (int r = 0; r < COST_ROUNDS; r++) {
		if (read(go, &token, 1) != 1)
			exit(1);
		for (size_t i = 0; i < NTIMED; i++)
			out[i][r] = ns_per_call(timed[i].one, kvm);
		if (write(done, &token, 1) != 1)
			exit(1);
	}
}

/*
 * What the filter adds to a host call: an unconfined parent and a confined
 * child take turns timing the same calls; medians of the rounds.
 */
static int cost(void)
{
	static double plain[NTIMED][COST_ROUNDS];
	double (*confined_ns)[COST_ROUNDS] = mmap(NULL, sizeof(plain), PROT_READ | PROT_WRITE,
						    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC), to_child[2], to_parent[2];

	if (kvm < 0 || confined_ns == MAP_FAILED || pipe(to_child) || pipe(to_parent)) {
		printf("cannot set up: %s\n", strerror(errno));
		return 1;
	}
	pid_t child = fork();
	if (child == 0) {
		km_seccomp_catch();
		km_seccomp_confine(KM_SECCOMP_ON);
		time_rounds(kvm, to_child[0], to_parent[1], confined_ns);
		_exit(0);
	}
	char token = 0;
	if (write(to_child[1], &token, 1) != 1) /* the child goes first */
		return 1;
	time_rounds(kvm, to_parent[0], to_child[1], plain);
	waitpid(child, NULL, 0);
	for (size_t i = 0; i < NTIMED; i++) {
		qsort(plain[i], COST_ROUNDS, sizeof(double), compare_doubles);
		qsort(confined_ns[i], COST_ROUNDS, sizeof(double), compare_doubles);
		double a = plain[i][COST_ROUNDS / 2], b = confined_ns[i][COST_ROUNDS / 2];
		printf("%s: %.0f ns unconfined, %.0f ns confined, %+.0f ns\n", timed[i].name, a, b, b - a);
	}
	return 0;
}

/*
 * Runs argv under a filter that is not km's, as a container engine's
 * would be (this one lets everything through): km must add its own.
 */
static int exec_under_foreign_filter(char **argv)
{
	struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	struct sock_fprog prog = { .len = 1, .filter = &allow };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
		printf("cannot install a filter: %s\n", strerror(errno));
		return 1;
	}
	execv(argv[0], argv);
	printf("cannot exec %s: %s\n", argv[0], strerror(errno));
	return 1;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	km_log_init();
	if (argc == 2 && strcmp(argv[1], "verdicts") == 0)
		return check_verdicts();
	if (argc == 2 && strcmp(argv[1], "cost") == 0)
		return cost();
	if (argc > 2 && strcmp(argv[1], "foreign") == 0)
		return exec_under_foreign_filter(argv + 2);
	if (argc != 3 || (strcmp(argv[1], "on") != 0 && strcmp(argv[1], "off") != 0)) {
		fprintf(stderr, "usage: seccomp_probe on|off allowed|personality|tiocsti|x32|int80\n"
				"       seccomp_probe verdicts | cost | foreign PROGRAM [ARGS...]\n");
		return 2;
	}
	km_seccomp_catch();
	km_seccomp_confine(strcmp(argv[1], "on") == 0 ? KM_SECCOMP_ON : KM_SECCOMP_OFF);
	printf("making %s\n", argv[2]);
	call(argv[2]);
	printf("%s returned\n", argv[2]);
	return 0;
}
