/*
 * libFuzzer harness on km's program loading: each input is written to a
 * file, then
 *   1. exec's checks judge it as the guest's execve would (km_exec: the
 *      "#!" line, the interpreter, the loader's own checks), and
 *   2. km_elf_load loads it into a fresh guest memory (km_mem_init),
 *      placing its segments and setting their rights in the guest's page
 *      tables and km's vma list.
 * It fails on a crash or sanitizer report in either, on a loader failure
 * that is not a clean "bad program" (status 2), on a loaded image that
 * breaks km's layout (outside the low half of memory, vmas overlapping),
 * and when exec and the loader disagree about a program that is not a
 * script (exec letting through what the loader refuses is a guest process
 * lost after a successful execve; the other way round, an execve failing
 * for a program km can run).
 *
 * Linked with km's real elf.c, exec.c, vma.c, mem.c, pagetable.c and limits.c.
 * Stubbed, because they are not under test and would end or change the
 * fuzzing process: log.c (km_die jumps back here instead of exiting;
 * messages are kept, not printed), km_kvm_cover (KVM memory slots: no VM
 * here), the fd-table and signal hooks around exec (host rlimits and
 * masks), signal.c's km_signal_sent, procfs.c's km_proc_stat_exe,
 * seccomp.c's option for the km exec starts (no filter here), --core's
 * and --stats' hooks (neither given), and
 * execve itself, which records that exec's checks let the program through.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "km.h"

#define MEM_LIMIT (256ul << 20)

/* ---- stubs for what is not under test ---------------------------------- */

int km_verbose;
static jmp_buf *die_exit;
static int died_status;
static char last_message[1024];

static void keep(const char *fmt, va_list ap)
{
	vsnprintf(last_message, sizeof(last_message), fmt, ap);
}

void km_log(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	keep(fmt, ap);
	va_end(ap);
}

void km_err(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	keep(fmt, ap);
	va_end(ap);
}

void km_write_err(const char *text, size_t len)
{
	if (write(2, text, len) < 0)
		return;
}

_Noreturn void km_die(int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	keep(fmt, ap);
	va_end(ap);
	died_status = status;
	if (die_exit == NULL) {
		fprintf(stderr, "elf_fuzz: km_die outside the loader: %s\n", last_message);
		abort();
	}
	longjmp(*die_exit, 1);
}

_Noreturn void km_die_by_signal(int sig)
{
	fprintf(stderr, "elf_fuzz: km_die_by_signal(%d)\n", sig);
	abort();
}

bool km_kvm_cover(struct km_vm *vm)
{
	(void)vm;
	return true; /* KVM memory slots: there is no VM */
}

bool km_fd_ok(const struct km_vm *vm, long fd)
{
	return fd >= 0 && fd < vm->fd_limit;
}

void km_fds_before_exec(struct rlimit *raised)
{
	(void)raised;
}

void km_fds_exec_failed(const struct rlimit *raised)
{
	(void)raised;
}

const char *km_proc_stat_exe(struct km_vm *vm, int dirfd, const char *path, int at_flags,
			     dev_t dev, ino_t ino)
{
	(void)vm, (void)dirfd, (void)path, (void)at_flags, (void)dev, (void)ino;
	return NULL; /* procfs.c: no path here reaches km's binary through /proc */
}

const char *km_seccomp_exec_option(void)
{
	return "--no-seccomp"; /* the harness installs no filter */
}

bool km_gdb_exec_option(char *out, size_t size)
{
	(void)out, (void)size;
	return false; /* gdb.c: no gdb */
}

void km_gdb_before_exec(bool going)
{
	(void)going;
}

const char *km_core_path(void)
{
	return NULL; /* core.c: no --core given */
}

const char *km_stats_path(void)
{
	return NULL; /* stats.c: no --stats given */
}

void km_stats_write(const char *ended)
{
	(void)ended;
}

const char *km_fast_exec_option(void)
{
	return NULL; /* fastcall.c: no --fast-calls given */
}

void km_signal_sent(const siginfo_t *info)
{
	(void)info; /* mem.c's fault handler, which the harness does not install */
}

void km_signals_before_exec(struct km_vcpu *vcpu, sigset_t *saved)
{
	(void)vcpu;
	sigemptyset(saved);
}

void km_signals_exec_failed(struct km_vm *vm, const sigset_t *saved)
{
	(void)vm;
	(void)saved;
}

/* exec's last step: km execs itself on the program. Here: note that it got that far. */
static bool exec_reached;
static size_t exec_argc;

int execve(const char *file, char *const argv[], char *const envp[])
{
	(void)file;
	(void)envp;
	exec_reached = true;
	for (exec_argc = 0; argv[exec_argc]; exec_argc++)
		if (strlen(argv[exec_argc]) > PATH_MAX * 2)
			abort(); /* km built a line it never meant to */
	errno = EAGAIN;
	return -1;
}

