/* km's command line: km [options] program [args...] */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "km.h"

#ifndef KM_VERSION
#define KM_VERSION "unknown"
#endif

#define MIN_MEM_LIMIT (32ul << 20)
#define MAX_MEM_LIMIT (1ul << 45)

extern char **environ;

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: km [options] program [args...]\n"
		"Run an x86-64 Linux program, static or dynamically linked, in its own KVM\n"
		"virtual machine.\n"
		"A program without a slash is looked for here, then in PATH; a #! script\n"
		"runs its interpreter, as execve does.\n"
		"\n"
		"  -m, --mem-limit=SIZE  guest memory limit, e.g. 512M or 8G (default %luG)\n"
		"  -v, --verbose         log every hypercall to stderr (or --log-to)\n"
		"      --log-to=FILE     write the -v log to FILE\n"
		"      --argv0=NAME      give the program NAME as argv[0] (as exec -a does)\n"
		"      --rlimit=RES=SOFT:HARD\n"
		"                        the program's own limit RES (as, data or stack), in bytes\n"
		"                        or 'unlimited'; km's are the default (an exec passes them on)\n"
		"      --allow-path=PATH[:ro]\n"
		"                        let the program open only files under PATH (read only\n"
		"                        with :ro); repeat for more paths (Landlock; see km(1))\n"
		"      --core=FILE       if a signal kills the program with a core dump, write\n"
		"                        the core to FILE, whatever the host's core_pattern and\n"
		"                        RLIMIT_CORE say\n"
		"      --stats=FILE      when each process of the program ends or execs, append to\n"
		"                        FILE how often it left the guest, by hypercall\n"
		"      --fast-calls=auto|on|off\n"
		"                        let the program's runtime post calls in memory for a\n"
		"                        polling km thread instead of exiting (auto: on PVM with\n"
		"                        two CPUs or more; see km(1))\n"
		"      --gdb=[ADDR:]PORT start the program stopped, waiting for gdb to connect\n"
		"                        (target remote ADDR:PORT); ADDR defaults to 127.0.0.1\n"
		"      --gdb-listen=ADDR:PORT  the same, on another address\n"
		"      --gdb-attach=[ADDR:]PORT  run the program, and let gdb attach later\n"
		"      --gdb-fork=wait|free  whether a forked child waits for a gdb of its own, on\n"
		"                        a port km prints (default: free, it runs without gdb)\n"
		"      --no-seccomp      do not confine km to the host calls it needs (for\n"
		"                        debugging km; see km(1))\n"
		"  -h, --help            show this help\n"
		"      --version         show km's version\n"
		"\n"
		"km exits with the program's exit status, or 128+N if signal N killed it;\n"
		"status 2 means km could not start the program.\n",
		KM_DEFAULT_MEM_LIMIT >> 30);
}

static uint64_t parse_size(const char *arg)
{
	char *end;
	errno = 0;
	unsigned long long n = strtoull(arg, &end, 10);
	unsigned shift = 0;

	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	case '\0': break;
	default: end = NULL;
	}
	if (errno || end == NULL || *end || end == arg || n > (MAX_MEM_LIMIT >> shift))
		km_die(2, "km: bad memory limit '%s': use a size such as 512M or 8G", arg);
	uint64_t size = KM_ROUND_UP((uint64_t)n << shift, 2ul << 20);
	if (size < MIN_MEM_LIMIT || size > MAX_MEM_LIMIT)
		km_die(2, "km: memory limit '%s' is out of range (%luM to %luT)", arg,
		       MIN_MEM_LIMIT >> 20, MAX_MEM_LIMIT >> 40);
	return size;
}

static char *absolute_path(const char *path)
{
	char *abs = realpath(path, NULL);
	return abs ? abs : strdup(path);
}

/* What /proc/self/exe names: the kernel's path of the open file (realpath reads each directory). */
static char *exe_path(int fd, const char *file)
{
	char link[32], path[PATH_MAX];
	ssize_t n = -1;

	if (fd >= 0) {
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		n = readlink(link, path, sizeof(path) - 1);
	}
	if (n <= 0 || path[0] != '/')
		return absolute_path(file);
	path[n] = '\0';
	return strdup(path);
}

/* What the start-up steps (beside.c) take and give. */
struct guest_start {
	struct km_vm *vm;
	uint64_t mem_limit;
	enum km_seccomp seccomp;
	const char *file, *execfn;
	int fd;
	char **argv;
	struct km_image img;
	uint64_t sp;
};

static void install_filter(void *arg)
{
	struct guest_start *s = arg;
	km_seccomp_confine(s->seccomp);
}

