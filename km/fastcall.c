/*
 * Fast calls: where an exit is dear (PVM: ~26 µs, against well under 1 µs
 * for a word in shared memory), a guest thread posts a call in its slot and
 * spins, and a km thread that polls the slots makes it. The protocol is in
 * hcall_abi.h; docs/architecture.md, "Fast calls", says why it is safe.
 *
 * Only calls that cannot wait and belong to no thread in particular are
 * taken here; a read or a write of a pipe or socket is tried without
 * waiting and left to the hypercall when it would wait. Anything that
 * touches signals, memory maps, threads or processes exits as before.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "syscalls.h"

#define SPIN_US 20	       /* how long a caller waits for the poller, then exits */
#define IDLE_NS 2000000ll      /* the poller sleeps after this long without a call */
#define DEFAULT_TSC_KHZ 3000000 /* if KVM does not say */

_Static_assert(KM_SYS_VA + KM_SYS_FAST == KM_FAST_VA &&
		       KM_FAST_VA + KM_PAGE_SIZE == KM_FAST_SLOTS_VA && KM_MAX_VCPUS == 1024 &&
		       sizeof(struct km_fast_hdr) <= KM_PAGE_SIZE,
	       "the fast-call area as hcall_abi.h gives it to the guest");

static struct {
	enum { FAST_AUTO, FAST_ON, FAST_OFF } mode;
	bool on;      /* slots mapped: the guest may post */
	bool asked;   /* a guest thread asked for its slot: the program posts */
	bool started; /* the poller thread exists in this process */
	bool sleeping; /* the poller waits on wake (the header's awake is only the guest's hint) */
	uint32_t wake; /* futex word: bumped to wake the poller */
	pthread_mutex_t start_lock;
} fast = { .start_lock = PTHREAD_MUTEX_INITIALIZER };

void km_fast_option(const char *arg)
{
	if (strcmp(arg, "auto") == 0)
		fast.mode = FAST_AUTO;
	else if (strcmp(arg, "on") == 0)
		fast.mode = FAST_ON;
	else if (strcmp(arg, "off") == 0)
		fast.mode = FAST_OFF;
	else
		km_die(2, "km: bad --fast-calls '%s': use auto, on or off", arg);
}

/* For an exec'd km: the option as given, or NULL for the default. */
const char *km_fast_exec_option(void)
{
	return fast.mode == FAST_ON ? "--fast-calls=on" : fast.mode == FAST_OFF ? "--fast-calls=off" : NULL;
}

static struct km_fast_hdr *hdr(struct km_vm *vm)
{
	return km_sys(vm, KM_SYS_FAST);
}

static uint64_t *slot_word(struct km_vm *vm, int id)
{
	return km_sys(vm, KM_SYS_FAST + KM_PAGE_SIZE + (uint64_t)id * KM_FAST_SLOT_SIZE);
}

/* The calls taken without waiting, whose every effect is the process's, not the thread's. */
#define FAST_PLAIN(X)                                                                         \
	X(getppid) X(getuid) X(geteuid) X(getgid) X(getegid) X(getresuid) X(getresgid)        \
	X(getgroups) X(getpgrp) X(getpgid) X(getsid) X(gettid) X(uname) X(sysinfo) X(getcwd) \
	X(fstat) X(lseek) X(getsockname) X(getpeername) X(getsockopt)

static bool takes(uint64_t nr)
{
	switch (nr) {
#define FAST_CASE(name) case __NR_##name:
		FAST_PLAIN(FAST_CASE)
#undef FAST_CASE
		return true;
	case __NR_read: case __NR_write: case __NR_recvfrom: case __NR_sendto:
		return true;
	default:
		return !km_hcall_served(nr); /* ENOSYS, from anywhere */
	}
}

/* Whether a call that found nothing to do would have waited for it. */
static bool would_wait(long rc, int fd, bool dontwait)
{
	return rc == -EAGAIN && !dontwait && !(fcntl(fd, F_GETFL) & O_NONBLOCK);
}

static bool pipe_or_socket(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
}

