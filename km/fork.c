/*
 * New processes: km forks itself. The child keeps only the thread that
 * called fork, makes a new VM over its copy-on-write copy of guest memory
 * and resumes that guest thread there with fork's result 0. A vfork's
 * parent waits until the child execs or exits, as Linux makes it wait.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "km.h"

/* What the child's guest thread resumes with. */
struct fork_point {
	struct kvm_regs regs;
	uint64_t fs_base;
	uint8_t fpu[sizeof(struct kvm_xsave)];
};

/*
 * Every km lock, in the order km's threads nest them, so that no other
 * thread is half way through changing what the child copies.
 */
static void hold_all(struct km_vm *vm)
{
	pthread_mutex_lock(&vm->thread_lock);
	km_timers_hold();
	km_signalfd_hold();
	pthread_mutex_lock(&vm->sig_lock);
	pthread_rwlock_wrlock(&vm->mm_lock);
}

static void release_all(struct km_vm *vm)
{
	pthread_rwlock_unlock(&vm->mm_lock);
	pthread_mutex_unlock(&vm->sig_lock);
	km_signalfd_release();
	km_timers_release();
	pthread_mutex_unlock(&vm->thread_lock);
}

/* 0, or the errno with which fork fails when the child cannot have a VM or a thread of its own. */
static int become_child(struct km_vcpu *vcpu, const struct fork_point *at,
			const struct km_fork_args *args)
{
	struct km_vm *vm = vcpu->vm;

	/* Made anew, not unlocked: glibc's rwlock knows its writer by the parent's tid. */
	pthread_rwlock_init(&vm->mm_lock, NULL);
	pthread_mutex_init(&vm->sig_lock, NULL);
	pthread_mutex_init(&vm->thread_lock, NULL);
	km_timers_after_fork();
	km_signalfd_after_fork();
	km_aio_after_fork();
	km_gdb_after_fork(vm);
	km_stats_after_fork(vm);
	km_fast_after_fork(vm);

	if (!km_kvm_rebuild_after_fork(vm, vcpu))
		return errno;
	km_vdso_after_fork();
	vcpu->tid = getpid();
	vcpu->state = KM_VCPU_RUNNING;
	vm->live = 1;
	vcpu->robust_list = 0;
	vcpu->clear_child_tid = args->flags & CLONE_CHILD_CLEARTID ? args->ctid : 0;
	km_x86_init_vcpu(vcpu);
	int rc = km_vcpu_first_run(vcpu);
	if (rc < 0)
		return -rc;
	km_x86_set_fs_base(vcpu, at->fs_base);
	if (!km_x86_fpu_restore(vcpu, at->fpu, true))
		km_die(1, "km: cannot give the forked child its FPU state");
	vcpu->run->s.regs.regs = at->regs;
	vcpu->run->kvm_dirty_regs = KVM_SYNC_X86_REGS;
	uint32_t tid = (uint32_t)vcpu->tid;
	if (args->flags & CLONE_CHILD_SETTID)
		km_copy_out(vm, args->ctid, &tid, sizeof(tid));
	return km_signals_after_fork(vcpu) ? 0 : EAGAIN;
}

/*
 * The child reports on a pipe: an errno when it cannot become a process,
 * which the parent's fork then fails with, as Linux's fails when it has
 * no room; else the pipe just closes, at once after a fork, at exec or
 * exit after a vfork, whose parent Linux makes wait that long. Made with
 * every lock held, so that no other thread's fork takes its write end.
 */
static bool open_report(int fds[2])
{
	if (pipe2(fds, O_CLOEXEC) != 0)
		return false;
	fds[0] = km_fd_high(fds[0]);
	fds[1] = km_fd_high(fds[1]);
	if (fds[0] >= 0 && fds[1] >= 0)
		return true;
	close(fds[0]);
	close(fds[1]);
	return false;
}

static _Noreturn void report_failure(int fd, int err)
{
	ssize_t n = write(fd, &err, sizeof(err));
	(void)n;
	_exit(127);
}

static long wait_for_report(int fd, pid_t pid)
{
	int err;
	ssize_t n;

	while ((n = read(fd, &err, sizeof(err))) < 0 && errno == EINTR)
		;
	close(fd);
	if (n != sizeof(err))
		return pid;
	while (waitpid(pid, NULL, __WALL) < 0 && errno == EINTR)
		;
	return err == ENOMEM ? -ENOMEM : -EAGAIN;
}

long km_fork(struct km_vcpu *vcpu, const struct km_fork_args *args)
{
	struct km_vm *vm = vcpu->vm;
	struct fork_point *at = malloc(sizeof(*at));
	int report[2];

	if (at == NULL)
		return -ENOMEM;
	km_vcpu_complete_io(vcpu); /* the child's new vCPU starts past the call */
	at->regs = vcpu->run->s.regs.regs;
	at->regs.rax = 0;
	if (km_x86_in_entry(at->regs.rip))
		km_x86_return_to_user(&at->regs); /* its vCPU starts at CPL 3, where sysretq faults */
	if (args->stack)
		at->regs.rsp = args->stack;
	at->fs_base = args->flags & CLONE_SETTLS ? args->tls : km_x86_get_fs_base(vcpu);
	km_x86_fpu_size(vm);
	km_x86_fpu_save(vcpu, at->fpu);

	sigset_t mask;
	km_signals_before_fork(vm, &mask);
	hold_all(vm);
	if (!open_report(report)) {
		release_all(vm);
		km_signals_fork_done(&mask);
		free(at);
		return -EAGAIN;
	}
	pid_t pid = fork();
	int saved = errno;
	if (pid == 0) {
		close(report[0]);
		int err = become_child(vcpu, at, args);
		free(at);
		if (err != 0)
			report_failure(report[1], err);
		if (!(args->flags & CLONE_VFORK))
			close(report[1]);
		return 0;
	}
	close(report[1]);
	release_all(vm);
	km_signals_fork_done(&mask);
	free(at);
	if (pid < 0) {
		close(report[0]);
		return saved == ENOMEM ? -ENOMEM : -EAGAIN;
	}
	long rc = wait_for_report(report[0], pid);
	uint32_t child = (uint32_t)pid;
	if (rc > 0 && (args->flags & CLONE_PARENT_SETTID))
		km_copy_out(vm, args->ptid, &child, sizeof(child));
	return rc;
}
