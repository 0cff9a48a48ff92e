/*
 * kontain-interp: the ELF interpreter (PT_INTERP) that kontain-gcc writes into
 * every program it links, so that running `./app.km` runs `km ./app.km`, as a
 * shell, make or configure's `./conftest` expect of any program they build.
 *
 * Linux maps the program and this file and jumps here. We exec the km of the
 * same SDK (<sdk>/bin/km, as this file is <sdk>/lib/kontain-interp, named by
 * the program's PT_INTERP), with the program's path and its argv[0].
 *
 * Nothing relocates an interpreter: this is freestanding, position-independent
 * code with no relocations (the build checks), calling Linux directly.
 */
#include <elf.h>
#include <linux/limits.h>
#include <asm/unistd.h>
#include <asm-generic/errno-base.h>

#define KM_FROM_LIB "/../bin/km"
#define EXIT_NO_KM 127 /* as a shell says of a command it cannot run */
#define EXIT_USAGE 2

static long linux_call3(long nr, long a, long b, long c)
{
	long ret;

	__asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
	return ret;
}

static unsigned long length(const char *s)
{
	unsigned long n = 0;

	while (s[n])
		n++;
	return n;
}

static void say(const char *s)
{
	linux_call3(__NR_write, 2, (long)s, (long)length(s));
}

static __attribute__((noreturn)) void leave(int status)
{
	for (;;)
		linux_call3(__NR_exit_group, status, 0, 0);
}

static const char *reason(long err)
{
	/* Not a switch: its table of pointers would need relocating. */
	if (err == ENOENT)
		return "no such file";
	if (err == EACCES)
		return "permission denied";
	if (err == ENOEXEC)
		return "not an executable";
	if (err == E2BIG)
		return "argument list too long";
	if (err == ENOMEM)
		return "out of memory";
	return "cannot execute it";
}

/* The program's PT_INTERP string, in its loaded image (AT_PHDR's segment). */
static const char *program_interp(const Elf64_Phdr *phdr, unsigned long phnum)
{
	unsigned long bias = 0, i;

	for (i = 0; i < phnum; i++)
		if (phdr[i].p_type == PT_PHDR)
			bias = (unsigned long)phdr - phdr[i].p_vaddr;
	for (i = 0; i < phnum; i++)
		if (phdr[i].p_type == PT_INTERP && phdr[i].p_filesz > 1)
			return (const char *)(bias + phdr[i].p_vaddr);
	return 0;
}

/* <sdk>/lib/kontain-interp -> <sdk>/lib/../bin/km, or 0 if it does not fit. */
static const char *km_path(const char *interp, char *buf)
{
	unsigned long n = length(interp), i;

	while (n > 0 && interp[n - 1] != '/')
		n--;
	if (n == 0 || n - 1 + sizeof(KM_FROM_LIB) > PATH_MAX)
		return 0;
	for (i = 0; i < n - 1; i++)
		buf[i] = interp[i];
	for (unsigned long j = 0; j < sizeof(KM_FROM_LIB); j++)
		buf[i + j] = KM_FROM_LIB[j];
	return buf;
}

__attribute__((noreturn, used)) void interp_main(long *stack)
{
	long argc = stack[0];
	char **argv = (char **)(stack + 1), **envp = argv + argc + 1, **e = envp;
	const Elf64_Phdr *phdr = 0;
	unsigned long phnum = 0;
	const char *execfn = 0, *interp, *km;
	char kmbuf[PATH_MAX];

	while (*e)
		e++;
	for (Elf64_auxv_t *av = (Elf64_auxv_t *)(e + 1); av->a_type != AT_NULL; av++) {
		if (av->a_type == AT_PHDR)
			phdr = (const Elf64_Phdr *)av->a_un.a_val;
		else if (av->a_type == AT_PHNUM)
			phnum = av->a_un.a_val;
		else if (av->a_type == AT_EXECFN)
			execfn = (const char *)av->a_un.a_val;
	}
	interp = phdr ? program_interp(phdr, phnum) : 0;
	if (interp == 0 || execfn == 0) {
		say("kontain-interp: this is the ELF interpreter of programs built by kontain-gcc: "
		    "run such a program, or km PROGRAM\n");
		leave(EXIT_USAGE);
	}
	if ((km = km_path(interp, kmbuf)) == 0) {
		say("kontain-interp: the program's interpreter path is too long\n");
		leave(EXIT_NO_KM);
	}

	/* km --argv0 ARGV0 -- PATH ARGS... */
	char *kmargv[argc + 6];
	long n = 0;
	kmargv[n++] = (char *)km;
	if (argc > 0) {
		kmargv[n++] = "--argv0";
		kmargv[n++] = argv[0];
	}
	kmargv[n++] = "--";
	kmargv[n++] = (char *)execfn;
	for (long i = 1; i < argc; i++)
		kmargv[n++] = argv[i];
	kmargv[n] = 0;

	long err = -linux_call3(__NR_execve, (long)km, (long)kmargv, (long)envp);
	say("kontain-interp: cannot run km, ");
	say(km);
	say(": ");
	say(reason(err));
	/* An image's program run by a container engine's usual runtime. */
	if (err == ENOENT)
		say(" (in a container, run it with the OCI runtime krun: docker run --runtime=krun)");
	say("\n");
	leave(EXIT_NO_KM);
}

/* Linux starts us with the stack holding argc, argv, envp and auxv. */
__asm__(".globl _start\n"
	"_start:\n"
	"	xor %ebp, %ebp\n"
	"	mov %rsp, %rdi\n"
	"	and $-16, %rsp\n"
	"	call interp_main\n"
	"	hlt\n");
