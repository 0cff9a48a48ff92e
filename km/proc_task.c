/*
 * /proc/<own pid>/task as the guest's: its listing names the guest's
 * threads only, not km's routing thread nor the host threads of parked
 * vCPUs, so that a program that counts or walks its threads there (a
 * debugger, a sanitizer, a runtime's thread dump) finds its own. The
 * host's entries are read into km's buffer, filtered there and copied out.
 */
#include <dirent.h>
#include <errno.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "km.h"

#define DENTS_MAX 32768

static bool own_task_dir(int fd)
{
	struct statfs fs;
	char path[40], link[64], want[32];

	if (fstatfs(fd, &fs) != 0 || fs.f_type != PROC_SUPER_MAGIC)
		return false;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return false;
	link[n] = '\0';
	int w = snprintf(want, sizeof(want), "/%d/task", (int)getpid());
	return n >= w && strcmp(link + n - w, want) == 0;
}

/* Dot entries stay, and of the tids, the guest's threads'. */
static bool keep(struct km_vm *vm, const char *name)
{
	char *end;
	long tid = strtol(name, &end, 10);
	if (*name < '0' || *name > '9' || *end != '\0')
		return true;
	return km_thread_by_tid(vm, (pid_t)tid) != NULL;
}

/* getdents64 of the guest's fd: *mine when it is this process's task directory. */
long km_proc_task_dents(struct km_vcpu *vcpu, int fd, uint64_t gva, uint64_t count, bool *mine)
{
	struct km_vm *vm = vcpu->vm;

	if (!(*mine = own_task_dir(fd)))
		return 0;
	if (km_gva(vm, gva, count, PROT_WRITE) == NULL)
		return -EFAULT;
	size_t size = count < DENTS_MAX ? count : DENTS_MAX;
	char *in = malloc(size), *out = malloc(size);
	long rc = in && out ? 0 : -ENOMEM;
	while (rc == 0) {
		long n = syscall(SYS_getdents64, fd, in, size);
		if (n <= 0) {
			rc = n < 0 ? -errno : 0;
			break;
		}
		size_t kept = 0;
		for (long at = 0; at < n;) {
			const struct dirent64 *d = (const struct dirent64 *)(in + at);
			if (d->d_reclen == 0 || at + d->d_reclen > n)
				break;
			if (keep(vm, d->d_name)) {
				memcpy(out + kept, d, d->d_reclen);
				kept += d->d_reclen;
			}
			at += d->d_reclen;
		}
		if (kept > 0)
			rc = km_copy_out(vm, gva, out, kept) < 0 ? -EFAULT : (long)kept;
	}
	free(in);
	free(out);
	return rc;
}
