/*
 * /proc as the guest sees it, and the open that makes it hold. A guest fd is
 * a host fd of km, so whatever the guest opens in /proc is km's process's
 * file. km decides on the file the guest asked for, never on how its path
 * was spelled (/proc/self, /proc/<pid>, /proc/thread-self, task/<tid>, a
 * dirfd inside /proc, a symlink, another mount of proc):
 *
 *  - exe, cmdline, environ, auxv and maps of km's own process answer for the
 *    guest: exe opens the program; cmdline, environ and auxv are read from the
 *    guest's stack as Linux reads them from a process's memory; maps is the
 *    guest's address space. A generated file is a sealed memfd.
 *  - files that read or write a process's memory or registers (mem, pagemap,
 *    map_files, smaps...) are refused with EACCES, for every process: the
 *    guest's children are kms too, and there is no guest view of them.
 *  - fd/N and fdinfo/N of km's own fds (N >= fd_limit) do not exist (ENOENT),
 *    and a file that only km holds is not reopened through a magic link.
 *
 * The decision is made before any fd of the file is in the guest's range,
 * where another guest thread could use it at once: a path that may reach
 * /proc is opened O_PATH (which reads and writes nothing), moved to km's
 * range, decided on there, and only then opened for the guest, through
 * /proc/self/fd. An absolute path that stays on the root's mount and follows
 * no magic link cannot reach /proc, and is opened directly.
 * See docs/architecture.md, "/proc".
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "km.h"
#include "vvar.h"

#define MAPS_LINE 128 /* a line up to its name, padding included */
#define PROC_ROOT_INO 1 /* every proc mount's root directory */
#define PROC_DEPTH 6	/* <pid>/task/<tid>/fd/<n> and one more */
#define DELETED " (deleted)"
#define MAX_HOPS 40 /* symlinks km follows by hand, Linux's limit */

/* What openat keeps of its flags (O_LARGEFILE is 0 in glibc's headers on x86-64). */
#define KERNEL_O_LARGEFILE 0100000
#define VALID_OPEN_FLAGS                                                                     \
	(O_ACCMODE | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_APPEND | O_NONBLOCK | O_SYNC |  \
	 O_DSYNC | O_ASYNC | O_DIRECT | KERNEL_O_LARGEFILE | O_DIRECTORY | O_NOFOLLOW |        \
	 O_NOATIME | O_CLOEXEC | O_PATH | O_TMPFILE)
#define O_PATH_FLAGS (O_DIRECTORY | O_NOFOLLOW | O_PATH | O_CLOEXEC)

/* What a file is to the guest, or -errno when the guest may not have it. */
enum proc_file {
	PROC_HOST, PROC_EXE, PROC_EXE_LINK, PROC_CMDLINE, PROC_ENVIRON, PROC_AUXV, PROC_MAPS,
	PROC_STATUS, PROC_COMM, PROC_MEMINFO,
};
/* status and comm are a thread's: its tid (0: the process's) rides above the proc_file. */
#define PROC_TID_SHIFT 8
#define PROC_FILE(rc) ((enum proc_file)((rc) & ((1 << PROC_TID_SHIFT) - 1)))

/* Per-process files with no guest view that would show or change km's memory or registers. */
static const char *const memory_files[] = { "mem",	    "pagemap",	 "map_files", "smaps",
					    "smaps_rollup", "numa_maps", "syscall",   "stack",
					    "clear_refs" };

static const struct {
	const char *name;
	enum proc_file own;
	long other; /* another process's: PROC_HOST, or refused */
} guest_files[] = {
	{ "exe", PROC_EXE_LINK, PROC_HOST },  { "cmdline", PROC_CMDLINE, PROC_HOST },
	{ "environ", PROC_ENVIRON, PROC_HOST }, { "auxv", PROC_AUXV, -EACCES },
	{ "maps", PROC_MAPS, -EACCES },		{ "status", PROC_STATUS, PROC_HOST },
	{ "comm", PROC_COMM, PROC_HOST },
};

static pthread_once_t once = PTHREAD_ONCE_INIT;
static bool have_openat2; /* and km may call it (an old seccomp profile may refuse) */
static struct stat km_binary; /* st_ino 0: unknown */

static long careful_open(struct km_vm *vm, int dirfd, const char *path, int flags, mode_t mode,
			 bool exe);

