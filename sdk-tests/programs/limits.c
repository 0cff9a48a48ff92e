/*
 * Resource limits are the program's own: what it sets binds its own memory
 * calls, passes on at exec, and never stops the monitor under it; and when
 * the host runs out of maps, the calls fail with ENOMEM and the program goes
 * on. argv[1] names the case; each prints what the calls returned, in words
 * that are the same on Linux and under km.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

#define PAGE 4096ul
#define MIB (1ul << 20)

static const char *self;

/* "success", or the name of the errno of a failed call. */
static const char *outcome(int failed)
{
	return failed ? errno_name(errno) : "success";
}

static const char *map_outcome(void *p)
{
	return outcome(p == MAP_FAILED);
}

static void *map(size_t len, int prot, int flags)
{
	return mmap(NULL, len, prot, flags | MAP_ANONYMOUS, -1, 0);
}

static void set_limit(int resource, rlim_t cur, rlim_t max)
{
	struct rlimit r = { cur, max };
	CHECK(setrlimit(resource, &r) == 0, "setrlimit(%d, %lu, %lu)", resource, (unsigned long)cur,
	      (unsigned long)max);
}

static void show(const char *name, rlim_t v)
{
	if (v == RLIM_INFINITY)
		printf("%s unlimited", name);
	else
		printf("%s %lu MiB", name, (unsigned long)(v / MIB));
}

static void print_limit(const char *what, int resource)
{
	struct rlimit r;
	CHECK(getrlimit(resource, &r) == 0, "getrlimit(%s)", what);
	printf("%s:", what);
	show(" soft", r.rlim_cur);
	show(", hard", r.rlim_max);
	printf("\n");
}

/* The break moved by len bytes with the brk call itself: whether it moved. */
static int brk_by(long len)
{
	uintptr_t now = (uintptr_t)syscall(SYS_brk, 0);
	return (uintptr_t)syscall(SYS_brk, now + len) == now + len;
}

/* A data limit of 0: private writable memory is refused, the rest is not. */
static void data_zero(void)
{
	CHECK(brk_by(2 * PAGE), "growing the break before the limit");
	set_limit(RLIMIT_DATA, 0, 0);
	print_limit("data", RLIMIT_DATA);
	printf("mmap(private, writable): %s\n", map_outcome(map(2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE)));
	char *ro = map(2 * PAGE, PROT_READ, MAP_PRIVATE);
	printf("mmap(private, read-only): %s\n", map_outcome(ro));
	printf("mprotect(it, writable): %s\n", outcome(mprotect(ro, PAGE, PROT_READ | PROT_WRITE) != 0));
	char *shared = map(2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED);
	printf("mmap(shared, writable): %s\n", map_outcome(shared));
	printf("the break grows: %s\n", brk_by(PAGE) ? "yes" : "no");
	printf("the break shrinks: %s\n", brk_by(-(long)PAGE) ? "yes" : "no");
	shared[0] = 'x';
	printf("the program goes on: %c\n", shared[0]);
}

/* A soft data limit of 0 with a hard one above: Linux lets data through (for Valgrind). */
static void data_soft_zero(void)
{
	struct rlimit r;
	CHECK(getrlimit(RLIMIT_DATA, &r) == 0, "getrlimit");
	set_limit(RLIMIT_DATA, 0, r.rlim_max);
	printf("mmap(private, writable) under soft 0: %s\n",
	       map_outcome(map(2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE)));
}

static void data_limit(void)
{
	set_limit(RLIMIT_DATA, 64 * MIB, 64 * MIB);
	print_limit("data", RLIMIT_DATA);
	char *small = malloc(16 * MIB);
	printf("malloc(16 MiB): %s\n", small ? "success" : "NULL");
	printf("malloc(128 MiB): %s\n", malloc(128 * MIB) ? "success" : "NULL");
	printf("the break grows by 128 MiB: %s\n", brk_by(128 * MIB) ? "yes" : "no");
	printf("mmap(128 MiB private, writable): %s\n",
	       map_outcome(map(128 * MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE)));
	printf("mmap(128 MiB shared, writable): %s\n",
	       map_outcome(map(128 * MIB, PROT_READ | PROT_WRITE, MAP_SHARED)));
	char *ro = map(128 * MIB, PROT_READ, MAP_PRIVATE);
	printf("mmap(128 MiB private, read-only): %s\n", map_outcome(ro));
	printf("mprotect(it, writable): %s\n", outcome(mprotect(ro, 128 * MIB, PROT_READ | PROT_WRITE) != 0));
	printf("mprotect(1 MiB of it, writable): %s\n", outcome(mprotect(ro, MIB, PROT_READ | PROT_WRITE) != 0));
	memset(small, 1, 16 * MIB);
	memset(ro, 2, MIB);
	printf("the memory it has is usable: %s\n", small[16 * MIB - 1] == 1 && ro[MIB - 1] == 2 ? "yes" : "no");
}

