/* km's command line: its options, shared by main and by exec (a guest that runs km). */
#include <getopt.h>

#include "km.h"

const struct option km_options[] = {
	{ "mem-limit", required_argument, NULL, 'm' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "log-to", required_argument, NULL, 'L' },
	{ "argv0", required_argument, NULL, 'A' },
	{ "rlimit", required_argument, NULL, 'R' },
	{ "allow-path", required_argument, NULL, 'P' },
	{ "no-seccomp", no_argument, NULL, 'S' },
	{ "core", required_argument, NULL, 'C' },
	{ "stats", required_argument, NULL, 'T' },
	{ "fast-calls", required_argument, NULL, 'Q' },
	{ "gdb", required_argument, NULL, 'g' },
	{ "gdb-listen", required_argument, NULL, 'l' },
	{ "gdb-attach", required_argument, NULL, 'a' },
	{ "gdb-fork", required_argument, NULL, 'f' },
	/* Only from km's own exec for the guest: see seccomp.c and kvm.c. */
	{ "seccomp-inherited", no_argument, NULL, 'I' },
	{ "kvm-fd", required_argument, NULL, 'K' },
	{ "gdb-fd", required_argument, NULL, 'F' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ 0 },
};

/*
 * How many of argv's first words are km's options, argv[0] counted: where
 * the program begins for a km that a guest runs (exec.c).
 */
int km_options_end(int argc, char **argv)
{
	int saved = opterr, end;

	opterr = 0;
	optind = 0; /* glibc's full reset */
	while (getopt_long(argc, argv, KM_OPTSTRING, km_options, NULL) != -1)
		;
	end = optind;
	optind = 0;
	opterr = saved;
	return end;
}

