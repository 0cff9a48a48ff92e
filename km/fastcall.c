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
#define SPIN_ON_US 1000	       /* the same under --fast-calls=on: wanted even on a busy host */
#define IDLE_NS 2000000ll      /* the poller sleeps after this long without a call */
#define REVIEW_NS 1000000ll    /* how often it looks at what its answers are worth */
#define REST_MIN_NS 2000000ll  /* how long it first rests when it answers too late */
#define REST_MAX_NS 128000000ll
#define UNLIST_NS 100000000ll  /* how long a number that would nearly always wait exits directly */
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
	bool resting;  /* it backs off: too many posts waited out their spin unanswered */
	uint32_t wake; /* futex word: bumped to wake the poller */
	pthread_mutex_t start_lock;
	uint64_t listed[KM_FAST_NRS / 64]; /* km's own copy of the header's bitmap */
	uint64_t missed; /* listed numbers that came as hypercalls while the poller was up */
	/* The poller's own, since its last review: */
	uint64_t answered, declined;
	uint16_t tries[KM_FAST_NRS], declines[KM_FAST_NRS];
	long long relist_at[KM_FAST_NRS]; /* a number taken off the list comes back then */
	long long rest_ns;
	int loadavg_fd; /* the host's /proc/loadavg, opened before any confinement */
	int cpus;
} fast = { .start_lock = PTHREAD_MUTEX_INITIALIZER, .rest_ns = REST_MIN_NS };

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

bool km_fast_enabled(void)
{
	return fast.on;
}

/* For an exec'd km: the option as given, or NULL for the default. */
const char *km_fast_exec_option(void)
{
	if (fast.mode == FAST_AUTO)
		return NULL;
	return fast.mode == FAST_ON ? "--fast-calls=on" : "--fast-calls=off";
}

static struct km_fast_hdr *hdr(struct km_vm *vm)
{
	return km_sys(vm, KM_SYS_FAST);
}

static uint64_t *slot_word(struct km_vm *vm, int id)
{
	return km_sys(vm, KM_SYS_FAST + KM_PAGE_SIZE + (uint64_t)id * KM_FAST_SLOT_SIZE);
}

static bool listed(uint64_t nr)
{
	return nr < KM_FAST_NRS &&
	       (__atomic_load_n(&fast.listed[nr / 64], __ATOMIC_RELAXED) >> (nr % 64) & 1);
}

/* km's copy first, then the guest's: a number is posted only while km would take it. */
static void set_listed(struct km_vm *vm, uint64_t nr, bool on)
{
	uint64_t bit = 1ul << (nr % 64);
	uint64_t *mine = &fast.listed[nr / 64], *guest = &hdr(vm)->calls[nr / 64];

	if (on) {
		__atomic_fetch_or(mine, bit, __ATOMIC_RELAXED);
		__atomic_fetch_or(guest, bit, __ATOMIC_RELAXED);
	} else {
		__atomic_fetch_and(guest, ~bit, __ATOMIC_RELAXED);
		__atomic_fetch_and(mine, ~bit, __ATOMIC_RELAXED);
	}
}

/*
 * The calls taken without waiting, whose every effect is the process's, not
 * the thread's. Not the credentials: under km each guest thread's are its
 * vCPU thread's own (sys_proc.c), which the poller's are not.
 */
#define FAST_PLAIN(X)                                                                          \
	X(getppid) X(getpgrp) X(getpgid) X(getsid) X(gettid) X(uname) X(sysinfo) X(getcwd) \
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

