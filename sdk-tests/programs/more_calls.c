/* Calls that real runtimes make (issue 13): priorities, sendfile, memfd_create, sysinfo. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/ioctl.h>
#include <sys/ipc.h>
#include <sys/xattr.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <termios.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/aio_abi.h>
#include <linux/capability.h>

#include "check.h"

static const char *outcome(long rc)
{
	return rc >= 0 ? "success" : errno_name(errno);
}

static void priority_case(void)
{
	errno = 0;
	int now = getpriority(PRIO_PROCESS, 0);
	CHECK(errno == 0, "getpriority");
	printf("setpriority(self, +1): %s\n", outcome(setpriority(PRIO_PROCESS, 0, now + 1)));
	printf("the thread's nice went up by one: %s\n",
	       getpriority(PRIO_PROCESS, 0) == now + 1 ? "yes" : "no");
	printf("the raw call answers 20 - nice: %s\n",
	       syscall(SYS_getpriority, PRIO_PROCESS, 0) == 20 - (now + 1) ? "yes" : "no");
	printf("getpriority(PRIO_PROCESS, no such pid): %s\n",
	       outcome(getpriority(PRIO_PROCESS, INT_MAX) == -1 && errno ? -1 : 0));
	printf("setpriority(which 99): %s\n", outcome(setpriority(99, 0, 0)));
}

static int temp_file(const char *contents)
{
	char path[] = "/tmp/more_calls.XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0, "mkstemp");
	unlink(path);
	CHECK(write(fd, contents, strlen(contents)) == (ssize_t)strlen(contents), "write");
	CHECK(lseek(fd, 0, SEEK_SET) == 0, "lseek");
	return fd;
}

static void sendfile_case(void)
{
	int in = temp_file("0123456789abcdef"), p[2];
	char buf[32] = "";
	off_t off = 4;
	CHECK(pipe(p) == 0, "pipe");
	long n = sendfile(p[1], in, &off, 6);
	CHECK(n == 6 && read(p[0], buf, sizeof(buf)) == 6, "sendfile with an offset");
	printf("sendfile(offset 4, 6 bytes): %.6s, offset now %ld, file position %ld\n", buf,
	       (long)off, (long)lseek(in, 0, SEEK_CUR));
	n = sendfile(p[1], in, NULL, 3);
	CHECK(n == 3 && read(p[0], buf, sizeof(buf)) == 3, "sendfile from the position");
	printf("sendfile(no offset, 3 bytes): %.3s, file position %ld\n", buf,
	       (long)lseek(in, 0, SEEK_CUR));
	printf("sendfile(offset at an unmapped address): %s\n",
	       outcome(sendfile(p[1], in, (off_t *)16, 3)));
	printf("sendfile(from a bad fd): %s\n", outcome(sendfile(p[1], 999, NULL, 3)));
}

static void memfd_case(void)
{
	char name[300], link[64], target[128] = "";
	int fd = memfd_create("kontain", MFD_CLOEXEC);
	CHECK(fd >= 0, "memfd_create");
	CHECK(ftruncate(fd, 4096) == 0 && pwrite(fd, "in memory", 9, 0) == 9, "fill it");
	char *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(m != MAP_FAILED, "mmap");
	printf("memfd_create: mapped it reads \"%.9s\", close-on-exec %s\n", m,
	       fcntl(fd, F_GETFD) & FD_CLOEXEC ? "set" : "clear");
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	CHECK(readlink(link, target, sizeof(target) - 1) > 0, "readlink");
	printf("its name: %s\n", target);
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	printf("memfd_create(a 299-byte name): %s\n", outcome(memfd_create(name, 0)));
	name[249] = '\0';
	int ok = memfd_create(name, 0);
	printf("memfd_create(a 249-byte name): %s\n", outcome(ok));
	printf("memfd_create(unknown flags): %s\n", outcome(memfd_create("x", 0x8000)));
	printf("memfd_create(name at an unmapped address): %s\n",
	       outcome(syscall(SYS_memfd_create, 16, 0)));
}

/* The memory a program sizes itself by, in MiB. */
static void memory_case(void)
{
	struct sysinfo si;
	CHECK(sysinfo(&si) == 0, "sysinfo");
	printf("sysinfo totalram: %lu MiB, free at most that: %s\n",
	       (unsigned long)((uint64_t)si.totalram * si.mem_unit >> 20),
	       si.freeram <= si.totalram ? "yes" : "no");
	printf("sysconf physical pages: %lu MiB\n",
	       (unsigned long)((uint64_t)sysconf(_SC_PHYS_PAGES) * (uint64_t)sysconf(_SC_PAGESIZE) >> 20));
	printf("sysinfo(at an unmapped address): %s\n", outcome(syscall(SYS_sysinfo, 16)));
}