/* ---- the harness ------------------------------------------------------- */

static char prog_path[PATH_MAX];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	const char *tmp = getenv("TMPDIR");
	snprintf(prog_path, sizeof(prog_path), "%s/elf_fuzz.%d", tmp ? tmp : "/tmp", getpid());
	return 0;
}

static void write_input(const uint8_t *data, size_t size)
{
	int fd = open(prog_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size || close(fd) != 0) {
		perror(prog_path);
		abort();
	}
}

/* 0 if exec's checks let the program through to execve, else its errno. */
static long exec_checks(void)
{
	static struct km_vm vm;
	struct km_vcpu vcpu = { .vm = &vm };

	memset(&vm, 0, sizeof(vm));
	vm.mem_limit = MEM_LIMIT;
	vm.km_argv0 = "km";
	vm.fd_limit = 1024;
	km_limits_init(&vm);
	char *argv[] = { "prog", "an-arg", NULL }, *envp[] = { "A=b", NULL };
	struct km_exec_args x = { prog_path, argv, envp };

	exec_reached = false;
	long rc = km_exec(&vcpu, &x);
	if (exec_reached != (rc == -EAGAIN)) {
		fprintf(stderr, "elf_fuzz: km_exec returned %ld, execve %sreached\n", rc,
			exec_reached ? "" : "not ");
		abort();
	}
	return exec_reached ? 0 : rc;
}

/*
 * The layout km relies on after loading: the image in the low half, an
 * interpreter (if any) just below the stack and its gap, vmas sorted and apart.
 */
static void check_layout(const struct km_vm *vm, const struct km_image *img)
{
	uint64_t prev_end = 0;

	if (vm->brk != vm->brk_start || vm->brk > vm->mem_limit / 2 || vm->brk % KM_PAGE_SIZE) {
		fprintf(stderr, "elf_fuzz: brk 0x%lx after loading\n", (unsigned long)vm->brk);
		abort();
	}
	for (size_t i = 0; i < vm->nvma; i++) {
		const struct km_vma *v = &vm->vmas[i];
		bool interp = img->base && v->start >= img->base &&
			      v->end <= KM_TOP - KM_STACK_SIZE - KM_STACK_GAP;
		if (v->start >= v->end || v->start < prev_end || (v->end > vm->brk && !interp) ||
		    v->start % KM_PAGE_SIZE || v->end % KM_PAGE_SIZE) {
			fprintf(stderr, "elf_fuzz: vma %zu 0x%lx-0x%lx after loading (brk 0x%lx)\n", i,
				(unsigned long)v->start, (unsigned long)v->end, (unsigned long)vm->brk);
			abort();
		}
		prev_end = v->end;
	}
}

/* km_elf_load into a fresh VM: 0 if it loaded, else km_die's status. */
static int load(void)
{
	static struct km_vm vm;
	struct km_image img;
	jmp_buf here;
	int lowest_free = dup(0);

	close(lowest_free);
	memset(&vm, 0, sizeof(vm));
	pthread_rwlock_init(&vm.mm_lock, NULL);
	vm.fd_limit = 1024;
	km_limits_init(&vm);
	died_status = 0;
	die_exit = &here;
	if (setjmp(here) == 0) {
		km_mem_init(&vm, MEM_LIMIT);
		km_elf_load(&vm, prog_path, open(prog_path, O_RDONLY | O_CLOEXEC), &img); /* as km's main */
		check_layout(&vm, &img);
	}
	die_exit = NULL;
	/* What a km_die left open: km would have exited. */
	for (int fd = lowest_free; fd < lowest_free + 16; fd++)
		close(fd);
	if (vm.mem)
		munmap(vm.mem, vm.phys_size);
	free(vm.vmas);
	pthread_rwlock_destroy(&vm.mm_lock);
	return died_status;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	write_input(data, size);
	long exec_rc = exec_checks();
	int load_status = load();
	bool script = size >= 2 && data[0] == '#' && data[1] == '!';

	if (load_status != 0 && load_status != 2) {
		fprintf(stderr, "elf_fuzz: the loader failed with status %d, not as a bad program: %s\n",
			load_status, last_message);
		abort();
	}
	if (script)
		return 0; /* exec judged the interpreter, the loader the script itself */
	if (exec_rc == 0 && load_status != 0) {
		fprintf(stderr, "elf_fuzz: exec's checks let through a program km then refuses: %s\n",
			last_message);
		abort();
	}
	if (exec_rc != 0 && load_status == 0) {
		fprintf(stderr, "elf_fuzz: execve fails (%s) for a program km loads\n",
			strerror((int)-exec_rc));
		abort();
	}
	return 0;
}
