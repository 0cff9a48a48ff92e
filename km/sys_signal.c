/*
 * Signal syscalls: dispositions, masks, sending, waiting, and interval
 * timers. Queues and delivery are in signal.c and sigframe.c.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "syscalls.h"

#define SIGSET_SIZE 8
#define UNBLOCKABLE (KM_SIG_BIT(SIGKILL) | KM_SIG_BIT(SIGSTOP))
#define SS_ONSTACK_FLAG 1
#define SS_DISABLE_FLAG 2
#define SS_AUTODISARM_FLAG (1u << 31)
#define MINSIGSTKSZ_LINUX 2048

static bool valid_sig(long sig)
{
	return sig >= 1 && sig <= KM_NSIG;
}

KM_SYSCALL(rt_sigaction)
{
	struct km_vm *vm = vcpu->vm;
	int sig = (int)a[0];
	struct km_sigaction want, *act = NULL;

	if (a[3] != SIGSET_SIZE || !valid_sig(sig))
		return -EINVAL;
	if (a[1]) {
		if (km_copy_in(vm, &want, a[1], sizeof(want)) < 0)
			return -EFAULT;
		act = &want;
	}
	if (a[2] && KM_OUT(vcpu, a[2], sizeof(struct km_sigaction)) == NULL)
		return -EFAULT;
	if (act && (sig == SIGKILL || sig == SIGSTOP))
		return -EINVAL;
	pthread_mutex_lock(&vm->sig_lock);
	struct km_sigaction prev = vm->sigact[sig];
	if (act) {
		vm->sigact[sig] = *act;
		vm->sigact[sig].mask &= ~UNBLOCKABLE;
		/* Pending instances of a signal that is now ignored are dropped, as on Linux. */
		if (km_sig_ignored(vm, sig))
			km_signal_discard(vm, sig);
	}
	pthread_mutex_unlock(&vm->sig_lock);
	if (act && sig == SIGCHLD)
		km_signals_sigchld(vm);
	return a[2] ? km_copy_out(vm, a[2], &prev, sizeof(prev)) : 0;
}

KM_SYSCALL(rt_sigprocmask)
{
	uint64_t set;

	if (a[3] != SIGSET_SIZE)
		return -EINVAL;
	if (a[1] && km_copy_in(vcpu->vm, &set, a[1], sizeof(set)) < 0)
		return -EFAULT;
	if (a[2] && KM_OUT(vcpu, a[2], SIGSET_SIZE) == NULL)
		return -EFAULT;
	uint64_t prev = vcpu->sigmask, mask = prev;
	if (a[1]) {
		switch (a[0]) {
		case SIG_BLOCK: mask |= set; break;
		case SIG_UNBLOCK: mask &= ~set; break;
		case SIG_SETMASK: mask = set; break;
		default: return -EINVAL;
		}
		km_sigmask_set(vcpu, mask);
	}
	/* Anything it unblocked is delivered as the call returns. */
	return a[2] ? km_copy_out(vcpu->vm, a[2], &prev, sizeof(prev)) : 0;
}

KM_SYSCALL(rt_sigpending)
{
	if (a[1] > SIGSET_SIZE)
		return -EINVAL;
	uint64_t pending = __atomic_load_n(&vcpu->sig_pending.set, __ATOMIC_ACQUIRE) |
			   __atomic_load_n(&vcpu->vm->sig_pending.set, __ATOMIC_ACQUIRE);
	pending &= vcpu->sigmask;
	return km_copy_out(vcpu->vm, a[0], &pending, sizeof(pending));
}

KM_SYSCALL(sigaltstack)
{
	uint64_t want[3], *ss = NULL;
	bool on = km_on_altstack(vcpu, vcpu->run->s.regs.regs.rsp);

	if (a[0]) {
		if (km_copy_in(vcpu->vm, want, a[0], sizeof(want)) < 0)
			return -EFAULT;
		ss = want;
	}
	if (a[1] && KM_OUT(vcpu, a[1], sizeof(vcpu->altstack)) == NULL)
		return -EFAULT;
	uint64_t prev[3];
	memcpy(prev, vcpu->altstack, sizeof(prev));
	if (ss) {
		uint32_t flags = (uint32_t)ss[1];
		if (on)
			return -EPERM;
		if (flags & ~(SS_DISABLE_FLAG | SS_ONSTACK_FLAG | SS_AUTODISARM_FLAG))
			return -EINVAL;
		if (flags & SS_DISABLE_FLAG) {
			vcpu->altstack[0] = vcpu->altstack[2] = 0;
			vcpu->altstack[1] = SS_DISABLE_FLAG;
		} else {
			if (ss[2] < MINSIGSTKSZ_LINUX)
				return -ENOMEM;
			vcpu->altstack[0] = ss[0];
			vcpu->altstack[1] = flags & SS_AUTODISARM_FLAG;
			vcpu->altstack[2] = ss[2];
		}
	}
	if (a[1]) {
		if (prev[2] == 0)
			prev[1] = SS_DISABLE_FLAG;
		else if (on)
			prev[1] |= SS_ONSTACK_FLAG;
		return km_copy_out(vcpu->vm, a[1], prev, sizeof(prev));
	}
	return 0;
}

