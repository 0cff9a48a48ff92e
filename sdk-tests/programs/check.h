/* Shared by the test programs: say what was checked, stop at the first mismatch. */
#ifndef CHECK_H
#define CHECK_H
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond, ...)                                                         \
	do {                                                                     \
		if (!(cond)) {                                                   \
			fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                            \
			fprintf(stderr, " (errno %d: %s)\n", errno, strerror(errno)); \
			exit(1);                                                 \
		}                                                                \
	} while (0)

/* An errno's name, for output that is compared with Linux's own. */
static inline const char *errno_name(int err)
{
	static const struct { int err; const char *name; } names[] = {
		{ EPERM, "EPERM" },   { ENOENT, "ENOENT" }, { ESRCH, "ESRCH" },   { EINTR, "EINTR" },
		{ EBADF, "EBADF" },   { EAGAIN, "EAGAIN" }, { ENOMEM, "ENOMEM" }, { EACCES, "EACCES" },
		{ EFAULT, "EFAULT" }, { EEXIST, "EEXIST" }, { EINVAL, "EINVAL" }, { EMFILE, "EMFILE" },
		{ ENOTTY, "ENOTTY" }, { EFBIG, "EFBIG" },   { EPIPE, "EPIPE" },   { E2BIG, "E2BIG" },
		{ ENOSYS, "ENOSYS" }, { ENOSPC, "ENOSPC" }, { EIDRM, "EIDRM" },   { ENOMSG, "ENOMSG" },
		{ ERANGE, "ERANGE" }, { ENODEV, "ENODEV" }, { ENODATA, "ENODATA" },
		{ EOPNOTSUPP, "EOPNOTSUPP" }, { ENAMETOOLONG, "ENAMETOOLONG" },
		{ EINPROGRESS, "EINPROGRESS" },
	};
	static char other[24];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].err == err)
			return names[i].name;
	snprintf(other, sizeof(other), "errno %d", err);
	return other;
}

#define OK(...) (printf("ok: " __VA_ARGS__), printf("\n"))

/* Programs with several cases: argv[1] names the one to run. */
struct test_case {
	const char *name;
	void (*run)(void);
};

static inline int run_case(int argc, char **argv, const struct test_case *cases, size_t n)
{
	for (size_t i = 0; argc > 1 && i < n; i++) {
		if (strcmp(argv[1], cases[i].name) == 0) {
			cases[i].run();
			return 0;
		}
	}
	fprintf(stderr, "usage: %s CASE\n", argv[0]);
	return 2;
}
#define RUN_CASE(argc, argv, cases) run_case(argc, argv, cases, sizeof(cases) / sizeof(cases[0]))
#endif