/* Counted by the poller alone. A partial write exits for the rest, as a declined call does. */
static void count(struct km_vcpu *v, uint64_t nr, unsigned long done)
{
	if (done != KM_FAST_DECLINED) {
		v->stats.fast_calls++;
		v->stats.fast[km_stats_slot(nr)]++;
	}
	if (done == KM_FAST_DONE)
		fast.answered++;
	else
		fast.declined++;
	if (nr < KM_FAST_NRS) {
		fast.tries[nr]++;
		fast.declines[nr] += done != KM_FAST_DONE;
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
		count(v, (uint64_t)r.nr, done);
	}
	__atomic_store_n(word, 0, __ATOMIC_RELEASE); /* free for the next call before this one ends */
	/* done last and once: the caller may reuse the request the moment it sees it. */
	if (done && km_store_word(vm, req + offsetof(struct km_fast_req, ret), (uint64_t)ret) == 0)
		km_store_word(vm, req + offsetof(struct km_fast_req, done), done);
	__atomic_store_n(&v->fast_busy, 0, __ATOMIC_RELEASE);
	return true;
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

/*
 * Whether more threads want a CPU than there are, this instant, the
 * poller and its spinning callers included: the host's runnable count,
 * /proc/loadavg's fourth field (R/T).
 */
static bool crowded(void)
{
	char buf[128];
	ssize_t n = fast.loadavg_fd < 0 ? -1 : pread(fast.loadavg_fd, buf, sizeof(buf) - 1, 0);
	int running;

	if (n <= 0)
		return false;
	buf[n] = '\0';
	return sscanf(buf, "%*s %*s %*s %d/", &running) == 1 && running > fast.cpus;
}

static void new_window(void)
{
	__atomic_store_n(&fast.missed, 0, __ATOMIC_RELAXED);
	fast.answered = fast.declined = 0;
	memset(fast.tries, 0, sizeof(fast.tries));
	memset(fast.declines, 0, sizeof(fast.declines));
}

/*
 * The poller shares the CPUs with the program and whatever else runs: a
 * spin pays only with a CPU nobody else wants (an exit costs the CPU its
 * own time too). So under auto, when more threads are runnable than there
 * are CPUs, or when it answers too late (more than one post in eight
 * waited out its spin unanswered), it rests, the guest told to exit
 * meanwhile, for longer each time in a row. --fast-calls=on never rests.
 */
static void rest(struct km_vm *vm)
{
	struct timespec t = { fast.rest_ns / 1000000000ll, fast.rest_ns % 1000000000ll };
	uint32_t seen = __atomic_load_n(&fast.wake, __ATOMIC_ACQUIRE);

	__atomic_store_n(&fast.resting, true, __ATOMIC_SEQ_CST);
	__atomic_store_n(&hdr(vm)->awake, 0, __ATOMIC_SEQ_CST);
	syscall(SYS_futex, &fast.wake, FUTEX_WAIT_PRIVATE, seen, &t, NULL, 0);
	__atomic_store_n(&hdr(vm)->awake, 1, __ATOMIC_SEQ_CST);
	__atomic_store_n(&fast.resting, false, __ATOMIC_SEQ_CST);
	fast.rest_ns = fast.rest_ns * 2 > REST_MAX_NS ? REST_MAX_NS : fast.rest_ns * 2;
}

/*
 * Also, a number that nearly always would wait (a server's recv on a quiet
 * connection) costs a post and a decline before its exit: it leaves the list
 * for a while, then is tried again.
 */
static void review(struct km_vm *vm, long long now)
{
	uint64_t missed = __atomic_load_n(&fast.missed, __ATOMIC_RELAXED);
	uint64_t late = missed > fast.declined ? missed - fast.declined : 0;
	uint64_t posted = fast.answered + fast.declined + late;

	for (uint64_t nr = 0; nr < KM_FAST_NRS; nr++) {
		if (fast.relist_at[nr] && now >= fast.relist_at[nr]) {
			fast.relist_at[nr] = 0;
			set_listed(vm, nr, true);
		} else if (fast.tries[nr] >= 16 && fast.declines[nr] * 8 >= fast.tries[nr] * 7) {
			fast.relist_at[nr] = now + UNLIST_NS;
			set_listed(vm, nr, false);
		}
	}
	bool starved = fast.mode == FAST_AUTO && ((posted >= 16 && late * 8 > posted) || crowded());
	new_window();
	if (starved)
		rest(vm);
	else if (posted >= 16) /* a window with nothing to do says nothing */
		fast.rest_ns = REST_MIN_NS;
}

static void *poller(void *arg)
{
	struct km_vm *vm = arg;
	int64_t last_call = km_ns_of(CLOCK_MONOTONIC), last_review = last_call;
	unsigned idle = 0, loops = 0;
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	new_window();
	for (;;) {
		bool served = false;
		if (++loops % 1024 == 0) {
			int64_t now = km_ns_of(CLOCK_MONOTONIC);
			if (now - last_review > REVIEW_NS) {
				review(vm, now);
				last_review = km_ns_of(CLOCK_MONOTONIC);
			}
		}
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
			int64_t now = km_ns_of(CLOCK_MONOTONIC);
			if (idle == 256)
				last_call = now;
			else if (now - last_call > IDLE_NS) {
				sleep_until_called(vm);
				new_window();
				last_review = km_ns_of(CLOCK_MONOTONIC);
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
	fast.cpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
	int fd = open("/proc/loadavg", O_RDONLY | O_CLOEXEC);
	fast.loadavg_fd = fd < 0 ? -1 : km_fd_high(fd);
	for (uint64_t off = 0; off < KM_SYS_FAST_SIZE; off += KM_PAGE_SIZE)
		km_map_sys_page(vm, KM_SYS_FAST + off, true, PROT_READ | PROT_WRITE);
	for (uint64_t nr = 0; nr < KM_FAST_NRS; nr++)
		if (takes(nr))
			set_listed(vm, nr, true);
}

/*
 * KM_HC_FAST_SLOT: the calling thread's slot. The poller starts with the
 * first listed call, an exit (the header says no one polls yet): a short
 * program that makes none (hello) never pays for a thread.
 */
long km_fast_slot(struct km_vcpu *vcpu)
{
	struct km_vm *vm = vcpu->vm;

	if (!fast.on)
		return -EOPNOTSUPP;
	struct km_fast_hdr *h = hdr(vm);
	if (h->spin_tsc == 0) {
		long khz = ioctl(vcpu->fd, KVM_GET_TSC_KHZ, 0);
		uint64_t us = fast.mode == FAST_ON ? SPIN_ON_US : SPIN_US;
		__atomic_store_n(&h->spin_tsc, (uint64_t)(khz > 0 ? khz : DEFAULT_TSC_KHZ) * us / 1000,
				 __ATOMIC_RELAXED);
	}
	__atomic_store_n(&fast.asked, true, __ATOMIC_RELEASE);
	return (long)(KM_FAST_SLOTS_VA + (uint64_t)vcpu->id * KM_FAST_SLOT_SIZE);
}

/*
 * A hypercall of a number the guest would post: the poller may be asleep,
 * or not there yet (a forked child). Decided on km's own state, not the
 * header's, which the guest can write.
 */
void km_fast_missed(struct km_vm *vm, uint64_t nr)
{
	if (!__atomic_load_n(&fast.asked, __ATOMIC_ACQUIRE) || !listed(nr))
		return;
	if (!__atomic_load_n(&fast.started, __ATOMIC_ACQUIRE)) {
		start_poller(vm);
		return;
	}
	if (__atomic_load_n(&fast.resting, __ATOMIC_ACQUIRE))
		return;
	if (!__atomic_load_n(&fast.sleeping, __ATOMIC_ACQUIRE)) {
		__atomic_fetch_add(&fast.missed, 1, __ATOMIC_RELAXED); /* declined, or answered late */
		return;
	}
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
		km_store_word(vm, req + offsetof(struct km_fast_req, done), KM_FAST_DECLINED);
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
	fast.started = fast.sleeping = fast.resting = false;
	fast.wake = 0;
	fast.rest_ns = REST_MIN_NS;
	new_window();
	if (fast.on)
		__atomic_store_n(&hdr(vm)->awake, 0, __ATOMIC_SEQ_CST);
	for (int i = 0; i < vm->nvcpu; i++)
		if (vm->vcpus[i])
			vm->vcpus[i]->fast_busy = 0;
}
