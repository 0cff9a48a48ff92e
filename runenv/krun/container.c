/*
 * A running container's km options (its --mem-limit), for the processes
 * exec adds to it: the lower runtime's `state` names the container's bundle
 * (OCI state: "bundle"), whose config.json krun rewrote at create.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "krun.h"

#define STATE_MAX (1 << 20)

/* What `LOWER [globals] state ID` prints, or NULL. */
static char *lower_state(char *const *globals, int nglobals, const char *id)
{
	char **argv = calloc(nglobals + 4, sizeof(*argv)), *out = malloc(STATE_MAX + 1);
	size_t len = 0;
	ssize_t n;
	int pipefd[2], status;
	pid_t pid;

	if (!argv || !out || pipe2(pipefd, O_CLOEXEC) < 0)
		goto fail;
	memcpy(argv + 1, globals, nglobals * sizeof(*argv));
	argv[nglobals + 1] = "state";
	argv[nglobals + 2] = (char *)id;
	if ((pid = fork()) == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(pipefd[1], 1);
		dup2(null, 2);
		for (const char *const *name = krun_lower_names(); *name; name++) {
			argv[0] = (char *)*name;
			execvp(*name, argv);
		}
		_exit(127);
	}
	close(pipefd[1]);
	while (pid > 0 && len < STATE_MAX && (n = read(pipefd[0], out + len, STATE_MAX - len)) > 0)
		len += n;
	close(pipefd[0]);
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
		goto fail;
	out[len] = 0;
	free(argv);
	return out;
fail:
	free(argv);
	free(out);
	return NULL;
}

int krun_container_km_options(char *const *globals, int nglobals, const char *id, char **options, int max)
{
	struct json_object *state, *bundle, *config = NULL, *process, *args;
	char *text = lower_state(globals, nglobals, id), path[PATH_MAX];
	int n = 0;

	state = text ? json_tokener_parse(text) : NULL;
	free(text);
	if (state && json_object_object_get_ex(state, "bundle", &bundle) &&
	    json_object_is_type(bundle, json_type_string) &&
	    snprintf(path, sizeof(path), "%s/config.json", json_object_get_string(bundle)) < (int)sizeof(path))
		config = json_object_from_file(path);
	if (config && json_object_object_get_ex(config, "process", &process) && krun_process_runs_km(process) &&
	    json_object_object_get_ex(process, "args", &args)) {
		for (size_t i = 1; i < json_object_array_length(args) && n < max; i++) {
			const char *arg = json_object_get_string(json_object_array_get_idx(args, i));

			if (!arg || !strcmp(arg, "--") || !(options[n] = strdup(arg)))
				break;
			n++;
		}
	}
	json_object_put(config);
	json_object_put(state);
	return n;
}
