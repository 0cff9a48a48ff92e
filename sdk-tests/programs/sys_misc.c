/* uname, ids, rlimits, getrandom, /proc/self/exe, and km's fds out of reach. */
#include <fcntl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "check.h"

int main(void)
{
	struct utsname u;
	CHECK(uname(&u) == 0 && strcmp(u.sysname, "Linux") == 0 && strcmp(u.machine, "x86_64") == 0,
	      "uname");
	CHECK(getuid() == geteuid() && getpid() > 0 && getppid() > 0, "ids");
	OK("uname ids");

	unsigned char r1[32] = { 0 }, r2[32] = { 0 };
	CHECK(getrandom(r1, sizeof(r1), 0) == 32 && getrandom(r2, sizeof(r2), 0) == 32, "getrandom");
	CHECK(memcmp(r1, r2, sizeof(r1)) != 0, "two random draws differ");
	OK("getrandom");

	struct rlimit rl;
	CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur > 16, "getrlimit NOFILE");
	for (rlim_t fd = rl.rlim_cur; fd < rl.rlim_cur + 64; fd++) {
		struct stat st;
		CHECK(fstat((int)fd, &st) != 0 && errno == EBADF, "fd %lu above the limit is hidden",
		      (unsigned long)fd);
		CHECK(dup2(1, (int)fd) < 0 && errno == EBADF, "dup2 onto %lu refused", (unsigned long)fd);
	}
	OK("km's descriptors are out of reach");

	char exe[4096] = { 0 };
	CHECK(readlink("/proc/self/exe", exe, sizeof(exe) - 1) > 0 && strstr(exe, "sys_misc") != NULL,
	      "/proc/self/exe is the program: %s", exe);
	OK("/proc/self/exe");

	long pages = sysconf(_SC_NPROCESSORS_ONLN);
	CHECK(pages >= 1, "nprocs");
	CHECK(sysconf(_SC_PAGESIZE) == 4096, "page size");
	OK("sysconf");

	CHECK(write(1, (void *)16, 10) < 0 && errno == EFAULT, "bad pointer gives EFAULT");
	CHECK(open((char *)-4096, O_RDONLY) < 0 && errno == EFAULT, "bad path pointer gives EFAULT");
	OK("bad guest pointers give EFAULT");
	return 0;
}
