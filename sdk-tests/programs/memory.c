/* malloc small and large, mmap/munmap/mprotect, brk, mremap. */
#define _GNU_SOURCE
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

#define MiB (1ul << 20)
#define GiB (1ul << 30)

/*
 * Under a 1 GiB memory limit: reservations are address space, not memory,
 * as a JVM's heap and class space are; what becomes writable is charged.
 */
static int reserve(void)
{
	size_t big = 8 * GiB, part = 256 * MiB;
	char *res = mmap(NULL, big, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	CHECK(res != MAP_FAILED, "reserve 8 GiB");
	char *ro = mmap(NULL, 2 * GiB, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(ro != MAP_FAILED && ro[GiB] == 0, "2 GiB read-only");
	OK("8 GiB reserved and 2 GiB read-only under a 1 GiB limit");

	CHECK(mprotect(res, part, PROT_READ | PROT_WRITE) == 0, "commit 256 MiB");
	memset(res, 3, part);
	CHECK(mmap(res + part, part, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
		   -1, 0) == res + part, "commit 256 MiB more with MAP_FIXED");
	res[2 * part - 1] = 4;
	OK("512 MiB of it committed and written");

	CHECK(mprotect(res, big, PROT_READ | PROT_WRITE) != 0 && errno == ENOMEM,
	      "committing all 8 GiB");
	CHECK(mmap(res + 2 * part, GiB, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED && errno == ENOMEM,
	      "committing 1 GiB more with MAP_FIXED");
	CHECK(mmap(NULL, GiB, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0) ==
			      MAP_FAILED && errno == ENOMEM,
	      "1 GiB of shared anonymous memory");
	CHECK(mprotect(ro, GiB, PROT_READ | PROT_WRITE) != 0 && errno == ENOMEM,
	      "making 1 GiB read-only memory writable");
	CHECK(res[0] == 3 && res[part - 1] == 3 && res[2 * part - 1] == 4, "contents kept");
	OK("ENOMEM past the limit, and what was committed is kept");

	CHECK(mmap(res, 2 * part, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED,
		   -1, 0) == res, "uncommit 512 MiB");
	CHECK(mprotect(res + big - GiB + 2 * MiB, 768 * MiB, PROT_READ | PROT_WRITE) == 0,
	      "commit 768 MiB elsewhere in the reservation");
	OK("uncommitted memory can be committed again");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "reserve") == 0)
		return reserve();

	for (int i = 1; i < 2000; i++) {
		char *p = malloc((size_t)i * 3);
		CHECK(p != NULL, "malloc %d", i * 3);
		memset(p, i & 0xff, (size_t)i * 3);
		free(p);
	}
	OK("small mallocs");

	/* More than 1 GiB of virtual memory, of which only a few pages are touched. */
	size_t big = GiB + 512 * MiB;
	char *huge = malloc(big);
	CHECK(huge != NULL, "malloc of %zu MiB", big / MiB);
	for (size_t off = 0; off < big; off += 256 * MiB)
		huge[off] = 'x';
	huge[big - 1] = 'y';
	CHECK(huge[256 * MiB] == 'x' && huge[big - 1] == 'y' && huge[1] == 0, "big block contents");
	free(huge);
	OK("malloc of 1.5 GiB, sparsely touched");

	char *m = mmap(NULL, 4 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(m != MAP_FAILED, "mmap");
	CHECK(m[0] == 0 && m[4 * 4096 - 1] == 0, "fresh anonymous memory is zero");
	memset(m, 7, 4 * 4096);
	CHECK(munmap(m + 4096, 4096) == 0, "munmap middle page");
	CHECK(mprotect(m, 4096, PROT_READ) == 0, "mprotect read-only");
	CHECK(m[0] == 7, "read-only page still readable");
	CHECK(mprotect(m, 4096, PROT_READ | PROT_WRITE) == 0, "mprotect back to writable");
	m[0] = 9;
	CHECK(m[0] == 9 && m[2 * 4096] == 7, "contents survive mprotect");
	char *again = mmap(m + 4096, 4096, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	CHECK(again == m + 4096 && again[0] == 0, "MAP_FIXED into the hole gives zeroed memory");
	CHECK(mprotect(m, 4 * 4096, PROT_NONE) == 0 && munmap(m, 4 * 4096) == 0, "guard and unmap");
	CHECK(mprotect(m, 4096, PROT_READ) != 0 && errno == ENOMEM, "mprotect of unmapped memory");
	OK("mmap munmap mprotect MAP_FIXED");

	/* A PROT_NONE reservation, committed, then cut and protected across 2 MiB boundaries. */
	const size_t pg = 4096, span = 6 * MiB + 3 * pg;
	char *res = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(res != MAP_FAILED, "reserve %zu bytes", span);
	CHECK(mprotect(res, span, PROT_READ | PROT_WRITE) == 0, "commit the reservation");
	for (size_t off = 0; off < span; off += pg)
		res[off] = (char)((off / pg) | 1);
	char *edge = (char *)(((uintptr_t)res + 4 * pg + 2 * MiB - 1) & ~(2 * MiB - 1));
	char *hole = edge - 2 * pg;
	size_t hole_len = 2 * MiB + 5 * pg; /* crosses two boundaries */
	CHECK(munmap(hole, hole_len) == 0, "munmap across boundaries");
	CHECK(mmap(hole, hole_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
		   -1, 0) == hole, "MAP_FIXED over the cut");
	for (size_t off = 0; off < hole_len; off += pg)
		CHECK(hole[off] == 0, "fresh page at +%zu of the cut", off);
	CHECK(hole[-(long)pg] == (char)(((size_t)(hole - res) / pg - 1) | 1) &&
		      hole[hole_len] == (char)(((size_t)(hole + hole_len - res) / pg) | 1),
	      "the pages around the cut keep their contents");
	memset(hole, 5, hole_len);
	CHECK(mprotect(edge - pg, 2 * MiB + 2 * pg, PROT_NONE) == 0 &&
		      mprotect(edge - pg, 2 * MiB + 2 * pg, PROT_READ) == 0,
	      "PROT_NONE, then PROT_READ, across boundaries");
	CHECK(edge[-1] == 5 && edge[0] == 5 && edge[2 * MiB] == 5, "contents survive");
	CHECK(munmap(res, span) == 0, "munmap the reservation");
	OK("reservations and ranges across page-table boundaries");

	char *r = mmap(NULL, 8 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(r != MAP_FAILED, "mmap for mremap");
	strcpy(r, "moved");
	r = mremap(r, 8 * 4096, 64 * MiB, MREMAP_MAYMOVE);
	CHECK(r != MAP_FAILED && strcmp(r, "moved") == 0, "mremap keeps contents");
	r[64 * MiB - 1] = 1;
	CHECK(munmap(r, 64 * MiB) == 0, "munmap after mremap");
	OK("mremap");

	/* musl's brk() always fails and sbrk only answers sbrk(0): ask the kernel's brk. */
	char *start = (char *)syscall(SYS_brk, 0);
	char *grown = (char *)syscall(SYS_brk, start + 3 * 4096);
	CHECK(grown == start + 3 * 4096 && (char *)syscall(SYS_brk, 0) == grown, "brk grows");
	memset(start, 1, 3 * 4096);
	CHECK((char *)syscall(SYS_brk, start) == start, "brk shrinks");
	CHECK((char *)syscall(SYS_brk, (char *)0x1000) == start, "brk below the data keeps the old break");
	OK("brk");

	CHECK(mmap(NULL, 64 * GiB, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED &&
		      errno == ENOMEM,
	      "mmap beyond the memory limit fails with ENOMEM");
	OK("ENOMEM beyond the limit");
	return 0;
}
