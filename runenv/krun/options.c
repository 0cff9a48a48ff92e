/*
 * The OCI runtime command line that krun accepts: runc's commands and
 * options (urfave/cli: -name or --name, a value as the next word or after
 * =), plus crun's global ones, which podman may pass. An option that neither
 * knows is refused here with one line, rather than by the lower runtime's
 * usage text.
 */
#include <string.h>

#include "krun.h"

/* Space-separated names: those taking a value, and flags. */
struct option_set {
	const char *valued;
	const char *flags;
};

static const struct option_set global_options = {
	"log log-format log-level root criu rootless cgroup-manager",
	"debug systemd-cgroup help h version v",
};

static const struct command {
	const char *name;
	struct option_set options;
} commands[] = {
	{ "create", { "bundle b console-socket pid-file preserve-fds pidfd-socket", "no-pivot no-new-keyring" } },
	{ "run", { "bundle b console-socket pid-file preserve-fds pidfd-socket",
		   "detach d keep no-subreaper no-pivot no-new-keyring" } },
	{ "exec", { "console-socket pidfd-socket cwd env e user u additional-gids g process p pid-file "
		    "process-label apparmor cap c preserve-fds cgroup",
		    "tty t detach d no-new-privs ignore-paused" } },
	{ "start", { "", "" } },
	{ "state", { "", "" } },
	{ "kill", { "", "all a" } },
	{ "delete", { "", "force f" } },
	{ "ps", { "format f", "" } },
	{ "features", { "", "" } },
	{ "pause", { "", "" } },
	{ "resume", { "", "" } },
	{ "list", { "format f", "quiet q" } },
	{ "events", { "interval", "stats" } },
	{ "update", { "resources r blkio-weight cpu-period cpu-quota cpu-share cpu-rt-period cpu-rt-runtime "
		      "cpuset-cpus cpuset-mems memory memory-reservation memory-swap pids-limit l3-cache-schema "
		      "mem-bw-schema cpu-idle kernel-memory kernel-memory-tcp",
		      "" } },
	{ "spec", { "bundle b rootless", "" } },
	{ "checkpoint", { "image-path work-path parent-path status-fd page-server manage-cgroups-mode empty-ns",
			  "leave-running tcp-established ext-unix-sk shell-job lazy-pages file-locks pre-dump "
			  "auto-dedup" } },
	{ "restore", { "console-socket image-path work-path manage-cgroups-mode bundle b pid-file empty-ns "
		       "lsm-profile lsm-mount-context",
		       "tcp-established ext-unix-sk shell-job file-locks detach d no-subreaper no-pivot auto-dedup "
		       "lazy-pages" } },
};

/* The option's name, for an argument spelled -name, --name or either with =value. */
const char *krun_option_name(const char *arg)
{
	if (arg[0] != '-' || !arg[1] || !strcmp(arg, "--"))
		return NULL;
	return arg + (arg[1] == '-' ? 2 : 1);
}

bool krun_is_option(const char *arg, const char *name, const char **value)
{
	const char *opt = krun_option_name(arg);
	size_t n = strlen(name);

	if (!opt || strncmp(opt, name, n) || (opt[n] && opt[n] != '='))
		return false;
	*value = opt[n] ? opt + n + 1 : NULL;
	return true;
}

/* Whether arg is one of the space-separated names. */
static bool named_in(const char *names, const char *arg)
{
	const char *value;
	char name[32];

	while (*names) {
		size_t n = strcspn(names, " ");

		if (n < sizeof(name)) {
			memcpy(name, names, n);
			name[n] = 0;
			if (krun_is_option(arg, name, &value))
				return true;
		}
		names += n + (names[n] == ' ');
	}
	return false;
}

static const struct option_set *options_of(const char *command)
{
	if (!command)
		return &global_options;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].name, command))
			return &commands[i].options;
	return NULL;
}

bool krun_known_command(const char *command)
{
	return options_of(command) != NULL;
}

enum krun_option krun_option_kind(const char *command, const char *arg)
{
	const struct option_set *set = options_of(command);

	if (!set || !krun_option_name(arg))
		return KRUN_NOT_OPTION;
	if (named_in(set->valued, arg))
		return strchr(arg, '=') ? KRUN_ONE_WORD : KRUN_VALUE_NEXT;
	return named_in(set->flags, arg) ? KRUN_ONE_WORD : KRUN_UNKNOWN;
}

int krun_end_of_options(const char *command, int argc, char **argv, int from)
{
	int i;

	for (i = from; i < argc; i++) {
		switch (krun_option_kind(command, argv[i])) {
		case KRUN_NOT_OPTION:
			return i;
		case KRUN_UNKNOWN:
			krun_error("%s: unknown option %s", command, argv[i]);
			return -1;
		case KRUN_VALUE_NEXT:
			if (++i == argc) {
				krun_error("%s: %s needs a value", command, argv[i - 1]);
				return -1;
			}
			break;
		case KRUN_ONE_WORD:
			break;
		}
	}
	return i;
}
