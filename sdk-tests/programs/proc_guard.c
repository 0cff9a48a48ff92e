/*
 * /proc from inside the guest: what would reach km's own process is refused or
 * answers for the program, however the path is spelled (self, <pid>,
 * thread-self, task/<tid>, a dirfd, a symlink, through /proc/self/root).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

#define MAX_SPELLINGS 16

struct spelling {
	int dirfd;
	char path[160];
};

static struct spelling spells[MAX_SPELLINGS];
static int nspells;
static pid_t pid, other_tid;
static char tmp[] = "/tmp/proc_guard.XXXXXX";
static int proc_fd, self_fd, task_fd;
static int hold[2]; /* the second thread waits on it */

/* A whole file, binary or text, NUL-terminated, in buf. */
static char *slurp_at(int dirfd, const char *path, size_t *len, char *buf, size_t size)
{
	int fd = openat(dirfd, path, O_RDONLY);
	ssize_t n = 0;

	CHECK(fd >= 0, "open %s", path);
	for (*len = 0; *len < size - 1 && (n = read(fd, buf + *len, size - 1 - *len)) > 0;)
		*len += (size_t)n;
	CHECK(n >= 0, "read %s", path);
	close(fd);
	buf[*len] = '\0';
	return buf;
}

/* Whether maps has a line covering addr with these permissions. */
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

static void *waiter(void *arg)
{
	char c;
	other_tid = (pid_t)syscall(SYS_gettid);
	write(*(int *)arg, "", 1);
	read(hold[0], &c, 1);
	return NULL;
}

/* A second thread, for task/<tid> and /proc/<tid>; dirfds; a temp dir for symlinks. */
static void setup(void)
{
	int ready[2];
	pthread_t t;
	char c, path[64];

	pid = getpid();
	CHECK(pipe(hold) == 0 && pipe(ready) == 0, "pipe");
	CHECK(pthread_create(&t, NULL, waiter, &ready[1]) == 0, "pthread_create");
	CHECK(read(ready[0], &c, 1) == 1, "the thread started");
	CHECK(mkdtemp(tmp) != NULL, "mkdtemp");
	snprintf(path, sizeof(path), "%s/proc", tmp);
	CHECK(symlink("/proc", path) == 0, "symlink to /proc");
	snprintf(path, sizeof(path), "/proc/self/task/%d", other_tid);
	proc_fd = open("/proc", O_RDONLY | O_DIRECTORY);
	self_fd = open("/proc/self", O_RDONLY | O_DIRECTORY);
	task_fd = open(path, O_PATH | O_DIRECTORY);
	CHECK(proc_fd >= 0 && self_fd >= 0 && task_fd >= 0, "dirfds in /proc");
}

static void cleanup(void)
{
	char path[64];

	snprintf(path, sizeof(path), "%s/proc", tmp);
	unlink(path);
	snprintf(path, sizeof(path), "%s/link", tmp);
	unlink(path);
	rmdir(tmp);
}

