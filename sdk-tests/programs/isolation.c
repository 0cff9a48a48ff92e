/*
 * A hostile guest against km's own copies of its memory: buffers unmapped
 * by another thread mid-call, memory of a shared file past its end,
 * structures rewritten while km reads them, fds swapped under a check.
 * Each case prints what Linux gives: calls succeed or fail with EFAULT (or
 * the call's own error), and the program, not km, decides how it ends.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

#define PAGE 4096
#define ROUNDS 3000

static volatile int stop;

/*
 * A page another thread unmaps and maps again, filling it each time; only
 * that thread touches it, the other passes its parts to system calls.
 */
struct flipping {
	struct iovec iov;
	struct pollfd pfd;
	char path[32];
	uint64_t set;
};
static struct flipping *flipping;
static char data[64] = "data";
static int null_fd;

static void *flip_page(void *arg)
{
	(void)arg;
	while (!stop) {
		munmap(flipping, PAGE);
		struct flipping *p = mmap(flipping, PAGE, PROT_READ | PROT_WRITE,
					  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		if (p != MAP_FAILED)
			*p = (struct flipping){ { data, sizeof(data) }, { null_fd, POLLIN, 0 },
						"/nonexistent/isolation", 0 };
	}
	return NULL;
}

/* rc is a success or one of the errors in ok (0-terminated): else the case fails. */
static void expect(const char *call, long rc, const int *ok)
{
	if (rc >= 0)
		return;
	for (; *ok; ok++)
		if (errno == *ok)
			return;
	CHECK(0, "%s gave an error Linux does not give here", call);
}

static const int efault[] = { EFAULT, 0 };
static const int efault_enoent[] = { EFAULT, ENOENT, 0 };

/* Every km-side copy a call makes, from memory another thread keeps unmapping. */
static void unmap_race_case(void)
{
	null_fd = open("/dev/null", O_RDWR);
	CHECK(null_fd >= 0, "open /dev/null");
	flipping = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	pthread_t t;
	pthread_create(&t, NULL, flip_page, NULL);
	struct flipping *f = flipping;
	for (int i = 0; i < ROUNDS; i++) {
		expect("writev", syscall(SYS_writev, null_fd, &f->iov, 1), efault);
		expect("readv", syscall(SYS_readv, null_fd, &f->iov, 1), efault);
		expect("poll", syscall(SYS_poll, &f->pfd, 1, 0), efault);
		expect("open", syscall(SYS_open, f->path, O_RDONLY), efault_enoent);
		struct stat st;
		expect("stat", syscall(SYS_stat, f->path, &st), efault_enoent);
		expect("rt_sigprocmask", syscall(SYS_rt_sigprocmask, SIG_UNBLOCK, &f->set, NULL, 8), efault);
		expect("rt_sigaction", syscall(SYS_rt_sigaction, SIGUSR2, NULL, f, 8), efault);
		expect("clock_gettime", syscall(SYS_clock_gettime, CLOCK_MONOTONIC, f), efault);
		struct timeval zero = { 0, 0 };
		expect("select", syscall(SYS_select, 1, &f->set, NULL, NULL, &zero), efault);
		char *argv[] = { NULL };
		expect("execve", syscall(SYS_execve, f->path, argv, argv), efault_enoent);
	}
	stop = 1;
	pthread_join(t, NULL);
	printf("unmap race: %d rounds of 10 calls, each succeeded or failed as Linux does\n", ROUNDS);
}

/* A shared mapping of a 100-byte file: its second page lies past the end (SIGBUS if touched). */
static char *past_end(void)
{
	char name[] = "/tmp/isolation.XXXXXX";
	int fd = mkstemp(name);
	CHECK(fd >= 0, "mkstemp");
	unlink(name);
	CHECK(write(fd, name, 100 > sizeof(name) ? sizeof(name) : 100) > 0, "write");
	char *map = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(map != MAP_FAILED, "mmap");
	return map + PAGE;
}

static const char *outcome(long rc)
{
	return rc >= 0 ? "succeeded" : errno_name(errno);
}

static void shared_past_end_case(void)
{
	char *p = past_end();
	int null = open("/dev/null", O_RDWR);
	CHECK(null >= 0, "open /dev/null");
	printf("writev with its iovec there: %s\n", outcome(syscall(SYS_writev, null, p, 1)));
	printf("poll with its pollfd there: %s\n", outcome(syscall(SYS_poll, p, 1, 0)));
	printf("open of a path there: %s\n", outcome(syscall(SYS_open, p, O_RDONLY)));
	printf("sigaltstack from there: %s\n", outcome(syscall(SYS_sigaltstack, p, NULL)));
	printf("rt_sigaction into there: %s\n", outcome(syscall(SYS_rt_sigaction, SIGUSR1, NULL, p, 8)));
	printf("nanosleep from there: %s\n", outcome(syscall(SYS_nanosleep, p, NULL)));
}

static void on_usr1(int sig) { (void)sig; }

/* A signal whose alternate stack is past the end of a file: no frame, the process dies of SIGSEGV. */
static void altstack_past_end_case(void)
{
	char *p = past_end();
	stack_t ss = { .ss_sp = p, .ss_size = PAGE };
	CHECK(sigaltstack(&ss, NULL) == 0, "sigaltstack");
	struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = SA_ONSTACK };
	sigaction(SIGUSR1, &sa, NULL);
	printf("raising SIGUSR1 onto an alternate stack past the end of a file\n");
	fflush(stdout);
	raise(SIGUSR1);
	printf("the handler ran\n");
}

