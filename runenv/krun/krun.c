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

/* Long options, spelled with - or --, as runc's command line takes them. */
static const char *option_name(const char *arg)
{
	if (arg[0] != '-' || !arg[1])
		return NULL;
	return arg + (arg[1] == '-' ? 2 : 1);
}

/* Whether arg is NAME or NAME=VALUE (for the option name NAME). */
static bool is_option(const char *arg, const char *name, const char **value)
{
	const char *opt = option_name(arg);
	size_t n = strlen(name);

	if (!opt || strncmp(opt, name, n) || (opt[n] && opt[n] != '='))
		return false;
	*value = opt[n] ? opt + n + 1 : NULL;
	return true;
}

/* Global options with a value; every other global option is a flag. */
static const char *const global_valued[] = { "log", "log-format", "root", "criu", "rootless", NULL };
/* Options with a value of create/run and exec (runc's). */
static const char *const command_valued[] = { "bundle", "b", "console-socket", "pid-file",
	"preserve-fds", "process", "p", "cwd", "env", "e", "user", "u", "additional-gids", "g",
	"process-label", "apparmor", "cap", "c", "cgroup", NULL };

static bool takes_value(const char *arg, const char *const *valued)
{
	const char *value;

	for (; *valued; valued++)
		if (is_option(arg, *valued, &value))
			return !value;
	return false;
}

/* The value of option NAME (or ALIAS) in args[from..to), or NULL. */
static const char *find_option(char **args, int from, int to, const char *name, const char *alias)
{
	const char *value;

	for (int i = from; i < to; i++) {
		if (!strcmp(args[i], "--"))
			break;
		if (is_option(args[i], name, &value) || (alias && is_option(args[i], alias, &value)))
			return value ? value : (i + 1 < to ? args[i + 1] : NULL);
		if (takes_value(args[i], command_valued))
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
 * exec's arguments without --process, [options] ID COMMAND [ARGS], appended
 * to out with km and "--" before COMMAND. out has room for argc + 2 more.
 */
static bool exec_args_under_km(char **args, int from, int argc, char **out, int *o)
{
	int i, positional = 0;

	for (i = from; i < argc; i++) {
		if (positional < 2 && !strcmp(args[i], "--")) {
			out[(*o)++] = args[i];
			continue;
		}
		if (positional == 0 && option_name(args[i])) {
			out[(*o)++] = args[i];
			if (takes_value(args[i], command_valued) && i + 1 < argc)
				out[(*o)++] = args[++i];
			continue;
		}
		if (++positional == 2) {
			out[(*o)++] = KRUN_KM_IN_CONTAINER;
			out[(*o)++] = "--";
		}
		out[(*o)++] = args[i];
	}
	if (positional < 2) {
		krun_error("exec: give a container and a command, or --process");
		return false;
	}
	return true;
}

/* Global options: what krun needs, kept for the lower runtime but --krun-runtime. */
static int parse_globals(int argc, char **argv, char **lower_argv, int *lower_argc)
{
	const char *value;
	int i;

	for (i = 1; i < argc && option_name(argv[i]); i++) {
		if (is_option(argv[i], "krun-runtime", &value)) {
			krun.runtime = value ? value : (i + 1 < argc ? argv[++i] : NULL);
			continue;
		}
		if (is_option(argv[i], "version", &value) || is_option(argv[i], "v", &value) ||
		    is_option(argv[i], "help", &value) || is_option(argv[i], "h", &value))
			break;
		lower_argv[(*lower_argc)++] = argv[i];
		if (is_option(argv[i], "log", &value))
			krun.log_path = value ? value : (i + 1 < argc ? argv[i + 1] : NULL);
		if (is_option(argv[i], "log-format", &value)) {
			const char *format = value ? value : (i + 1 < argc ? argv[i + 1] : "");
			krun.log_json = !strcmp(format, "json");
		}
		if (takes_value(argv[i], global_valued) && i + 1 < argc)
			lower_argv[(*lower_argc)++] = argv[++i];
	}
	return i;
}

static void exec_lower(char **lower_argv)
{
	static const char *const defaults[] = { "runc", "crun", NULL };
	const char *const *name = krun.runtime ? (const char *const[]){ krun.runtime, NULL } : defaults;

	for (; *name; name++) {
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
	char **lower_argv = calloc(argc + 4, sizeof(*lower_argv)); /* + runtime, km, --, NULL */
	int lower_argc = 1, i;
	const char *value, *command;

	if (!lower_argv)
		return 1;
	i = parse_globals(argc, argv, lower_argv, &lower_argc);
	if (i < argc && (is_option(argv[i], "version", &value) || is_option(argv[i], "v", &value)))
		return version(lower_argv, lower_argc);
	if (i < argc && (is_option(argv[i], "help", &value) || is_option(argv[i], "h", &value)))
		return usage();
	if (i == argc) {
		krun_error("no command: see krun --help");
		return 1;
	}
	command = argv[i];
	if (!strcmp(command, "install") || !strcmp(command, "uninstall"))
		return krun_install(command[0] == 'i', argc - i - 1, argv + i + 1);
	if (!strcmp(command, "create") || !strcmp(command, "run")) {
		const char *bundle = find_option(argv, i + 1, argc, "bundle", "b");

		if (!krun_rewrite_bundle(bundle ? bundle : "."))
			return 1;
	} else if (!strcmp(command, "exec")) {
		const char *process = find_option(argv, i + 1, argc, "process", "p");

		if (process) {
			if (!krun_rewrite_process_file(process))
				return 1;
		} else {
			lower_argv[lower_argc++] = argv[i];
			if (!exec_args_under_km(argv, i + 1, argc, lower_argv, &lower_argc))
				return 1;
			lower_argv[lower_argc] = NULL;
			exec_lower(lower_argv);
		}
	}
	for (; i < argc; i++)
		lower_argv[lower_argc++] = argv[i];
	lower_argv[lower_argc] = NULL;
	exec_lower(lower_argv);
	return 1;
}