/* A child drops root for nobody, as a server does; root's capabilities, as capget sees them. */
static void identity_case(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];
	const char *got = outcome(syscall(SYS_capget, &hdr, data));
	printf("capget: %s, CAP_SETUID effective: %s\n", got,
	       data[0].effective & (1u << CAP_SETUID) ? "yes" : "no");
	hdr.version = 0;
	got = outcome(syscall(SYS_capget, &hdr, data));
	printf("capget(version 0): %s, version written back: %s\n", got,
	       hdr.version == _LINUX_CAPABILITY_VERSION_3 ? "v3" : "other");
	printf("capget(header at an unmapped address): %s\n", outcome(syscall(SYS_capget, 16, data)));
	fflush(stdout);

	pid_t pid = fork();
	CHECK(pid >= 0, "fork");
	if (pid == 0) {
		gid_t none[1] = { 65534 };
		printf("setgroups: %s\n", outcome(syscall(SYS_setgroups, 1, none)));
		printf("setresgid(65534): %s\n", outcome(syscall(SYS_setresgid, 65534, 65534, 65534)));
		printf("setreuid(65534, 65534): %s\n", outcome(syscall(SYS_setreuid, 65534, 65534)));
		uid_t r, e, sv;
		CHECK(getresuid(&r, &e, &sv) == 0, "getresuid");
		printf("now uid %u euid %u suid %u gid %u\n", r, e, sv, getgid());
		printf("open /etc/shadow: %s\n", outcome(open("/etc/shadow", O_RDONLY)));
		printf("setuid(0): %s\n", outcome(syscall(SYS_setuid, 0)));
		printf("setregid(0, 0): %s\n", outcome(syscall(SYS_setregid, 0, 0)));
		fflush(stdout);
		_exit(0);
	}
	int status;
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status), "wait");
	printf("the parent is still root: %s\n", getuid() == 0 && geteuid() == 0 ? "yes" : "no");
}

/* Host names and clocks: the kernel's answers, the arguments read once. */
static void uts_case(void)
{
	char name[65];
	CHECK(gethostname(name, sizeof(name)) == 0, "gethostname");
	printf("sethostname(its own name): %s\n",
	       outcome(syscall(SYS_sethostname, name, strlen(name))));
	printf("sethostname(65 bytes): %s\n", outcome(syscall(SYS_sethostname, name, 65)));
	printf("sethostname(at an unmapped address): %s\n", outcome(syscall(SYS_sethostname, 16, 4)));
	struct timespec ts = { 0, 0 };
	printf("clock_settime(CLOCK_MONOTONIC): %s\n",
	       outcome(syscall(SYS_clock_settime, CLOCK_MONOTONIC, &ts)));
	printf("clock_settime(CLOCK_REALTIME, unmapped): %s\n",
	       outcome(syscall(SYS_clock_settime, CLOCK_REALTIME, 16)));
}

/* struct clone_args as far as its first version (64 bytes). */
struct clone_args_v0 {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};

/* clone3 as fork, and the checks on its size and arguments. */
static void clone3_case(void)
{
	struct clone_args_v0 args = { .exit_signal = SIGCHLD };
	fflush(stdout);
	long pid = syscall(SYS_clone3, &args, sizeof(args));
	CHECK(pid >= 0, "clone3");
	if (pid == 0)
		_exit(7);
	int status;
	CHECK(waitpid((pid_t)pid, &status, 0) == pid, "wait");
	printf("clone3 as fork: the child exited %d\n", WEXITSTATUS(status));
	printf("clone3(size 32): %s\n", outcome(syscall(SYS_clone3, &args, 32)));
	printf("clone3(size 8192): %s\n", outcome(syscall(SYS_clone3, &args, 8192)));
	struct {
		struct clone_args_v0 v0;
		uint64_t pad[16];
	} big = { .v0 = args };
	big.pad[15] = 1;
	printf("clone3(a larger struct, its tail not 0): %s\n",
	       outcome(syscall(SYS_clone3, &big, sizeof(big))));
	struct clone_args_v0 bad = { .exit_signal = 65 };
	printf("clone3(exit signal 65): %s\n", outcome(syscall(SYS_clone3, &bad, sizeof(bad))));
	struct clone_args_v0 nostack = { .exit_signal = SIGCHLD, .stack_size = 4096 };
	printf("clone3(a stack size, no stack): %s\n",
	       outcome(syscall(SYS_clone3, &nostack, sizeof(nostack))));
	printf("clone3(at an unmapped address): %s\n", outcome(syscall(SYS_clone3, 16, 64)));
}

