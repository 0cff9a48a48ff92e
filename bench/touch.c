/* touch MIB: writes one byte in every page of MIB MiB of fresh memory, so peak RSS shows the overhead. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

int main(int argc, char **argv)
{
	size_t size = (size_t)(argc > 1 ? atol(argv[1]) : 0) << 20;
	char *p = size ? mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
		       : MAP_FAILED;
	if (p == MAP_FAILED) {
		fprintf(stderr, "usage: touch MIB\n");
		return 2;
	}
	for (size_t i = 0; i < size; i += 4096)
		p[i] = 1;
	return 0;
}