static struct msghdr shared_msg;

static void *flip_msghdr(void *arg)
{
	(void)arg;
	for (unsigned i = 0; !stop; i++) {
		shared_msg.msg_iovlen = i & 1 ? 1 : i & 8 ? 1024 : 0x7fffffff;
		shared_msg.msg_controllen = i & 2 ? 0 : 1ul << 40;
		shared_msg.msg_namelen = i & 4 ? 0 : 0x7fffffff;
	}
	return NULL;
}

/* recvmsg while another thread rewrites the lengths of its msghdr. */
static void msghdr_race_case(void)
{
	int sv[2];
	static char byte;
	static struct iovec iov[1024]; /* every length the other thread sets is valid */
	static const int ok[] = { EMSGSIZE, EAGAIN, EFAULT, EINVAL, ENOBUFS, 0 };
	CHECK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0, "socketpair");
	for (int i = 0; i < 1024; i++)
		iov[i] = (struct iovec){ &byte, 1 };
	shared_msg.msg_iov = iov;
	pthread_t t;
	pthread_create(&t, NULL, flip_msghdr, NULL);
	for (int i = 0; i < ROUNDS * 10; i++) {
		send(sv[1], "x", 1, MSG_DONTWAIT);
		expect("recvmsg", recvmsg(sv[0], &shared_msg, MSG_DONTWAIT), ok);
	}
	stop = 1;
	pthread_join(t, NULL);
	printf("msghdr race: %d recvmsg calls against changing lengths, each as Linux answers\n", ROUNDS * 10);
}

static volatile int *rights_slot;
static int good_fd, bad_fd;

static void *flip_right(void *arg)
{
	(void)arg;
	for (unsigned i = 0; !stop; i++)
		*rights_slot = i & 1 ? good_fd : bad_fd;
	return NULL;
}

/*
 * SCM_RIGHTS with the fd swapped between a pipe of the program's and a
 * number above its open-files limit (where km keeps /dev/kvm and the VM):
 * whatever arrives must be the pipe.
 */
static void rights_race_case(void)
{
	int sv[2], pipefd[2];
	struct rlimit rl;
	struct stat want, got;
	CHECK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0 && pipe(pipefd) == 0, "socketpair, pipe");
	CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0, "getrlimit");
	fstat(pipefd[0], &want);
	good_fd = pipefd[0];
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	char byte = 'x';
	struct iovec iov = { &byte, 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
			      .msg_controllen = sizeof(control.buf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	rights_slot = (volatile int *)CMSG_DATA(c);
	*rights_slot = good_fd;
	pthread_t t;
	static const int ok[] = { EBADF, 0 };
	int arrived = 0;
	for (int k = 0; k < 4; k++) {
		bad_fd = (int)rl.rlim_cur + k;
		stop = 0;
		pthread_create(&t, NULL, flip_right, NULL);
		for (int i = 0; i < ROUNDS; i++) {
			long rc = sendmsg(sv[1], &msg, MSG_DONTWAIT);
			expect("sendmsg", rc, ok);
			if (rc < 0)
				continue;
			char in;
			union {
				struct cmsghdr h;
				char buf[CMSG_SPACE(sizeof(int))];
			} rcontrol;
			struct iovec riov = { &in, 1 };
			struct msghdr r = { .msg_iov = &riov, .msg_iovlen = 1, .msg_control = rcontrol.buf,
					    .msg_controllen = sizeof(rcontrol.buf) };
			CHECK(recvmsg(sv[0], &r, 0) == 1, "recvmsg");
			struct cmsghdr *rc_ = CMSG_FIRSTHDR(&r);
			CHECK(rc_ && rc_->cmsg_type == SCM_RIGHTS, "an fd arrived");
			int fd;
			memcpy(&fd, CMSG_DATA(rc_), sizeof(fd));
			CHECK(fstat(fd, &got) == 0 && got.st_ino == want.st_ino && got.st_dev == want.st_dev,
			      "the fd that arrived is the pipe, not one of km's");
			close(fd);
			arrived++;
		}
		stop = 1;
		pthread_join(t, NULL);
	}
	printf("rights race: every fd that arrived was the pipe (%s)\n", arrived ? "some arrived" : "none arrived");
}

/* The program sends its own stderr away, then dies: km's message still reaches the terminal. */
static void stderr_gone_case(void)
{
	int null = open("/dev/null", O_WRONLY);
	dup2(null, 2);
	close(null);
	printf("stderr now goes to /dev/null; dying of SIGSEGV\n");
	fflush(stdout);
	*(volatile int *)8 = 1;
}

int main(int argc, char **argv)
{
	static const struct test_case cases[] = {
		{ "unmap-race", unmap_race_case },
		{ "shared-past-end", shared_past_end_case },
		{ "altstack-past-end", altstack_past_end_case },
		{ "msghdr-race", msghdr_race_case },
		{ "rights-race", rights_race_case },
		{ "stderr-gone", stderr_gone_case },
	};
	setvbuf(stdout, NULL, _IOLBF, 0);
	return RUN_CASE(argc, argv, cases);
}
