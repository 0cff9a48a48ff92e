/*
 * System V IPC: message queues, semaphores and shared memory, the host's
 * own (km is the guest's process, so the guest's keys and ids are the
 * host's). Each buffer is checked for the size its command implies and
 * handed to the kernel, which reads it once; shmat attaches the segment
 * inside guest memory (vma.c).
 */
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "syscalls.h"

/* The kernel's x86-64 layouts, which glibc's match. */
_Static_assert(sizeof(struct msqid_ds) == 120, "msqid64_ds");
_Static_assert(sizeof(struct semid_ds) == 104, "semid64_ds");
_Static_assert(sizeof(struct shmid_ds) == 112, "shmid64_ds");
#define MSGINFO_SIZE 32	 /* struct msginfo: 8 ints */
#define SEMINFO_SIZE 40	 /* struct seminfo: 10 ints */
#define SHMINFO_SIZE 72	 /* struct shminfo64: 9 longs */
#define SHM_INFO_SIZE 48 /* struct shm_info */
#define SEMBUF_SIZE 6	 /* struct sembuf */
#define SEMOPM_MAX 65536 /* more operations than any semopm: E2BIG without a look */
#define MTYPE_SIZE 8	 /* the long before a message's text */

#ifndef MSG_STAT_ANY
#define MSG_STAT_ANY 13
#define SEM_STAT_ANY 20
#define SHM_STAT_ANY 15
#endif

/*
 * The guest's buffer for a control command: its address in km (NULL for a
 * command that has none, which the kernel then judges) or -EFAULT.
 */
static long ctl_buffer(struct km_vcpu *vcpu, uint64_t gva, size_t in, size_t out, void **buf)
{
	*buf = NULL;
	if (in)
		*buf = KM_IN(vcpu, gva, in);
	else if (out)
		*buf = KM_OUT(vcpu, gva, out);
	return (in || out) && *buf == NULL ? -EFAULT : 0;
}

KM_SYSCALL(msgget) { return km_host(syscall(SYS_msgget, (key_t)a[0], (int)a[1])); }

KM_SYSCALL(msgsnd)
{
	if (a[2] > INT32_MAX)
		return -EINVAL;
	const void *msg = KM_IN(vcpu, a[1], MTYPE_SIZE + a[2]);
	return msg ? km_host(syscall(SYS_msgsnd, (int)a[0], msg, a[2], (int)a[3])) : -EFAULT;
}

KM_SYSCALL(msgrcv)
{
	if (a[2] > INT32_MAX)
		return -EINVAL;
	void *msg = KM_OUT(vcpu, a[1], MTYPE_SIZE + a[2]);
	return msg ? km_host(syscall(SYS_msgrcv, (int)a[0], msg, a[2], (long)a[3], (int)a[4])) :
		     -EFAULT;
}

KM_SYSCALL(msgctl)
{
	int cmd = (int)a[1];
	size_t in = cmd == IPC_SET ? sizeof(struct msqid_ds) : 0, out = 0;
	if (cmd == IPC_STAT || cmd == MSG_STAT || cmd == MSG_STAT_ANY)
		out = sizeof(struct msqid_ds);
	else if (cmd == IPC_INFO || cmd == MSG_INFO)
		out = MSGINFO_SIZE;
	void *buf;
	long rc = ctl_buffer(vcpu, a[2], in, out, &buf);
	return rc < 0 ? rc : km_host(syscall(SYS_msgctl, (int)a[0], cmd, buf));
}

KM_SYSCALL(semget) { return km_host(syscall(SYS_semget, (key_t)a[0], (int)a[1], (int)a[2])); }

static long semops(struct km_vcpu *vcpu, const uint64_t *a, const struct timespec *timeout)
{
	if (a[2] > SEMOPM_MAX)
		return -E2BIG;
	const void *sops = a[2] ? KM_IN(vcpu, a[1], a[2] * SEMBUF_SIZE) : NULL;
	if (a[2] && sops == NULL)
		return -EFAULT;
	return km_host(syscall(SYS_semtimedop, (int)a[0], sops, (size_t)a[2], timeout));
}

KM_SYSCALL(semop) { return semops(vcpu, a, NULL); }

KM_SYSCALL(semtimedop)
{
	struct timespec ts;
	if (a[3] && km_copy_in(vcpu->vm, &ts, a[3], sizeof(ts)) < 0)
		return -EFAULT;
	return semops(vcpu, a, a[3] ? &ts : NULL);
}

/* semctl(id, num, cmd, arg): arg is a union passed by value, a pointer for some commands. */
KM_SYSCALL(semctl)
{
	int id = (int)a[0], cmd = (int)a[2];
	size_t in = 0, out = 0;

	switch (cmd) {
	case IPC_SET: in = sizeof(struct semid_ds); break;
	case IPC_STAT: case SEM_STAT: case SEM_STAT_ANY: out = sizeof(struct semid_ds); break;
	case IPC_INFO: case SEM_INFO: out = SEMINFO_SIZE; break;
	case GETALL: case SETALL: {
		struct semid_ds ds; /* the set's size, which never changes */
		long rc = km_host(syscall(SYS_semctl, id, 0, IPC_STAT, &ds));
		if (rc < 0)
			return rc;
		*(cmd == GETALL ? &out : &in) = ds.sem_nsems * sizeof(unsigned short);
		break;
	}
	default: /* no buffer: arg is a value or nothing */
		return km_host(syscall(SYS_semctl, id, (int)a[1], cmd, a[3]));
	}
	void *buf;
	long rc = ctl_buffer(vcpu, a[3], in, out, &buf);
	return rc < 0 ? rc : km_host(syscall(SYS_semctl, id, (int)a[1], cmd, buf));
}

KM_SYSCALL(shmget) { return km_host(syscall(SYS_shmget, (key_t)a[0], a[1], (int)a[2])); }

KM_SYSCALL(shmctl)
{
	int cmd = (int)a[1];
	size_t in = cmd == IPC_SET ? sizeof(struct shmid_ds) : 0, out = 0;
	if (cmd == IPC_STAT || cmd == SHM_STAT || cmd == SHM_STAT_ANY)
		out = sizeof(struct shmid_ds);
	else if (cmd == IPC_INFO)
		out = SHMINFO_SIZE;
	else if (cmd == SHM_INFO)
		out = SHM_INFO_SIZE;
	void *buf;
	long rc = ctl_buffer(vcpu, a[2], in, out, &buf);
	return rc < 0 ? rc : km_host(syscall(SYS_shmctl, (int)a[0], cmd, buf));
}

/* The segment's size first: the host checks the caller's rights again when it attaches. */
KM_SYSCALL(shmat)
{
	struct km_vm *vm = vcpu->vm;
	struct shmid_ds ds;
	long rc = km_host(syscall(SYS_shmctl, (int)a[0], IPC_STAT, &ds));

	if (rc < 0)
		return rc;
	pthread_rwlock_wrlock(&vm->mm_lock);
	rc = km_shmat(vm, a[1], ds.shm_segsz, (int)a[0], (int)a[2]);
	pthread_rwlock_unlock(&vm->mm_lock);
	return rc;
}

KM_SYSCALL(shmdt)
{
	struct km_vm *vm = vcpu->vm;

	pthread_rwlock_wrlock(&vm->mm_lock);
	long rc = km_shmdt(vm, a[0]);
	pthread_rwlock_unlock(&vm->mm_lock);
	return rc;
}
