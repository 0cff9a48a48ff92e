/* Processes: fork, vfork, posix_spawn, exec, wait and process groups. */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

extern char **environ;
static const char *self;

static int wait_status(pid_t pid)
{
	int status;
	CHECK(waitpid(pid, &status, 0) == pid, "waitpid %d", pid);
	return status;
}

static void expect_exit(pid_t pid, int code)
{
	int status = wait_status(pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == code, "status 0x%x, wanted exit %d", status,
	      code);
}

/* Everything a child writes to the pipe, until it closes. */
static void read_all(int fd, char *buf, size_t size)
{
	size_t n = 0;
	for (ssize_t r; n < size - 1 && (r = read(fd, buf + n, size - 1 - n)) > 0;)
		n += (size_t)r;
	buf[n] = '\0';
	close(fd);
}

/* The child's copy of memory is its own, in both directions. */
static void fork_basic(void)
{
	static volatile int shared_value = 1;
	enum { BIG = 48 << 20 }; /* past the first memory slot km gives KVM */
	char *heap = malloc(BIG);
	int p[2];
	pid_t parent = getpid();

	memset(heap, 'a', BIG);
	CHECK(pipe(p) == 0, "pipe");
	pid_t pid = fork();
	CHECK(pid >= 0, "fork");
	if (pid == 0) {
		char report[64];
		CHECK(getppid() == parent, "getppid %d, parent %d", getppid(), parent);
		CHECK(getpid() != parent, "child pid is the parent's");
		heap[0] = 'b';
		shared_value = 2;
		char *more = malloc(BIG);
		CHECK(more != NULL, "malloc in the child");
		memset(more, 'c', BIG);
		CHECK(more[BIG - 1] == 'c' && heap[BIG - 1] == 'a', "the child's memory");
		snprintf(report, sizeof(report), "%c%c %d", heap[0], heap[BIG - 1], shared_value);
		CHECK(write(p[1], report, strlen(report)) > 0, "write");
		_exit(7);
	}
	close(p[1]);
	char got[64];
	read_all(p[0], got, sizeof(got));
	expect_exit(pid, 7);
	CHECK(heap[0] == 'a' && shared_value == 1, "the child's writes reached the parent");
	OK("child saw '%s', exited 7; parent still has %c %d", got, heap[0], shared_value);
}

static pthread_mutex_t busy_lock = PTHREAD_MUTEX_INITIALIZER;
static volatile int stop_busy;
static long busy_count;

static void *busy(void *arg)
{
	(void)arg;
	while (!stop_busy) {
		pthread_mutex_lock(&busy_lock);
		busy_count++;
		pthread_mutex_unlock(&busy_lock);
	}
	return NULL;
}

static void *child_thread(void *arg)
{
	return (void *)((intptr_t)arg * 2);
}

/* fork while other threads run: the child has one thread, and can make more. */
static void fork_threads(void)
{
	pthread_t t[3];
	enum { FORKS = 20 };

	for (int i = 0; i < 3; i++)
		CHECK(pthread_create(&t[i], NULL, busy, NULL) == 0, "pthread_create");
	for (int i = 0; i < FORKS; i++) {
		pid_t pid = fork();
		CHECK(pid >= 0, "fork %d", i);
		if (pid == 0) {
			pthread_t c;
			void *r;
			CHECK(pthread_create(&c, NULL, child_thread, (void *)(intptr_t)i) == 0, "create");
			CHECK(pthread_join(c, &r) == 0, "join");
			_exit((int)(intptr_t)r);
		}
		expect_exit(pid, 2 * i);
	}
	stop_busy = 1;
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	OK("%d forks from a process with 3 busy threads, each child ran a thread", FORKS);
}

static volatile sig_atomic_t chld_seen;
static void on_chld(int sig)
{
	(void)sig;
	chld_seen++;
}

/* Statuses for exit, signal death and stop, through waitpid, waitid and SIGCHLD. */
static void statuses(void)
{
	struct sigaction sa = { .sa_handler = on_chld };
	sigset_t block, old;

	sigaction(SIGCHLD, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, &old);

	pid_t pid = fork();
	if (pid == 0)
		_exit(3);
	while (!chld_seen)
		sigsuspend(&old);
	siginfo_t si = { 0 };
	CHECK(waitid(P_PID, (id_t)pid, &si, WEXITED) == 0, "waitid");
	CHECK(si.si_code == CLD_EXITED && si.si_status == 3 && si.si_pid == pid,
	      "waitid code %d status %d", si.si_code, si.si_status);

	pid = fork();
	if (pid == 0) {
		pause();
		_exit(0);
	}
	CHECK(kill(pid, SIGTERM) == 0, "kill");
	int status = wait_status(pid);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM, "status 0x%x", status);

	pid = fork();
	if (pid == 0) {
		volatile int *nowhere = NULL;
		return (void)(*nowhere = 1);
	}
	status = wait_status(pid);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV, "status 0x%x", status);

	CHECK(waitpid(-1, &status, WNOHANG) == -1 && errno == ECHILD, "a child is left");
	OK("exit 3 by waitid after SIGCHLD, SIGTERM and SIGSEGV deaths by waitpid, then ECHILD");
}