/* A pseudo-terminal as openpty makes one, and its other end through TIOCGPTPEER. */
static void pty_case(void)
{
	int master = posix_openpt(O_RDWR | O_NOCTTY);
	CHECK(master >= 0, "posix_openpt");
	CHECK(grantpt(master) == 0 && unlockpt(master) == 0, "grantpt, unlockpt");
	int locked = -1;
	CHECK(ioctl(master, TIOCGPTLCK, &locked) == 0, "TIOCGPTLCK");
	printf("unlocked: %s\n", locked == 0 ? "yes" : "no");
	const char *name = ptsname(master);
	CHECK(name != NULL && strncmp(name, "/dev/pts/", 9) == 0, "ptsname");
	int slave = open(name, O_RDWR | O_NOCTTY);
	CHECK(slave >= 0, "open %s", name);
	struct termios raw;
	CHECK(tcgetattr(slave, &raw) == 0, "tcgetattr");
	cfmakeraw(&raw);
	CHECK(tcsetattr(slave, TCSANOW, &raw) == 0, "tcsetattr"); /* no echo to race with */
	CHECK(write(master, "hello\n", 6) == 6, "write the master");
	char buf[16] = { 0 };
	CHECK(read(slave, buf, sizeof(buf) - 1) == 6, "read the slave");
	printf("the slave read: %s", buf);
	int peer = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
	CHECK(peer >= 0, "TIOCGPTPEER");
	CHECK(write(peer, "back\n", 5) == 5, "write the peer");
	memset(buf, 0, sizeof(buf));
	CHECK(read(master, buf, sizeof(buf) - 1) > 0, "read the master");
	printf("the master read: %s", buf);
	int n = -1;
	CHECK(ioctl(slave, TIOCOUTQ, &n) == 0, "TIOCOUTQ");
	printf("TIOCOUTQ: %d\n", n);
	printf("TIOCGPTN(at an unmapped address): %s\n", outcome(ioctl(master, TIOCGPTN, 16)));
}

/* System V message queues and semaphores, between a process and its child. */
static void sysv_case(void)
{
	int q = msgget(IPC_PRIVATE, 0600);
	CHECK(q >= 0, "msgget");
	struct {
		long type;
		char text[16];
	} msg = { 2, "hello" }, got = { 0, "" };
	fflush(stdout);
	pid_t pid = fork();
	CHECK(pid >= 0, "fork");
	if (pid == 0)
		_exit(msgsnd(q, &msg, sizeof(msg.text), 0) == 0 ? 0 : 1);
	CHECK(msgrcv(q, &got, sizeof(got.text), 2, 0) == sizeof(got.text), "msgrcv");
	printf("msgrcv from the child: type %ld, \"%s\"\n", got.type, got.text);
	int status;
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0, "child");
	printf("msgrcv(empty, IPC_NOWAIT): %s\n",
	       outcome(msgrcv(q, &got, sizeof(got.text), 0, IPC_NOWAIT)));
	printf("msgsnd(at an unmapped address): %s\n", outcome(msgsnd(q, (void *)16, 8, 0)));
	struct msqid_ds qs;
	CHECK(msgctl(q, IPC_STAT, &qs) == 0, "msgctl IPC_STAT");
	printf("queue: %lu messages, last sent by the child: %s\n", (unsigned long)qs.msg_qnum,
	       qs.msg_lspid == pid ? "yes" : "no");
	CHECK(msgctl(q, IPC_RMID, NULL) == 0, "msgctl IPC_RMID");
	printf("msgsnd to a removed queue: %s\n", outcome(msgsnd(q, &msg, sizeof(msg.text), 0)));

	int sem = semget(IPC_PRIVATE, 2, 0600);
	CHECK(sem >= 0, "semget");
	unsigned short vals[2] = { 3, 0 };
	CHECK(semctl(sem, 0, SETALL, vals) == 0, "semctl SETALL");
	struct sembuf down = { 0, -1, 0 };
	CHECK(semop(sem, &down, 1) == 0, "semop");
	CHECK(semctl(sem, 0, GETALL, vals) == 0, "semctl GETALL");
	printf("after one down: %u %u, GETVAL %d\n", vals[0], vals[1], semctl(sem, 0, GETVAL));
	struct sembuf wait1 = { 1, -1, 0 };
	struct timespec ms10 = { 0, 10000000 };
	printf("semtimedop on a zero semaphore, 10 ms: %s\n", outcome(semtimedop(sem, &wait1, 1, &ms10)));
	printf("semop(at an unmapped address): %s\n", outcome(semop(sem, (void *)16, 1)));
	struct semid_ds ss;
	CHECK(semctl(sem, 0, IPC_STAT, &ss) == 0, "semctl IPC_STAT");
	printf("the set has %lu semaphores\n", (unsigned long)ss.sem_nsems);
	CHECK(semctl(sem, 0, IPC_RMID) == 0, "semctl IPC_RMID");
}

