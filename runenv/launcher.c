/*
 * The entrypoint of an image whose runtime is an unmodified Linux program
 * (node, java): a unikernel that execs that program, PROGRAM, with its own
 * arguments. Under krun, km runs this and then, in the same VM, the program.
 * Run by another OCI runtime, its ELF interpreter (kontain-interp) finds no
 * km and says to use krun, instead of the program running outside a VM.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	(void)argc;
	execv(PROGRAM, argv);
	fprintf(stderr, "%s: cannot run %s: %s\n", argv[0], PROGRAM, strerror(errno));
	return 127;
}
