/*
 * Signal state and signals a program sends itself. Default and ignored
 * dispositions act as on Linux; running a guest handler comes with signal
 * delivery (a later km) and until then is reported as ENOSYS.
 */
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "syscalls.h"

#define SIGSET_SIZE 8
#define SIG_BIT(sig) (1ull << ((sig) - 1))
#define UNBLOCKABLE (SIG_BIT(SIGKILL) | SIG_BIT(SIGSTOP))
#define SS_ONSTACK_FLAG 1
#define SS_DISABLE_FLAG 2
#define SS_AUTODISARM_FLAG (1u << 31)
#define MINSIGSTKSZ_LINUX 2048

static bool ignored_by_default(int sig)
{
	return sig == SIGCHLD || sig == SIGURG || sig == SIGWINCH || sig == SIGCONT;
}

static bool stops_by_default(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

static long signal_self(struct km_vcpu *vcpu, int sig)
{
	if (sig < 0 || sig > KM_NSIG)
		return -EINVAL;
	if (sig == 0)
		return 0;
	if (vcpu->sigmask & SIG_BIT(sig) & ~UNBLOCKABLE) {
		vcpu->sigpending |= SIG_BIT(sig);
		return 0;
	}
	uint64_t handler = vcpu->vm->sigact[sig].handler;
	if (handler == (uint64_t)SIG_IGN || (handler == (uint64_t)SIG_DFL && ignored_by_default(sig)))
		return 0;
	if (handler == (uint64_t)SIG_DFL && stops_by_default(sig))
		return km_host(raise(SIGSTOP));
	if (handler == (uint64_t)SIG_DFL)
		km_guest_killed(vcpu->vm, sig, "the program signalled itself");
	if (km_verbose)
		km_log("km: signal %d has a handler; delivering to handlers is not implemented", sig);
	return -ENOSYS;
}

KM_SYSCALL(rt_sigaction)
{
	int sig = (int)a[0];
	struct km_sigaction *act = NULL, *old = NULL;

	if (a[3] != SIGSET_SIZE || sig < 1 || sig > KM_NSIG)
		return -EINVAL;
	if (a[1] && (act = KM_IN(vcpu, a[1], sizeof(*act))) == NULL)
		return -EFAULT;
	if (a[2] && (old = KM_OUT(vcpu, a[2], sizeof(*old))) == NULL)
		return -EFAULT;
	if (act && (sig == SIGKILL || sig == SIGSTOP))
		return -EINVAL;
	struct km_sigaction prev = vcpu->vm->sigact[sig];
	if (act)
		vcpu->vm->sigact[sig] = *act;
	if (old)
		*old = prev;
	return 0;
}

KM_SYSCALL(rt_sigprocmask)
{
	const uint64_t *set = NULL;
	uint64_t *old = NULL;

	if (a[3] != SIGSET_SIZE)
		return -EINVAL;
	if (a[1] && (set = KM_IN(vcpu, a[1], SIGSET_SIZE)) == NULL)
		return -EFAULT;
	if (a[2] && (old = KM_OUT(vcpu, a[2], SIGSET_SIZE)) == NULL)
		return -EFAULT;
	uint64_t prev = vcpu->sigmask;
	if (set) {
		switch (a[0]) {
		case SIG_BLOCK:
			vcpu->sigmask |= *set;
			break;
		case SIG_UNBLOCK:
			vcpu->sigmask &= ~*set;
			break;
		case SIG_SETMASK:
			vcpu->sigmask = *set;
			break;
		default:
			return -EINVAL;
		}
		vcpu->sigmask &= ~UNBLOCKABLE;
	}
	if (old)
		*old = prev;
	/* A signal sent while blocked acts once unblocked. */
	uint64_t ready = vcpu->sigpending & ~vcpu->sigmask;
	for (int sig = 1; ready && sig <= KM_NSIG; sig++) {
		if (ready & SIG_BIT(sig)) {
			vcpu->sigpending &= ~SIG_BIT(sig);
			ready &= ~SIG_BIT(sig);
			signal_self(vcpu, sig);
		}
	}
	return 0;
}

KM_SYSCALL(rt_sigpending)
{
	uint64_t *out = KM_OUT(vcpu, a[0], SIGSET_SIZE);
	if (a[1] != SIGSET_SIZE)
		return -EINVAL;
	if (out == NULL)
		return -EFAULT;
	*out = vcpu->sigpending;
	return 0;
}

KM_SYSCALL(sigaltstack)
{
	const uint64_t *ss = NULL;
	uint64_t *old = NULL;

	if (a[0] && (ss = KM_IN(vcpu, a[0], sizeof(vcpu->altstack))) == NULL)
		return -EFAULT;
	if (a[1] && (old = KM_OUT(vcpu, a[1], sizeof(vcpu->altstack))) == NULL)
		return -EFAULT;
	uint64_t prev[3];
	memcpy(prev, vcpu->altstack, sizeof(prev));
	if (ss) {
		uint32_t flags = (uint32_t)ss[1];
		if (flags & ~(SS_DISABLE_FLAG | SS_AUTODISARM_FLAG))
			return -EINVAL;
		if (!(flags & SS_DISABLE_FLAG) && ss[2] < MINSIGSTKSZ_LINUX)
			return -ENOMEM;
		memcpy(vcpu->altstack, ss, sizeof(vcpu->altstack));
	}
	if (old) {
		if (!(prev[1] & SS_ONSTACK_FLAG) && prev[2] == 0)
			prev[1] = SS_DISABLE_FLAG;
		memcpy(old, prev, sizeof(prev));
	}
	return 0;
}

KM_SYSCALL(kill)
{
	pid_t pid = (pid_t)a[0];

	if (pid == getpid() || pid == 0)
		return signal_self(vcpu, (int)a[1]);
	return km_host(kill(pid, (int)a[1]));
}

KM_SYSCALL(tkill)
{
	if ((pid_t)a[0] != vcpu->tid)
		return -ESRCH;
	return signal_self(vcpu, (int)a[1]);
}

KM_SYSCALL(tgkill)
{
	if ((pid_t)a[0] != getpid() || (pid_t)a[1] != vcpu->tid)
		return -ESRCH;
	return signal_self(vcpu, (int)a[2]);
}
