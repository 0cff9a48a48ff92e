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

static void become_child(struct km_vcpu *vcpu, const struct fork_point *at,
			 const struct km_fork_args *args)
{
	struct km_vm *vm = vcpu->vm;

	/* Made anew, not unlocked: glibc's rwlock knows its writer by the parent's tid. */
	pthread_rwlock_init(&vm->mm_lock, NULL);
	pthread_mutex_init(&vm->sig_lock, NULL);
	pthread_mutex_init(&vm->thread_lock, NULL);
	km_timers_after_fork();
	km_signalfd_after_fork();

	km_kvm_rebuild_after_fork(vm, vcpu);
	km_vdso_after_fork();
	vcpu->tid = getpid();
	vcpu->state = KM_VCPU_RUNNING;
	vm->live = 1;
	vcpu->robust_list = 0;
	vcpu->clear_child_tid = args->flags & CLONE_CHILD_CLEARTID ? args->ctid : 0;
	km_x86_init_vcpu(vcpu);
	km_x86_set_fs_base(vcpu, at->fs_base);
	if (!km_x86_fpu_restore(vcpu, at->fpu, true))
		km_die(1, "km: cannot give the forked child its FPU state");
	vcpu->run->s.regs.regs = at->regs;
	vcpu->run->kvm_dirty_regs = KVM_SYNC_X86_REGS;
	uint32_t tid = (uint32_t)vcpu->tid;
	if (args->flags & CLONE_CHILD_SETTID)
		km_copy_out(vm, args->ctid, &tid, sizeof(tid));
	km_signals_after_fork(vcpu);
}

/* A vfork parent sleeps until the child's end of the pipe closes: exec or exit. */
static void wait_for_exec_or_exit(int fd)
{
	char byte;
	while (read(fd, &byte, 1) < 0 && errno == EINTR)
		;
	close(fd);
}

long km_fork(struct km_vcpu *vcpu, const struct km_fork_args *args)
{
	struct km_vm *vm = vcpu->vm;
	struct fork_point *at = malloc(sizeof(*at));
	int vfork_pipe[2] = { -1, -1 };

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
	if (args->flags & CLONE_VFORK) {
		if (pipe2(vfork_pipe, O_CLOEXEC) != 0) {
			free(at);
			return -errno;
		}
		vfork_pipe[0] = km_fd_high(vfork_pipe[0]);
		vfork_pipe[1] = km_fd_high(vfork_pipe[1]);
		if (vfork_pipe[0] < 0 || vfork_pipe[1] < 0) {
			close(vfork_pipe[0]);
			close(vfork_pipe[1]);
			free(at);
			return -EAGAIN;
		}
	}

	sigset_t mask;
	km_signals_before_fork(vm, &mask);
	hold_all(vm);
	pid_t pid = fork();
	int saved = errno;
	if (pid == 0) {
		if (vfork_pipe[0] >= 0)
			close(vfork_pipe[0]); /* the write end closes at exec or exit */
		become_child(vcpu, at, args);
		free(at);
		return 0;
	}
	release_all(vm);
	km_signals_fork_done(&mask);
	free(at);
	if (vfork_pipe[1] >= 0)
		close(vfork_pipe[1]);
	if (pid < 0) {
		if (vfork_pipe[0] >= 0)
			close(vfork_pipe[0]);
		return saved == ENOMEM ? -ENOMEM : -EAGAIN;
	}
	uint32_t child = (uint32_t)pid;
	if (args->flags & CLONE_PARENT_SETTID)
		km_copy_out(vm, args->ptid, &child, sizeof(child));
	if (vfork_pipe[0] >= 0)
		wait_for_exec_or_exit(vfork_pipe[0]);
	return pid;
}