/* What path prints when a vfork or fork child execs it with args; it must exit 0. */
static void exec_captured(bool by_vfork, const char *path, char **args, char *out, size_t size)
{
	int p[2];

	CHECK(pipe(p) == 0, "pipe");
	pid_t pid = by_vfork ? vfork() : fork();
	if (pid == 0) {
		dup2(p[1], 1);
		execve(path, args, environ);
		_exit(127);
	}
	close(p[1]);
	read_all(p[0], out, size);
	expect_exit(pid, 0);
}

/* SIGCHLD ignored, or SA_NOCLDWAIT, reaps children: wait finds none. */
static void no_zombies(void)
{
	signal(SIGCHLD, SIG_IGN);
	pid_t pid = fork();
	if (pid == 0)
		_exit(1);
	CHECK(wait(NULL) < 0 && errno == ECHILD, "a child of an ignored SIGCHLD was left");

	struct sigaction sa = { .sa_handler = on_chld, .sa_flags = SA_NOCLDWAIT };
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, &old);
	sigaction(SIGCHLD, &sa, NULL);
	chld_seen = 0;
	if ((pid = fork()) == 0)
		_exit(2);
	while (!chld_seen)
		sigsuspend(&old);
	CHECK(wait(NULL) < 0 && errno == ECHILD, "a child under SA_NOCLDWAIT was left");

	signal(SIGCHLD, SIG_DFL);
	if ((pid = fork()) == 0)
		_exit(3);
	expect_exit(pid, 3);
	OK("no zombies with SIGCHLD ignored or SA_NOCLDWAIT (whose handler still runs); "
	   "waitpid again once SIGCHLD is default");
}

/* vfork's parent waits for the child's exec or exit. */
static void vfork_exec(void)
{
	pid_t pid = vfork();
	if (pid == 0)
		_exit(5);
	expect_exit(pid, 5);

	char *args[] = { (char *)self, "print-args", "from", "vfork", NULL };
	char got[128];
	exec_captured(true, self, args, got, sizeof(got));
	printf("vfork child exited 5; exec'd child printed: %s", got);
}

/* The print-args program exec'd by the others. */
static void print_args(int argc, char **argv)
{
	for (int i = 2; i < argc; i++)
		printf("%s%s", argv[i], i + 1 < argc ? " " : "\n");
}

/* posix_spawn with file actions, and its error for a missing program. */
static void spawn(void)
{
	posix_spawn_file_actions_t fa;
	int p[2];
	pid_t pid;

	CHECK(pipe(p) == 0, "pipe");
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawn_file_actions_addclose(&fa, p[0]);
	char *args[] = { (char *)self, "print-args", "spawned", "child", NULL };
	CHECK(posix_spawn(&pid, self, &fa, NULL, args, environ) == 0, "posix_spawn");
	close(p[1]);
	char got[128];
	read_all(p[0], got, sizeof(got));
	expect_exit(pid, 0);
	char *none[] = { "/no/such/program", NULL };
	int rc = posix_spawn(&pid, none[0], NULL, NULL, none, environ);
	CHECK(rc == ENOENT, "posix_spawn of a missing program: %d", rc);
	printf("spawned child printed: %sa missing program: ENOENT\n", got);
}

/* exec keeps the pid, fds without FD_CLOEXEC, ignored signals, the mask and blocked pending signals. */
static void exec_keeps(void)
{
	char pid[32];
	sigset_t block;

	snprintf(pid, sizeof(pid), "%d", getpid());
	CHECK(dup2(1, 5) == 5 && dup2(1, 6) == 6, "dup2");
	fcntl(6, F_SETFD, FD_CLOEXEC);
	signal(SIGUSR2, SIG_IGN);
	signal(SIGHUP, on_chld);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGRTMIN + 1);
	sigprocmask(SIG_BLOCK, &block, NULL);
	raise(SIGUSR1);
	for (int v = 7; v <= 8; v++)
		CHECK(sigqueue(getpid(), SIGRTMIN + 1, (union sigval){ .sival_int = v }) == 0, "sigqueue");
	char *args[] = { "another-name", "after-exec", pid, NULL };
	execve(self, args, environ);
	CHECK(0, "execve");
}

