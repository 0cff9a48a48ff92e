/*
 * hash MIB R: CPU-bound work, no system calls inside the timed part: an
 * FNV-1a hash over a 64 KiB buffer, MIB MiB in all, R times. Prints the
 * median time in ms and the hash (so the work cannot be optimised away).
 */
#include <stdint.h>
#include <stdio.h>

#include "measure.h"

#define BUF (64 << 10)

static uint8_t buf[BUF];

static uint64_t fnv1a(uint64_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

int main(int argc, char **argv)
{
	int mib = argc > 2 ? atoi(argv[1]) : 0, rounds = argc > 2 ? atoi(argv[2]) : 0;
	if (mib <= 0 || rounds <= 0) {
		fprintf(stderr, "usage: hash MIB R\n");
		return 2;
	}
	for (int i = 0; i < BUF; i++)
		buf[i] = (uint8_t)(i * 131 + 7);
	double t[rounds];
	uint64_t h = 0xcbf29ce484222325ull;
	for (int r = 0; r < rounds; r++) {
		double start = now_ns();
		for (int i = 0; i < mib * 16; i++)
			h = fnv1a(h, buf, BUF);
		t[r] = (now_ns() - start) / 1e6;
	}
	printf("hash_ms %.3f\nhash %016llx\n", median(t, rounds), (unsigned long long)h);
	return 0;
}
