/*
 * Does the file operations its arguments name, in order, and prints each
 * outcome: what a program confined by km --allow-path can and cannot do.
 *   read:PATH    its first line, or the error
 *   write:PATH   create or truncate it, then write a line
 *   append:PATH  open it for writing without creating it, then write a line
 *   mkdir:PATH  unlink:PATH  list:DIR (how many entries)
 *   fork         the rest runs in a child, which the parent waits for
 *   exec:PATH    the rest runs in PATH (this program, elsewhere), or the error
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *errname(int e)
{
	switch (e) {
	case EACCES: return "EACCES";
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EEXIST: return "EEXIST";
	case EXDEV: return "EXDEV";
	default: return strerror(e);
	}
}

static void say(const char *op, const char *path, int failed, const char *result)
{
	printf("%s %s: %s\n", op, path, failed ? errname(errno) : result);
	fflush(stdout);
}

static void read_first_line(const char *path)
{
	char line[256] = "";
	FILE *f = fopen(path, "r");
	if (f && fgets(line, sizeof(line), f) == NULL)
		line[0] = '\0';
	line[strcspn(line, "\n")] = '\0';
	say("read", path, f == NULL, line);
	if (f)
		fclose(f);
}

static void write_line(const char *op, const char *path, int flags)
{
	int fd = open(path, O_WRONLY | flags, 0644);
	int failed = fd < 0 || write(fd, "written\n", 8) != 8;
	say(op, path, failed, "written");
	if (fd >= 0)
		close(fd);
}

static void list(const char *path)
{
	char count[32];
	int n = 0;
	DIR *d = opendir(path);
	while (d && readdir(d))
		n++;
	snprintf(count, sizeof(count), "%d entries", n);
	say("list", path, d == NULL, count);
	if (d)
		closedir(d);
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		char *op = argv[i], *path = strchr(op, ':');
		if (path)
			*path++ = '\0';
		if (strcmp(op, "read") == 0) {
			read_first_line(path);
		} else if (strcmp(op, "write") == 0) {
			write_line(op, path, O_CREAT | O_TRUNC);
		} else if (strcmp(op, "append") == 0) {
			write_line(op, path, O_APPEND);
		} else if (strcmp(op, "mkdir") == 0) {
			say(op, path, mkdir(path, 0755) != 0, "made");
		} else if (strcmp(op, "unlink") == 0) {
			say(op, path, unlink(path) != 0, "removed");
		} else if (strcmp(op, "list") == 0) {
			list(path);
		} else if (strcmp(op, "fork") == 0) {
			int status;
			pid_t pid = fork();
			if (pid == 0)
				continue;
			if (pid < 0 || waitpid(pid, &status, 0) != pid)
				return 1;
			printf("the child ended: %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
			return 0;
		} else if (strcmp(op, "exec") == 0) {
			argv[i] = path;
			execv(path, argv + i);
			say(op, path, 1, "");
		} else {
			fprintf(stderr, "file_ops: unknown operation %s\n", op);
			return 2;
		}
	}
	return 0;
}
