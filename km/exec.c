/*
 * execve for the guest: km execs itself on the new program, so the new
 * image gets a new VM while the host kernel keeps what exec keeps (pid,
 * fds without FD_CLOEXEC, cwd, limits, alarm). km first checks that it can
 * run the program, so that a bad one fails the guest's execve with Linux's
 * errno instead of ending the process after the exec.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "km.h"

#define SCRIPT_LINE 256 /* what Linux reads of a "#!" line */
#define KM_OPTIONS (11 + KM_RLIMIT_OPTIONS) /* the most km options exec passes on, with "--" */

struct program {
	int fd;
	char line[SCRIPT_LINE + 1];
	char *interp, *interp_arg; /* a script's, inside line */
};

/* Linux's permission checks, for the errno the guest expects. */
static long open_program(const char *path, struct program *p)
{
	struct stat st;

	if (access(path, X_OK) != 0)
		return -errno;
	p->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (p->fd < 0)
		return -errno;
	if (fstat(p->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(p->fd);
		p->fd = -1;
		return -EACCES;
	}
	return 0;
}

/* "#!interp [arg]": the optional argument is the rest of the line, trimmed. */
static bool parse_script(struct program *p)
{
	ssize_t n = pread(p->fd, p->line, SCRIPT_LINE, 0);
	if (n < 2 || p->line[0] != '#' || p->line[1] != '!')
		return false;
	p->line[n] = '\0';
	char *end = strchr(p->line, '\n');
	if (end)
		*end = '\0';
	char *s = p->line + 2;
	s += strspn(s, " \t");
	p->interp = s;
	s += strcspn(s, " \t");
	if (*s) {
		*s++ = '\0';
		s += strspn(s, " \t");
	}
	for (char *t = s + strlen(s); t > s && (t[-1] == ' ' || t[-1] == '\t');)
		*--t = '\0';
	p->interp_arg = *s ? s : NULL;
	return true;
}

/*
 * A program the new km will load: the loader's own checks (km_elf_check),
 * so that execve fails here rather than the new km after the exec. A
 * dynamic one is a km limit, so it says so.
 */
static long check_elf(struct km_vm *vm, int fd, const char *path)
{
	switch (km_elf_check(fd, path, vm->mem_limit)) {
	case KM_ELF_OK:
		return 0;
	case KM_ELF_NO_INTERP:
		return -ENOENT; /* as Linux says of a missing ELF interpreter */
	case KM_ELF_BAD_INTERP:
		return -ELIBBAD;
	case KM_ELF_TOO_BIG:
		return -ENOMEM;
	default:
		return -ENOEXEC;
	}
}

static long check_interpreter(struct km_vm *vm, const char *interp)
{
	struct program p;
	long rc = open_program(interp, &p);
	if (rc < 0)
		return rc;
	rc = parse_script(&p) ? -ENOEXEC : check_elf(vm, p.fd, interp); /* no nested scripts */
	close(p.fd);
	return rc;
}

static size_t count(char *const *v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	return n;
}

/*
 * The options every km that a guest's exec starts gets, at av[*n]: the
 * memory limit, the guest's own limits (which km never applies to itself:
 * the new km reserves guest memory under its own), the log, --core,
 * seccomp's state and this km's /dev/kvm. Returns where the rest of opts begins.
 */
static char *confinement(struct km_vm *vm, char *o, char **av, size_t *n)
{
	av[(*n)++] = o;
	o += sprintf(o, "--mem-limit=%lu", (unsigned long)vm->mem_limit) + 1;
	*n += (size_t)km_rlimit_options(vm, o, av + *n);
	o += KM_RLIMIT_OPTIONS * KM_RLIMIT_OPTION_MAX;
	if (km_verbose) {
		av[(*n)++] = o;
		o += (vm->log_path ? sprintf(o, "--log-to=%s", vm->log_path) : sprintf(o, "-v")) + 1;
	}
	if (km_core_path()) {
		av[(*n)++] = o;
		o += sprintf(o, "--core=%s", km_core_path()) + 1;
	}
	if (km_stats_path()) {
		av[(*n)++] = o;
		o += sprintf(o, "--stats=%s", km_stats_path()) + 1;
	}
	if (km_fast_exec_option()) {
		av[(*n)++] = o;
		o += sprintf(o, "%s", km_fast_exec_option()) + 1;
	}
	if (km_gdb_exec_option(o, 96)) { /* gdb's session goes on with the new program */
		av[(*n)++] = o;
		o += strlen(o) + 1;
	}
	av[(*n)++] = (char *)km_seccomp_exec_option();
	av[(*n)++] = o;
	o += sprintf(o, "--kvm-fd=%d", vm->kvm_fd) + 1;
	return o;
}

/*
 * km [km's options] --argv0=ARGV0 -- PROGRAM ARGS... for an ELF; for a
 * script, Linux's "interp [arg] script args...", the guest's argv[0] dropped.
 */
static char **km_command(struct km_vm *vm, const struct km_exec_args *x, const struct program *p,
			 char *opts)
{
	size_t argc = count(x->argv);
	char **av = calloc(argc + KM_OPTIONS + 4, sizeof(*av));
	size_t n = 0;

	if (av == NULL)
		return NULL;
	av[n++] = (char *)vm->km_argv0;
	char *o = confinement(vm, opts, av, &n);
	if (p->interp == NULL && argc > 0) {
		av[n++] = o;
		sprintf(o, "--argv0=%s", x->argv[0]);
	}
	av[n++] = "--";
	if (p->interp) {
		av[n++] = p->interp;
		if (p->interp_arg)
			av[n++] = p->interp_arg;
	}
	av[n++] = (char *)x->path;
	for (size_t i = 1; i < argc; i++)
		av[n++] = x->argv[i];
	av[n] = NULL;
	return av;
}

/*
 * A guest that runs km itself ("km [options] program args") gets its
 * program in this VM's place, not a VM inside this one: the guest's km
 * options, then this km's confinement, which comes later and so wins (a
 * guest cannot loosen its memory limit, its limits or seccomp this way),
 * then the program and its arguments.
 */
static char **km_again_command(struct km_vm *vm, const struct km_exec_args *x, char *opts)
{
	int argc = (int)count(x->argv);
	char **av = calloc((size_t)argc + KM_OPTIONS + 2, sizeof(*av));
	size_t n = 0;

	if (av == NULL)
		return NULL;
	int end = argc > 0 ? km_options_end(argc, x->argv) : 0;
	if (end > 1 && strcmp(x->argv[end - 1], "--") == 0)
		end--; /* ours go before the guest's "--" */
	av[n++] = (char *)vm->km_argv0;
	for (int i = 1; i < end; i++)
		av[n++] = x->argv[i];
	confinement(vm, opts, av, &n);
	for (int i = end > 0 ? end : 1; i < argc; i++)
		av[n++] = x->argv[i];
	av[n] = NULL;
	return av;
}

/* Whether the file open on fd is km's own binary. */
static bool is_km(int fd)
{
	struct stat st, km;

	return fstat(fd, &st) == 0 && stat("/proc/self/exe", &km) == 0 && st.st_dev == km.st_dev &&
	       st.st_ino == km.st_ino;
}

/*
 * The program a path names: the guest's own where the path reaches km's
 * binary through /proc (/proc/self/exe, however spelled), as the guest's
 * stat and open see it (procfs.c), not km.
 */
static const char *program_path(struct km_vm *vm, const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return path;
	const char *exe = km_proc_stat_exe(vm, AT_FDCWD, path, 0, st.st_dev, st.st_ino);
	return exe ? exe : path;
}

long km_exec(struct km_vcpu *vcpu, const struct km_exec_args *guest_args)
{
	struct km_vm *vm = vcpu->vm;
	struct program p = { .fd = -1 };
	struct km_exec_args args = *guest_args, *x = &args;

	x->path = program_path(vm, x->path);
	long rc = open_program(x->path, &p);
	if (rc < 0)
		return rc;
	bool again = is_km(p.fd), script = !again && parse_script(&p);
	if (script)
		p.interp = (char *)program_path(vm, p.interp);
	rc = again ? 0 : script ? check_interpreter(vm, p.interp) : check_elf(vm, p.fd, x->path);
	close(p.fd);
	if (rc < 0)
		return rc;

	size_t opt_len = 64 + 24 + (vm->log_path ? strlen(vm->log_path) : 0) +
			 (km_core_path() ? strlen(km_core_path()) + 8 : 0) +
			 (km_stats_path() ? strlen(km_stats_path()) + 8 : 0) +
			 (count(x->argv) ? strlen(x->argv[0]) : 0) + 4 * 16 + 96 +
			 KM_RLIMIT_OPTIONS * KM_RLIMIT_OPTION_MAX;
	char *opts = malloc(opt_len);
	char **av = opts == NULL ? NULL : again ? km_again_command(vm, x, opts) :
						 km_command(vm, x, &p, opts);
	if (av == NULL) {
		free(opts);
		return -ENOMEM;
	}
	sigset_t saved;
	struct rlimit raised;
	km_signals_before_exec(vcpu, &saved);
	km_fds_before_exec(&raised);
	fcntl(vm->kvm_fd, F_SETFD, 0); /* the new km's: --kvm-fd */
	km_gdb_before_exec(true);
	km_stats_write("exec");
	execve("/proc/self/exe", av, x->envp);
	rc = -errno;
	km_gdb_before_exec(false);
	fcntl(vm->kvm_fd, F_SETFD, FD_CLOEXEC);
	km_fds_exec_failed(&raised);
	km_signals_exec_failed(vm, &saved);
	free(av);
	free(opts);
	return rc == -ENOENT ? -ENOEXEC : rc; /* no /proc: not the guest's fault, but no exec */
}

/*
 * A name without a slash: the file of that name in the current directory,
 * as km has always run it (km app.km), or else the first executable one in
 * PATH, as execvp finds it (km ls). NULL, with errno, if there is none.
 */
static char *find_program(const char *name)
{
	if (strchr(name, '/') || access(name, F_OK) == 0)
		return strdup(name);
	const char *dir = getenv("PATH");
	int err = ENOENT;

	for (dir = dir ? dir : "/bin:/usr/bin";; dir++) {
		size_t len = strcspn(dir, ":");
		char *file;
		struct stat st;
		if (asprintf(&file, "%.*s%s%s", (int)len, dir, len ? "/" : "", name) < 0)
			km_die(1, "km: out of memory");
		if (stat(file, &st) == 0 && S_ISREG(st.st_mode)) {
			if (access(file, X_OK) == 0)
				return file;
			err = EACCES;
		}
		free(file);
		dir += len;
		if (*dir == '\0')
			break;
	}
	errno = err;
	return NULL;
}

/*
 * The program km was started on, as execve would run it: found as above;
 * a "#!" script runs its interpreter with Linux's arguments (interp [arg]
 * script args..., the script's argv[0] dropped). Returns the guest's argv;
 * *file is the ELF to load, *execfn what AT_EXECFN names, *fd the ELF open
 * (read once: on a network file system each open and stat is a round trip)
 * or -1.
 */
char **km_start_program(char **argv, const char **file, const char **execfn, int *fd)
{
	struct program p = { .fd = -1 };
	char *path = find_program(argv[0]);

	if (path == NULL)
		km_die(2, "km: cannot run '%s': %s", argv[0],
		       errno == ENOENT ? "no such file, here or in PATH" : strerror(errno));
	*file = *execfn = path;
	*fd = -1;
	if (open_program(path, &p) < 0 || !parse_script(&p)) {
		*fd = p.fd;
		return argv; /* the loader says what is wrong with it, if anything */
	}
	close(p.fd);
	if (*p.interp == '\0')
		km_die(2, "km: cannot run '%s': its #! line names no interpreter", path);
	if (access(p.interp, X_OK) != 0)
		km_die(2, "km: cannot run '%s': bad interpreter '%s': %s", path, p.interp, strerror(errno));
	size_t argc = count(argv);
	char **av = calloc(argc + 3, sizeof(*av));
	size_t n = 0;
	if (av == NULL)
		km_die(1, "km: out of memory");
	av[n++] = strdup(p.interp);
	if (p.interp_arg)
		av[n++] = strdup(p.interp_arg);
	av[n++] = path;
	for (size_t i = 1; i < argc; i++)
		av[n++] = argv[i];
	*file = av[0];
	return av;
}