static void add(int dirfd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(int dirfd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	spells[nspells].dirfd = dirfd;
	vsnprintf(spells[nspells].path, sizeof(spells[nspells].path), fmt, ap);
	va_end(ap);
	nspells++;
}

/* Every way this program can name its own /proc/<pid>/`name` (tmp/link points to it). */
static void spell(const char *name)
{
	char link[64], target[64];

	snprintf(link, sizeof(link), "%s/link", tmp);
	snprintf(target, sizeof(target), "/proc/self/%s", name);
	unlink(link);
	CHECK(symlink(target, link) == 0, "symlink to %s", target);
	nspells = 0;
	add(AT_FDCWD, "/proc/self/%s", name);
	add(AT_FDCWD, "/proc/%d/%s", pid, name);
	add(AT_FDCWD, "/proc/thread-self/%s", name);
	add(AT_FDCWD, "/proc/self/task/%d/%s", pid, name);
	add(AT_FDCWD, "/proc/%d/task/%d/%s", pid, other_tid, name);
	add(AT_FDCWD, "/proc/%d/%s", other_tid, name);
	add(AT_FDCWD, "/proc/self/root/proc/self/%s", name);
	add(AT_FDCWD, "%s", link);
	add(AT_FDCWD, "%s/proc/thread-self/%s", tmp, name);
	add(proc_fd, "self/%s", name);
	add(self_fd, "%s", name);
	add(task_fd, "%s", name);
}

static const char *describe(const struct spelling *s)
{
	static char text[200];
	const char *dir = s->dirfd == AT_FDCWD ? "" : s->dirfd == proc_fd ? "(/proc fd) " :
						 s->dirfd == self_fd ? "(/proc/self fd) " : "(task fd) ";
	snprintf(text, sizeof(text), "%s%s", dir, s->path);
	return text;
}

/* Whether a spelling names a thread's directory, which has no map_files. */
static bool thread_level(const struct spelling *s)
{
	return s->dirfd == task_fd || strstr(s->path, "task/") || strstr(s->path, "thread-self");
}

/* Opening `name` with flags is refused with EACCES in every spelling. */
static void refused(const char *name, int flags)
{
	int n = 0;

	spell(name);
	for (int i = 0; i < nspells; i++) {
		if (strcmp(name, "map_files") == 0 && thread_level(&spells[i]))
			continue;
		n++;
		int fd = openat(spells[i].dirfd, spells[i].path, flags);
		CHECK(fd < 0 && errno == EACCES, "%s opened (fd %d)", describe(&spells[i]), fd);
		fd = openat(spells[i].dirfd, spells[i].path, O_PATH);
		CHECK(fd < 0 && errno == EACCES, "%s opened with O_PATH (fd %d)", describe(&spells[i]), fd);
	}
	printf("ok: %s refused in %d spellings\n", name, n);
}

/* Field 26 of /proc/self/stat: where the process's code starts (km's, under km). */
static unsigned long startcode(void)
{
	static char stat_text[4096];
	unsigned long start = 0;
	size_t len;

	char *at = strrchr(slurp_at(AT_FDCWD, "/proc/self/stat", &len, stat_text, sizeof(stat_text)), ')');
	for (int field = 2; at && field < 26; field++)
		at = strchr(at + 1, ' ');
	CHECK(at && sscanf(at, " %lu", &start) == 1 && start, "startcode in /proc/self/stat");
	return start;
}

/* The attack as reported: an int3 written over the code at startcode. */
static void write_int3(void)
{
	unsigned long start = startcode();
	int fd = open("/proc/self/mem", O_RDWR);
	if (fd >= 0) {
		ssize_t n = pwrite(fd, "\xcc", 1, (off_t)start);
		CHECK(false, "/proc/self/mem opened for writing; int3 written at %#lx: %zd", start, n);
	}
	CHECK(errno == EACCES, "/proc/self/mem O_RDWR");
	printf("ok: /proc/self/mem cannot be opened for writing: %s\n", strerror(errno));
}

/* The files that read or write a process's memory or registers have no guest view. */
static void memory(void)
{
	static const char *const optional[] = { "smaps_rollup", "numa_maps", "stack", "clear_refs" };
	struct stat st;

	write_int3();
	refused("mem", O_RDWR);
	refused("mem", O_RDONLY);
	refused("pagemap", O_RDONLY);
	refused("map_files", O_RDONLY | O_DIRECTORY);
	refused("smaps", O_RDONLY);
	refused("syscall", O_RDONLY);
	for (size_t i = 0; i < sizeof(optional) / sizeof(optional[0]); i++) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/self/%s", optional[i]);
		if (stat(path, &st) == 0)
			refused(optional[i], strcmp(optional[i], "clear_refs") ? O_RDONLY : O_WRONLY);
	}
	char link[64];
	CHECK(readlink("/proc/self/map_files", link, sizeof(link)) < 0 && errno == EACCES,
	      "readlink of map_files");
	OK("the program runs on after every attempt");
}

