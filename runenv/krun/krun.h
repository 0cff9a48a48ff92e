/* krun: an OCI runtime that runs a container's processes under km. */
#ifndef KRUN_H
#define KRUN_H

#include <stdbool.h>
#include <json-c/json.h>

/* Where km is, inside every container krun starts (bind-mounted read-only). */
#define KRUN_KM_IN_CONTAINER "/opt/kontain/bin/km"

/* What krun learned from the global options, which all go to the lower runtime too. */
struct krun_globals {
	const char *log_path;	/* --log */
	bool log_json;		/* --log-format json */
	const char *runtime;	/* --krun-runtime, or runc/crun on PATH */
};

extern struct krun_globals krun;

/* One line to stderr and to --log (in its format); the caller then exits 1. */
void krun_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The host's km, beside krun itself: its absolute path, or NULL after krun_error. */
const char *krun_host_km(void);

/* Whether process (an OCI process object) was rewritten already. */
bool krun_process_runs_km(struct json_object *process);

/* Rewrites process (an OCI process object) to run its args under km with km_options. */
bool krun_process_under_km(struct json_object *process, const char *const *km_options);

/* Rewrites BUNDLE/config.json for create and run. */
bool krun_rewrite_bundle(const char *bundle);

/* Rewrites the process.json that exec --process names, with km_options (NULL-terminated). */
bool krun_rewrite_process_file(const char *path, const char *const *km_options);

/* The lower runtimes to try, in order (NULL-terminated): --krun-runtime's, else runc and crun. */
const char *const *krun_lower_names(void);

/* At most this many km options are carried from a container to its exec'd processes. */
#define KRUN_KM_OPTIONS_MAX 8

/*
 * The km options of running container id's own process, found through the
 * lower runtime's state (run with its nglobals global options): up to max
 * strings into options; 0 if there are none or the container is unknown.
 */
int krun_container_km_options(char *const *globals, int nglobals, const char *id, char **options, int max);

/* An argument of a command (NULL: the global options), as runc's command line takes it. */
enum krun_option {
	KRUN_NOT_OPTION, /* the first positional argument, or "--" */
	KRUN_UNKNOWN,	 /* an option runc does not have there */
	KRUN_ONE_WORD,	 /* a flag, or an option with its =value */
	KRUN_VALUE_NEXT, /* an option whose value is the next argument */
};

enum krun_option krun_option_kind(const char *command, const char *arg);

bool krun_known_command(const char *command);

/* The name of an option spelled -name or --name (with =value or not), else NULL. */
const char *krun_option_name(const char *arg);

/* Whether arg is option NAME; *value is what follows its =, or NULL. */
bool krun_is_option(const char *arg, const char *name, const char **value);

/*
 * The index of the first positional argument of command (not the global
 * options, which krun.c reads itself) in argv[from..argc),
 * after its options; -1, after krun_error, at an option it does not have.
 */
int krun_end_of_options(const char *command, int argc, char **argv, int from);

/* krun install|uninstall ENGINE [FILE]: argv holds ENGINE [FILE]. */
int krun_install(bool install, int argc, char **argv);

#endif
