/*
 * What km says: errors always, hypercall traces with -v. Errors go to a
 * copy of the stderr km was started with, kept among km's own fds, so a
 * guest that closes or redirects its fd 2 does not silence them.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <signal.h>

#include "km.h"

int km_verbose;
static FILE *log_file;
static int err_fd = 2;

/* After km_fds_init: km's copy of stderr, or none if km was started without one. */
void km_log_init(void)
{
	err_fd = km_fd_dup_high(2);
}

void km_write_err(const char *text, size_t len)
{
	if (err_fd >= 0 && write(err_fd, text, len) < 0)
		return;
}

void km_log_open(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		km_die(2, "km: cannot open log file '%s': %s", path, strerror(errno));
	log_file = fdopen(km_fd_move_high(fd), "a");
	if (log_file == NULL)
		km_die(1, "km: cannot open log file '%s': %s", path, strerror(errno));
	setvbuf(log_file, NULL, _IOLBF, 0);
}

/* One line, written whole. */
static void vsay(FILE *f, const char *fmt, va_list ap)
{
	char line[1024];

	int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if (f)
		fwrite(line, 1, (size_t)n, f);
	else
		km_write_err(line, (size_t)n);
}

void km_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(log_file, fmt, ap);
	va_end(ap);
}

void km_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(NULL, fmt, ap);
	va_end(ap);
}

static bool after_exec;

/* This km took over from one whose guest called execve (--kvm-fd): see km_die. */
void km_log_after_exec(void)
{
	after_exec = true;
}

/*
 * One line, then exit. Status 2 is bad input; for a km that a guest's
 * execve started, the input was checked by the km it replaced, and only a
 * change meanwhile (the file rewritten) can fail it: Linux kills a process
 * whose execve fails past the point of no return, and so does km.
 */
_Noreturn void km_die(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(NULL, fmt, ap);
	va_end(ap);
	if (status == 2 && after_exec)
		km_die_by_signal(SIGSEGV);
	exit(status);
}

/* km ends the way the guest did: by the signal itself, so its parent sees that. */
_Noreturn void km_die_by_signal(int sig)
{
	struct rlimit no_core = { 0, 0 };

	fflush(NULL);
	setrlimit(RLIMIT_CORE, &no_core); /* a core of km is not the program's */
	km_die_of_default(sig);
}

/* Dies of sig's default action, whatever km made of it; RLIMIT_CORE as the caller left it. */
_Noreturn void km_die_of_default(int sig)
{
	sigset_t set;
	char ended[32];

	snprintf(ended, sizeof(ended), "killed by SIG%s", sigabbrev_np(sig) ? sigabbrev_np(sig) : "?");
	km_stats_write(ended);

	signal(sig, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
	_exit(128 + sig);
}