static void probe_host(void)
{
	struct open_how how = { .flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_NO_MAGICLINKS };
	long fd = syscall(SYS_openat2, AT_FDCWD, "/", &how, sizeof(how));
	have_openat2 = fd >= 0;
	if (fd >= 0)
		close((int)fd);
	if (stat("/proc/self/exe", &km_binary) != 0)
		km_binary.st_ino = 0;
}

/* openat2 doing what openat(flags, mode) does, narrowed as openat narrows them, and resolve. */
static long openat2_as_openat(int dirfd, const char *path, int flags, mode_t mode, uint64_t resolve)
{
	struct open_how how = { .flags = (unsigned)flags & VALID_OPEN_FLAGS,
				.mode = mode & 07777,
				.resolve = resolve };
	if (how.flags & O_PATH)
		how.flags &= O_PATH_FLAGS;
	if (!(how.flags & (O_CREAT | O_TMPFILE)))
		how.mode = 0;
	long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	return fd < 0 ? -errno : fd;
}

/*
 * An O_PATH fd of what path names, in km's range. flags: O_NOFOLLOW and
 * O_DIRECTORY as the guest gave them. magic: a /proc magic link (fd/N, exe,
 * cwd, root, map_files...) may have been followed on the way.
 */
static long path_fd(int dirfd, const char *path, int flags, bool *magic)
{
	long fd = -ELOOP;

	*magic = true;
	flags = (flags & (O_NOFOLLOW | O_DIRECTORY)) | O_PATH | O_CLOEXEC;
	if (have_openat2) {
		fd = openat2_as_openat(dirfd, path, flags, 0, RESOLVE_NO_MAGICLINKS);
		*magic = fd == -ELOOP;
	}
	if (fd == -ELOOP) {
		fd = openat(dirfd, path, flags);
		fd = fd < 0 ? -errno : fd;
	}
	if (fd < 0)
		return fd;
	int high = km_fd_high((int)fd);
	return high < 0 ? -errno : high;
}

/*
 * Where fd is inside its proc mount ("1234/task/1235/mem"), in buf, and the
 * mount's path in root (empty for "/"); NULL when km cannot tell. The root
 * is the prefix of the file's path that is a proc root of the same mount.
 */
static char *proc_path(int fd, dev_t dev, char *buf, char *root)
{
	char link[32];
	struct stat st;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, buf, PATH_MAX - 1);
	if (n <= 0 || n >= PATH_MAX - 1 || buf[0] != '/')
		return NULL;
	buf[n] = '\0';
	size_t dl = strlen(DELETED);
	if ((size_t)n >= dl && strcmp(buf + n - dl, DELETED) == 0)
		return NULL; /* its process is gone */
	for (ssize_t i = 0; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		char c = buf[i];
		buf[i] = '\0';
		bool found = lstat(i ? buf : "/", &st) == 0 && st.st_dev == dev &&
			     st.st_ino == PROC_ROOT_INO;
		if (found)
			strcpy(root, buf);
		buf[i] = c;
		if (found)
			return c ? buf + i + 1 : buf + i;
	}
	return NULL;
}

/* Whether the directory `pid` of the proc at root is km's process or one of its threads. */
static bool own_pid(const char *root, const char *pid)
{
	char path[PATH_MAX + 64], self[32];

	snprintf(path, sizeof(path), "%s/self", root);
	ssize_t n = readlink(path, self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		if (strcmp(self, pid) == 0)
			return true;
	}
	snprintf(path, sizeof(path), "%s/self/task/%s", root, pid);
	return access(path, F_OK) == 0;
}

static bool number(const char *s, long *out)
{
	char *end;

	if (s[0] < '0' || s[0] > '9')
		return false;
	errno = 0;
	*out = strtol(s, &end, 10);
	return *end == '\0' && errno == 0;
}

/* A file under /proc/<pid>/ or /proc/<pid>/task/<tid>/: c[at] names it, c[at + 1]... below it. */
static long pid_file(struct km_vm *vm, const char *root, char **c, int n, int at)
{
	const char *name = c[at];
	long fd;

	for (size_t i = 0; i < sizeof(memory_files) / sizeof(memory_files[0]); i++)
		if (strcmp(name, memory_files[i]) == 0)
			return -EACCES;
	bool own = own_pid(root, c[0]);
	if (strcmp(name, "fd") == 0 || strcmp(name, "fdinfo") == 0)
		return own && at + 1 < n && number(c[at + 1], &fd) && fd >= vm->fd_limit ? -ENOENT :
											 PROC_HOST;
	long tid = 0;
	if (at == 3)
		number(c[2], &tid);
	for (size_t i = 0; at + 1 == n && i < sizeof(guest_files) / sizeof(guest_files[0]); i++) {
		if (strcmp(name, guest_files[i].name) != 0)
			continue;
		if (!own)
			return guest_files[i].other;
		enum proc_file f = guest_files[i].own;
		return f == PROC_STATUS || f == PROC_COMM ? (long)f | tid << PROC_TID_SHIFT : (long)f;
	}
	return PROC_HOST;
}