/* A System V shared memory segment, attached twice, and in a child. */
static void shm_case(void)
{
	int id = shmget(IPC_PRIVATE, 10000, 0600);
	CHECK(id >= 0, "shmget");
	char *a = shmat(id, NULL, 0), *b = shmat(id, NULL, SHM_RDONLY);
	CHECK(a != (void *)-1 && b != (void *)-1 && a != b, "shmat twice");
	strcpy(a + 9000, "shared");
	printf("the second attachment reads: %s\n", b + 9000);
	struct shmid_ds ds;
	CHECK(shmctl(id, IPC_STAT, &ds) == 0, "shmctl IPC_STAT");
	printf("size %lu, attached %lu times\n", (unsigned long)ds.shm_segsz,
	       (unsigned long)ds.shm_nattch);
	fflush(stdout);
	pid_t pid = fork();
	CHECK(pid >= 0, "fork");
	if (pid == 0) {
		strcpy(a, "from the child");
		_exit(0);
	}
	int status;
	CHECK(waitpid(pid, &status, 0) == pid, "wait");
	printf("the child wrote: %s\n", b);
	printf("shmat(unaligned, no SHM_RND): %s\n", outcome((long)shmat(id, a + 1, 0)));
	printf("shmat(over a, no SHM_REMAP): %s\n", outcome((long)shmat(id, a, 0)));
	char *again = shmat(id, a + 1, SHM_RND | SHM_REMAP);
	printf("shmat(over a, SHM_RND | SHM_REMAP): %s, same place: %s\n",
	       outcome((long)again), again == a ? "yes" : "no");
	printf("shmdt(inside it): %s\n", outcome(shmdt(a + 4096)));
	CHECK(shmdt(a) == 0 && shmdt(b) == 0, "shmdt");
	CHECK(shmctl(id, IPC_STAT, &ds) == 0, "shmctl IPC_STAT");
	printf("attached %lu times after shmdt\n", (unsigned long)ds.shm_nattch);
	printf("shmdt again: %s\n", outcome(shmdt(a)));
	CHECK(shmctl(id, IPC_RMID, NULL) == 0, "shmctl IPC_RMID");
}

/* Extended attributes on a file in the current directory: whatever the file system says, and Linux's own limits. */
static void xattr_case(void)
{
	int fd = open("xattr-file", O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0, "create xattr-file");
	printf("setxattr: %s\n", outcome(setxattr("xattr-file", "user.km", "value", 5, 0)));
	char buf[64] = "";
	long n = getxattr("xattr-file", "user.km", buf, sizeof(buf));
	printf("getxattr: %s %.*s\n", outcome(n), n > 0 ? (int)n : 0, buf);
	printf("getxattr(size 0): %ld\n", (long)fgetxattr(fd, "user.km", NULL, 0));
	printf("getxattr(a 2-byte buffer): %s\n", outcome(getxattr("xattr-file", "user.km", buf, 2)));
	n = flistxattr(fd, buf, sizeof(buf));
	printf("listxattr: %s, lists user.km: %s\n", outcome(n),
	       n > 0 && memmem(buf, (size_t)n, "user.km", 8) ? "yes" : "no");
	printf("removexattr: %s\n", outcome(fremovexattr(fd, "user.km")));
	char name[300];
	memset(name, 'a', sizeof(name) - 1);
	memcpy(name, "user.", 5);
	name[sizeof(name) - 1] = 0;
	printf("setxattr(a 299-byte name): %s\n", outcome(setxattr("xattr-file", name, "v", 1, 0)));
	printf("setxattr(a 70000-byte value): %s\n",
	       outcome(setxattr("xattr-file", "user.big", buf, 70000, 0)));
	printf("getxattr(value at an unmapped address): %s\n",
	       outcome(getxattr("xattr-file", "user.km", (void *)16, 8)));
	close(fd);
	unlink("xattr-file");
}