#define RACE_OPENS 3000
static volatile int racing;
static unsigned long race_at;

static void *race_reader(void *arg)
{
	char c;

	(void)arg;
	while (racing)
		for (int fd = 3; fd < 16; fd++)
			if (pread(fd, &c, 1, (off_t)race_at) == 1) {
				fprintf(stderr, "FAIL: fd %d read the code at %#lx\n", fd, race_at);
				_exit(1);
			}
	return NULL;
}

/* While one thread opens mem, another uses every fd that appears: no fd of mem ever does. */
static void race(void)
{
	pthread_t t;

	race_at = startcode();
	racing = 1;
	CHECK(pthread_create(&t, NULL, race_reader, NULL) == 0, "pthread_create");
	for (int i = 0; i < RACE_OPENS; i++) {
		int fd = open(i % 2 ? "/proc/self/mem" : "/proc/thread-self/mem", O_RDWR);
		CHECK(fd < 0 && errno == EACCES, "mem opened (fd %d)", fd);
	}
	racing = 0;
	pthread_join(t, NULL);
	printf("ok: %d opens of mem raced by a thread reading from every new fd: nothing read\n",
	       RACE_OPENS);
}

/* A child is another km: its memory files are refused too, its cmdline is not. */
static void children(void)
{
	static const char *const names[] = { "mem", "pagemap", "maps", "smaps", "auxv", "syscall" };
	int go[2];
	char path[64], c;

	CHECK(pipe(go) == 0, "pipe");
	pid_t child = fork();
	CHECK(child >= 0, "fork");
	if (child == 0) {
		close(go[1]);
		_exit(read(go[0], &c, 1) == 0 ? 0 : 1);
	}
	close(go[0]);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "/proc/%d/%s", child, names[i]);
		int fd = open(path, O_RDONLY);
		CHECK(fd < 0 && errno == EACCES, "%s opened (fd %d)", path, fd);
		snprintf(path, sizeof(path), "/proc/%d/task/%d/%s", child, child, names[i]);
		fd = open(path, O_RDONLY);
		CHECK(fd < 0 && errno == EACCES, "%s opened (fd %d)", path, fd);
	}
	snprintf(path, sizeof(path), "/proc/%d/mem", child);
	int fd = open(path, O_RDWR);
	CHECK(fd < 0 && errno == EACCES, "%s opened for writing (fd %d)", path, fd);
	snprintf(path, sizeof(path), "/proc/%d/map_files", child);
	fd = open(path, O_RDONLY | O_DIRECTORY);
	CHECK(fd < 0 && errno == EACCES, "%s opened (fd %d)", path, fd);
	snprintf(path, sizeof(path), "/proc/%d/cmdline", child);
	fd = open(path, O_RDONLY);
	CHECK(fd >= 0, "%s", path);
	close(fd);
	close(go[1]);
	int status;
	CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "the child exited 0");
	OK("a child's mem, pagemap, maps, smaps, auxv, syscall and map_files are refused; its "
	   "cmdline opens");
}