static void after_exec(int argc, char **argv)
{
	sigset_t mask;
	struct sigaction sa;

	CHECK(argc == 3 && atoi(argv[2]) == getpid(), "pid changed across exec");
	CHECK(strcmp(argv[0], "another-name") == 0, "argv[0] is '%s'", argv[0]);
	CHECK(fcntl(5, F_GETFD) == 0, "fd 5 lost");
	CHECK(fcntl(6, F_GETFD) < 0 && errno == EBADF, "the FD_CLOEXEC fd 6 survived");
	sigprocmask(SIG_BLOCK, NULL, &mask);
	CHECK(sigismember(&mask, SIGUSR1) == 1, "SIGUSR1 no longer blocked");
	sigaction(SIGUSR2, NULL, &sa);
	CHECK(sa.sa_handler == SIG_IGN, "SIGUSR2 no longer ignored");
	sigaction(SIGHUP, NULL, &sa);
	CHECK(sa.sa_handler == SIG_DFL, "SIGHUP's handler survived exec");
	sigset_t pending;
	siginfo_t info;
	const struct timespec now = { 0, 0 };
	sigpending(&pending);
	CHECK(sigismember(&pending, SIGUSR1) == 1 && sigismember(&pending, SIGRTMIN + 1) == 1,
	      "the blocked signals raised before exec are no longer pending");
	CHECK(sigtimedwait(&mask, &info, &now) == SIGUSR1 && info.si_pid == getpid(), "SIGUSR1's info");
	for (int v = 7; v <= 8; v++)
		CHECK(sigtimedwait(&mask, &info, &now) == SIGRTMIN + 1 && info.si_value.sival_int == v &&
			      info.si_code == SI_QUEUE,
		      "SIGRTMIN+1 with value %d", v);
	CHECK(sigtimedwait(&mask, &info, &now) < 0 && errno == EAGAIN, "a signal too many");
	OK("same pid, argv[0] %s, fd 5 open, fd 6 closed, SIGUSR1 blocked, SIGUSR2 ignored, "
	   "SIGHUP default, SIGUSR1 and SIGRTMIN+1 (7, 8) still pending", argv[0]);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	CHECK(fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text), "%s", path);
	close(fd);
}

/* A "#!" script runs its interpreter; bad programs fail execve with Linux's errors. */
static void scripts_and_errors(void)
{
	char dir[] = "/tmp/process.XXXXXX", script[64], text[64], line[4200];

	CHECK(mkdtemp(dir) != NULL, "mkdtemp");
	snprintf(script, sizeof(script), "%s/script", dir);
	snprintf(line, sizeof(line), "#!%s  print-args \t\nthis line is not read\n", self);
	write_file(script, line, 0755);
	char *script_args[] = { "ignored", "three", NULL };
	char got[4096];
	exec_captured(false, script, script_args, got, sizeof(got));
	snprintf(line, sizeof(line), "%s three\n", script);
	CHECK(strcmp(got, line) == 0, "the script's interpreter printed '%s'", got);
	printf("the interpreter got its argument, the script's path and the script's args");

	snprintf(text, sizeof(text), "%s/text", dir);
	write_file(text, "no interpreter line\n", 0755);
	char *args[] = { "x", NULL };
	CHECK(execve(text, args, environ) < 0 && errno == ENOEXEC, "text file");
	chmod(text, 0644);
	CHECK(execve(text, args, environ) < 0 && errno == EACCES, "not executable");
	CHECK(execve("/no/such/program", args, environ) < 0 && errno == ENOENT, "missing");
	CHECK(execve(dir, args, environ) < 0 && errno == EACCES, "directory");
	unlink(script);
	unlink(text);
	rmdir(dir);
	printf("; execve errors ENOEXEC, EACCES, ENOENT, EACCES\n");
}

/* Process groups and sessions. */
static void groups(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		CHECK(setpgid(0, 0) == 0 && getpgrp() == getpid(), "setpgid");
		pid_t inner = fork();
		if (inner == 0) {
			CHECK(setsid() == getpid() && getsid(0) == getpid(), "setsid");
			CHECK(getpgrp() == getpid(), "a new session's group");
			_exit(0);
		}
		expect_exit(inner, 0);
		_exit(0);
	}
	expect_exit(pid, 0);
	OK("setpgid and setsid in children; getpgrp and getsid agree");
}

