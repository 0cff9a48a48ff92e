/*
 * smallio N R: syscall-heavy work: a 64-byte write into a pipe and a 64-byte
 * read back, N times, R rounds. Prints the median ns per write+read pair.
 */
#include <stdio.h>
#include <unistd.h>

#include "measure.h"

static int fds[2];

static void write_read(void)
{
	char b[64] = { 0 };
	if (write(fds[1], b, sizeof(b)) != sizeof(b) || read(fds[0], b, sizeof(b)) != sizeof(b)) {
		perror("smallio");
		exit(1);
	}
}

int main(int argc, char **argv)
{
	int n = argc > 2 ? atoi(argv[1]) : 0, rounds = argc > 2 ? atoi(argv[2]) : 0;
	if (n <= 0 || rounds <= 0 || pipe(fds) != 0) {
		fprintf(stderr, "usage: smallio N R\n");
		return 2;
	}
	printf("smallio %.3f\n", time_per_call(write_read, n, rounds));
	return 0;
}