/* Descriptors at and above the open-files limit do not exist, whatever /proc path names them. */
static void high_fds(void)
{
	const char *const fmts[] = { "/proc/self/fd/%lu", "/proc/thread-self/fd/%lu", "/dev/fd/%lu",
				     "/proc/self/root/proc/self/fd/%lu", "/proc/self/fdinfo/%lu" };
	const int opens[] = { O_RDONLY, O_RDWR, O_PATH, O_PATH | O_NOFOLLOW };
	struct rlimit rl;
	sigset_t usr1;
	char path[96], link[64], buf[256];
	int fd_dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY);

	/* A signalfd: under km, a pipe whose other ends km keeps above the limit. */
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	CHECK(signalfd(-1, &usr1, 0) >= 0, "signalfd");
	CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0 && fd_dir >= 0, "getrlimit, /proc/self/fd");
	snprintf(link, sizeof(link), "%s/link", tmp);
	for (rlim_t n = rl.rlim_cur; n < rl.rlim_cur + 64; n++) {
		for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
			snprintf(path, sizeof(path), fmts[i], (unsigned long)n);
			for (size_t j = 0; j < sizeof(opens) / sizeof(opens[0]); j++) {
				int fd = open(path, opens[j]);
				CHECK(fd < 0 && errno == ENOENT, "%s opened with flags %#x (fd %d)", path,
				      opens[j], fd);
			}
			CHECK(readlink(path, buf, sizeof(buf)) < 0 && errno == ENOENT, "readlink %s", path);
			unlink(link);
			CHECK(symlink(path, link) == 0, "symlink");
			int fd = open(link, O_RDWR);
			CHECK(fd < 0 && errno == ENOENT, "a symlink to %s opened (fd %d)", path, fd);
		}
		snprintf(path, sizeof(path), "%lu", (unsigned long)n);
		int fd = openat(fd_dir, path, O_RDWR);
		CHECK(fd < 0 && errno == ENOENT, "(/proc/self/fd fd) %s opened (fd %d)", path, fd);
	}
	close(fd_dir);
	OK("no descriptor at or above the open-files limit opens or reads through /proc");
}

/* exe opens, stats and reads as the program in every spelling. */
static void exe_spellings(void)
{
	char exe[4096], link[4096];
	struct stat want, st;

	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	CHECK(n > 0, "readlink /proc/self/exe");
	exe[n] = '\0';
	CHECK(stat(exe, &want) == 0, "stat %s", exe);
	spell("exe");
	for (int i = 0; i < nspells; i++) {
		int fd = openat(spells[i].dirfd, spells[i].path, O_RDONLY);
		CHECK(fd >= 0 && fstat(fd, &st) == 0, "open %s", describe(&spells[i]));
		CHECK(st.st_dev == want.st_dev && st.st_ino == want.st_ino, "%s opens another file",
		      describe(&spells[i]));
		close(fd);
		CHECK(fstatat(spells[i].dirfd, spells[i].path, &st, 0) == 0 && st.st_ino == want.st_ino,
		      "stat %s", describe(&spells[i]));
		if (strcmp(spells[i].path + strlen(spells[i].path) - 3, "exe") != 0)
			continue; /* tmp/link: its text is /proc/self/exe */
		n = readlinkat(spells[i].dirfd, spells[i].path, link, sizeof(link) - 1);
		CHECK(n > 0 && (link[n] = '\0', strcmp(link, exe) == 0), "readlink %s: %s",
		      describe(&spells[i]), n > 0 ? link : "");
	}
	printf("ok: exe opens and stats as the program in %d spellings\n", nspells);
}

/* exe, cmdline, environ, auxv and maps: each reads the same in every spelling. */
static void spellings(void)
{
	static const char *const names[] = { "cmdline", "environ", "auxv", "maps" };
	static char want[1 << 16], got[1 << 16];
	size_t want_len, got_len;

	exe_spellings();
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/self/%s", names[i]);
		slurp_at(AT_FDCWD, path, &want_len, want, sizeof(want));
		CHECK(want_len > 0, "%s is empty", path);
		spell(names[i]);
		for (int j = 0; j < nspells; j++) {
			slurp_at(spells[j].dirfd, spells[j].path, &got_len, got, sizeof(got));
			CHECK(got_len == want_len && memcmp(got, want, want_len) == 0,
			      "%s differs from %s:\n%s", describe(&spells[j]), path, got);
		}
		printf("ok: %s reads the same in %d spellings\n", names[i], nspells);
	}
	CHECK(mapped_as(want, (void *)spellings, "r-xp"), "the code is not r-xp in:\n%s", want);
	OK("maps shows the program's code");
}

