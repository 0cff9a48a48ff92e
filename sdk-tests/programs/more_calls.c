/* Calls that real runtimes make (issue 13): priorities, sendfile, memfd_create, sysinfo. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "check.h"

static const char *outcome(long rc)
{
	if (rc >= 0)
		return "success";
	switch (errno) {
	case EACCES: return "EACCES";
	case EPERM: return "EPERM";
	case ESRCH: return "ESRCH";
	case EINVAL: return "EINVAL";
	case EBADF: return "EBADF";
	case EFAULT: return "EFAULT";
	default: return strerror(errno);
	}
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

int main(int argc, char **argv)
{
	static const struct test_case cases[] = {
		{ "priority", priority_case },
		{ "sendfile", sendfile_case },
		{ "memfd", memfd_case },
		{ "memory", memory_case },
	};
	return RUN_CASE(argc, argv, cases);
}