/* A file of a proc mount, by where it is in it. */
static long in_proc(struct km_vm *vm, int fd, dev_t dev)
{
	char buf[PATH_MAX], root[PATH_MAX], *c[PROC_DEPTH], *save = NULL;
	long num;
	int n = 0;

	char *rel = proc_path(fd, dev, buf, root);
	if (rel == NULL)
		return -EACCES;
	for (char *t = strtok_r(rel, "/", &save); t && n < PROC_DEPTH; t = strtok_r(NULL, "/", &save))
		c[n++] = t;
	if (n == 1 && strcmp(c[0], "meminfo") == 0)
		return PROC_MEMINFO;
	if (n == 0 || !number(c[0], &num))
		return PROC_HOST; /* not a process's: /proc/cpuinfo, /proc/sys/... */
	int at = n >= 3 && strcmp(c[1], "task") == 0 && number(c[2], &num) ? 3 : 1;
	return at < n ? pid_file(vm, root, c, n, at) : PROC_HOST;
}

/* Whether an fd in [lo, hi) other than skip, and not O_PATH, is the file st describes. */
static bool held(int lo, int hi, int skip, const struct stat *st)
{
	struct stat o;

	for (int fd = lo; fd < hi; fd++)
		if (fd != skip && fstat(fd, &o) == 0 && o.st_dev == st->st_dev &&
		    o.st_ino == st->st_ino && !(fcntl(fd, F_GETFL) & O_PATH))
			return true;
	return false;
}

/*
 * Whether only km has the file st describes open: the guest has no fd of it
 * through which it could open it again anyway.
 */
static bool km_only(struct km_vm *vm, int fd, const struct stat *st)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return true;
	int top = rl.rlim_cur < INT_MAX ? (int)rl.rlim_cur : INT_MAX;
	return held(vm->fd_limit, top, fd, st) && !held(0, vm->fd_limit, -1, st);
}

/*
 * The directory a relative symlink target of path (from dirfd) is resolved
 * from: dirfd when path has no directory part, else a new fd of it.
 */
static long link_dir(int dirfd, const char *path)
{
	char dir[PATH_MAX];
	bool magic;

	const char *slash = strrchr(path, '/');
	if (slash == NULL)
		return dirfd;
	size_t n = slash == path ? 1 : (size_t)(slash - path);
	if (n >= sizeof(dir))
		return -ENAMETOOLONG;
	memcpy(dir, path, n);
	dir[n] = '\0';
	return path_fd(dirfd, dir, O_DIRECTORY, &magic);
}

/*
 * What the last link of path is, when it is a /proc link (fd/N, exe...),
 * following ordinary symlinks by hand: as in_proc, PROC_HOST otherwise.
 */
static long last_link(struct km_vm *vm, int dirfd, const char *path)
{
	char target[2][PATH_MAX];
	struct statfs fs;
	struct stat st;
	bool magic;
	long at = dirfd, what = PROC_HOST;

	for (int hop = 0; hop < MAX_HOPS; hop++) {
		long fd = path_fd((int)at, path, O_NOFOLLOW, &magic);
		if (fd < 0)
			break;
		bool ok = fstatfs((int)fd, &fs) == 0 && fstat((int)fd, &st) == 0;
		bool proc = ok && fs.f_type == PROC_SUPER_MAGIC;
		ssize_t n = ok && !proc && S_ISLNK(st.st_mode) ?
				    readlinkat((int)fd, "", target[hop & 1], PATH_MAX - 1) :
				    -1;
		if (proc)
			what = in_proc(vm, (int)fd, st.st_dev);
		close((int)fd);
		if (n <= 0)
			break;
		target[hop & 1][n] = '\0';
		long next = target[hop & 1][0] == '/' ? AT_FDCWD : link_dir((int)at, path);
		if (at >= 0 && at != dirfd)
			close((int)at);
		at = next;
		path = target[hop & 1];
		if (at < 0 && at != AT_FDCWD)
			break;
	}
	if (at >= 0 && at != dirfd)
		close((int)at);
	return what;
}

