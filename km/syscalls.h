/*
 * The syscalls km serves, one list used twice: to declare the handlers and
 * to build the dispatch table in hcall.c. Each handler lives in the sys_*.c
 * file of its family. Each entry carries the call's policy, which hcall.c
 * applies around the handler:
 *
 *   KM_PLAIN    made once: whatever the handler returns is the result,
 *               -EINTR (-4) included (brk returns an address, close's EINTR
 *               must not close again)
 *   KM_BLOCKS   may block in the host, which a kick ends with EINTR: made
 *               again unless a handler is to run; then it fails with EINTR
 *               (signal(7)'s calls that are never restarted)
 *   KM_RESTART  with KM_BLOCKS: made again after a handler with SA_RESTART
 *   KM_SIGPIPE  with KM_BLOCKS: EPIPE raises SIGPIPE in the caller, unless
 *               the call's MSG_NOSIGNAL says not to
 *   KM_WAITS    waits for a signal itself, kicks included (sigsuspend,
 *               pause, sigtimedwait): its EINTR is its result, never made
 *               again nor restarted
 *   KM_SIGRETURN  the result is the restored context's rax, and the
 *               registers are that context's, not the call's
 */
#ifndef KM_SYSCALLS_H
#define KM_SYSCALLS_H

#include <errno.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "km.h"

#define KM_PLAIN 0u
#define KM_BLOCKS (1u << 0)
#define KM_RESTART (1u << 1)
#define KM_SIGPIPE (1u << 2)
#define KM_WAITS (1u << 3)
#define KM_SIGRETURN (1u << 4)

/* Shorthands for the table: a blocking call, restarted or not, and one that writes. */
#define KM_INTR KM_BLOCKS
#define KM_RESTARTS (KM_BLOCKS | KM_RESTART)
#define KM_WRITES (KM_BLOCKS | KM_RESTART | KM_SIGPIPE)

