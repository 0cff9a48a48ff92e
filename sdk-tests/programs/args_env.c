/* Prints argv and the environment variables named KM_TEST_*, then exits with argv[1]. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

int main(int argc, char **argv)
{
	printf("argc=%d\n", argc);
	for (int i = 0; i < argc; i++)
		printf("argv[%d]=%s\n", i, argv[i]);
	for (char **e = environ; *e; e++)
		if (strncmp(*e, "KM_TEST_", 8) == 0)
			printf("env %s\n", *e);
	return argc > 1 ? atoi(argv[1]) : 0;
}
