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

/* Two fresh host fds (pipe, socketpair): both go to the guest's out, or neither exists. */
long km_fd_pair_new(struct km_vm *vm, const int fds[2], int *out)
{
	if (!km_fd_ok(vm, fds[0]) || !km_fd_ok(vm, fds[1])) {
		close(fds[0]);
		close(fds[1]);
		return -EMFILE;
	}
	out[0] = fds[0];
	out[1] = fds[1];
	return 0;
}

/* A host fd fresh from the kernel: keep it if the guest may see it. */
long km_fd_new(struct km_vm *vm, long fd)
{
	if (fd < 0 || km_fd_ok(vm, fd))
		return fd;
	close((int)fd);
	return -EMFILE;
}
