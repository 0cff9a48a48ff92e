/*
 * krun [global options] COMMAND [options] ARGS: the OCI runtime command line
 * as engines speak it (runc's). create, run and exec have their process
 * rewritten to run under km; then every command, with its options as given,
 * goes to the lower runtime (runc or crun), which does the containers.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "krun.h"

#ifndef KRUN_VERSION
#define KRUN_VERSION "dev"
#endif

/* The value of option NAME (or ALIAS) of command in args[from..end), or NULL. */
static const char *find_option(const char *command, char **args, int from, int end, const char *name,
			       const char *alias)
{
	const char *value;

	for (int i = from; i < end; i++) {
		if (krun_is_option(args[i], name, &value) || (alias && krun_is_option(args[i], alias, &value)))
			return value ? value : args[i + 1];
		if (krun_option_kind(command, args[i]) == KRUN_VALUE_NEXT)
			i++;
	}
	return NULL;
}

const char *krun_host_km(void)
{
	static char path[PATH_MAX];
	char self[PATH_MAX], beside[PATH_MAX + 4];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n < 0) {
		krun_error("cannot find krun's own path: %s", strerror(errno));
		return NULL;
	}
	self[n] = 0;
	snprintf(beside, sizeof(beside), "%s/km", dirname(self));
	if (!realpath(beside, path) || access(path, X_OK) < 0) {
		krun_error("%s: %s: km is installed beside krun", beside, strerror(errno));
		return NULL;
	}
	return path;
}

/*
 * exec without --process: exec [options] ID COMMAND [ARGS], its options
 * ending at end, appended to out with km, km_options and "--" before COMMAND.
 */
static bool exec_args_under_km(char **args, int from, int end, int argc, const char *const *km_options,
			       char **out, int *o)
{
	int i;

	if (end + 1 >= argc) {
		krun_error("exec: give a container and a command, or --process");
		return false;
	}
	for (i = from; i <= end; i++)
		out[(*o)++] = args[i];
	out[(*o)++] = KRUN_KM_IN_CONTAINER;
	for (; *km_options; km_options++)
		out[(*o)++] = (char *)*km_options;
	out[(*o)++] = "--";
	for (; i < argc; i++)
		out[(*o)++] = args[i];
	return true;
}

static bool is_version_or_help(const char *arg)
{
	const char *value;

	return krun_is_option(arg, "version", &value) || krun_is_option(arg, "v", &value) ||
	       krun_is_option(arg, "help", &value) || krun_is_option(arg, "h", &value);
}

/* --log and --log-format, read first so that every error reaches the engine's log. */
static void find_log_options(int argc, char **argv)
{
	const char *value;

	for (int i = 1; i < argc && krun_option_name(argv[i]); i++) {
		if (krun_is_option(argv[i], "log", &value))
			krun.log_path = value ? value : (i + 1 < argc ? argv[i + 1] : NULL);
		if (krun_is_option(argv[i], "log-format", &value)) {
			const char *format = value ? value : (i + 1 < argc ? argv[i + 1] : "");
			krun.log_json = !strcmp(format, "json");
		}
		if (krun_option_kind(NULL, argv[i]) == KRUN_VALUE_NEXT ||
		    (krun_is_option(argv[i], "krun-runtime", &value) && !value))
			i++;
	}
}

/* Global options, all kept for the lower runtime but krun's --krun-runtime; -1 at a bad one. */
static int parse_globals(int argc, char **argv, char **lower_argv, int *lower_argc)
{
	const char *value;
	int i;

	find_log_options(argc, argv);
	for (i = 1; i < argc && krun_option_name(argv[i]) && !is_version_or_help(argv[i]); i++) {
		if (krun_is_option(argv[i], "krun-runtime", &value)) {
			krun.runtime = value ? value : (i + 1 < argc ? argv[++i] : NULL);
			continue;
		}
		switch (krun_option_kind(NULL, argv[i])) {
		case KRUN_UNKNOWN:
			krun_error("unknown global option %s", argv[i]);
			return -1;
		case KRUN_VALUE_NEXT:
			if (i + 1 == argc) {
				krun_error("%s needs a value", argv[i]);
				return -1;
			}
			lower_argv[(*lower_argc)++] = argv[i++];
			break;
		default:
			break;
		}
		lower_argv[(*lower_argc)++] = argv[i];
	}
	return i;
}

const char *const *krun_lower_names(void)
{
	static const char *const defaults[] = { "runc", "crun", NULL };
	static const char *named[2];

	if (!krun.runtime)
		return defaults;
	named[0] = krun.runtime;
	return named;
}

