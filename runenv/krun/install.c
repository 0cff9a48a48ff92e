/*
 * krun install|uninstall ENGINE [FILE]: registers krun with an engine's
 * configuration on request, and takes it out again; never on its own.
 *   docker   "runtimes": {"krun": {"path": KRUN}} in daemon.json (other keys kept)
 *   podman   a containers.conf.d drop-in naming krun
 * Both are idempotent; the engine reads them when it (re)starts.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "krun.h"

#define DOCKER_CONFIG "/etc/docker/daemon.json"
#define PODMAN_DROPIN "/etc/containers/containers.conf.d/kontain-krun.conf"

static const char *self_path(void)
{
	static char path[PATH_MAX];

	if (!realpath("/proc/self/exe", path)) {
		krun_error("cannot find krun's own path: %s", strerror(errno));
		return NULL;
	}
	return path;
}

/* Writes text to path through a temporary file in its directory, made if need be. */
static bool replace_file(const char *path, const char *text, mode_t mode)
{
	char dir[PATH_MAX], tmp[PATH_MAX + 8];
	FILE *f;

	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		for (char *p = dir + 1; *p; p++)
			if (*p == '/') {
				*p = 0;
				mkdir(dir, 0755);
				*p = '/';
			}
		mkdir(dir, 0755);
	}
	snprintf(tmp, sizeof(tmp), "%s.krun", path);
	size_t len = strlen(text);
	if (!(f = fopen(tmp, "we")) || fputs(text, f) < 0 ||
	    (len && text[len - 1] != '\n' && fputc('\n', f) < 0) || fchmod(fileno(f), mode) < 0 ||
	    fclose(f) != 0 || rename(tmp, path) < 0) {
		krun_error("cannot write %s: %s", path, strerror(errno));
		unlink(tmp);
		return false;
	}
	return true;
}

/* daemon.json as an object: {} if it does not exist. */
static struct json_object *read_daemon_json(const char *path, mode_t *mode)
{
	struct stat st;
	struct json_object *config;

	*mode = 0644;
	if (stat(path, &st) < 0) {
		if (errno == ENOENT)
			return json_object_new_object();
		krun_error("%s: %s", path, strerror(errno));
		return NULL;
	}
	*mode = st.st_mode & 07777;
	if (!(config = json_object_from_file(path)) || !json_object_is_type(config, json_type_object)) {
		krun_error("%s is not a JSON object: %s", path, config ? "" : json_util_get_last_err());
		json_object_put(config);
		return NULL;
	}
	return config;
}

static int docker(bool install, const char *path)
{
	struct json_object *config, *runtimes, *entry;
	const char *krun_path = self_path();
	mode_t mode;
	int rc = 1;

	if (!krun_path || !(config = read_daemon_json(path, &mode)))
		return 1;
	if (json_object_object_get_ex(config, "runtimes", &runtimes) &&
	    !json_object_is_type(runtimes, json_type_object)) {
		krun_error("%s: \"runtimes\" is not an object", path);
		goto out;
	}
	if (install) {
		if (!runtimes) {
			runtimes = json_object_new_object();
			json_object_object_add(config, "runtimes", runtimes);
		}
		entry = json_object_new_object();
		json_object_object_add(entry, "path", json_object_new_string(krun_path));
		json_object_object_add(runtimes, "krun", entry);
	} else if (runtimes) {
		json_object_object_del(runtimes, "krun");
		if (!json_object_object_length(runtimes))
			json_object_object_del(config, "runtimes");
	}
	if (!install && !json_object_object_length(config) && access(path, F_OK) == 0) {
		/* Nothing but krun was in it: as if it had never been written. */
		if (unlink(path) < 0) {
			krun_error("cannot remove %s: %s", path, strerror(errno));
			goto out;
		}
	} else if (install || access(path, F_OK) == 0) {
		const char *text = json_object_to_json_string_ext(config, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
									  JSON_C_TO_STRING_NOSLASHESCAPE);
		if (!replace_file(path, text, mode))
			goto out;
	}
	printf("krun: %s %s; restart dockerd to apply it\n",
	       install ? "the runtime krun is in" : "no runtime krun in", path);
	rc = 0;
out:
	json_object_put(config);
	return rc;
}

static int podman(bool install, const char *path)
{
	const char *krun_path = self_path();
	char text[PATH_MAX + 256];

	if (!krun_path)
		return 1;
	if (!install) {
		if (unlink(path) < 0 && errno != ENOENT) {
			krun_error("cannot remove %s: %s", path, strerror(errno));
			return 1;
		}
		printf("krun: removed %s\n", path);
		return 0;
	}
	snprintf(text, sizeof(text),
		 "# Written by krun install podman; krun uninstall podman removes it.\n"
		 "[engine.runtimes]\nkrun = [\"%s\"]\n",
		 krun_path);
	if (!replace_file(path, text, 0644))
		return 1;
	printf("krun: the runtime krun is in %s; use podman run --runtime krun\n", path);
	return 0;
}

int krun_install(bool install, int argc, char **argv)
{
	const char *verb = install ? "install" : "uninstall";

	if (argc < 1 || argc > 2) {
		krun_error("usage: krun %s docker|podman [FILE]", verb);
		return 2;
	}
	if (!strcmp(argv[0], "docker"))
		return docker(install, argc > 1 ? argv[1] : DOCKER_CONFIG);
	if (!strcmp(argv[0], "podman"))
		return podman(install, argc > 1 ? argv[1] : PODMAN_DROPIN);
	krun_error("%s: no engine named '%s': docker or podman (containerd and Kubernetes: see "
		   "/opt/kontain/share/kontain/)", verb, argv[0]);
	return 2;
}