/* system and popen run /bin/sh -c, whatever shell that is. */
static void shell(void)
{
	int status = system("echo from system; exit 4");
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 4, "system status 0x%x", status);
	FILE *f = popen("echo from popen; echo second line", "r");
	CHECK(f != NULL, "popen");
	char line[64], second[64];
	CHECK(fgets(line, sizeof(line), f) && fgets(second, sizeof(second), f), "popen output");
	CHECK(pclose(f) == 0, "pclose");
	printf("system exited 4; popen read: %s", line);
}

/* A whole file, binary or text, NUL-terminated. */
static char *slurp(const char *path, size_t *len)
{
	static char buf[1 << 16];
	int fd = open(path, O_RDONLY);
	ssize_t n = 0;

	CHECK(fd >= 0, "open %s", path);
	for (*len = 0; *len < sizeof(buf) - 1 && (n = read(fd, buf + *len, sizeof(buf) - 1 - *len)) > 0;)
		*len += (size_t)n;
	CHECK(n >= 0, "read %s", path);
	close(fd);
	buf[*len] = '\0';
	return buf;
}

/* Whether maps has a line for [start, end) covering addr with these permissions. */
static bool mapped_as(const char *maps, const void *addr, const char *perms)
{
	uintptr_t a = (uintptr_t)addr;
	for (const char *line = maps; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		unsigned long lo, hi;
		char p[5];
		if (sscanf(line, "%lx-%lx %4s", &lo, &hi, p) == 3 && lo <= a && a < hi)
			return strcmp(p, perms) == 0;
	}
	return false;
}

static int proc_argc;
static char **proc_argv;

/* /proc/self answers for the program: exe, cmdline, environ, maps and auxv. */
static void proc_self(void)
{
	char link[4096], *real = realpath(self, NULL);
	size_t len;

	ssize_t n = readlink("/proc/self/exe", link, sizeof(link) - 1);
	CHECK(n > 0 && real, "readlink");
	link[n] = '\0';
	CHECK(strcmp(link, real) == 0, "/proc/self/exe is %s, not %s", link, real);
	char *exe = slurp("/proc/self/exe", &len);
	CHECK(len > 4 && memcmp(exe, "\177ELF", 4) == 0, "/proc/self/exe is not the ELF program");

	char *cmd = slurp("/proc/self/cmdline", &len), *at = cmd;
	for (int i = 0; i < proc_argc; i++) {
		CHECK(strcmp(at, proc_argv[i]) == 0, "cmdline has '%s' for '%s'", at, proc_argv[i]);
		at += strlen(at) + 1;
	}
	CHECK((size_t)(at - cmd) == len, "cmdline is %zu bytes", len);

	char *env = slurp("/proc/self/environ", &len);
	CHECK(environ[0] && strcmp(env, environ[0]) == 0, "environ starts '%s'", env);

	uint64_t *aux = (uint64_t *)slurp("/proc/self/auxv", &len);
	bool pagesz = false;
	for (size_t i = 0; i + 1 < len / 8 && aux[i]; i += 2)
		pagesz |= aux[i] == 6 && aux[i + 1] == 4096; /* AT_PAGESZ */
	CHECK(pagesz, "auxv has no AT_PAGESZ 4096");

	int local = 0;
	void *ro = mmap(NULL, 8192, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(ro != MAP_FAILED, "mmap");
	char *maps = slurp("/proc/self/maps", &len);
	CHECK(mapped_as(maps, &local, "rw-p"), "the stack is not rw-p in:\n%s", maps);
	CHECK(mapped_as(maps, ro, "r--p"), "the read-only mapping is not r--p in:\n%s", maps);
	CHECK(mapped_as(maps, (void *)proc_self, "r-xp"), "the code is not r-xp in:\n%s", maps);
	CHECK(strstr(maps, "[stack]") && strstr(maps, real), "no [stack] or program in:\n%s", maps);
	free(real);
	OK("/proc/self: exe, cmdline, environ, auxv and maps describe this program");
}

/* exec of /proc/self/exe, directly or through a symlink, runs this program again. */
static void exec_self(void)
{
	char dir[] = "/tmp/process.XXXXXX", link[64], got[256];
	char *args[] = { "x", "print-args", "run", "again", NULL };

	exec_captured(false, "/proc/self/exe", args, got, sizeof(got));
	CHECK(strcmp(got, "run again\n") == 0, "/proc/self/exe printed '%s'", got);
	CHECK(mkdtemp(dir) != NULL, "mkdtemp");
	snprintf(link, sizeof(link), "%s/self", dir);
	CHECK(symlink("/proc/self/exe", link) == 0, "symlink");
	exec_captured(false, link, args, got, sizeof(got));
	CHECK(strcmp(got, "run again\n") == 0, "the symlink printed '%s'", got);
	unlink(link);
	rmdir(dir);
	OK("exec of /proc/self/exe, and of a symlink to it, runs this program again");
}

/*
 * Another process's signal 64 (SIGRTMAX, which km uses to get a vCPU's
 * attention) reaching children while they fork: each child exits or dies
 * of it, as on Linux; km must not fault on the way.
 */
static void signal_while_forking(void)
{
	int odd = 0;
	for (int i = 0; i < 50; i++) {
		pid_t pid = fork();
		CHECK(pid >= 0, "fork");
		if (pid == 0) {
			pid_t inner = fork();
			if (inner == 0)
				_exit(0);
			for (int j = 0; j < 300; j++)
				getppid();
			_exit(0);
		}
		for (int k = 0; k < 50; k++)
			kill(pid, 64);
		int status = wait_status(pid);
		if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0) &&
		    !(WIFSIGNALED(status) && WTERMSIG(status) == 64)) {
			printf("child %d: status 0x%x\n", i, status);
			odd++;
		}
	}
	CHECK(odd == 0, "%d children ended otherwise", odd);
	OK("50 children sent signal 64 while they forked: each exited or died of it");
}