/* copy_file_range, splice and tee, their offsets read and written back once. */
static void copy_case(void)
{
	int in = open("copy-in", O_RDWR | O_CREAT | O_TRUNC, 0600);
	int out = open("copy-out", O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK(in >= 0 && out >= 0 && write(in, "0123456789", 10) == 10, "files");
	loff_t off_in = 2, off_out = 0;
	long n = syscall(SYS_copy_file_range, in, &off_in, out, &off_out, 5, 0);
	char buf[16] = "";
	CHECK(pread(out, buf, sizeof(buf) - 1, 0) >= 0, "pread");
	printf("copy_file_range: %ld bytes, \"%s\", offsets now %ld and %ld\n", n, buf, (long)off_in,
	       (long)off_out);
	int p[2], q[2];
	CHECK(pipe(p) == 0 && pipe(q) == 0, "pipes");
	off_in = 6;
	n = splice(in, &off_in, p[1], NULL, 3, 0);
	printf("splice file to pipe: %ld bytes, offset now %ld\n", n, (long)off_in);
	n = tee(p[0], q[1], 3, 0);
	memset(buf, 0, sizeof(buf));
	CHECK(read(q[0], buf, sizeof(buf)) == 3, "read the tee");
	printf("tee: %ld bytes, \"%s\"", n, buf);
	memset(buf, 0, sizeof(buf));
	CHECK(read(p[0], buf, sizeof(buf)) == 3, "read the pipe");
	printf(", still in the first pipe: \"%s\"\n", buf);
	printf("copy_file_range(offset at an unmapped address): %s\n",
	       outcome(syscall(SYS_copy_file_range, in, 16, out, NULL, 5, 0)));
	printf("splice(a closed fd): %s\n", outcome(splice(99, NULL, p[1], NULL, 3, 0)));
	unlink("copy-in");
	unlink("copy-out");
}

/* Interface names and indexes, as getaddrinfo's scope ids need them. */
static void ifname_case(void)
{
	unsigned idx = if_nametoindex("lo");
	char name[IF_NAMESIZE] = "";
	printf("lo has an index: %s\n", idx > 0 ? "yes" : "no");
	printf("and back: %s\n", if_indextoname(idx, name) ? name : strerror(errno));
	printf("no such interface: %s\n", if_nametoindex("no-such-if0") == 0 ? errno_name(errno) : "found");
}

static volatile sig_atomic_t usr1_value = -1;

static void on_usr1(int sig, siginfo_t *info, void *uc)
{
	(void)sig, (void)uc;
	usr1_value = info->si_code == SI_QUEUE ? info->si_value.sival_int : 0;
}

static bool readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

/* pidfds: of the program itself and of a child; sigqueue to the child. */
static void pidfd_case(void)
{
	struct sigaction sa = { .sa_sigaction = on_usr1, .sa_flags = SA_SIGINFO };
	CHECK(sigaction(SIGUSR1, &sa, NULL) == 0, "sigaction");
	int self = (int)syscall(SYS_pidfd_open, getpid(), 0);
	CHECK(self >= 0, "pidfd_open(self): %s", errno_name(errno));
	CHECK(syscall(SYS_pidfd_send_signal, self, SIGUSR1, NULL, 0) == 0, "pidfd_send_signal");
	printf("to itself: the handler ran before the call returned: %s\n",
	       usr1_value == 0 ? "yes" : "no");
	siginfo_t info = { .si_signo = SIGUSR1, .si_code = SI_QUEUE };
	info.si_value.sival_int = 42;
	CHECK(syscall(SYS_pidfd_send_signal, self, SIGUSR1, &info, 0) == 0, "with a siginfo");
	printf("to itself with a siginfo: value %d\n", (int)usr1_value);
	printf("a siginfo of another signal: %s\n",
	       outcome(syscall(SYS_pidfd_send_signal, self, SIGUSR2, &info, 0)));
	printf("on a pipe: %s\n", outcome(syscall(SYS_pidfd_send_signal, 0, SIGUSR1, NULL, 0)));
	printf("on fd 100000: %s\n", outcome(syscall(SYS_pidfd_send_signal, 100000, 0, NULL, 0)));
	printf("flags 0x100: %s\n", outcome(syscall(SYS_pidfd_send_signal, self, 0, NULL, 0x100)));
	printf("pidfd_open(-1): %s\n", outcome(syscall(SYS_pidfd_open, -1, 0)));
	printf("pidfd_open(flags 1): %s\n", outcome(syscall(SYS_pidfd_open, getpid(), 1)));
	close(self);

	int report[2];
	CHECK(pipe(report) == 0, "pipe");
	fflush(stdout);
	pid_t child = fork();
	CHECK(child >= 0, "fork");
	if (child == 0) {
		usr1_value = -1;
		while (usr1_value < 0)
			pause();
		char v = (char)usr1_value;
		_exit(write(report[1], &v, 1) == 1 ? 0 : 1);
	}
	int fd = (int)syscall(SYS_pidfd_open, child, 0);
	CHECK(fd >= 0, "pidfd_open(child)");
	printf("the child's pidfd readable while it runs: %s\n", readable(fd) ? "yes" : "no");
	union sigval value = { .sival_int = 7 };
	do { /* until its handler is in place */
		CHECK(sigqueue(child, SIGUSR1, value) == 0, "sigqueue: %s", errno_name(errno));
		usleep(1000);
	} while (!readable(report[0]));
	char v = 0;
	CHECK(read(report[0], &v, 1) == 1, "the child's report");
	printf("sigqueue to the child: value %d\n", v);
	siginfo_t done;
	CHECK(waitid(P_PIDFD, (id_t)fd, &done, WEXITED) == 0, "waitid(P_PIDFD)");
	printf("waitid(P_PIDFD): exited %d, readable after: %s\n", done.si_status,
	       readable(fd) ? "yes" : "no");
	printf("waitid(P_PIDFD, fd 100000): %s\n",
	       outcome(waitid(P_PIDFD, 100000, &done, WEXITED | WNOHANG)));

	child = fork();
	CHECK(child >= 0, "fork");
	if (child == 0) {
		pause();
		_exit(0);
	}
	fd = (int)syscall(SYS_pidfd_open, child, 0);
	CHECK(fd >= 0 && syscall(SYS_pidfd_send_signal, fd, SIGTERM, NULL, 0) == 0, "SIGTERM");
	CHECK(waitid(P_PIDFD, (id_t)fd, &done, WEXITED) == 0, "waitid");
	printf("pidfd_send_signal SIGTERM to a child: %s\n",
	       done.si_code == CLD_KILLED && done.si_status == SIGTERM ? "killed by it" : "not killed");
}

static struct iocb aio_cb(uint64_t data, uint16_t op, int fd, const void *buf, uint64_t n,
			  int64_t off)
{
	struct iocb cb = { .aio_data = data, .aio_lio_opcode = op, .aio_fildes = (uint32_t)fd };
	cb.aio_buf = (uint64_t)buf;
	cb.aio_nbytes = n;
	cb.aio_offset = off;
	return cb;
}

static long aio_submit(unsigned long ctx, struct iocb *cb)
{
	struct iocb *list[1] = { cb };
	return syscall(SYS_io_submit, ctx, 1, list);
}

static const char *aio_res(int64_t res)
{
	static char buf[32];
	if (res < 0)
		return errno_name((int)-res);
	snprintf(buf, sizeof(buf), "%lld", (long long)res);
	return buf;
}

struct aio_waiter {
	unsigned long ctx;
	long got;
};

static void *aio_wait(void *arg)
{
	struct aio_waiter *w = arg;
	struct io_event ev;
	w->got = syscall(SYS_io_getevents, w->ctx, 1, 1, &ev, NULL);
	return NULL;
}

static void on_alarm(int sig)
{
	(void)sig;
}

/* io_getevents waits for another thread's io_submit, and a signal with a handler ends its wait. */
static void aio_waits(unsigned long ctx, int fd)
{
	struct aio_waiter w = { ctx, -2 };
	pthread_t t;
	CHECK(pthread_create(&t, NULL, aio_wait, &w) == 0, "pthread_create");
	usleep(50000);
	struct iocb cb = aio_cb(12, IOCB_CMD_PWRITE, fd, "y", 1, 0);
	CHECK(aio_submit(ctx, &cb) == 1, "io_submit");
	CHECK(pthread_join(t, NULL) == 0, "pthread_join");
	printf("a waiting thread got another's event: %ld\n", w.got);
	struct timespec none = { 0, 0 };
	struct io_event left[8];
	while (syscall(SYS_io_getevents, ctx, 0, 8, left, &none) > 0)
		;
	struct sigaction sa = { .sa_handler = on_alarm, .sa_flags = SA_RESTART };
	CHECK(sigaction(SIGALRM, &sa, NULL) == 0, "sigaction");
	ualarm(50000, 0);
	struct io_event ev;
	printf("io_getevents ended by SIGALRM (SA_RESTART): %s\n",
	       outcome(syscall(SYS_io_getevents, ctx, 1, 1, &ev, NULL)));
}

/* Linux AIO: reads, writes, fsync, POLL, an eventfd told, cancel, and the errors. */
static void aio_case(void)
{
	unsigned long ctx = 0, other = 1;
	printf("io_setup(0): %s\n", outcome(syscall(SYS_io_setup, 0, &ctx)));
	printf("io_setup(a context not 0): %s\n", outcome(syscall(SYS_io_setup, 8, &other)));
	printf("io_setup(at an unmapped address): %s\n", outcome(syscall(SYS_io_setup, 8, 16)));
	CHECK(syscall(SYS_io_setup, 8, &ctx) == 0 && ctx != 0, "io_setup");

	char path[] = "/tmp/aio.XXXXXX", got[16] = { 0 }, a[] = "vec", b[] = "tor";
	int fd = mkstemp(path);
	CHECK(fd >= 0, "mkstemp");
	unlink(path);
	struct iovec iov[2] = { { a, 3 }, { b, 3 } };
	struct iocb cbs[5] = {
		aio_cb(1, IOCB_CMD_PWRITE, fd, "hello aio", 9, 0),
		aio_cb(2, IOCB_CMD_PWRITEV, fd, iov, 2, 100),
		aio_cb(3, IOCB_CMD_FSYNC, fd, NULL, 0, 0),
		aio_cb(4, IOCB_CMD_FDSYNC, fd, NULL, 0, 0),
		aio_cb(5, IOCB_CMD_PREAD, fd, got, 9, 0),
	};
	struct iocb *list[5] = { &cbs[0], &cbs[1], &cbs[2], &cbs[3], &cbs[4] };
	printf("io_submit(5): %ld\n", syscall(SYS_io_submit, ctx, 5, list));
	struct io_event ev[8];
	struct timespec second = { 1, 0 }, none = { 0, 0 };
	long n = syscall(SYS_io_getevents, ctx, 5, 8, ev, &second);
	printf("io_getevents: %ld\n", n);
	for (int want = 1; want <= 5; want++)
		for (long i = 0; i < n; i++)
			if (ev[i].data == (uint64_t)want)
				printf("  event %d: res %s, obj is its iocb: %s\n", want, aio_res(ev[i].res),
				       ev[i].obj == (uint64_t)&cbs[want - 1] ? "yes" : "no");
	char back[8] = { 0 };
	CHECK(pread(fd, back, 6, 100) == 6, "pread");
	printf("read back: '%s', at 100: '%s'\n", got, back);

	int p[2];
	CHECK(pipe(p) == 0, "pipe");
	struct iocb poll_cb = aio_cb(9, IOCB_CMD_POLL, p[0], (void *)POLLIN, 0, 0);
	printf("POLL on an empty pipe: %s\n", outcome(aio_submit(ctx, &poll_cb)));
	printf("io_getevents(timeout 0): %ld\n", syscall(SYS_io_getevents, ctx, 0, 8, ev, &none));
	CHECK(write(p[1], "x", 1) == 1, "write");
	n = syscall(SYS_io_getevents, ctx, 1, 8, ev, &second);
	printf("after a write: %ld event, data %llu, POLLIN: %s\n", n, (unsigned long long)ev[0].data,
	       n == 1 && (ev[0].res & POLLIN) ? "yes" : "no");
	int q[2];
	CHECK(pipe(q) == 0, "pipe");
	struct iocb wait_cb = aio_cb(10, IOCB_CMD_POLL, q[0], (void *)POLLIN, 0, 0);
	CHECK(aio_submit(ctx, &wait_cb) == 1, "POLL");
	struct io_event unused;
	printf("io_cancel of a waiting POLL: %s\n",
	       outcome(syscall(SYS_io_cancel, ctx, &wait_cb, &unused)));
	n = syscall(SYS_io_getevents, ctx, 1, 8, ev, &second);
	printf("then: %ld event, res %s\n", n, n == 1 ? aio_res(ev[0].res) : "-");
	printf("io_cancel of a done one: %s\n", outcome(syscall(SYS_io_cancel, ctx, &cbs[0], &unused)));

	int efd = eventfd(0, 0);
	CHECK(efd >= 0, "eventfd");
	struct iocb told = aio_cb(11, IOCB_CMD_PWRITE, fd, "x", 1, 0);
	told.aio_flags = IOCB_FLAG_RESFD;
	told.aio_resfd = (uint32_t)efd;
	CHECK(aio_submit(ctx, &told) == 1, "with IOCB_FLAG_RESFD");
	uint64_t count = 0;
	CHECK(read(efd, &count, sizeof(count)) == 8, "read the eventfd");
	printf("the eventfd counted %llu\n", (unsigned long long)count);
	CHECK(syscall(SYS_io_getevents, ctx, 1, 8, ev, &second) == 1, "its event");
	uint64_t nearly_full = 0xfffffffffffffffeull;
	CHECK(write(efd, &nearly_full, sizeof(nearly_full)) == 8, "fill the eventfd");
	printf("IOCB_FLAG_RESFD on a full eventfd: %s\n", outcome(aio_submit(ctx, &told)));
	CHECK(syscall(SYS_io_getevents, ctx, 1, 8, ev, &second) == 1, "its event");
	CHECK(read(efd, &count, sizeof(count)) == 8, "empty the eventfd");

	struct iocb bad = told;
	bad.aio_resfd = (uint32_t)p[0];
	printf("IOCB_FLAG_RESFD on a pipe: %s\n", outcome(aio_submit(ctx, &bad)));
	bad.aio_resfd = 100000;
	printf("IOCB_FLAG_RESFD on fd 100000: %s\n", outcome(aio_submit(ctx, &bad)));
	bad = told;
	bad.aio_flags = 0;
	bad.aio_reserved2 = 1;
	printf("a reserved field set: %s\n", outcome(aio_submit(ctx, &bad)));
	bad.aio_reserved2 = 0;
	bad.aio_lio_opcode = IOCB_CMD_NOOP;
	printf("NOOP: %s\n", outcome(aio_submit(ctx, &bad)));
	bad.aio_lio_opcode = IOCB_CMD_PWRITE;
	bad.aio_fildes = 100000;
	printf("fd 100000: %s\n", outcome(aio_submit(ctx, &bad)));
	bad.aio_fildes = (uint32_t)p[0];
	printf("a write to a pipe's read end: %s\n", outcome(aio_submit(ctx, &bad)));
	bad.aio_fildes = (uint32_t)fd;
	bad.aio_buf = 16;
	printf("a write from an unmapped buffer: %s\n", outcome(aio_submit(ctx, &bad)));
	printf("io_submit(a list at an unmapped address): %s\n",
	       outcome(syscall(SYS_io_submit, ctx, 1, 16)));
	printf("io_submit(-1): %s\n", outcome(syscall(SYS_io_submit, ctx, -1L, list)));
	printf("io_submit(another context): %s\n", outcome(syscall(SYS_io_submit, ctx + 4096, 1, list)));
	printf("io_getevents(min 2 > nr 1): %s\n", outcome(syscall(SYS_io_getevents, ctx, 2, 1, ev, NULL)));

	aio_waits(ctx, fd);
	fflush(stdout);
	pid_t child = fork();
	CHECK(child >= 0, "fork");
	if (child == 0) {
		printf("io_submit in a forked child: %s\n", outcome(aio_submit(ctx, &told)));
		fflush(stdout);
		_exit(0);
	}
	CHECK(waitpid(child, NULL, 0) == child, "wait");
	printf("io_destroy: %s\n", outcome(syscall(SYS_io_destroy, ctx)));
	printf("io_destroy again: %s\n", outcome(syscall(SYS_io_destroy, ctx)));
}

static volatile sig_atomic_t forged_code = -1;

static void on_forged(int sig, siginfo_t *info, void *uc)
{
	(void)sig, (void)uc;
	forged_code = info->si_code;
}

static void *forge_from_thread(void *arg)
{
	int sig = *(int *)arg;
	siginfo_t info = { .si_signo = sig, .si_code = 1 }; /* SEGV_MAPERR, SYS_SECCOMP: a fault's */
	forged_code = -1;
	long rc = syscall(SYS_rt_sigqueueinfo, (pid_t)syscall(SYS_gettid), sig, &info);
	printf("signal %d with a fault's si_code to its own tid: %s, the handler saw code %d\n", sig,
	       outcome(rc), (int)forged_code);
	return NULL;
}

/* A program may queue itself any siginfo; km's process must never take one as a fault of its own. */
static void forged_case(void)
{
	struct sigaction sa = { .sa_sigaction = on_forged, .sa_flags = SA_SIGINFO };
	CHECK(sigaction(SIGSEGV, &sa, NULL) == 0 && sigaction(SIGSYS, &sa, NULL) == 0, "sigaction");
	int sigs[] = { SIGSEGV, SIGSYS };
	for (int i = 0; i < 2; i++) {
		pthread_t t;
		fflush(stdout);
		CHECK(pthread_create(&t, NULL, forge_from_thread, &sigs[i]) == 0, "pthread_create");
		CHECK(pthread_join(t, NULL) == 0, "pthread_join");
	}
	siginfo_t info = { .si_signo = SIGSEGV, .si_code = 1 };
	int self = (int)syscall(SYS_pidfd_open, getpid(), 0);
	CHECK(self >= 0, "pidfd_open");
	forged_code = -1;
	long rc = syscall(SYS_pidfd_send_signal, self, SIGSEGV, &info, 0);
	printf("SIGSEGV with a fault's si_code through its own pidfd: %s, the handler saw code %d\n",
	       outcome(rc), (int)forged_code);
}

/* The same through pidfd flags of Linux 6.9 (PIDFD_SIGNAL_THREAD_GROUP, PIDFD_THREAD): km refuses them. */
static void forged_flags_case(void)
{
	struct sigaction sa = { .sa_sigaction = on_forged, .sa_flags = SA_SIGINFO };
	CHECK(sigaction(SIGSEGV, &sa, NULL) == 0, "sigaction");
	siginfo_t info = { .si_signo = SIGSEGV, .si_code = 1 };
	int self = (int)syscall(SYS_pidfd_open, getpid(), 0);
	CHECK(self >= 0, "pidfd_open");
	printf("pidfd_send_signal with PIDFD_SIGNAL_THREAD_GROUP: %s\n",
	       outcome(syscall(SYS_pidfd_send_signal, self, SIGSEGV, &info, 2)));
	printf("pidfd_open with PIDFD_THREAD: %s\n",
	       outcome(syscall(SYS_pidfd_open, (pid_t)syscall(SYS_gettid), O_EXCL)));
}

int main(int argc, char **argv)
{
	static const struct test_case cases[] = {
		{ "priority", priority_case },
		{ "sendfile", sendfile_case },
		{ "memfd", memfd_case },
		{ "memory", memory_case },
		{ "identity", identity_case },
		{ "uts", uts_case },
		{ "clone3", clone3_case },
		{ "pty", pty_case },
		{ "sysv", sysv_case },
		{ "shm", shm_case },
		{ "xattr", xattr_case },
		{ "copy", copy_case },
		{ "ifname", ifname_case },
		{ "pidfd", pidfd_case },
		{ "aio", aio_case },
		{ "forged", forged_case },
		{ "forged-flags", forged_flags_case },
	};
	return RUN_CASE(argc, argv, cases);
}
