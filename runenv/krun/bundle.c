/*
 * A bundle's config.json (and exec's process.json), rewritten for km: the
 * process runs as km [options] -- ARGS, with the host's km bind-mounted
 * read-only into the container and /dev/kvm created and allowed in it.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "krun.h"

static struct json_object *member(struct json_object *obj, const char *key, enum json_type type)
{
	struct json_object *value;

	if (!json_object_object_get_ex(obj, key, &value) || !json_object_is_type(value, type))
		return NULL;
	return value;
}

/* obj[key], created as an empty TYPE if absent; NULL if it is something else. */
static struct json_object *member_or_new(struct json_object *obj, const char *key, enum json_type type)
{
	struct json_object *value;

	if (json_object_object_get_ex(obj, key, &value))
		return json_object_is_type(value, type) ? value : NULL;
	value = type == json_type_array ? json_object_new_array() : json_object_new_object();
	json_object_object_add(obj, key, value);
	return value;
}

static struct json_object *string_array(const char *const *words)
{
	struct json_object *array = json_object_new_array();

	for (; *words; words++)
		json_object_array_add(array, json_object_new_string(*words));
	return array;
}

static bool add_km_mount(struct json_object *config, const char *host_km)
{
	static const char *const options[] = { "bind", "ro", "nosuid", "nodev", NULL };
	struct json_object *mounts = member_or_new(config, "mounts", json_type_array), *mount;

	if (!mounts) {
		krun_error("config.json: mounts is not an array");
		return false;
	}
	mount = json_object_new_object();
	json_object_object_add(mount, "destination", json_object_new_string(KRUN_KM_IN_CONTAINER));
	json_object_object_add(mount, "type", json_object_new_string("bind"));
	json_object_object_add(mount, "source", json_object_new_string(host_km));
	json_object_object_add(mount, "options", string_array(options));
	json_object_array_add(mounts, mount);
	return true;
}

/* /dev/kvm in the container's /dev, and allowed by its device cgroup. */
static bool add_kvm_device(struct json_object *linux_, const struct stat *kvm)
{
	struct json_object *devices = member_or_new(linux_, "devices", json_type_array);
	struct json_object *resources = member_or_new(linux_, "resources", json_type_object);
	struct json_object *rules = resources ? member_or_new(resources, "devices", json_type_array) : NULL;
	struct json_object *device, *rule;

	if (!devices || !rules) {
		krun_error("config.json: linux.devices or linux.resources.devices is not an array");
		return false;
	}
	device = json_object_new_object();
	json_object_object_add(device, "path", json_object_new_string("/dev/kvm"));
	json_object_object_add(device, "type", json_object_new_string("c"));
	json_object_object_add(device, "major", json_object_new_int64(major(kvm->st_rdev)));
	json_object_object_add(device, "minor", json_object_new_int64(minor(kvm->st_rdev)));
	json_object_object_add(device, "fileMode", json_object_new_int(0666));
	json_object_object_add(device, "uid", json_object_new_int(0));
	json_object_object_add(device, "gid", json_object_new_int(0));
	json_object_array_add(devices, device);

	rule = json_object_new_object();
	json_object_object_add(rule, "allow", json_object_new_boolean(1));
	json_object_object_add(rule, "type", json_object_new_string("c"));
	json_object_object_add(rule, "major", json_object_new_int64(major(kvm->st_rdev)));
	json_object_object_add(rule, "minor", json_object_new_int64(minor(kvm->st_rdev)));
	json_object_object_add(rule, "access", json_object_new_string("rwm"));
	json_object_array_add(rules, rule);
	return true;
}

/*
 * The container's memory limit, if it has one, bounds km's guest memory,
 * less what km itself needs in the same cgroup (its page tables, threads,
 * the page cache of what it reads): past the guest's limit its allocations
 * fail, rather than km's own page faults.
 */
#define KM_OWN_MEMORY_MIN (16ll << 20)
static void memory_limit_option(struct json_object *linux_, char *buf, size_t size)
{
	struct json_object *resources = member(linux_, "resources", json_type_object);
	struct json_object *memory = resources ? member(resources, "memory", json_type_object) : NULL;
	struct json_object *limit = memory ? member(memory, "limit", json_type_int) : NULL;
	int64_t bytes = limit ? json_object_get_int64(limit) : 0;
	int64_t own = bytes / 8 > KM_OWN_MEMORY_MIN ? bytes / 8 : KM_OWN_MEMORY_MIN;

	buf[0] = 0;
	if (bytes > 0)
		snprintf(buf, size, "--mem-limit=%" PRId64, bytes > 2 * own ? bytes - own : bytes / 2);
}

static bool write_json(const char *path, struct json_object *obj)
{
	char tmp[PATH_MAX];

	if (snprintf(tmp, sizeof(tmp), "%s.krun", path) >= (int)sizeof(tmp) ||
	    json_object_to_file_ext(tmp, obj, JSON_C_TO_STRING_PLAIN) < 0 || rename(tmp, path) < 0) {
		krun_error("cannot write %s: %s", path, strerror(errno));
		unlink(tmp);
		return false;
	}
	return true;
}

static struct json_object *read_json(const char *path)
{
	struct json_object *obj = json_object_from_file(path);

	if (!obj)
		krun_error("cannot read %s: %s", path, json_util_get_last_err());
	else if (!json_object_is_type(obj, json_type_object)) {
		krun_error("%s is not a JSON object", path);
		json_object_put(obj);
		obj = NULL;
	}
	return obj;
}

static bool host_kvm(struct stat *kvm)
{
	if (stat("/dev/kvm", kvm) < 0 || !S_ISCHR(kvm->st_mode)) {
		krun_error("/dev/kvm: %s: km needs KVM on this host",
			   errno == ENOENT ? "does not exist" : "not a character device");
		return false;
	}
	return true;
}

bool krun_rewrite_bundle(const char *bundle)
{
	char path[PATH_MAX], mem_limit[64];
	const char *options[2] = { NULL, NULL };
	struct json_object *config, *process, *linux_;
	const char *host_km;
	struct stat kvm;
	bool ok = false;

	if (snprintf(path, sizeof(path), "%s/config.json", bundle) >= (int)sizeof(path)) {
		krun_error("bundle path too long: %s", bundle);
		return false;
	}
	if (!host_kvm(&kvm) || !(host_km = krun_host_km()) || !(config = read_json(path)))
		return false;
	process = member(config, "process", json_type_object);
	linux_ = member_or_new(config, "linux", json_type_object);
	if (!process) {
		krun_error("%s has no process: there is no program to run", path);
	} else if (!linux_) {
		krun_error("%s: linux is not an object", path);
	} else if (krun_process_runs_km(process)) {
		ok = true; /* created again from the same bundle */
	} else {
		memory_limit_option(linux_, mem_limit, sizeof(mem_limit));
		if (mem_limit[0])
			options[0] = mem_limit;
		ok = krun_process_under_km(process, options) && add_km_mount(config, host_km) &&
		     add_kvm_device(linux_, &kvm) && write_json(path, config);
	}
	json_object_put(config);
	return ok;
}

bool krun_rewrite_process_file(const char *path, const char *const *km_options)
{
	struct json_object *process = read_json(path);
	bool ok;

	if (!process)
		return false;
	ok = krun_process_under_km(process, km_options) && write_json(path, process);
	json_object_put(process);
	return ok;
}