/*
 * The one decision on a file the guest asked for: a proc_file, or -errno
 * when the guest may not have it. fd is km's O_PATH fd of it. When the path
 * may have followed a magic link, magic_path is the path (from dirfd): its
 * last link and the file it led to count as well.
 */
static long decide(struct km_vm *vm, int fd, int dirfd, const char *magic_path)
{
	struct statfs fs;
	struct stat st;

	if (fstatfs(fd, &fs) != 0)
		return -errno;
	if (fs.f_type != PROC_SUPER_MAGIC && magic_path == NULL)
		return PROC_HOST;
	if (fstat(fd, &st) != 0)
		return -errno;
	/* km's own fd/N leads nowhere, even to a /proc file (the poller's loadavg). */
	long link = magic_path ? last_link(vm, dirfd, magic_path) : PROC_HOST;
	if (link < 0)
		return link;
	if (fs.f_type == PROC_SUPER_MAGIC)
		return in_proc(vm, fd, st.st_dev);
	if (link == PROC_EXE_LINK)
		return PROC_EXE;
	/* Where the path's links cannot say (they changed meanwhile): the file itself. */
	if (km_binary.st_ino && st.st_dev == km_binary.st_dev && st.st_ino == km_binary.st_ino)
		return PROC_EXE; /* through /proc/<pid>/exe, however spelled */
	if (fs.f_type == ANON_INODE_FS_MAGIC)
		return -ENXIO; /* one inode for all (km's VM and vCPUs too); Linux reopens none */
	return !S_ISDIR(st.st_mode) && km_only(vm, fd, &st) ? -ENOENT : PROC_HOST;
}

/* One line as Linux's show_map_vma writes it: a name starts at column 74. */
static char *vma_line(char *at, uint64_t start, uint64_t end, int prot, bool shared, uint64_t off,
		      const struct km_mapname *file, const char *name)
{
	uint64_t dev = file ? file->dev : 0;
	int n = sprintf(at, "%08lx-%08lx %c%c%c%c %08lx %02x:%02x %lu", (unsigned long)start,
			(unsigned long)end, prot & PROT_READ ? 'r' : '-', prot & PROT_WRITE ? 'w' : '-',
			prot & PROT_EXEC ? 'x' : '-', shared ? 's' : 'p', (unsigned long)off,
			major(dev), minor(dev), (unsigned long)(file ? file->ino : 0));
	if (name[0])
		n += sprintf(at + n, "%*s%s", n < 72 ? 73 - n : 1, "", name);
	at[n++] = '\n';
	return at + n;
}

/* The guest's mappings in /proc/<pid>/maps format, then the vDSO's two. */
static char *maps_text(struct km_vm *vm, size_t *len)
{
	pthread_rwlock_rdlock(&vm->mm_lock);
	size_t longest = strlen(vm->exe_path);
	for (uint32_t i = 0; i < vm->nnames; i++)
		if (strlen(vm->names[i].path) > longest)
			longest = strlen(vm->names[i].path);
	char *text = malloc((vm->nvma + 2) * (MAPS_LINE + longest + 1)), *at = text;
	for (size_t i = 0; text && i < vm->nvma; i++) {
		const struct km_vma *v = &vm->vmas[i];
		const struct km_mapname *file = v->name ? &vm->names[v->name - 1] : NULL;
		const char *name = file			  ? file->path :
				   v->kind == KM_VMA_IMAGE ? vm->exe_path :
				   v->kind == KM_VMA_BRK   ? "[heap]" :
				   v->kind == KM_VMA_STACK ? "[stack]" :
							     "";
		at = vma_line(at, v->start, v->end, v->prot, v->shared, file ? v->off : 0, file, name);
	}
	pthread_rwlock_unlock(&vm->mm_lock);
	if (text == NULL)
		return NULL;
	at = vma_line(at, KM_SYS_VA + KM_SYS_VVAR, KM_SYS_VA + KM_SYS_VVAR + KM_PAGE_SIZE,
		      PROT_READ, false, 0, NULL, "[vvar]");
	at = vma_line(at, KM_SYS_VA + KM_SYS_VDSO, KM_SYS_VA + KM_SYS_VDSO_MAX,
		      PROT_READ | PROT_EXEC, false, 0, NULL, "[vdso]");
	*len = (size_t)(at - text);
	return text;
}

