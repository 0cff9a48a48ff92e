/*
 * km --allow-path=PATH[:ro]: the host files the guest may reach, enforced
 * by the kernel (Landlock) on km itself, so that no km path check can be
 * raced or missed. With any --allow-path, km restricts itself once its
 * setup has opened what it needs: from then on it, and so the guest, can
 * open files only under the paths given (read and write, or read only with
 * :ro), and besides them only what km needs again for the guest's exec (its
 * own binary, /dev/kvm, the log, the clocksource file). The domain passes
 * on to every fork and exec, where it already holds: the km an exec starts
 * adds none. Without Landlock, km refuses to run rather than run unconfined.
 * Relative paths are km's starting directory's: the guest has not run yet.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "km.h"

#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14) /* ABI 3 */
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15) /* ABI 5 */
#endif

#define MAX_PATHS 64

#define FS_READ (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
/* The rights that Landlock accepts on a path that is not a directory. */
#define FS_FILE                                                                                    \
	(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE | \
	 LANDLOCK_ACCESS_FS_TRUNCATE | LANDLOCK_ACCESS_FS_IOCTL_DEV)

static struct {
	char *path;
	bool read_only;
} allowed[MAX_PATHS];
static size_t nallowed;

void km_allow_path_option(const char *arg)
{
	size_t len = strlen(arg);
	bool read_only = len > 3 && strcmp(arg + len - 3, ":ro") == 0;

	if (len == (read_only ? 3u : 0u))
		km_die(2, "km: --allow-path needs a path, e.g. --allow-path=/srv/data:ro");
	if (nallowed == MAX_PATHS)
		km_die(2, "km: more than %d --allow-path options", MAX_PATHS);
	allowed[nallowed].path = strndup(arg, read_only ? len - 3 : len);
	if (allowed[nallowed].path == NULL)
		km_die(1, "km: out of memory");
	allowed[nallowed++].read_only = read_only;
}

/* The file-system rights this kernel's Landlock knows, or 0 without Landlock. */
static uint64_t handled_rights(void)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	uint64_t rights = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1; /* ABI 1 */

	if (abi < 1)
		return 0;
	if (abi >= 2)
		rights |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		rights |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		rights |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	return rights;
}

/* Gives path its rights in the ruleset: whether it exists. */
static bool allow(int ruleset, const char *path, uint64_t rights)
{
	struct stat st;
	int fd = open(path, O_PATH | O_CLOEXEC);

	if (fd < 0)
		return false;
	if (fstat(fd, &st) != 0)
		km_die(1, "km: --allow-path: cannot stat %s: %s", path, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		rights &= FS_FILE;
	struct landlock_path_beneath_attr rule = { .allowed_access = rights, .parent_fd = fd };
	if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0) != 0)
		km_die(1, "km: --allow-path: cannot allow %s: %s", path, strerror(errno));
	close(fd);
	return true;
}

/* What km opens again when the guest execs: the km it starts needs them. */
static void allow_km_own(int ruleset, uint64_t handled, const struct km_vm *vm)
{
	static const struct {
		const char *path;
		uint64_t rights;
	} own[] = {
		{ "/proc/self/exe", LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE },
		{ "/dev/kvm", LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE |
				      LANDLOCK_ACCESS_FS_IOCTL_DEV },
		{ KM_CLOCKSOURCE_PATH, LANDLOCK_ACCESS_FS_READ_FILE },
		{ NULL, LANDLOCK_ACCESS_FS_WRITE_FILE }, /* the log, if any */
	};
	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++) {
		const char *path = own[i].path ? own[i].path : vm->log_path;
		if (path)
			allow(ruleset, path, own[i].rights & handled); /* one not here needs nothing */
	}
}

void km_landlock_confine(const struct km_vm *vm)
{
	if (nallowed == 0)
		return;
	uint64_t handled = handled_rights();
	if (handled == 0)
		km_die(2, "km: --allow-path needs Landlock, which this kernel does not offer (%s): "
			  "run without --allow-path, or on Linux 5.13 or later with Landlock enabled",
		       strerror(errno));
	struct landlock_ruleset_attr attr = { .handled_access_fs = handled };
	int ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (ruleset < 0)
		km_die(1, "km: --allow-path: cannot create a Landlock ruleset: %s", strerror(errno));
	for (size_t i = 0; i < nallowed; i++)
		if (!allow(ruleset, allowed[i].path, allowed[i].read_only ? FS_READ & handled : handled))
			km_die(2, "km: --allow-path=%s: %s", allowed[i].path, strerror(errno));
	allow_km_own(ruleset, handled, vm);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    syscall(SYS_landlock_restrict_self, ruleset, 0) != 0)
		km_die(1, "km: --allow-path: cannot restrict km: %s", strerror(errno));
	close(ruleset);
}