/*
 * read and write of a pipe or socket, without waiting (RWF_NOWAIT). A
 * regular file's short read or split write would differ from Linux's, and
 * a signalfd is km's own: both take the hypercall.
 */
static unsigned long read_write(struct km_vcpu *v, uint64_t nr, const uint64_t *a, long *ret)
{
	bool out = nr == __NR_write;
	int fd = (int)a[0];

	if (!km_fd_ok(v->vm, (long)fd) || km_signalfd_any() || !pipe_or_socket(fd))
		return KM_FAST_DECLINED;
	struct iovec iov = { out ? (void *)KM_IN(v, a[1], a[2]) : KM_OUT(v, a[1], a[2]), a[2] };
	if (iov.iov_base == NULL)
		return KM_FAST_DECLINED;
	long rc = km_host(out ? pwritev2(fd, &iov, 1, -1, RWF_NOWAIT)
			      : preadv2(fd, &iov, 1, -1, RWF_NOWAIT));
	if (rc == -EOPNOTSUPP || rc == -EPIPE || would_wait(rc, fd, false))
		return KM_FAST_DECLINED; /* EPIPE: the hypercall raises SIGPIPE */
	*ret = rc;
	return out && rc > 0 && (uint64_t)rc < a[2] && would_wait(-EAGAIN, fd, false)
		       ? KM_FAST_PARTIAL
		       : KM_FAST_DONE;
}

static unsigned long send_recv(struct km_vcpu *v, uint64_t nr, const uint64_t *a, long *ret)
{
	bool out = nr == __NR_sendto, dontwait = a[3] & MSG_DONTWAIT;
	uint64_t b[6] = { a[0], a[1], a[2], a[3] | MSG_DONTWAIT, a[4], a[5] };

	if (!out && (a[3] & MSG_WAITALL))
		return KM_FAST_DECLINED; /* what is there may be less than all */
	long rc = out ? km_sys_sendto(v, b) : km_sys_recvfrom(v, b);
	if (rc == -EPIPE || would_wait(rc, (int)a[0], dontwait))
		return KM_FAST_DECLINED;
	*ret = rc;
	return out && rc > 0 && (uint64_t)rc < a[2] && would_wait(-EAGAIN, (int)a[0], dontwait)
		       ? KM_FAST_PARTIAL
		       : KM_FAST_DONE;
}

static unsigned long serve(struct km_vcpu *v, uint64_t nr, const uint64_t *a, long *ret)
{
	switch (nr) {
#define FAST_CALL(name)                      \
	case __NR_##name:                    \
		*ret = km_sys_##name(v, a); \
		return KM_FAST_DONE;
		FAST_PLAIN(FAST_CALL)
#undef FAST_CALL
	case __NR_read: case __NR_write:
		return read_write(v, nr, a, ret);
	case __NR_recvfrom: case __NR_sendto:
		return send_recv(v, nr, a, ret);
	default:
		if (nr >= KM_FAST_NRS || km_hcall_served(nr))
			return KM_FAST_DECLINED;
		*ret = -ENOSYS;
		return KM_FAST_DONE;
	}
}

/* Claims, makes and answers v's posted call, if there is one. */
static bool take(struct km_vm *vm, struct km_vcpu *v)
{
	uint64_t *word = slot_word(vm, v->id);
	uint64_t req = __atomic_load_n(word, __ATOMIC_ACQUIRE);

	if (req == 0 || (req & KM_FAST_CLAIMED))
		return false;
	__atomic_store_n(&v->fast_busy, 1, __ATOMIC_SEQ_CST); /* before the claim: see settle */
	if (!__atomic_compare_exchange_n(word, &req, req | KM_FAST_CLAIMED, false, __ATOMIC_SEQ_CST,
					 __ATOMIC_SEQ_CST)) {
		__atomic_store_n(&v->fast_busy, 0, __ATOMIC_RELEASE);
		return false;
	}
	struct km_fast_req r;
	unsigned long done = 0;
	long ret = 0;
	/* Copied once; a bad address gets no answer: the caller only spins itself. */
	if (req % 8 == 0 && km_copy_in(vm, &r, req, offsetof(struct km_fast_req, ret)) == 0) {
		done = serve(v, (uint64_t)r.nr, (const uint64_t *)r.a, &ret);
		if (done != KM_FAST_DECLINED) { /* counted by this thread alone */
			v->stats.fast_calls++;
			v->stats.fast[r.nr >= 0 && r.nr < KM_STATS_CALLS ? r.nr : KM_STATS_CALLS - 1]++;
		}
	}
	__atomic_store_n(word, 0, __ATOMIC_RELEASE); /* free for the next call before this one ends */
	if (done && km_copy_out(vm, req + offsetof(struct km_fast_req, ret), &ret, sizeof(ret)) == 0)
		km_copy_out(vm, req + offsetof(struct km_fast_req, done), &done, sizeof(done));
	__atomic_store_n(&v->fast_busy, 0, __ATOMIC_RELEASE);
	return true;
}

