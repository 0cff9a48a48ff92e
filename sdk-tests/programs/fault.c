/* Dies the way argv[1] says: a write to a read-only page, a read of PROT_NONE, NULL, ud2, abort, divide. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

int main(int argc, char **argv)
{
	const char *how = argc > 1 ? argv[1] : "";
	volatile int zero = 0, one = 1; /* both volatile: gcc turns 1 / x into a compare */

	if (strcmp(how, "readonly") == 0) {
		char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		p[0] = 1;
		mprotect(p, 4096, PROT_READ);
		printf("wrote before mprotect: %d\n", p[0]);
		fflush(stdout);
		p[0] = 2;
	} else if (strcmp(how, "none-across") == 0) {
		/* PROT_NONE over 4 MiB that starts one page before a 2 MiB boundary. */
		size_t mib2 = 2 << 20;
		char *p = mmap(NULL, 4 * mib2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		char *edge = (char *)(((uintptr_t)p + mib2) & ~(mib2 - 1));
		edge[-4096] = edge[0] = edge[mib2] = 1;
		mprotect(edge - 4096, mib2 + 4096, PROT_NONE);
		printf("before the range: %d, after it: %d\n", edge[-8192], edge[mib2]);
		fflush(stdout);
		p[0] = edge[mib2 - 1];
	} else if (strcmp(how, "null") == 0) {
		*(volatile int *)0 = 1;
	} else if (strcmp(how, "ud2") == 0) {
		__asm__ volatile("ud2");
	} else if (strcmp(how, "abort") == 0) {
		abort();
	} else if (strcmp(how, "divide") == 0) {
		printf("%d\n", one / zero);
	} else if (strcmp(how, "raise-ignored") == 0) {
		signal(SIGUSR1, SIG_IGN);
		raise(SIGUSR1);
		puts("still here");
		return 0;
	}
	puts("survived");
	return 3;
}
