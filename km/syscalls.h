/*
 * The syscalls km serves, one list used twice: to declare the handlers and
 * to build the dispatch table in hcall.c. Each handler lives in the sys_*.c
 * file of its family.
 */
#ifndef KM_SYSCALLS_H
#define KM_SYSCALLS_H

#include <errno.h>
#include <sys/mman.h>

#include "km.h"

#define KM_SYSCALLS(X)                                                                          \
	/* sys_io.c */                                                                         \
	X(read) X(write) X(pread64) X(pwrite64) X(readv) X(writev) X(preadv) X(pwritev)        \
	X(preadv2) X(pwritev2) X(close) X(lseek) X(fsync) X(fdatasync) X(ftruncate)            \
	X(fstat) X(fstatfs) X(getdents64) X(fchmod) X(fchown) X(fchdir) X(flock) X(fadvise64)  \
	X(dup) X(dup2) X(dup3) X(pipe) X(pipe2) X(fcntl) X(ioctl) X(fallocate)                 \
	/* sys_path.c */                                                                       \
	X(open) X(openat) X(creat) X(stat) X(lstat) X(newfstatat) X(statx) X(access)           \
	X(faccessat) X(faccessat2) X(readlink) X(readlinkat) X(rename) X(renameat)              \
	X(renameat2) X(unlink) X(unlinkat) X(mkdir) X(mkdirat) X(rmdir) X(link) X(linkat)       \
	X(symlink) X(symlinkat) X(chmod) X(fchmodat) X(chown) X(lchown) X(fchownat)            \
	X(truncate) X(getcwd) X(chdir) X(umask) X(utimensat) X(statfs) X(mknod) X(mknodat)     \
	/* sys_mem.c */                                                                        \
	X(brk) X(mmap) X(munmap) X(mprotect) X(mremap) X(madvise) X(msync) X(mlock)            \
	X(munlock) X(mlockall) X(munlockall)                                                   \
	/* sys_time.c */                                                                       \
	X(clock_gettime) X(clock_getres) X(gettimeofday) X(time) X(nanosleep)                  \
	X(clock_nanosleep) X(times)                                                            \
	/* sys_proc.c */                                                                       \
	X(getpid) X(getppid) X(getuid) X(geteuid) X(getgid) X(getegid) X(getresuid)            \
	X(getresgid) X(getgroups) X(getpgrp) X(getpgid) X(getsid) X(setpgid) X(setsid)         \
	X(uname) X(getrlimit) X(setrlimit) X(prlimit64) X(getrusage) X(sysinfo) X(getrandom)   \
	X(arch_prctl) X(sched_yield) X(sched_getaffinity) X(prctl) X(getcpu)                   \
	/* sys_process.c */                                                                    \
	X(fork) X(vfork) X(execve) X(execveat) X(wait4) X(waitid)                              \
	/* sys_thread.c */                                                                     \
	X(clone) X(exit) X(exit_group) X(gettid) X(set_tid_address) X(set_robust_list)         \
	X(get_robust_list) X(futex)                                                            \
	/* sys_signal.c */                                                                     \
	X(rt_sigaction) X(rt_sigprocmask) X(rt_sigpending) X(sigaltstack) X(kill) X(tkill)     \
	X(tgkill) X(rt_sigqueueinfo) X(rt_tgsigqueueinfo) X(rt_sigsuspend) X(pause)             \
	X(rt_sigtimedwait) X(rt_sigreturn) X(alarm) X(setitimer) X(getitimer)                  \
	/* sys_timer.c */                                                                      \
	X(timer_create) X(timer_settime) X(timer_gettime) X(timer_getoverrun) X(timer_delete)  \
	/* sys_poll.c */                                                                       \
	X(poll) X(ppoll) X(select) X(pselect6) X(epoll_create) X(epoll_create1) X(epoll_ctl)     \
	X(epoll_wait) X(epoll_pwait) X(eventfd) X(eventfd2) X(timerfd_create)                  \
	X(timerfd_settime) X(timerfd_gettime)                                                  \
	/* signalfd.c */                                                                       \
	X(signalfd) X(signalfd4)                                                               \
	/* sys_net.c */                                                                        \
	X(socket) X(socketpair) X(bind) X(connect) X(listen) X(accept) X(accept4)              \
	X(getsockname) X(getpeername) X(sendto) X(recvfrom) X(sendmsg) X(recvmsg)              \
	X(setsockopt) X(getsockopt) X(shutdown) X(sendmmsg) X(recvmmsg)

#define KM_SYSCALL(name) \
	long km_sys_##name(struct km_vcpu *vcpu __attribute__((unused)), \
			   const uint64_t *a __attribute__((unused)))

#define KM_DECLARE(name) KM_SYSCALL(name);
KM_SYSCALLS(KM_DECLARE)
#undef KM_DECLARE

long km_clone_process(struct km_vcpu *vcpu, const uint64_t *a);

struct iovec;
long km_host_iov(struct km_vcpu *vcpu, uint64_t gva, uint64_t cnt, bool to_guest,
		 struct iovec **out);

/* Host result to guest result: -errno on failure. */
static inline long km_host(long rc)
{
	return rc < 0 ? -errno : rc;
}

#define FD_OR_EBADF(fd)                              \
	do {                                         \
		if (!km_fd_ok(vcpu->vm, (long)(fd))) \
			return -EBADF;               \
	} while (0)

/*
 * Guest buffers, checked, as host addresses to hand to a host call, whose
 * kernel copies fail cleanly; NULL means EFAULT. km never reads or writes
 * through them itself: it copies with km_copy_in/km_copy_out (mem.c).
 */
#define KM_IN(vcpu, gva, len) km_gva((vcpu)->vm, (gva), (len), PROT_READ)
#define KM_OUT(vcpu, gva, len) km_gva((vcpu)->vm, (gva), (len), PROT_WRITE)

#endif