static siginfo_t user_info(int sig, int code)
{
	siginfo_t info = { .si_signo = sig, .si_code = code };
	info.si_pid = getpid();
	info.si_uid = getuid();
	return info;
}

/* Whether pid names this process or a thread of it (km's own threads among them). */
static bool own_process(pid_t pid)
{
	return pid == getpid() || (pid > 0 && syscall(SYS_tgkill, getpid(), pid, 0) == 0);
}

/*
 * What the kernel lets a process queue to another: a si_code below 0, not
 * SI_TKILL. Checked by km too, before a siginfo of the guest's goes to the
 * host, so that none with a fault's code can ever reach km's process.
 */
static bool foreign_code(const siginfo_t *info)
{
	return info->si_code < 0 && info->si_code != SI_TKILL;
}

KM_SYSCALL(kill)
{
	pid_t pid = (pid_t)a[0];
	int sig = (int)a[1];

	if (pid != 0 && pid != -getpgrp() && !own_process(pid))
		return km_host(kill(pid, sig));
	if (sig == 0)
		return 0;
	if (!valid_sig(sig))
		return -EINVAL;
	siginfo_t info = user_info(sig, SI_USER);
	return km_signal_post(vcpu->vm, NULL, &info, false);
}

static long to_thread(struct km_vcpu *vcpu, pid_t tid, int sig)
{
	struct km_vcpu *target = km_thread_by_tid(vcpu->vm, tid);
	if (target == NULL)
		return -ESRCH;
	if (sig == 0)
		return 0;
	siginfo_t info = user_info(sig, SI_TKILL);
	return km_signal_post(vcpu->vm, target, &info, false);
}

KM_SYSCALL(tkill)
{
	if ((pid_t)a[0] <= 0 || (a[1] && !valid_sig((long)a[1])))
		return -EINVAL;
	return to_thread(vcpu, (pid_t)a[0], (int)a[1]);
}

KM_SYSCALL(tgkill)
{
	if ((pid_t)a[0] <= 0 || (pid_t)a[1] <= 0 || (a[2] && !valid_sig((long)a[2])))
		return -EINVAL;
	if ((pid_t)a[0] != getpid())
		return km_host(syscall(SYS_tgkill, (pid_t)a[0], (pid_t)a[1], (int)a[2]));
	return to_thread(vcpu, (pid_t)a[1], (int)a[2]);
}

/* sigqueue: the sender's own siginfo, accepted as Linux does for a process to itself. */
static long queue_info(struct km_vcpu *vcpu, struct km_vcpu *target, int sig, uint64_t uinfo)
{
	siginfo_t info;
	if (km_copy_in(vcpu->vm, &info, uinfo, sizeof(info)) < 0)
		return -EFAULT;
	if (!valid_sig(sig))
		return -EINVAL;
	info.si_signo = sig;
	return km_signal_post(vcpu->vm, target, &info, true);
}

KM_SYSCALL(rt_sigqueueinfo)
{
	siginfo_t info;

	if (own_process((pid_t)a[0])) /* a tid of it names the process, as on Linux */
		return queue_info(vcpu, NULL, (int)a[1], a[2]);
	if (km_copy_in(vcpu->vm, &info, a[2], sizeof(info)) < 0)
		return -EFAULT;
	/* Another process: the host checks the sender's rights, as for anyone. */
	if (!foreign_code(&info))
		return -EPERM;
	return km_host(syscall(SYS_rt_sigqueueinfo, (pid_t)a[0], (int)a[1], &info));
}

KM_SYSCALL(rt_tgsigqueueinfo)
{
	siginfo_t info;

	if ((pid_t)a[0] == getpid()) {
		struct km_vcpu *target = km_thread_by_tid(vcpu->vm, (pid_t)a[1]);
		return target ? queue_info(vcpu, target, (int)a[2], a[3]) : -ESRCH;
	}
	if (km_copy_in(vcpu->vm, &info, a[3], sizeof(info)) < 0)
		return -EFAULT;
	if (!foreign_code(&info))
		return -EPERM; /* as the host says to a sender that is not the target */
	return km_host(syscall(SYS_rt_tgsigqueueinfo, (pid_t)a[0], (pid_t)a[1], (int)a[2], &info));
}

/* The pid a pidfd stands for, from its fdinfo; 0 when km cannot tell (not one, or unreadable). */
static pid_t pidfd_pid(int fd)
{
	char path[48], line[128];
	int pid = 0;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	FILE *f = fopen(path, "re");
	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Pid: %d", &pid) == 1)
			break;
	fclose(f);
	return pid;
}