/* What km leaves to the host works as on Linux: status, limits, the program's own fds. */
static void host_files(void)
{
	static char buf[1 << 16];
	int p[2];
	size_t len;
	char path[64];

	CHECK(strstr(slurp_at(AT_FDCWD, "/proc/self/status", &len, buf, sizeof(buf)), "Pid:") != NULL,
	      "status");
	CHECK(strstr(slurp_at(AT_FDCWD, "/proc/self/limits", &len, buf, sizeof(buf)), "Max open files"),
	      "limits");
	CHECK(strstr(slurp_at(self_fd, "cgroup", &len, buf, sizeof(buf)), ":") != NULL, "cgroup");
	CHECK(pipe(p) == 0 && write(p[1], "hello", 5) == 5, "pipe");
	snprintf(path, sizeof(path), "/proc/self/fd/%d", p[0]);
	int fd = open(path, O_RDONLY);
	CHECK(fd >= 0 && read(fd, buf, 5) == 5 && memcmp(buf, "hello", 5) == 0, "reopen %s", path);
	close(fd);
	snprintf(path, sizeof(path), "/dev/fd/%d", p[1]);
	fd = open(path, O_WRONLY);
	CHECK(fd >= 0 && write(fd, "again", 5) == 5 && read(p[0], buf, 5) == 5, "reopen %s", path);
	close(fd);
	snprintf(path, sizeof(path), "/proc/thread-self/fdinfo/%d", p[0]);
	CHECK(strstr(slurp_at(AT_FDCWD, path, &len, buf, sizeof(buf)), "flags:") != NULL, "%s", path);
	OK("status, limits, cgroup, the program's pipes through /proc/self/fd and /dev/fd, fdinfo");
}

static char **args;

/* The program's file, copied, run, and then swapped for a symlink to mem. */
static void exe_swap(void)
{
	static char copy[4096], prog[64];
	size_t len;
	int fd;

	slurp_at(AT_FDCWD, "/proc/self/exe", &len, copy, sizeof(copy));
	snprintf(prog, sizeof(prog), "%s/prog", tmp);
	fd = open("/proc/self/exe", O_RDONLY);
	int out = open(prog, O_CREAT | O_WRONLY | O_TRUNC, 0755);
	CHECK(fd >= 0 && out >= 0, "copy the program");
	for (ssize_t n; (n = read(fd, copy, sizeof(copy))) > 0;)
		CHECK(write(out, copy, (size_t)n) == n, "write the copy");
	close(fd);
	close(out);
	char *argv[] = { prog, "exe-swapped", tmp, NULL };
	execv(prog, argv);
	CHECK(false, "exec %s", prog);
}

/* Run from the copy: /proc/self/exe follows the swapped file no further than any path would. */
static void exe_swapped(void)
{
	char prog[4096], dir[64];

	ssize_t n = readlink("/proc/self/exe", prog, sizeof(prog) - 1);
	CHECK(n > 0 && args[2], "readlink /proc/self/exe");
	prog[n] = '\0';
	snprintf(dir, sizeof(dir), "%s", args[2]);
	CHECK(unlink(prog) == 0 && symlink("/proc/self/mem", prog) == 0, "swap %s", prog);
	int fd = open("/proc/self/exe", O_RDWR);
	CHECK(fd < 0 && errno == ETXTBSY, "/proc/self/exe opened for writing (fd %d)", fd);
	fd = open("/proc/self/exe", O_RDONLY);
	CHECK(fd < 0 && errno == EACCES, "/proc/self/exe opened mem (fd %d)", fd);
	unlink(prog);
	snprintf(prog, sizeof(prog), "%s/proc", dir);
	unlink(prog);
	rmdir(dir);
	OK("/proc/self/exe of a program swapped for a link to mem: ETXTBSY to write, EACCES to read");
}