/* A copy of guest memory [start, end); empty if the guest unmapped it, NULL without memory. */
static char *guest_bytes(struct km_vm *vm, uint64_t start, uint64_t end, size_t *len)
{
	*len = end > start ? end - start : 0;
	char *copy = malloc(*len + 1);
	if (copy && *len && km_copy_in(vm, copy, start, *len) < 0)
		*len = 0;
	return copy;
}

static long sealed_file(const char *name, const char *text, size_t len, int flags)
{
	int fd = memfd_create(name, MFD_ALLOW_SEALING | (flags & O_CLOEXEC ? MFD_CLOEXEC : 0));
	if (fd < 0)
		return -errno;
	for (size_t done = 0; done < len;) {
		ssize_t n = write(fd, text + done, len - done);
		if (n <= 0) {
			close(fd);
			return -EIO;
		}
		done += (size_t)n;
	}
	lseek(fd, 0, SEEK_SET);
	fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL);
	return fd;
}

/* The guest's own version of an emulated file (a proc_file with its tid), opened with the guest's flags. */
static long guest_view(struct km_vm *vm, long file, int flags)
{
	static const char *const names[] = { [PROC_CMDLINE] = "cmdline", [PROC_ENVIRON] = "environ",
					     [PROC_AUXV] = "auxv", [PROC_MAPS] = "maps",
					     [PROC_STATUS] = "status", [PROC_COMM] = "comm",
					     [PROC_MEMINFO] = "meminfo" };
	enum proc_file what = PROC_FILE(file);
	pid_t tid = (pid_t)(file >> PROC_TID_SHIFT);
	size_t len = 0;
	char *text;

	if (what == PROC_EXE) {
		/* Linux refuses to write a running program; the path is opened as the guest's would be. */
		if ((flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC))
			return -ETXTBSY;
		return careful_open(vm, AT_FDCWD, vm->exe_path, flags & ~(O_CREAT | O_EXCL), 0, false);
	}
	if ((flags & O_ACCMODE) != O_RDONLY)
		return -EACCES;
	if (what == PROC_MAPS)
		text = maps_text(vm, &len);
	else if (what == PROC_STATUS)
		text = km_proc_status_text(vm, tid, &len);
	else if (what == PROC_COMM)
		text = km_proc_comm_text(vm, tid, &len);
	else if (what == PROC_MEMINFO)
		text = km_proc_meminfo_text(vm, &len);
	else if (what == PROC_CMDLINE)
		text = guest_bytes(vm, vm->arg_start, vm->arg_end, &len);
	else if (what == PROC_ENVIRON)
		text = guest_bytes(vm, vm->env_start, vm->env_end, &len);
	else
		text = guest_bytes(vm, vm->auxv_start, vm->auxv_end, &len);
	if (text == NULL)
		return -ENOMEM;
	long fd = sealed_file(names[what], text, len, flags);
	free(text);
	return fd;
}

/* The guest's fd of the file km holds as fd (O_PATH), opened with the guest's flags. */
static long reopen(int fd, int flags)
{
	char link[32];
	struct stat st;

	if (flags & O_PATH) {
		int low = fcntl(fd, flags & O_CLOEXEC ? F_DUPFD_CLOEXEC : F_DUPFD, 0);
		return low < 0 ? -errno : low;
	}
	if ((flags & O_NOFOLLOW) && fstat(fd, &st) == 0 && S_ISLNK(st.st_mode))
		return -ELOOP;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	int low = open(link, flags & ~(O_CREAT | O_EXCL | O_NOFOLLOW));
	return low < 0 ? -errno : low;
}

/*
 * The open of a path that may reach /proc: decided on km's O_PATH fd before
 * the guest has an fd of the file. O_CREAT with nothing at the path's end
 * creates exclusively, so that what it opens is a new file; a dangling
 * symlink there is followed by hand to create its target, as Linux does.
 * exe: whether /proc/self/exe may be answered (not while opening the program).
 */