static void exec_lower(char **lower_argv)
{
	for (const char *const *name = krun_lower_names(); *name; name++) {
		lower_argv[0] = (char *)*name;
		execvp(*name, lower_argv);
		if (errno != ENOENT || krun.runtime)
			break;
	}
	if (krun.runtime)
		krun_error("cannot run the OCI runtime %s: %s", krun.runtime, strerror(errno));
	else
		krun_error("no OCI runtime to hand the container to: install runc (or crun), or name one "
			   "with --krun-runtime=PATH");
	exit(1);
}

/*
 * exec: the new process runs under km with the container's own km options
 * (a memory limit binds each of its VMs).
 */
static int exec_under_km(char **argv, int i, int end, int argc, char **lower_argv, int lower_argc)
{
	const char *process = find_option("exec", argv, i + 1, end, "process", "p");
	char *km_options[KRUN_KM_OPTIONS_MAX + 1] = { NULL };

	if (end < argc && !strcmp(argv[end], "--"))
		end++;
	if (end < argc)
		krun_container_km_options(lower_argv + 1, lower_argc - 1, argv[end], km_options,
					  KRUN_KM_OPTIONS_MAX);
	if (process) {
		if (!krun_rewrite_process_file(process, (const char *const *)km_options))
			return 1;
		for (; i < argc; i++)
			lower_argv[lower_argc++] = argv[i];
	} else if (!exec_args_under_km(argv, i, end, argc, (const char *const *)km_options, lower_argv,
				       &lower_argc)) {
		return 1;
	}
	lower_argv[lower_argc] = NULL;
	exec_lower(lower_argv);
	return 1;
}

static int version(char **lower_argv, int lower_argc)
{
	printf("krun version %s (runs each container's processes under km)\n", KRUN_VERSION);
	printf("spec: 1.0.2\n");
	fflush(stdout);
	lower_argv[lower_argc++] = "--version";
	lower_argv[lower_argc] = NULL;
	exec_lower(lower_argv);
	return 1;
}

static int usage(void)
{
	printf("Usage: krun [global options] COMMAND [options] ARGS...\n"
	       "An OCI runtime that runs each container's processes under km, in their own KVM\n"
	       "virtual machine; the lower runtime (runc, else crun, on PATH) does the rest.\n"
	       "create, run and exec run the process as km [options] -- ARGS, with the host's km\n"
	       "mounted read-only at " KRUN_KM_IN_CONTAINER " and /dev/kvm in the container;\n"
	       "a memory limit (docker -m) becomes km's --mem-limit. Every other command and\n"
	       "option goes to the lower runtime as given.\n"
	       "krun install docker|podman [FILE] registers krun with the engine's configuration\n"
	       "(/etc/docker/daemon.json, a containers.conf.d drop-in), idempotently;\n"
	       "krun uninstall docker|podman [FILE] takes it out.\n"
	       "      --krun-runtime=PATH  the lower runtime\n"
	       "  -v, --version            krun's and the lower runtime's versions\n");
	return 0;
}

int main(int argc, char **argv)
{
	/* + runtime, km, its options, --, NULL */
	char **lower_argv = calloc(argc + 4 + KRUN_KM_OPTIONS_MAX, sizeof(*lower_argv));
	int lower_argc = 1, i, end;
	const char *value, *command;

	if (!lower_argv)
		return 1;
	if ((i = parse_globals(argc, argv, lower_argv, &lower_argc)) < 0)
		return 1;
	if (i < argc && (krun_is_option(argv[i], "version", &value) || krun_is_option(argv[i], "v", &value)))
		return version(lower_argv, lower_argc);
	if (i < argc && (krun_is_option(argv[i], "help", &value) || krun_is_option(argv[i], "h", &value)))
		return usage();
	if (i == argc) {
		krun_error("no command: see krun --help");
		return 1;
	}
	command = argv[i];
	if (!strcmp(command, "install") || !strcmp(command, "uninstall"))
		return krun_install(command[0] == 'i', argc - i - 1, argv + i + 1);
	if (!krun_known_command(command)) {
		krun_error("unknown command '%s': see krun --help", command);
		return 1;
	}
	if ((end = krun_end_of_options(command, argc, argv, i + 1)) < 0)
		return 1;
	if (!strcmp(command, "create") || !strcmp(command, "run")) {
		const char *bundle = find_option(command, argv, i + 1, end, "bundle", "b");

		if (!krun_rewrite_bundle(bundle ? bundle : "."))
			return 1;
	} else if (!strcmp(command, "exec")) {
		return exec_under_km(argv, i, end, argc, lower_argv, lower_argc);
	}
	for (; i < argc; i++)
		lower_argv[lower_argc++] = argv[i];
	lower_argv[lower_argc] = NULL;
	exec_lower(lower_argv);
	return 1;
}