static long long now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000ll + t.tv_nsec;
}

static bool any_posted(struct km_vm *vm)
{
	int n = __atomic_load_n(&vm->nvcpu, __ATOMIC_ACQUIRE);
	for (int i = 0; i < n; i++)
		if (__atomic_load_n(slot_word(vm, i), __ATOMIC_ACQUIRE))
			return true;
	return false;
}

/* Idle: says so in the header, then sleeps until a hypercall of a listed number wakes it. */
static void sleep_until_called(struct km_vm *vm)
{
	struct km_fast_hdr *h = hdr(vm);
	uint32_t seen = __atomic_load_n(&fast.wake, __ATOMIC_ACQUIRE);

	__atomic_store_n(&fast.sleeping, true, __ATOMIC_SEQ_CST);
	__atomic_store_n(&h->awake, 0, __ATOMIC_SEQ_CST);
	if (!any_posted(vm)) /* one posted as we said so waits out its spin otherwise */
		syscall(SYS_futex, &fast.wake, FUTEX_WAIT_PRIVATE, seen, NULL, NULL, 0);
	__atomic_store_n(&fast.sleeping, false, __ATOMIC_SEQ_CST);
	__atomic_store_n(&h->awake, 1, __ATOMIC_SEQ_CST);
}

static void *poller(void *arg)
{
	struct km_vm *vm = arg;
	long long last_call = now_ns();
	unsigned idle = 0;
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	for (;;) {
		bool served = false;
		int n = __atomic_load_n(&vm->nvcpu, __ATOMIC_ACQUIRE);
		for (int i = 0; i < n; i++) {
			struct km_vcpu *v = __atomic_load_n(&vm->vcpus[i], __ATOMIC_ACQUIRE);
			if (v != NULL && take(vm, v))
				served = true;
		}
		if (served) {
			idle = 0;
			continue;
		}
		if (++idle % 256 == 0) {
			long long now = now_ns();
			if (idle == 256)
				last_call = now;
			else if (now - last_call > IDLE_NS) {
				sleep_until_called(vm);
				idle = 0;
			}
		}
		__builtin_ia32_pause();
	}
	return NULL;
}

static void start_poller(struct km_vm *vm)
{
	pthread_t t;
	pthread_attr_t attr;

	pthread_mutex_lock(&fast.start_lock);
	if (!fast.started) {
		pthread_attr_init(&attr);
		pthread_attr_setstacksize(&attr, 64 << 10);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		__atomic_store_n(&hdr(vm)->awake, 1, __ATOMIC_SEQ_CST);
		fast.started = pthread_create(&t, &attr, poller, vm) == 0;
		if (!fast.started)
			__atomic_store_n(&hdr(vm)->awake, 0, __ATOMIC_SEQ_CST);
		pthread_attr_destroy(&attr);
	}
	pthread_mutex_unlock(&fast.start_lock);
}

static int usable_cpus(void)
{
	cpu_set_t set;
	return sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : 1;
}

/*
 * On by default where an exit is dear and a second CPU can poll: PVM.
 * On hardware KVM an exit costs about a microsecond, which a polling
 * thread's CPU would not buy back.
 */