/*
 * To the program's own process it is kill or sigqueue, served here so that
 * a handler runs before the call returns, as on Linux; to another process,
 * the host's call on the guest's fd, which checks the rest. No flags: the
 * pidfd is a process's (pidfd_open takes no PIDFD_THREAD), and one km
 * cannot tell is treated as another's.
 */
KM_SYSCALL(pidfd_send_signal)
{
	int fd = (int)a[0], sig = (int)a[1];
	unsigned flags = (unsigned)a[3];
	siginfo_t info;

	if (!km_fd_ok(vcpu->vm, a[0]))
		return -EBADF;
	if (a[2] && km_copy_in(vcpu->vm, &info, a[2], sizeof(info)) < 0)
		return -EFAULT;
	if (flags != 0)
		return -EINVAL;
	if (pidfd_pid(fd) != getpid()) {
		if (a[2] && !foreign_code(&info))
			return -EPERM;
		return km_host(syscall(SYS_pidfd_send_signal, fd, sig, a[2] ? &info : NULL, 0));
	}
	if (sig == 0)
		return 0;
	if (!valid_sig(sig))
		return -EINVAL;
	if (a[2]) {
		if (info.si_signo != sig)
			return -EINVAL; /* Linux's check of a given siginfo */
		return km_signal_post(vcpu->vm, NULL, &info, true);
	}
	info = user_info(sig, SI_USER);
	return km_signal_post(vcpu->vm, NULL, &info, false);
}

/* sigsuspend and pause: wait with a mask until a handler has run; always EINTR. */
static long suspend(struct km_vcpu *vcpu, uint64_t mask)
{
	km_sigmask_wait_with(vcpu, mask);
	while (!km_signal_deliverable(vcpu))
		km_signal_wait(vcpu, NULL);
	return -EINTR;
}

KM_SYSCALL(rt_sigsuspend)
{
	uint64_t mask;
	if (a[1] != SIGSET_SIZE)
		return -EINVAL;
	return km_copy_in(vcpu->vm, &mask, a[0], sizeof(mask)) < 0 ? -EFAULT : suspend(vcpu, mask);
}

KM_SYSCALL(pause)
{
	while (!km_signal_deliverable(vcpu))
		km_signal_wait(vcpu, NULL);
	return -EINTR;
}

KM_SYSCALL(rt_sigtimedwait)
{
	struct km_vm *vm = vcpu->vm;
	uint64_t set;
	struct timespec timeout, deadline;

	if (a[3] != SIGSET_SIZE)
		return -EINVAL;
	if (km_copy_in(vm, &set, a[0], sizeof(set)) < 0 ||
	    (a[1] && KM_OUT(vcpu, a[1], sizeof(siginfo_t)) == NULL) ||
	    (a[2] && km_copy_in(vm, &timeout, a[2], sizeof(timeout)) < 0))
		return -EFAULT;
	uint64_t want = set & ~UNBLOCKABLE;
	if (a[2]) {
		if (timeout.tv_nsec < 0 || timeout.tv_nsec >= 1000000000 || timeout.tv_sec < 0)
			return -EINVAL;
		clock_gettime(CLOCK_MONOTONIC, &deadline);
		deadline.tv_sec += timeout.tv_sec;
		deadline.tv_nsec += timeout.tv_nsec;
		if (deadline.tv_nsec >= 1000000000) {
			deadline.tv_sec++;
			deadline.tv_nsec -= 1000000000;
		}
	}
	for (;;) {
		siginfo_t info;
		pthread_mutex_lock(&vm->sig_lock);
		bool got = km_sig_dequeue(vcpu, want, &info);
		pthread_mutex_unlock(&vm->sig_lock);
		if (got) {
			km_signalfd_update(vm);
			if (a[1] && km_copy_out(vm, a[1], &info, sizeof(info)) < 0)
				return -EFAULT;
			return info.si_signo;
		}
		if (km_signal_deliverable(vcpu))
			return -EINTR;
		if (km_signal_wait(vcpu, a[2] ? &deadline : NULL) == -EAGAIN)
			return -EAGAIN;
	}
}

/* Interval timers are km's own: the host's SIGALRM, SIGVTALRM, SIGPROF reach the guest. */
KM_SYSCALL(alarm) { return alarm((unsigned)a[0]); }

KM_SYSCALL(setitimer)
{
	const struct itimerval *in = NULL;
	struct itimerval *old = NULL;
	if (a[1] && (in = KM_IN(vcpu, a[1], sizeof(*in))) == NULL)
		return -EFAULT;
	if (a[2] && (old = KM_OUT(vcpu, a[2], sizeof(*old))) == NULL)
		return -EFAULT;
	return km_host(syscall(SYS_setitimer, (int)a[0], in, old));
}

KM_SYSCALL(getitimer)
{
	struct itimerval *out = KM_OUT(vcpu, a[1], sizeof(*out));
	return out ? km_host(syscall(SYS_getitimer, (int)a[0], out)) : -EFAULT;
}

KM_SYSCALL(rt_sigreturn) { return km_signal_return(vcpu); }
