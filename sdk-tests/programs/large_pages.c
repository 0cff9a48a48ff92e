/*
 * Big mappings whose rights then change in pieces, and big System V
 * segments: km maps each whole 2 MiB as one large page and splits it when a
 * part of it changes. Every probe must see exactly the rights and contents
 * Linux gives, so the output is compared with the native run's.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/shm.h>

#include "check.h"

#define KiB 1024ul
#define MiB (1024 * KiB)
#define GiB (1024 * MiB)
#define PAGE (4 * KiB)

static sigjmp_buf probe_env;

static void on_fault(int sig)
{
	(void)sig;
	siglongjmp(probe_env, 1);
}

/* 'w' writable, 'r' only readable, '-' neither. */
static char access_of(volatile unsigned char *p)
{
	unsigned char c;

	if (sigsetjmp(probe_env, 1))
		return '-';
	c = *p;
	if (sigsetjmp(probe_env, 1))
		return 'r';
	*p = c;
	return 'w';
}

/* The rights around each MiB boundary of [base, base+len): the page before it, and the one at it. */
static void show(const char *what, unsigned char *base, size_t len)
{
	char line[256];
	size_t n = 0;

	for (size_t at = 0; at < len && n + 3 < sizeof(line); at += MiB) {
		line[n++] = at ? access_of(base + at - PAGE) : '|';
		line[n++] = access_of(base + at);
		line[n++] = ' ';
	}
	line[n] = '\0';
	printf("%-34s %s\n", what, line);
}

static unsigned char *aligned_map(size_t len, int prot)
{
	unsigned char *p = mmap(NULL, len + 2 * MiB, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED, "mmap of %zu MiB", len / MiB);
	unsigned char *base = (unsigned char *)(((uintptr_t)p + 2 * MiB - 1) & ~(2 * MiB - 1));
	if (base > p)
		munmap(p, (size_t)(base - p));
	munmap(base + len, (size_t)(p + len + 2 * MiB - (base + len)));
	return base;
}

static void fill(unsigned char *p, size_t len)
{
	for (size_t i = 0; i < len; i += PAGE)
		p[i] = (unsigned char)(i / PAGE * 7 + 1);
}

/* Pages of [p, p+len) that lost their pattern, skipping those in [hole, hole+hole_len). */
static size_t changed(const unsigned char *p, size_t len, size_t hole, size_t hole_len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i += PAGE)
		if ((i < hole || i >= hole + hole_len) && p[i] != (unsigned char)(i / PAGE * 7 + 1))
			n++;
	return n;
}

static void anonymous(void)
{
	size_t len = 8 * MiB;
	unsigned char *base = aligned_map(len, PROT_READ | PROT_WRITE);

	fill(base, len);
	show("8 MiB read-write:", base, len);
	CHECK(mprotect(base + 2 * MiB, PAGE, PROT_READ) == 0, "mprotect one page");
	show("a page read-only at 2 MiB:", base, len);
	CHECK(munmap(base + 4 * MiB - PAGE, PAGE) == 0, "munmap one page");
	show("a page unmapped below 4 MiB:", base, len);
	CHECK(mprotect(base + 6 * MiB, 2 * MiB, PROT_NONE) == 0, "mprotect 2 MiB");
	show("6-8 MiB PROT_NONE:", base, len);
	CHECK(mprotect(base + 7 * MiB, PAGE, PROT_READ | PROT_WRITE) == 0, "mprotect inside");
	show("then a page at 7 MiB read-write:", base, len);
	CHECK(mmap(base + 5 * MiB, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
		   -1, 0) == base + 5 * MiB, "MAP_FIXED one page");
	printf("fresh page at 5 MiB reads %u; pages changed below 6 MiB: %zu\n", base[5 * MiB],
	       changed(base, 6 * MiB, 4 * MiB - PAGE, PAGE));

	/* One mapping only: whether several move at once depends on the kernel (6.17 allows it). */
	unsigned char *to = aligned_map(4 * MiB, PROT_NONE);
	unsigned char *moved = mremap(base, 2 * MiB, 2 * MiB, MREMAP_MAYMOVE | MREMAP_FIXED, to + MiB);
	CHECK(moved == to + MiB, "mremap of the first 2 MiB");
	printf("moved: pages changed: %zu\n", changed(moved, 2 * MiB, 0, 0));
	show("after the move, the new place:", to, 4 * MiB);
	show("and the old one:", base, 4 * MiB);
}

static void segments(size_t len)
{
	/* SHM_NORESERVE: a machine with less memory than the segment still makes it. */
	int id = shmget(IPC_PRIVATE, len, IPC_CREAT | SHM_NORESERVE | 0600);
	CHECK(id >= 0, "shmget of %zu MiB", len / MiB);
	unsigned char *a = shmat(id, NULL, 0), *b = shmat(id, NULL, SHM_RDONLY);
	CHECK(a != (void *)-1 && b != (void *)-1, "shmat of %zu MiB", len / MiB);
	size_t offsets[] = { 0, 2 * MiB - 1, 2 * MiB, len / 2 + 3, len - 1 };
	unsigned sum = 0;
	for (size_t i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++)
		a[offsets[i]] = (unsigned char)(i + 1);
	for (size_t i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++)
		sum = sum * 10 + b[offsets[i]];
	printf("%zu MiB segment: written through one attach, read through another: %u; "
	       "the read-only one at its middle: %c\n",
	       len / MiB, sum, access_of(b + len / 2));
	CHECK(mprotect(a + 2 * MiB, PAGE, PROT_READ) == 0, "mprotect in a segment");
	printf("a page of it made read-only: %c%c%c\n", access_of(a + 2 * MiB - PAGE),
	       access_of(a + 2 * MiB), access_of(a + 2 * MiB + PAGE));
	CHECK(shmdt(a) == 0 && shmdt(b) == 0, "shmdt");
	CHECK(shmctl(id, IPC_RMID, NULL) == 0, "IPC_RMID");
}

int main(void)
{
	struct sigaction sa = { .sa_handler = on_fault };

	sigaction(SIGSEGV, &sa, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	anonymous();
	segments(64 * MiB);
	segments(4 * GiB);
	return 0;
}