/* What the guest needs that does not come from the program. */
static void set_up_guest(void *arg)
{
	struct guest_start *s = arg;
	struct km_vm *vm = s->vm;

	km_mem_init(vm, s->mem_limit);
	km_guest_faults_init(vm);
	km_threads_init(vm);
	km_x86_init_sys_area(vm);
	km_fast_init(vm);
	km_signals_start(vm);
}

static void load_program(void *arg)
{
	struct guest_start *s = arg;
	int argc = 0;

	km_elf_load(s->vm, s->file, s->fd, &s->img);
	s->img.execfn = s->execfn;
	while (s->argv[argc])
		argc++;
	s->sp = km_stack_init(s->vm, &s->img, argc, s->argv, environ);
}

static void query_cpuid(void *arg)
{
	struct guest_start *s = arg;
	km_kvm_query_cpuid(s->vm);
}

/* In the order a free thread takes them; none needs the VM. */
static const struct km_step start_steps[KM_STEPS] = {
	[KM_STEP_FILTER] = { install_filter, 0 },
	[KM_STEP_SETUP] = { set_up_guest, 0 },
	/* The filter is in before km reads the program. */
	[KM_STEP_PROGRAM] = { load_program, 1u << KM_STEP_FILTER | 1u << KM_STEP_SETUP },
	[KM_STEP_CPUID] = { query_cpuid, 0 },
};

int main(int argc, char **argv)
{
	uint64_t mem_limit = KM_DEFAULT_MEM_LIMIT;
	const char *log_path = NULL, *argv0 = NULL;
	enum km_seccomp seccomp = KM_SECCOMP_ON;
	int c, kvm_fd = -1;

	km_stats_start();
	opterr = 0;
	while ((c = getopt_long(argc, argv, KM_OPTSTRING, km_options, NULL)) != -1) {
		switch (c) {
		case 'm': mem_limit = parse_size(optarg); break;
		case 'v': km_verbose = 1; break;
		case 'L': log_path = optarg; km_verbose = 1; break;
		case 'A': argv0 = optarg; break;
		case 'R': km_rlimit_option(optarg); break;
		case 'P': km_allow_path_option(optarg); break;
		case 'S': seccomp = KM_SECCOMP_OFF; break;
		case 'C': km_core_option(optarg); break;
		case 'T': km_stats_option(optarg); break;
		case 'Q': km_fast_option(optarg); break;
		case 'g': case 'l': case 'a': case 'f': case 'F': km_gdb_option(c, optarg); break;
		case 'I': seccomp = KM_SECCOMP_INHERITED; break;
		case 'K': kvm_fd = km_kvm_fd_option(optarg); km_log_after_exec(); break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("km %s\n", KM_VERSION); return 0;
		default:
			if (optopt && strchr("m", optopt))
				km_die(2, "km: option -%c needs a value; see km --help", optopt);
			km_die(2, "km: unknown option '%s'; see km --help", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		km_die(2, "km: no program given; usage: km [options] program [args...]");

	/* Static: threads use it after the first one (on this stack) has gone. */
	static struct km_vm vm = {
		.mm_lock = PTHREAD_RWLOCK_INITIALIZER,
		.thread_lock = PTHREAD_MUTEX_INITIALIZER,
		.sig_lock = PTHREAD_MUTEX_INITIALIZER,
		.entry_cpl = -1,
	};
	struct guest_start start = { .vm = &vm, .mem_limit = mem_limit, .seccomp = seccomp };
	km_fds_init(&vm);
	km_limits_init(&vm);
	km_log_init();
	start.argv = km_start_program(argv + optind, &start.file, &start.execfn, &start.fd);
	vm.exe_path = exe_path(start.fd, start.file);
	const char *base = strrchr(start.file, '/');
	snprintf(vm.comm, sizeof(vm.comm), "%s", base ? base + 1 : start.file); /* as execve names it */
	vm.km_argv0 = argv[0];
	if (argv0 && start.argv == argv + optind)
		start.argv[0] = (char *)argv0; /* a script's argv[0] is its interpreter, as on Linux */
	if (log_path) {
		km_log_open(log_path);
		vm.log_path = absolute_path(log_path); /* an exec'd km may start in another cwd */
	}
	km_kvm_open(&vm, kvm_fd);
	km_seccomp_catch();
	km_signals_init(&vm);
	km_beside_start(start_steps, &start);
	km_kvm_create_vm(&vm);
	km_stats_step("vm");
	km_beside_wait(KM_STEP_PROGRAM);
	km_stats_step("program");
	km_signals_take_pending(&vm);
	km_kvm_check_open(); /* after the program's errors */
	km_kvm_map_memory(&vm);
	km_gdb_init(&vm);
	km_stats_init(&vm);
	km_landlock_confine(&vm); /* last: the setup above opens what it needs */
	km_thread_main(&vm, start.img.start, start.sp);
}