#define KM_SYSCALLS(X)                                                                          \
	/* sys_io.c */                                                                         \
	X(read, KM_RESTARTS) X(write, KM_WRITES) X(pread64, KM_RESTARTS)                       \
	X(pwrite64, KM_WRITES) X(readv, KM_RESTARTS) X(writev, KM_WRITES)                      \
	X(preadv, KM_RESTARTS) X(pwritev, KM_WRITES) X(preadv2, KM_RESTARTS)                   \
	X(pwritev2, KM_WRITES) X(close, KM_PLAIN) X(lseek, KM_PLAIN) X(fsync, KM_PLAIN)        \
	X(fdatasync, KM_PLAIN) X(ftruncate, KM_PLAIN) X(fstat, KM_PLAIN) X(fstatfs, KM_PLAIN)  \
	X(getdents64, KM_PLAIN) X(fchmod, KM_PLAIN) X(fchown, KM_PLAIN) X(fchdir, KM_PLAIN)    \
	X(flock, KM_RESTARTS) X(fadvise64, KM_PLAIN) X(dup, KM_PLAIN) X(dup2, KM_PLAIN)        \
	X(dup3, KM_PLAIN) X(pipe, KM_PLAIN) X(pipe2, KM_PLAIN)                                 \
	X(fcntl, KM_RESTARTS) /* F_SETLKW */                                                   \
	X(ioctl, KM_RESTARTS) /* a terminal's drain */                                         \
	X(fallocate, KM_PLAIN) X(sendfile, KM_WRITES) X(memfd_create, KM_PLAIN)                \
	X(copy_file_range, KM_PLAIN) X(splice, KM_WRITES) X(tee, KM_WRITES)                    \
	/* sys_path.c */                                                                       \
	X(open, KM_RESTARTS) X(openat, KM_RESTARTS) X(creat, KM_RESTARTS) /* a FIFO */         \
	X(stat, KM_PLAIN) X(lstat, KM_PLAIN) X(newfstatat, KM_PLAIN) X(statx, KM_PLAIN)        \
	X(access, KM_PLAIN) X(faccessat, KM_PLAIN) X(faccessat2, KM_PLAIN)                     \
	X(readlink, KM_PLAIN) X(readlinkat, KM_PLAIN) X(rename, KM_PLAIN)                      \
	X(renameat, KM_PLAIN) X(renameat2, KM_PLAIN) X(unlink, KM_PLAIN) X(unlinkat, KM_PLAIN) \
	X(mkdir, KM_PLAIN) X(mkdirat, KM_PLAIN) X(rmdir, KM_PLAIN) X(link, KM_PLAIN)           \
	X(linkat, KM_PLAIN) X(symlink, KM_PLAIN) X(symlinkat, KM_PLAIN) X(chmod, KM_PLAIN)     \
	X(fchmodat, KM_PLAIN) X(chown, KM_PLAIN) X(lchown, KM_PLAIN) X(fchownat, KM_PLAIN)     \
	X(truncate, KM_PLAIN) X(getcwd, KM_PLAIN) X(chdir, KM_PLAIN) X(umask, KM_PLAIN)        \
	X(utimensat, KM_PLAIN) X(statfs, KM_PLAIN) X(mknod, KM_PLAIN) X(mknodat, KM_PLAIN)     \
	X(getxattr, KM_PLAIN) X(lgetxattr, KM_PLAIN) X(fgetxattr, KM_PLAIN)                    \
	X(setxattr, KM_PLAIN) X(lsetxattr, KM_PLAIN) X(fsetxattr, KM_PLAIN)                    \
	X(listxattr, KM_PLAIN) X(llistxattr, KM_PLAIN) X(flistxattr, KM_PLAIN)                 \
	X(removexattr, KM_PLAIN) X(lremovexattr, KM_PLAIN) X(fremovexattr, KM_PLAIN)           \
	/* sys_mem.c */                                                                        \
	X(brk, KM_PLAIN) X(mmap, KM_PLAIN) X(munmap, KM_PLAIN) X(mprotect, KM_PLAIN)           \
	X(mremap, KM_PLAIN) X(madvise, KM_PLAIN) X(msync, KM_PLAIN) X(mlock, KM_PLAIN)         \
	X(munlock, KM_PLAIN) X(mlockall, KM_PLAIN) X(munlockall, KM_PLAIN)                     \
	/* sys_time.c */                                                                       \
	X(clock_gettime, KM_PLAIN) X(clock_getres, KM_PLAIN) X(gettimeofday, KM_PLAIN)         \
	X(time, KM_PLAIN) X(nanosleep, KM_INTR) X(clock_nanosleep, KM_INTR) X(times, KM_PLAIN) \
	X(clock_settime, KM_PLAIN)                                                             \
	/* sys_proc.c */                                                                       \
	X(getpid, KM_PLAIN) X(getppid, KM_PLAIN) X(getuid, KM_PLAIN) X(geteuid, KM_PLAIN)      \
	X(getgid, KM_PLAIN) X(getegid, KM_PLAIN) X(getresuid, KM_PLAIN) X(getresgid, KM_PLAIN) \
	X(getgroups, KM_PLAIN) X(getpgrp, KM_PLAIN) X(getpgid, KM_PLAIN) X(getsid, KM_PLAIN)   \
	X(setpgid, KM_PLAIN) X(setsid, KM_PLAIN) X(uname, KM_PLAIN) X(getrlimit, KM_PLAIN)     \
	X(setrlimit, KM_PLAIN) X(prlimit64, KM_PLAIN) X(getrusage, KM_PLAIN)                   \
	X(sysinfo, KM_PLAIN) X(getrandom, KM_RESTARTS) X(arch_prctl, KM_PLAIN)                 \
	X(sched_yield, KM_PLAIN) X(sched_getaffinity, KM_PLAIN) X(prctl, KM_PLAIN)             \
	X(getcpu, KM_PLAIN) X(getpriority, KM_PLAIN) X(setpriority, KM_PLAIN)                  \
	X(setuid, KM_PLAIN) X(setgid, KM_PLAIN) X(setreuid, KM_PLAIN) X(setregid, KM_PLAIN)    \
	X(setresuid, KM_PLAIN) X(setresgid, KM_PLAIN) X(setgroups, KM_PLAIN)                   \
	X(capget, KM_PLAIN) X(sethostname, KM_PLAIN) X(setdomainname, KM_PLAIN)                \
	/* sys_process.c */                                                                    \
	X(fork, KM_PLAIN) X(vfork, KM_PLAIN) X(execve, KM_PLAIN) X(execveat, KM_PLAIN)         \
	X(wait4, KM_RESTARTS) X(waitid, KM_RESTARTS) X(pidfd_open, KM_PLAIN)                   \
	/* sys_thread.c */                                                                     \
	X(clone, KM_PLAIN) X(clone3, KM_PLAIN) X(exit, KM_PLAIN) X(exit_group, KM_PLAIN)       \
	X(gettid, KM_PLAIN)                                                                    \
	X(set_tid_address, KM_PLAIN) X(set_robust_list, KM_PLAIN)                              \
	X(get_robust_list, KM_PLAIN) X(futex, KM_RESTARTS)                                     \
	/* sys_signal.c */                                                                     \
	X(rt_sigaction, KM_PLAIN) X(rt_sigprocmask, KM_PLAIN) X(rt_sigpending, KM_PLAIN)       \
	X(sigaltstack, KM_PLAIN) X(kill, KM_PLAIN) X(tkill, KM_PLAIN) X(tgkill, KM_PLAIN)      \
	X(rt_sigqueueinfo, KM_PLAIN) X(rt_tgsigqueueinfo, KM_PLAIN)                            \
	X(rt_sigsuspend, KM_WAITS) X(pause, KM_WAITS) X(rt_sigtimedwait, KM_WAITS)             \
	X(rt_sigreturn, KM_SIGRETURN) X(alarm, KM_PLAIN) X(setitimer, KM_PLAIN)                \
	X(getitimer, KM_PLAIN) X(pidfd_send_signal, KM_PLAIN)                                  \
	/* sys_timer.c */                                                                      \
	X(timer_create, KM_PLAIN) X(timer_settime, KM_PLAIN) X(timer_gettime, KM_PLAIN)        \
	X(timer_getoverrun, KM_PLAIN) X(timer_delete, KM_PLAIN)                                \
	/* sys_poll.c */                                                                       \
	X(poll, KM_INTR) X(ppoll, KM_INTR) X(select, KM_INTR) X(pselect6, KM_INTR)             \
	X(epoll_create, KM_PLAIN) X(epoll_create1, KM_PLAIN) X(epoll_ctl, KM_PLAIN)            \
	X(epoll_wait, KM_INTR) X(epoll_pwait, KM_INTR) X(eventfd, KM_PLAIN)                    \
	X(eventfd2, KM_PLAIN) X(timerfd_create, KM_PLAIN) X(timerfd_settime, KM_PLAIN)         \
	X(timerfd_gettime, KM_PLAIN)                                                           \
	/* sys_ipc.c */                                                                        \
	X(msgget, KM_PLAIN) X(msgsnd, KM_INTR) X(msgrcv, KM_INTR) X(msgctl, KM_PLAIN)          \
	X(semget, KM_PLAIN) X(semop, KM_INTR) X(semtimedop, KM_INTR) X(semctl, KM_PLAIN)       \
	X(shmget, KM_PLAIN) X(shmat, KM_PLAIN) X(shmdt, KM_PLAIN) X(shmctl, KM_PLAIN)          \
	/* sys_aio.c */                                                                        \
	X(io_setup, KM_PLAIN) X(io_destroy, KM_PLAIN) X(io_submit, KM_INTR)                    \
	X(io_getevents, KM_INTR) X(io_pgetevents, KM_INTR) X(io_cancel, KM_PLAIN)              \
	/* signalfd.c */                                                                       \
	X(signalfd, KM_PLAIN) X(signalfd4, KM_PLAIN)                                           \
	/* sys_net.c */                                                                        \
	X(socket, KM_PLAIN) X(socketpair, KM_PLAIN) X(bind, KM_PLAIN)                          \
	X(connect, KM_RESTARTS) X(listen, KM_PLAIN) X(accept, KM_RESTARTS)                     \
	X(accept4, KM_RESTARTS) X(getsockname, KM_PLAIN) X(getpeername, KM_PLAIN)              \
	X(sendto, KM_WRITES) X(recvfrom, KM_RESTARTS) X(sendmsg, KM_WRITES)                    \
	X(recvmsg, KM_RESTARTS) X(setsockopt, KM_PLAIN) X(getsockopt, KM_PLAIN)                \
	X(shutdown, KM_PLAIN) X(sendmmsg, KM_WRITES) X(recvmmsg, KM_RESTARTS)

