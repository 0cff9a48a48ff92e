/* alloc MIB...: mallocs each size in turn and writes every page of it, keeping them all. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		size_t mib = strtoul(argv[i], NULL, 10);
		char *p = malloc(mib << 20);

		if (!p) {
			printf("malloc of %zu MiB failed\n", mib);
			return 1;
		}
		memset(p, 1, mib << 20);
		printf("%zu MiB allocated and written\n", mib);
		fflush(stdout);
	}
	return 0;
}