void km_fast_init(struct km_vm *vm)
{
	bool pvm = access("/sys/module/kvm_pvm", F_OK) == 0;

	fast.on = fast.mode == FAST_ON ||
		  (fast.mode == FAST_AUTO && pvm && usable_cpus() >= 2 && !km_verbose);
	if (!fast.on)
		return;
	for (uint64_t off = 0; off < KM_SYS_FAST_SIZE; off += KM_PAGE_SIZE)
		km_map_sys_page(vm, KM_SYS_FAST + off, true, PROT_READ | PROT_WRITE);
	struct km_fast_hdr *h = hdr(vm);
	for (uint64_t nr = 0; nr < KM_FAST_NRS; nr++)
		if (takes(nr))
			h->calls[nr / 64] |= 1ul << (nr % 64);
}

/* KM_HC_FAST_SLOT: the calling thread's slot; the first ask starts the poller. */
long km_fast_slot(struct km_vcpu *vcpu)
{
	struct km_vm *vm = vcpu->vm;

	if (!fast.on)
		return -EOPNOTSUPP;
	struct km_fast_hdr *h = hdr(vm);
	if (h->spin_tsc == 0) {
		long khz = ioctl(vcpu->fd, KVM_GET_TSC_KHZ, 0);
		__atomic_store_n(&h->spin_tsc, (uint64_t)(khz > 0 ? khz : DEFAULT_TSC_KHZ) * SPIN_US / 1000,
				 __ATOMIC_RELAXED);
	}
	__atomic_store_n(&fast.asked, true, __ATOMIC_RELEASE);
	start_poller(vm);
	return (long)(KM_FAST_SLOTS_VA + (uint64_t)vcpu->id * KM_FAST_SLOT_SIZE);
}

/*
 * A hypercall of a number the guest would post: the poller may be asleep,
 * or not there yet (a forked child). Decided on km's own state, not the
 * header's, which the guest can write.
 */
void km_fast_missed(struct km_vm *vm, uint64_t nr)
{
	if (!__atomic_load_n(&fast.asked, __ATOMIC_ACQUIRE) || !takes(nr))
		return;
	if (!__atomic_load_n(&fast.started, __ATOMIC_ACQUIRE)) {
		start_poller(vm);
		return;
	}
	if (!__atomic_load_n(&fast.sleeping, __ATOMIC_ACQUIRE))
		return;
	__atomic_fetch_add(&fast.wake, 1, __ATOMIC_RELEASE);
	syscall(SYS_futex, &fast.wake, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/*
 * Before vcpu's thread takes a signal: a call it posted and km has not
 * claimed is taken back (the guest makes it after the handler, as Linux
 * makes a call the signal came before); one being made is waited for (as
 * Linux delivers after a call that cannot wait). The busy flag is km's own:
 * nothing in guest memory can make this wait.
 */
void km_fast_settle(struct km_vcpu *vcpu)
{
	struct km_vm *vm = vcpu->vm;

	if (!fast.on)
		return;
	uint64_t *word = slot_word(vm, vcpu->id);
	uint64_t req = __atomic_load_n(word, __ATOMIC_ACQUIRE);
	if (req != 0 && !(req & KM_FAST_CLAIMED) &&
	    __atomic_compare_exchange_n(word, &req, 0, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
		unsigned long declined = KM_FAST_DECLINED;
		km_copy_out(vm, req + offsetof(struct km_fast_req, done), &declined, sizeof(declined));
	}
	for (unsigned spins = 0; __atomic_load_n(&vcpu->fast_busy, __ATOMIC_ACQUIRE); spins++)
		if (spins > 1000)
			sched_yield();
		else
			__builtin_ia32_pause();
}

/* A forked child has no poller until its first call asks for one. */
void km_fast_after_fork(struct km_vm *vm)
{
	pthread_mutex_init(&fast.start_lock, NULL);
	fast.started = fast.sleeping = false;
	fast.wake = 0;
	if (fast.on)
		__atomic_store_n(&hdr(vm)->awake, 0, __ATOMIC_SEQ_CST);
	for (int i = 0; i < vm->nvcpu; i++)
		if (vm->vcpus[i])
			vm->vcpus[i]->fast_busy = 0;
}