/*
 * The terminal, pty, fd and interface ioctls km passes to the host, with
 * the size of the argument and whether the kernel reads it (PROT_READ),
 * writes it (PROT_WRITE), both, or takes it by value (0). sys_io.c serves them; the seccomp filter lets
 * exactly these requests through.
 */
#define KM_KERNEL_TERMIOS_SIZE 36
#define KM_IOCTLS(X)                                                                            \
	X(TCGETS, KM_KERNEL_TERMIOS_SIZE, PROT_WRITE) X(TCSETS, KM_KERNEL_TERMIOS_SIZE, PROT_READ) \
	X(TCSETSW, KM_KERNEL_TERMIOS_SIZE, PROT_READ)                                           \
	X(TCSETSF, KM_KERNEL_TERMIOS_SIZE, PROT_READ)                                           \
	X(TIOCGWINSZ, sizeof(struct winsize), PROT_WRITE)                                      \
	X(TIOCSWINSZ, sizeof(struct winsize), PROT_READ) X(TIOCGPGRP, sizeof(int), PROT_WRITE) \
	X(TIOCSPGRP, sizeof(int), PROT_READ) X(TIOCGSID, sizeof(int), PROT_WRITE)              \
	X(FIONREAD, sizeof(int), PROT_WRITE) X(FIONBIO, sizeof(int), PROT_READ)                \
	X(FIOASYNC, sizeof(int), PROT_READ) X(FIOCLEX, 0, 0) X(FIONCLEX, 0, 0)                 \
	X(TCFLSH, 0, 0) X(TCXONC, 0, 0) X(TCSBRK, 0, 0)                                        \
	/* ptys (openpty, grantpt, unlockpt, ptsname) and the controlling terminal */          \
	X(TIOCGPTN, sizeof(unsigned), PROT_WRITE) X(TIOCSPTLCK, sizeof(int), PROT_READ)        \
	X(TIOCGPTLCK, sizeof(int), PROT_WRITE) X(TIOCPKT, sizeof(int), PROT_READ)              \
	X(TIOCGPKT, sizeof(int), PROT_WRITE) X(TIOCOUTQ, sizeof(int), PROT_WRITE)              \
	X(TIOCGEXCL, sizeof(int), PROT_WRITE) X(TIOCSCTTY, 0, 0) X(TIOCNOTTY, 0, 0)            \
	X(TIOCEXCL, 0, 0) X(TIOCNXCL, 0, 0)                                                    \
	X(TIOCGPTPEER, 0, 0) /* returns a new fd: sys_io.c takes it apart */               \
	/* network interfaces by name or index (if_nametoindex, if_indextoname), read only */ \
	X(SIOCGIFNAME, sizeof(struct ifreq), PROT_READ | PROT_WRITE)                           \
	X(SIOCGIFINDEX, sizeof(struct ifreq), PROT_READ | PROT_WRITE)                          \
	X(SIOCGIFFLAGS, sizeof(struct ifreq), PROT_READ | PROT_WRITE)                          \
	X(SIOCGIFADDR, sizeof(struct ifreq), PROT_READ | PROT_WRITE)                           \
	X(SIOCGIFNETMASK, sizeof(struct ifreq), PROT_READ | PROT_WRITE)                        \
	X(SIOCGIFBRDADDR, sizeof(struct ifreq), PROT_READ | PROT_WRITE)                        \
	X(SIOCGIFMTU, sizeof(struct ifreq), PROT_READ | PROT_WRITE)                            \
	X(SIOCGIFHWADDR, sizeof(struct ifreq), PROT_READ | PROT_WRITE)

