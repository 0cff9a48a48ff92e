/* Guest fds are km's host fds below vm->fd_limit; above it live km's own. */
#include <fcntl.h>
#include <unistd.h>

#include "syscalls.h"

bool km_fd_ok(const struct km_vm *vm, long fd)
{
	return fd >= 0 && fd < vm->fd_limit;
}

long km_dirfd_ok(const struct km_vm *vm, long fd)
{
	return (int)fd == AT_FDCWD || km_fd_ok(vm, fd);
}

/* A host fd fresh from the kernel: keep it if the guest may see it. */
long km_fd_new(struct km_vm *vm, long fd)
{
	if (fd < 0 || km_fd_ok(vm, fd))
		return fd;
	close((int)fd);
	return -EMFILE;
}
