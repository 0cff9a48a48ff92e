/*
 * A buffer that realloc grows a MiB at a time, as a program reading a large
 * input does: the allocator's mremap grows it in place while the space above
 * is free, then moves it; new mappings made meanwhile must not overlap it.
 */
#include <stdint.h>

#include "check.h"

#define MiB (1u << 20)

static void fill(unsigned char *p, size_t from, size_t to)
{
	for (size_t i = from; i < to; i += 512)
		p[i] = (unsigned char)(i / 512 * 31);
}

static void check_filled(const unsigned char *p, size_t to, const char *when)
{
	for (size_t i = 0; i < to; i += 512)
		CHECK(p[i] == (unsigned char)(i / 512 * 31), "byte %zu %s", i, when);
}

int main(void)
{
	size_t len = MiB, most = 64 * MiB;
	unsigned char *buf = malloc(len), *others[16];
	int n = 0;

	CHECK(buf != NULL, "malloc of 1 MiB");
	fill(buf, 0, len);
	while (len < most) {
		unsigned char *grown = realloc(buf, len + MiB);
		CHECK(grown != NULL, "realloc to %zu MiB", len / MiB + 1);
		buf = grown;
		check_filled(buf, len, "after realloc");
		fill(buf, len, len + MiB);
		len += MiB;
		/* Now and then a new mapping, which must land beside the buffer. */
		if (len % (4 * MiB) == 0 && n < 16) {
			others[n] = malloc(2 * MiB);
			CHECK(others[n] != NULL, "malloc of 2 MiB");
			memset(others[n], n + 1, 2 * MiB);
			n++;
			check_filled(buf, len, "after a new mapping");
		}
	}
	for (int k = 0; k < n; k++)
		for (size_t i = 0; i < 2 * MiB; i += 4096)
			CHECK(others[k][i] == k + 1, "mapping %d byte %zu", k, i);
	printf("grew to %zu MiB, intact, with %d other mappings intact\n", len / MiB, n);
	return 0;
}