/* Opens that may cross into /proc (relative ones, other mounts) keep open(2)'s meaning. */
static void open_semantics(void)
{
	int dir = open(tmp, O_PATH | O_DIRECTORY);
	char buf[16];
	struct stat st;

	CHECK(dir >= 0, "open %s", tmp);
	int fd = openat(dir, "new", O_CREAT | O_WRONLY | O_TRUNC, 0600);
	CHECK(fd >= 0 && write(fd, "abc", 3) == 3 && close(fd) == 0, "create new");
	fd = openat(dir, "new", O_CREAT | O_EXCL | O_WRONLY, 0600);
	CHECK(fd < 0 && errno == EEXIST, "O_EXCL of an existing file (fd %d)", fd);
	fd = openat(dir, "new", O_CREAT | O_WRONLY | O_APPEND, 0600);
	CHECK(fd >= 0 && write(fd, "de", 2) == 2 && close(fd) == 0, "append");
	fd = openat(dir, "new", O_RDONLY);
	CHECK(fd >= 0 && read(fd, buf, sizeof(buf)) == 5 && memcmp(buf, "abcde", 5) == 0, "read back");
	close(fd);
	fd = openat(dir, "new", O_WRONLY | O_TRUNC);
	CHECK(fd >= 0 && fstat(fd, &st) == 0 && st.st_size == 0, "O_TRUNC");
	close(fd);
	CHECK(symlinkat("target", dir, "dangling") == 0, "symlink");
	fd = openat(dir, "dangling", O_CREAT | O_WRONLY, 0640);
	CHECK(fd >= 0 && fstatat(dir, "target", &st, 0) == 0 && (st.st_mode & 0777) == 0640,
	      "O_CREAT through a dangling symlink makes its target (fd %d)", fd);
	close(fd);
	CHECK(readlinkat(dir, "dangling", buf, sizeof(buf)) == 6 && memcmp(buf, "target", 6) == 0,
	      "readlink of the symlink");
	CHECK(readlinkat(dir, "new", buf, sizeof(buf)) < 0 && errno == EINVAL, "readlink of a file");
	fd = openat(dir, "dangling", O_RDONLY | O_NOFOLLOW);
	CHECK(fd < 0 && errno == ELOOP, "O_NOFOLLOW of a symlink (fd %d)", fd);
	fd = openat(dir, "dangling", O_PATH | O_NOFOLLOW);
	CHECK(fd >= 0 && fstat(fd, &st) == 0 && S_ISLNK(st.st_mode), "O_PATH|O_NOFOLLOW is the link");
	close(fd);
	fd = openat(dir, "new", O_RDONLY | O_DIRECTORY);
	CHECK(fd < 0 && errno == ENOTDIR, "O_DIRECTORY of a file (fd %d)", fd);
	fd = openat(dir, "missing/x", O_CREAT | O_WRONLY, 0600);
	CHECK(fd < 0 && errno == ENOENT, "O_CREAT under a missing directory (fd %d)", fd);
	fd = openat(dir, "../../dev/null", O_WRONLY);
	CHECK(fd >= 0 && write(fd, "x", 1) == 1, "../../dev/null");
	close(fd);
	fd = openat(dir, ".", O_RDONLY | O_DIRECTORY);
	CHECK(fd >= 0 && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode), "the directory itself");
	close(fd);
	unlinkat(dir, "new", 0);
	unlinkat(dir, "dangling", 0);
	unlinkat(dir, "target", 0);
	close(dir);
	OK("create, O_EXCL, append, O_TRUNC, a dangling symlink, readlink, O_NOFOLLOW, O_PATH, "
	   "O_DIRECTORY, another mount");
}

int main(int argc, char **argv)
{
	static const struct test_case cases[] = {
		{ "memory", memory },	    { "children", children },	{ "high-fds", high_fds },
		{ "spellings", spellings }, { "host-files", host_files }, { "race", race },
		{ "open-semantics", open_semantics }, { "exe-swap", exe_swap },
		{ "exe-swapped", exe_swapped },
	};

	args = argv;
	setvbuf(stdout, NULL, _IONBF, 0);
	setup();
	atexit(cleanup);
	return RUN_CASE(argc, argv, cases);
}