static void as_limit(void)
{
	set_limit(RLIMIT_AS, 256 * MIB, 256 * MIB);
	print_limit("address space", RLIMIT_AS);
	printf("mmap(512 MiB, PROT_NONE): %s\n", map_outcome(map(512 * MIB, PROT_NONE, MAP_PRIVATE)));
	char *p = map(64 * MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	printf("mmap(64 MiB): %s\n", map_outcome(p));
	p[0] = 'a';
	p[64 * MIB - 1] = 'z';
	printf("malloc(512 MiB): %s\n", malloc(512 * MIB) ? "success" : "NULL");
	printf("the break grows by 512 MiB: %s\n", brk_by(512 * MIB) ? "yes" : "no");
	void *r = mremap(p, 64 * MIB, 512 * MIB, MREMAP_MAYMOVE);
	printf("mremap(64 MiB to 512 MiB): %s\n", map_outcome(r));
	printf("the mapping is intact: %s\n", p[0] == 'a' && p[64 * MIB - 1] == 'z' ? "yes" : "no");
	r = mremap(p, 64 * MIB, 96 * MIB, MREMAP_MAYMOVE);
	printf("mremap(64 MiB to 96 MiB): %s\n", map_outcome(r));
	char *q = r;
	printf("its contents moved with it: %s\n", q[0] == 'a' && q[64 * MIB - 1] == 'z' ? "yes" : "no");
}

/* Linux's rules for setting a limit, on limits km keeps for the program. */
static void rules(void)
{
	struct rlimit r = { 32 * MIB, 16 * MIB }, old;
	errno = 0;
	printf("soft above hard: %s\n", outcome(setrlimit(RLIMIT_STACK, &r) != 0));
	set_limit(RLIMIT_STACK, 4 * MIB, 16 * MIB);
	print_limit("stack", RLIMIT_STACK);
	r = (struct rlimit){ 4 * MIB, 8 * MIB };
	printf("prlimit lowers it: %s\n", outcome(prlimit(0, RLIMIT_STACK, &r, &old) != 0));
	show("the old limit was soft", old.rlim_cur);
	show(", hard", old.rlim_max);
	printf("\n");
	r.rlim_max = 16 * MIB;
	printf("raising the hard limit again: %s\n", outcome(setrlimit(RLIMIT_STACK, &r) != 0));
	print_limit("stack", RLIMIT_STACK);
	set_limit(RLIMIT_AS, 2048 * MIB, 2048 * MIB);
	print_limit("address space", RLIMIT_AS);
	r = (struct rlimit){ RLIM_INFINITY, RLIM_INFINITY };
	printf("raising it to unlimited: %s\n", outcome(setrlimit(RLIMIT_AS, &r) != 0));
	printf("getrlimit(99): %s\n", outcome(getrlimit(99, &r) != 0));
}

/* Limits set before an exec are the new program's. */
static void exec_case(void)
{
	set_limit(RLIMIT_DATA, 64 * MIB, 64 * MIB);
	set_limit(RLIMIT_AS, 1024 * MIB, 1024 * MIB);
	set_limit(RLIMIT_STACK, 4 * MIB, 32 * MIB);
	execl(self, self, "after-exec", (char *)NULL);
	CHECK(0, "execl %s", self);
}

static void after_exec(void)
{
	print_limit("data", RLIMIT_DATA);
	print_limit("address space", RLIMIT_AS);
	print_limit("stack", RLIMIT_STACK);
	printf("malloc(128 MiB): %s\n", malloc(128 * MIB) ? "success" : "NULL");
	printf("malloc(16 MiB): %s\n", malloc(16 * MIB) ? "success" : "NULL");
}

/*
 * Rights changed page by page split the process's mappings until the host's
 * vm.max_map_count: mprotect fails with ENOMEM, and the program goes on.
 */
static void map_count(void)
{
	size_t n = 100000, i;
	char *p = map(n * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE);
	CHECK(p != MAP_FAILED, "mmap");
	for (i = 0; i < n; i += 2)
		if (mprotect(p + i * PAGE, PAGE, PROT_READ) != 0)
			break;
	printf("alternate pages made read-only until: %s\n", i < n ? outcome(1) : "none failed");
	p[i * PAGE] = 'w';
	printf("the page it failed on keeps its rights: %s\n", p[i * PAGE] == 'w' ? "writable" : "?");
	printf("all of them writable again: %s\n", outcome(mprotect(p, i * PAGE, PROT_READ | PROT_WRITE) != 0));
	p[0] = 'a';
	char *m = malloc(10 * MIB);
	CHECK(m != NULL, "malloc after the maps came back");
	memset(m, 3, 10 * MIB);
	char *q = map(PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	CHECK(q != MAP_FAILED, "mmap after the maps came back");
	q[0] = 'q';
	printf("the program goes on: %c%c%d\n", p[0], q[0], m[10 * MIB - 1]);
}

/* Pages of a, each filled with its own number: whether they still are. */
static int intact(const char *a, size_t pages)
{
	for (size_t i = 0; i < pages; i++)
		for (size_t j = 0; j < PAGE; j += 512)
			if (a[i * PAGE + j] != (char)i)
				return 0;
	return 1;
}

static char *filled(size_t pages)
{
	char *a = map(pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	CHECK(a != MAP_FAILED, "mmap");
	for (size_t i = 0; i < pages; i++)
		memset(a + i * PAGE, (int)i, PAGE);
	return a;
}

static int refused, broken;

/* A call at the map count: it works, or fails with ENOMEM; either way memory is as it should be. */
static void at_limit(int failed, int memory_ok, const char *what)
{
	if (failed && errno != ENOMEM) {
		printf("%s: %s\n", what, outcome(1));
		broken++;
	}
	if (!memory_ok) {
		printf("%s %s, and memory is not as it should be\n", what, failed ? "failed" : "worked");
		broken++;
	}
	refused += failed;
}

#define ROUNDS 24

/*
 * Every kind of memory call with the process at its map count or a few
 * maps short of it: each one succeeds or fails with ENOMEM, and a failed
 * one changes nothing.
 */
static void map_count_calls(void)
{
	size_t n = 100000, i, pages = 64;
	char *moving[ROUNDS], *holed[ROUNDS];
	char *p = map(n * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE);
	char *a = filled(pages);
	CHECK(p != MAP_FAILED, "mmap");
	for (int r = 0; r < ROUNDS; r++) {
		moving[r] = filled(4);
		holed[r] = filled(3);
	}
	for (i = 0; i < n; i += 2)
		if (mprotect(p + i * PAGE, PAGE, PROT_READ) != 0)
			break;
	CHECK(i < n, "the map count was never reached");
	/* At the count, then with a few maps to spare: 2 more each round. */
	for (int r = 0; r < ROUNDS; r++) {
		if (r)
			CHECK(mprotect(p + (size_t)(r - 1) * 2 * PAGE, PAGE, PROT_READ | PROT_WRITE) == 0,
			      "freeing maps");
		char *m = map(PAGE, r & 1 ? PROT_READ : PROT_READ | PROT_WRITE, MAP_PRIVATE);
		at_limit(m == MAP_FAILED, intact(a, pages), "mmap");

		char *f = mmap(a + 20 * PAGE, PAGE, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		int zeroed = f != MAP_FAILED && a[20 * PAGE] == 0;
		if (f != MAP_FAILED)
			memset(f, 20, PAGE);
		at_limit(f == MAP_FAILED, (f != MAP_FAILED) == zeroed && intact(a, pages),
			 "mmap(MAP_FIXED) over the middle of a mapping");

		int failed = mprotect(a + 30 * PAGE, 2 * PAGE, PROT_READ) != 0;
		at_limit(failed, intact(a, pages), "mprotect");
		if (!failed)
			CHECK(mprotect(a + 30 * PAGE, 2 * PAGE, PROT_READ | PROT_WRITE) == 0, "mprotect back");

		char *moved = mremap(moving[r], 4 * PAGE, 8 * PAGE, MREMAP_MAYMOVE);
		at_limit(moved == MAP_FAILED, intact(moved == MAP_FAILED ? moving[r] : moved, 4), "mremap");

		uintptr_t before = (uintptr_t)syscall(SYS_brk, 0);
		failed = !brk_by(64 * PAGE);
		at_limit(failed, failed ? (uintptr_t)syscall(SYS_brk, 0) == before : 1, "brk");

		failed = munmap(holed[r] + PAGE, PAGE) != 0;
		at_limit(failed, failed ? intact(holed[r], 3) : holed[r][2 * PAGE] == 2, "munmap");
	}
	printf("every call succeeded or failed with ENOMEM, and a failed one changed nothing: %s\n",
	       broken ? "no" : "yes");
	printf("some were refused: %s\n", refused ? "yes" : "no");
	CHECK(mprotect(p, i * PAGE, PROT_READ | PROT_WRITE) == 0, "all writable again");
	char *m = malloc(10 * MIB);
	CHECK(m != NULL, "malloc after the maps came back");
	memset(m, 3, 10 * MIB);
	printf("the program goes on: %s\n", intact(a, pages) ? "yes" : "no");
}

/* A shared mapping of a file opened read-only cannot become writable: EACCES. */
static void file_rights(void)
{
	char path[] = "/tmp/limits.XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0 && write(fd, "contents", 8) == 8, "temporary file");
	int ro = open(path, O_RDONLY);
	unlink(path);
	char *p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, ro, 0);
	CHECK(p != MAP_FAILED, "mmap");
	printf("mprotect(shared read-only file, writable): %s\n",
	       outcome(mprotect(p, PAGE, PROT_READ | PROT_WRITE) != 0));
	printf("still readable: %.8s\n", p);
}

/* A limit that meters what the host does for the program passes through. */
static void file_size(void)
{
	char path[] = "/tmp/limits.XXXXXX";
	int fd = mkstemp(path);
	char buf[3000] = { 0 };
	CHECK(fd >= 0, "temporary file");
	unlink(path);
	signal(SIGXFSZ, SIG_IGN);
	set_limit(RLIMIT_FSIZE, 1000, 1000);
	printf("write(3000) under a 1000-byte file limit: %zd\n", write(fd, buf, sizeof(buf)));
	errno = 0;
	printf("write past the limit: %s\n", outcome(write(fd, buf, 1) < 0));
}

/*
 * An unprivileged user under a small process limit: each fork makes a child
 * that exits 3, or fails with EAGAIN, and the program goes on. (Under km the
 * process counts km's own threads, so where the limit bites differs.)
 */
static void process_limit(void)
{
	CHECK(setgid(65534) == 0 && setuid(65534) == 0, "become nobody (needs root)");
	int made = 0, refused = 0, wrong = 0;
	for (rlim_t n = 8; n >= 1; n--) { /* downwards: a lowered hard limit stays */
		set_limit(RLIMIT_NPROC, n, n);
		pid_t pid = fork();
		if (pid == 0)
			_exit(3);
		int status = 0;
		if (pid < 0)
			refused += errno == EAGAIN, wrong += errno != EAGAIN;
		else if (waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 3)
			made++;
		else
			wrong++;
	}
	printf("every fork made a child that exited 3 or failed with EAGAIN: %s\n", wrong ? "no" : "yes");
	printf("some were refused: %s\n", refused ? "yes" : "no");
	printf("some children ran: %s\n", made ? "yes" : "no");
}

int main(int argc, char **argv)
{
	static const struct test_case cases[] = {
		{ "data-zero", data_zero },   { "data-soft-zero", data_soft_zero },
		{ "data", data_limit },	      { "as", as_limit },
		{ "rules", rules },	      { "exec", exec_case },
		{ "after-exec", after_exec }, { "map-count", map_count },
		{ "map-count-calls", map_count_calls },
		{ "file-rights", file_rights }, { "file-size", file_size },
		{ "process-limit", process_limit },
	};
	self = argv[0];
	setvbuf(stdout, NULL, _IONBF, 0);
	return RUN_CASE(argc, argv, cases);
}
