/* File create/read/write/seek/stat/rename/unlink/readdir in the directory argv[1]. */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

int main(int argc, char **argv)
{
	CHECK(argc == 2, "usage: files DIR");
	CHECK(chdir(argv[1]) == 0, "chdir %s", argv[1]);

	int fd = open("a.txt", O_CREAT | O_RDWR | O_TRUNC, 0640);
	CHECK(fd >= 0, "open a.txt");
	CHECK(write(fd, "hello, file\n", 12) == 12, "write");
	CHECK(lseek(fd, 7, SEEK_SET) == 7, "lseek");
	char buf[32] = { 0 };
	CHECK(read(fd, buf, sizeof(buf)) == 5 && memcmp(buf, "file\n", 5) == 0, "read after seek");
	CHECK(pwrite(fd, "HELLO", 5, 0) == 5, "pwrite");
	CHECK(pread(fd, buf, 5, 0) == 5 && memcmp(buf, "HELLO", 5) == 0, "pread");
	struct stat st;
	CHECK(fstat(fd, &st) == 0 && st.st_size == 12 && S_ISREG(st.st_mode), "fstat");
	CHECK((st.st_mode & 0777) == 0640, "mode %o", st.st_mode & 0777);
	CHECK(close(fd) == 0, "close");
	OK("create write seek read pread pwrite fstat");

	FILE *f = fopen("a.txt", "a+");
	CHECK(f != NULL, "fopen");
	fprintf(f, "line %d\n", 2);
	CHECK(fclose(f) == 0, "fclose");
	CHECK(stat("a.txt", &st) == 0 && st.st_size == 19, "stat size %ld", (long)st.st_size);
	OK("stdio append and stat");

	CHECK(rename("a.txt", "b.txt") == 0, "rename");
	CHECK(access("a.txt", F_OK) != 0 && errno == ENOENT, "old name gone");
	CHECK(mkdir("sub", 0755) == 0, "mkdir");
	CHECK(symlink("b.txt", "link") == 0, "symlink");
	char target[64] = { 0 };
	CHECK(readlink("link", target, sizeof(target)) == 5 && strcmp(target, "b.txt") == 0, "readlink");
	CHECK(lstat("link", &st) == 0 && S_ISLNK(st.st_mode), "lstat");
	OK("rename mkdir symlink readlink lstat");

	DIR *d = opendir(".");
	CHECK(d != NULL, "opendir");
	int seen = 0;
	for (struct dirent *e; (e = readdir(d)) != NULL;) {
		if (strcmp(e->d_name, "b.txt") == 0 || strcmp(e->d_name, "sub") == 0 ||
		    strcmp(e->d_name, "link") == 0)
			seen++;
	}
	closedir(d);
	CHECK(seen == 3, "readdir saw %d of 3 entries", seen);
	OK("readdir");

	CHECK(unlink("link") == 0 && unlink("b.txt") == 0, "unlink");
	CHECK(rmdir("sub") == 0, "rmdir");
	CHECK(open("b.txt", O_RDONLY) < 0 && errno == ENOENT, "unlinked file stays gone");
	char cwd[4096];
	CHECK(getcwd(cwd, sizeof(cwd)) != NULL && strstr(cwd, argv[1]) != NULL, "getcwd %s", cwd);
	OK("unlink rmdir getcwd");

	int p[2];
	CHECK(pipe(p) == 0, "pipe");
	int d2 = dup(p[1]);
	CHECK(d2 > p[1] || d2 >= 0, "dup");
	CHECK(write(d2, "x", 1) == 1 && read(p[0], buf, 1) == 1 && buf[0] == 'x', "pipe through dup");
	CHECK(fcntl(p[0], F_SETFD, FD_CLOEXEC) == 0 && fcntl(p[0], F_GETFD) == FD_CLOEXEC, "fcntl");
	CHECK(close(12345) != 0 && errno == EBADF, "close of a bad fd");
	OK("pipe dup fcntl EBADF");
	return 0;
}