/*
 * A user whose RLIMIT_NPROC is spent: fork fails with EAGAIN and the
 * program goes on. km's processes have threads of their own, so its
 * children run out sooner than native ones; km must not exit on the way.
 */
static void fork_without_room(void)
{
	const struct rlimit four = { 4, 4 };
	pid_t tester = fork();

	CHECK(tester >= 0, "fork");
	if (tester == 0) {
		pid_t kids[8];
		int made = 0, err = 0;
		CHECK(setrlimit(RLIMIT_NPROC, &four) == 0 && setuid(65534) == 0,
		      "RLIMIT_NPROC 4 as user 65534 (this case runs as root)");
		while (made < 8) {
			pid_t pid = fork();
			if (pid == 0) {
				pause();
				_exit(0);
			}
			if (pid < 0) {
				err = errno;
				break;
			}
			kids[made++] = pid;
		}
		for (int i = 0; i < made; i++) {
			kill(kids[i], SIGKILL);
			waitpid(kids[i], NULL, 0);
		}
		CHECK(err == EAGAIN && made >= 1 && made <= 3, "%d children, then %s", made,
		      errno_name(err));
		_exit(0);
	}
	expect_exit(tester, 0);
	OK("as user 65534 with RLIMIT_NPROC 4, fork fails with EAGAIN after 1 to 3 children");
}

int main(int argc, char **argv)
{
	static const struct test_case cases[] = {
		{ "fork", fork_basic },	     { "fork-threads", fork_threads },
		{ "statuses", statuses },     { "vfork", vfork_exec },
		{ "spawn", spawn },	     { "exec", exec_keeps },
		{ "scripts", scripts_and_errors }, { "groups", groups },
		{ "shell", shell },	     { "proc-self", proc_self },
		{ "no-zombies", no_zombies }, { "signal-while-forking", signal_while_forking },
		{ "exec-self", exec_self },   { "no-room", fork_without_room },
	};

	self = argv[0];
	proc_argc = argc;
	proc_argv = argv;
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc > 1 && strcmp(argv[1], "print-args") == 0) {
		print_args(argc, argv);
		return 0;
	}
	if (argc > 2 && strcmp(argv[1], "exec-dynamic") == 0) {
		char *args[] = { argv[2], NULL };
		execve(argv[2], args, environ);
		printf("execve %s: %s\n", argv[2], errno == ENOEXEC ? "ENOEXEC" : strerror(errno));
		return 0;
	}
	if (argc > 1 && strcmp(argv[1], "chdir-exec") == 0) {
		char *args[] = { (char *)self, "print-args", "after", "chdir", NULL };
		CHECK(self[0] == '/' && chdir("/") == 0, "chdir");
		execve(self, args, environ);
		CHECK(0, "execve");
	}
	if (argc > 1 && strcmp(argv[1], "after-exec") == 0) {
		after_exec(argc, argv);
		return 0;
	}
	return RUN_CASE(argc, argv, cases);
}
