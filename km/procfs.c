/*
 * /proc/self, as the guest asks for it: the files where km's own process
 * would show through answer for the guest instead. exe is the program;
 * cmdline, environ and auxv are read from the guest's stack as Linux reads
 * them from a process's memory; maps is the guest's address space. A
 * generated file is a sealed memfd, so it reads like the real one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "km.h"
#include "vvar.h"

#define MAPS_LINE 64

/* "exe" for "/proc/self/exe", "/proc/<our pid>/exe" or "/proc/thread-self/exe"; else NULL. */
const char *km_proc_self_file(const char *path)
{
	static const char *const prefixes[] = { "/proc/self/", "/proc/thread-self/" };
	char own[32];

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (strncmp(path, prefixes[i], strlen(prefixes[i])) == 0)
			return path + strlen(prefixes[i]);
	int n = snprintf(own, sizeof(own), "/proc/%d/", getpid());
	return strncmp(path, own, (size_t)n) == 0 ? path + n : NULL;
}

static char *vma_line(char *at, uint64_t start, uint64_t end, int prot, bool shared,
		      const char *name)
{
	return at + sprintf(at, "%08lx-%08lx %c%c%c%c 00000000 00:00 0%s%s\n",
			    (unsigned long)start, (unsigned long)end, prot & PROT_READ ? 'r' : '-',
			    prot & PROT_WRITE ? 'w' : '-', prot & PROT_EXEC ? 'x' : '-',
			    shared ? 's' : 'p', name[0] ? "                          " : "", name);
}

/* The guest's mappings in /proc/<pid>/maps format, then the vDSO's two. */
static char *maps_text(struct km_vm *vm, size_t *len)
{
	pthread_rwlock_rdlock(&vm->mm_lock);
	size_t cap = (vm->nvma + 2) * (MAPS_LINE + strlen(vm->exe_path) + 16);
	char *text = malloc(cap), *at = text;
	for (size_t i = 0; text && i < vm->nvma; i++) {
		const struct km_vma *v = &vm->vmas[i];
		const char *name = v->kind == KM_VMA_IMAGE ? vm->exe_path :
				   v->kind == KM_VMA_BRK   ? "[heap]" :
				   v->kind == KM_VMA_STACK ? "[stack]" :
							     "";
		at = vma_line(at, v->start, v->end, v->prot, false, name);
	}
	pthread_rwlock_unlock(&vm->mm_lock);
	if (text == NULL)
		return NULL;
	at = vma_line(at, KM_SYS_VA + KM_SYS_VVAR, KM_SYS_VA + KM_SYS_VVAR + KM_PAGE_SIZE,
		      PROT_READ, false, "[vvar]");
	at = vma_line(at, KM_SYS_VA + KM_SYS_VDSO, KM_SYS_VA + KM_SYS_VDSO_MAX,
		      PROT_READ | PROT_EXEC, false, "[vdso]");
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

/*
 * Opens /proc/self/`file` for the guest: a host fd, -errno, or 1 when the
 * file is not one km answers (the caller opens the host's).
 */
long km_proc_open(struct km_vm *vm, const char *file, int flags)
{
	size_t len = 0;
	char *text;

	if (strcmp(file, "exe") == 0) {
		int fd = open(vm->exe_path, flags);
		return fd < 0 ? -errno : fd;
	}
	if ((flags & O_ACCMODE) != O_RDONLY &&
	    (!strcmp(file, "maps") || !strcmp(file, "cmdline") || !strcmp(file, "environ") ||
	     !strcmp(file, "auxv")))
		return -EACCES;
	if (strcmp(file, "maps") == 0)
		text = maps_text(vm, &len);
	else if (strcmp(file, "cmdline") == 0)
		text = guest_bytes(vm, vm->arg_start, vm->arg_end, &len);
	else if (strcmp(file, "environ") == 0)
		text = guest_bytes(vm, vm->env_start, vm->env_end, &len);
	else if (strcmp(file, "auxv") == 0)
		text = guest_bytes(vm, vm->auxv_start, vm->auxv_end, &len);
	else
		return 1;
	if (text == NULL)
		return -ENOMEM;
	long fd = sealed_file(file, text, len, flags);
	free(text);
	return fd;
}