/* What a policy may combine; hcall.c checks every entry when it builds the table. */
#define KM_POLICY_OK(p)                                                                  \
	(((p) & ~(KM_BLOCKS | KM_RESTART | KM_SIGPIPE | KM_WAITS | KM_SIGRETURN)) == 0 && \
	 (((p) & (KM_RESTART | KM_SIGPIPE)) == 0 || ((p) & KM_BLOCKS)) &&                \
	 (((p) & (KM_WAITS | KM_SIGRETURN)) == 0 || (p) == KM_WAITS || (p) == KM_SIGRETURN))

#define KM_SYSCALL(name) \
	long km_sys_##name(struct km_vcpu *vcpu __attribute__((unused)), \
			   const uint64_t *a __attribute__((unused)))

#define KM_DECLARE(name, policy) KM_SYSCALL(name);
KM_SYSCALLS(KM_DECLARE)
#undef KM_DECLARE

long km_clone_process(struct km_vcpu *vcpu, const uint64_t *a);

#define IOV_MAX_LINUX 1024 /* UIO_MAXIOV */
struct iovec;
/* sys_poll.c: a call's own signal mask for its wait (ppoll's, io_pgetevents'), and its end. */
long km_temp_mask(struct km_vcpu *vcpu, uint64_t gva, bool *applied);
long km_end_mask(struct km_vcpu *vcpu, bool applied, long rc);
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