static long careful_open(struct km_vm *vm, int dirfd, const char *path, int flags, mode_t mode,
			 bool exe)
{
	char target[2][PATH_MAX];
	long at = dirfd, rc = -ELOOP;
	bool magic;

	for (int hop = 0; hop <= MAX_HOPS; hop++) {
		if (!(flags & O_PATH) &&
		    (((flags & O_CREAT) && (flags & O_EXCL)) || (flags & O_TMPFILE) == O_TMPFILE)) {
			rc = openat((int)at, path, flags, mode); /* a new file, through no final link */
			rc = rc < 0 ? -errno : rc;
			break;
		}
		long fd = path_fd((int)at, path, flags, &magic);
		if (fd == -ENOENT && (flags & O_CREAT)) {
			rc = openat((int)at, path, flags | O_EXCL, mode);
			if (rc >= 0 || errno != EEXIST) {
				rc = rc < 0 ? -errno : rc;
				break;
			}
			ssize_t n = readlinkat((int)at, path, target[hop & 1], PATH_MAX - 1);
			rc = -ELOOP;
			if (n <= 0)
				continue; /* made meanwhile: open it */
			target[hop & 1][n] = '\0';
			long next = target[hop & 1][0] == '/' ? AT_FDCWD : link_dir((int)at, path);
			if (at >= 0 && at != dirfd)
				close((int)at);
			at = next;
			path = target[hop & 1];
			if (at < 0 && at != AT_FDCWD) {
				rc = at;
				break;
			}
			continue;
		}
		if (fd < 0) {
			rc = fd;
			break;
		}
		rc = decide(vm, (int)fd, (int)at, magic ? path : NULL);
		if (rc == PROC_HOST || rc == PROC_EXE_LINK) /* the link itself, for O_PATH|O_NOFOLLOW */
			rc = reopen((int)fd, flags);
		else if (rc == PROC_EXE && !exe)
			rc = -ELOOP; /* the program's path leads back to /proc/self/exe */
		else if (rc >= 0)
			rc = guest_view(vm, rc, flags);
		close((int)fd);
		break;
	}
	if (at >= 0 && at != dirfd)
		close((int)at);
	return rc;
}

/*
 * openat(2) for the guest: a host fd, or -errno. An absolute path that stays
 * on the root's mount and follows no magic link cannot reach /proc: one
 * openat2 opens it. Any other path takes the careful open.
 */
long km_proc_open(struct km_vm *vm, int dirfd, const char *path, int flags, mode_t mode)
{
	pthread_once(&once, probe_host);
	if (have_openat2 && path[0] == '/') {
		long fd = openat2_as_openat(AT_FDCWD, path, flags, mode,
					    RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS);
		if (fd != -EXDEV && fd != -ELOOP)
			return fd;
	}
	return careful_open(vm, dirfd, path, flags, mode, true);
}

/*
 * readlinkat(2) for the guest: the link path names (or dirfd itself for ""),
 * decided on as an open of it without following it would be.
 */
long km_proc_readlink(struct km_vm *vm, int dirfd, const char *path, char *out, size_t size)
{
	bool magic;

	pthread_once(&once, probe_host);
	if (!path[0] && dirfd == AT_FDCWD)
		return -ENOENT;
	long fd = path[0] ? path_fd(dirfd, path, O_NOFOLLOW, &magic) : km_fd_dup_high(dirfd);
	if (fd < 0)
		return path[0] ? fd : -errno;
	long rc = decide(vm, (int)fd, dirfd, NULL);
	if (rc == PROC_EXE_LINK) {
		size_t n = strlen(vm->exe_path);
		rc = (long)(n < size ? n : size);
		memcpy(out, vm->exe_path, (size_t)rc);
	} else if (rc >= 0) {
		rc = readlinkat((int)fd, "", out, size);
		/* Of a named file that is not a link, readlink says EINVAL; of "", ENOENT. */
		if (rc < 0)
			rc = errno == ENOENT && path[0] ? -EINVAL : -errno;
	}
	close((int)fd);
	return rc;
}

/*
 * A stat that found km's binary: the program's path when the guest's path
 * reached it through an exe link in /proc, else NULL (the host's answer stands).
 */
const char *km_proc_stat_exe(struct km_vm *vm, int dirfd, const char *path, int at_flags,
			     dev_t dev, ino_t ino)
{
	bool magic;

	pthread_once(&once, probe_host);
	if (!path[0] || km_binary.st_ino == 0 || dev != km_binary.st_dev || ino != km_binary.st_ino)
		return NULL;
	long fd = path_fd(dirfd, path, at_flags & AT_SYMLINK_NOFOLLOW ? O_NOFOLLOW : 0, &magic);
	if (fd < 0)
		return NULL;
	long what = decide(vm, (int)fd, dirfd, magic ? path : NULL);
	close((int)fd);
	return what == PROC_EXE ? vm->exe_path : NULL;
}
