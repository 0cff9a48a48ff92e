/*
 * /proc/<pid>/status and comm of km's own process, as the guest's: the
 * host's lines for the thread, with the name, the thread count and the
 * signal lines (pending, blocked, ignored, caught) the guest's, where the
 * host's would describe km's machinery (which blocks and catches nearly
 * every signal). Programs read them: a subprocess checks SigIgn after
 * restore_signals, a JVM its threads.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "km.h"

#define STATUS_MAX 16384

/* The guest thread tid, or the first thread (the process's own lines) for 0 or a tid km's. */
static struct km_vcpu *thread_of(struct km_vm *vm, pid_t tid)
{
	for (int i = 0; tid && i < vm->nvcpu; i++)
		if (vm->vcpus[i]->tid == tid && vm->vcpus[i]->state == KM_VCPU_RUNNING)
			return vm->vcpus[i];
	return vm->vcpus[0];
}

static uint64_t disposition_mask(struct km_vm *vm, bool ignored)
{
	uint64_t mask = 0;

	for (int sig = 1; sig <= KM_NSIG; sig++) {
		uint64_t h = vm->sigact[sig].handler;
		bool ign = h == (uint64_t)SIG_IGN, dfl = h == (uint64_t)SIG_DFL;
		if (ignored ? ign : !ign && !dfl)
			mask |= KM_SIG_BIT(sig);
	}
	return mask;
}

/* The thread's name as comm shows it: what PR_SET_NAME set, else the program's. */
const char *km_thread_name(struct km_vm *vm, const struct km_vcpu *vcpu)
{
	return vcpu->name[0] ? vcpu->name : vm->comm;
}

char *km_proc_comm_text(struct km_vm *vm, pid_t tid, size_t *len)
{
	pthread_mutex_lock(&vm->thread_lock);
	const char *name = km_thread_name(vm, thread_of(vm, tid));
	char *text = malloc(strlen(name) + 2);
	if (text)
		*len = (size_t)sprintf(text, "%s\n", name);
	pthread_mutex_unlock(&vm->thread_lock);
	return text;
}

char *km_proc_status_text(struct km_vm *vm, pid_t tid, size_t *len)
{
	char path[64], *host = malloc(STATUS_MAX), *text = malloc(STATUS_MAX + 256), *at = text;

	if (host == NULL || text == NULL)
		goto fail;
	pthread_mutex_lock(&vm->thread_lock);
	struct km_vcpu *v = thread_of(vm, tid);
	pid_t host_tid = v->tid;
	char name[sizeof(v->name)];
	snprintf(name, sizeof(name), "%s", km_thread_name(vm, v));
	int threads = vm->live;
	pthread_mutex_lock(&vm->sig_lock);
	uint64_t pending = v->sig_pending.set, shared = vm->sig_pending.set, blocked = v->sigmask;
	uint64_t ignored = disposition_mask(vm, true), caught = disposition_mask(vm, false);
	pthread_mutex_unlock(&vm->sig_lock);
	pthread_mutex_unlock(&vm->thread_lock);

	snprintf(path, sizeof(path), "/proc/self/task/%d/status", (int)host_tid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, host, STATUS_MAX - 1);
	if (fd >= 0)
		close(fd);
	if (n <= 0)
		goto fail;
	host[n] = '\0';
	for (char *line = host, *end; *line; line = end) {
		end = strchr(line, '\n');
		end = end ? end + 1 : line + strlen(line);
		if (strncmp(line, "Name:", 5) == 0)
			at += sprintf(at, "Name:\t%s\n", name);
		else if (strncmp(line, "Threads:", 8) == 0)
			at += sprintf(at, "Threads:\t%d\n", threads);
		else if (strncmp(line, "SigPnd:", 7) == 0)
			at += sprintf(at, "SigPnd:\t%016lx\n", (unsigned long)pending);
		else if (strncmp(line, "ShdPnd:", 7) == 0)
			at += sprintf(at, "ShdPnd:\t%016lx\n", (unsigned long)shared);
		else if (strncmp(line, "SigBlk:", 7) == 0)
			at += sprintf(at, "SigBlk:\t%016lx\n", (unsigned long)blocked);
		else if (strncmp(line, "SigIgn:", 7) == 0)
			at += sprintf(at, "SigIgn:\t%016lx\n", (unsigned long)ignored);
		else if (strncmp(line, "SigCgt:", 7) == 0)
			at += sprintf(at, "SigCgt:\t%016lx\n", (unsigned long)caught);
		else
			at += sprintf(at, "%.*s", (int)(end - line), line);
	}
	free(host);
	*len = (size_t)(at - text);
	return text;
fail:
	free(host);
	free(text);
	return NULL;
}
