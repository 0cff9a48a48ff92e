/* Copies stdin to stdout line by line, upper-cased, and reports to stderr. */
#include <ctype.h>
#include <stdio.h>

int main(void)
{
	char line[256];
	int lines = 0;

	while (fgets(line, sizeof(line), stdin)) {
		for (char *p = line; *p; p++)
			*p = (char)toupper((unsigned char)*p);
		fputs(line, stdout);
		lines++;
	}
	fprintf(stderr, "lines=%d\n", lines);
	return 0;
}
