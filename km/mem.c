/*
 * Guest memory: the host mapping behind guest-physical memory, the checks
 * every guest pointer passes before km uses it, and km's own reads and
 * writes of it, which a fault cannot kill km in (the page tables are
 * pagetable.c's).
 *
 * A page that loses rights in the guest's page tables also loses them on
 * km's own mapping (mprotect or a fresh mmap), whose MMU notifier makes KVM
 * drop its translations on every vCPU, on
 * hardware (EPT/NPT) and on PVM's shadow pages alike. The host calls that
 * do it for the guest's requests return their errors to vma.c, which
 * undoes what it had begun: the guest gets the errno, and km goes on.
 */
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <ucontext.h>
#include <unistd.h>

#include "km.h"

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif

/*
 * Address space for reservations beside the memory they commit: a JVM
 * reserves a GiB of class space and a heap it may never use, glibc 128 MiB
 * per malloc arena. Untouched, it costs the host nothing.
 */
#define KM_SPACE_MIN (16ul << 30)
#define KM_SPACE_MAX (KM_TOP / 2 & ~((1ul << 30) - 1))

static uint64_t space_for(uint64_t mem_limit)
{
	uint64_t space = mem_limit < KM_SPACE_MAX / 4 ? 4 * mem_limit : KM_SPACE_MAX;

	return KM_ROUND_UP(space < KM_SPACE_MIN ? KM_SPACE_MIN : space, KM_LARGE_PAGE);
}

void km_mem_init(struct km_vm *vm, uint64_t mem_limit)
{
	uint64_t space = space_for(mem_limit);

	vm->mem_limit = mem_limit;
	vm->space = space;
	vm->sys_size = KM_ROUND_UP(KM_SYS_PT_POOL + km_pt_pool_size(space), KM_LARGE_PAGE);
	vm->phys_size = vm->sys_size + space + KM_LARGE_PAGE; /* the high window's shift */
	vm->mem = mmap(NULL, vm->phys_size, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->mem == MAP_FAILED)
		km_die(1, "km: cannot reserve %lu MiB for guest memory: %s",
		       (unsigned long)(vm->phys_size >> 20), strerror(errno));
	if (mprotect(vm->mem, vm->sys_size, PROT_READ | PROT_WRITE) != 0)
		km_die(1, "km: cannot set up guest memory: %s", strerror(errno));
	/* km touches the system area a page here and there: no 2 MiB host pages. */
	madvise(vm->mem, vm->sys_size, MADV_NOHUGEPAGE);
	km_pt_init(vm);
	vm->need_lo = vm->sys_size;
	vm->need_hi = vm->slot_hi = vm->phys_size;
}

/*
 * Linux grows a stack a page at a time, where km reserves it whole: a 2 MiB
 * host page behind it would count up to 2 MiB the program never touched.
 */
void km_mem_no_huge_pages(struct km_vm *vm, uint64_t gva, uint64_t len)
{
	uint64_t gpa;

	if (km_gva_to_gpa(vm, gva, &gpa))
		madvise(vm->mem + gpa, len, MADV_NOHUGEPAGE);
}

void *km_sys(struct km_vm *vm, uint64_t off)
{
	return vm->mem + off;
}

/*
 * The low window starts at the pool's start; the high window, whose top
 * KM_TOP is a page short of 2 MiB alignment, a page short of 2 MiB above it,
 * so that in both a 2 MiB aligned guest address is a 2 MiB aligned
 * guest-physical one (the page tables' large pages).
 */
bool km_gva_to_gpa(const struct km_vm *vm, uint64_t gva, uint64_t *gpa)
{
	if (gva < vm->space) {
		*gpa = vm->sys_size + gva;
		return true;
	}
	if (gva >= KM_TOP - vm->space && gva < KM_TOP) {
		*gpa = vm->sys_size + gva - (KM_TOP - vm->space) + KM_LARGE_PAGE - KM_PAGE_SIZE;
		return true;
	}
	return false;
}

static int host_prot(int prot)
{
	if (prot == PROT_NONE)
		return PROT_NONE;
	return prot & PROT_WRITE ? PROT_READ | PROT_WRITE : PROT_READ;
}

/* The rights both a and b give, as page tables hold them: what the guest keeps while one becomes the other. */
int km_prot_common(int a, int b)
{
	if (a == PROT_NONE || b == PROT_NONE)
		return PROT_NONE;
	return PROT_READ | (a & b & (PROT_WRITE | PROT_EXEC));
}

/* KVM sees [gva, gva+len) before the guest may touch it: 0, or -ENOMEM if KVM will not. */
int km_mem_cover(struct km_vm *vm, uint64_t gva, uint64_t len)
{
	uint64_t gpa, lo = vm->need_lo, hi = vm->need_hi;

	if (len == 0 || !km_gva_to_gpa(vm, gva, &gpa))
		return 0;
	len = KM_ROUND_UP(len, KM_PAGE_SIZE);
	if (gva < vm->space && gpa + len > vm->need_lo)
		vm->need_lo = gpa + len;
	else if (gva >= vm->space && gpa < vm->need_hi)
		vm->need_hi = gpa;
	if (km_kvm_cover(vm))
		return 0;
	vm->need_lo = lo;
	vm->need_hi = hi;
	return -ENOMEM;
}

/*
 * km's host mapping of guest memory, changed for the guest's requests. Each
 * function below is one host call (two for a round trip through PROT_NONE)
 * and gives 0 or -errno; vma.c orders them so that a failure leaves the
 * guest's memory as it was (see the fences below).
 */
static uint8_t *host_of(struct km_vm *vm, uint64_t gva)
{
	uint64_t gpa;

	if (!km_gva_to_gpa(vm, gva, &gpa))
		km_die(1, "km: internal: guest address 0x%lx outside guest memory", (unsigned long)gva);
	return vm->mem + gpa;
}

#define RESERVED (MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE)

/*
 * After a failed mapping call over [at, at+len): if the kernel had already
 * unmapped the range, it becomes reserved memory again (so no other mapping
 * of km's lands inside guest memory) and *gone says the old one is gone.
 */
static int refill(uint8_t *at, uint64_t len, int err, bool *gone)
{
	if (mmap(at, len, PROT_NONE, RESERVED | MAP_FIXED_NOREPLACE, -1, 0) != MAP_FAILED)
		*gone = true;
	else if (errno != EEXIST)
		km_die(1, "km: cannot keep guest memory reserved: %s", strerror(errno));
	return err;
}

/*
 * [gva, gva+len) mapped afresh: anonymous memory (fd < 0) or the file, with
 * km's side of the guest's rights prot. When the new mapping cannot be
 * made, the kernel keeps what was there if it failed for want of maps
 * (before it unmapped anything), and since 6.12 whatever the reason, except
 * when a file's own mmap fails after the old pages were cleared. A range
 * left unmapped is filled with reserved memory at once, so that nothing
 * else of km's lands in guest memory, and *gone says the old pages are lost.
 */
int km_host_map(struct km_vm *vm, uint64_t gva, uint64_t len, int prot, int flags, int fd,
		uint64_t off, bool *gone)
{
	uint8_t *at = host_of(vm, gva);
	int how = fd < 0 ? RESERVED : flags & MAP_SHARED ? MAP_SHARED : MAP_PRIVATE;

	*gone = false;
	if (mmap(at, len, host_prot(prot), how | MAP_FIXED, fd, (off_t)off) != MAP_FAILED)
		return 0;
	return refill(at, len, -errno, gone);
}

/*
 * km_host_map for the System V segment shmid, attached over [gva, gva+len).
 * The host attaches it where it likes, and exactly len bytes of that move
 * into guest memory: len came from the segment's size, which another
 * segment may have by the time of the attach (its id freed and given out
 * again meanwhile), and a larger one attached in place would cover memory
 * past the guest's. What is left over is detached; a smaller one fails.
 */
int km_host_shmat(struct km_vm *vm, uint64_t gva, uint64_t len, int shmid, int prot, bool *gone)
{
	uint8_t *at = host_of(vm, gva);
	void *host = shmat(shmid, NULL, prot & PROT_WRITE ? 0 : SHM_RDONLY);

	*gone = false;
	if (host == (void *)-1)
		return -errno;
	void *moved = mremap(host, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, at);
	int err = moved == MAP_FAILED ? (errno == EFAULT ? -EINVAL : -errno) : 0;
	shmdt(host); /* what is left at host, if anything */
	return err ? refill(at, len, err, gone) : 0;
}

/*
 * Taking rights away goes through km's mapping so that KVM forgets its
 * translations on every vCPU (the kernel's mprotect tells KVM through its
 * MMU notifier); a round trip through PROT_NONE does it where km's mapping
 * itself does not change (execute). Before the first vCPU (loading the
 * program) there is nothing to forget.
 */
static bool round_trip(const struct km_vm *vm, int old, int new)
{
	return vm->nvcpu > 0 && host_prot(new) != PROT_NONE &&
	       km_pte_bits(km_prot_common(old, new), true) != km_pte_bits(old, true);
}

/* Whether the guest's rights going from old to new needs km_host_protect to do anything. */
bool km_host_differs(const struct km_vm *vm, int old, int new)
{
	return host_prot(old) != host_prot(new) || round_trip(vm, old, new);
}

/*
 * km's mapping of [gva, gva+len) from the guest's rights old to new. One
 * mprotect is atomic only on a range that is one host mapping: see
 * km_host_fence.
 */
int km_host_protect(struct km_vm *vm, uint64_t gva, uint64_t len, int old, int new)
{
	uint8_t *at = host_of(vm, gva);

	if (!km_host_differs(vm, old, new))
		return 0;
	if (!round_trip(vm, old, new))
		return mprotect(at, len, host_prot(new)) == 0 ? 0 : -errno;
	__atomic_fetch_add(&vm->trips_begun, 1, __ATOMIC_SEQ_CST);
	int rc = mprotect(at, len, PROT_NONE) == 0 && mprotect(at, len, host_prot(new)) == 0 ? 0 : -errno;
	__atomic_fetch_add(&vm->trips_ended, 1, __ATOMIC_SEQ_CST);
	return rc;
}

/* Where the round trips stand: taken before KVM_RUN, for km_mem_tripped. */
uint64_t km_mem_trips(struct km_vm *vm)
{
	return __atomic_load_n(&vm->trips_ended, __ATOMIC_SEQ_CST);
}

/*
 * Whether KVM_RUN's EFAULT may have come from a round trip (another vCPU
 * touched the range in its PROT_NONE moment, which the guest's page tables
 * allow): one ended since `since`, or one is under way, waited out here.
 * Then the guest's access is only made again; otherwise km could not back
 * it at all.
 */
bool km_mem_tripped(struct km_vm *vm, uint64_t since)
{
	uint64_t begun = __atomic_load_n(&vm->trips_begun, __ATOMIC_SEQ_CST);
	uint64_t ended = __atomic_load_n(&vm->trips_ended, __ATOMIC_SEQ_CST);

	if (begun == ended)
		return ended != since;
	while (__atomic_load_n(&vm->trips_ended, __ATOMIC_SEQ_CST) < begun)
		sched_yield();
	return true;
}

/* km's mapping of [gva, gva+len) back to the guest's rights prot, whatever a failed change did. */
int km_host_restore(struct km_vm *vm, uint64_t gva, uint64_t len, int prot)
{
	return mprotect(host_of(vm, gva), len, host_prot(prot)) == 0 ? 0 : -errno;
}

/*
 * The host pages of [from, from+len) moved to [to, to+len), none copied.
 * MREMAP_DONTUNMAP leaves the source mapped (and empty), so no hole opens
 * in guest memory for another of km's mappings to fall into; the caller
 * maps it afresh. The kernel refuses a move up front, changing nothing,
 * when the process is a few maps short of vm.max_map_count.
 */
int km_host_move(struct km_vm *vm, uint64_t from, uint64_t to, uint64_t len)
{
	void *rc = mremap(host_of(vm, from), len, len,
			  MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP, host_of(vm, to));
	return rc == MAP_FAILED ? -errno : 0;
}

/*
 * A fence makes [gva, gva+len) host mappings of their own, which no
 * neighbour merges with: MADV_RANDOM, or MADV_SEQUENTIAL for mark 1 so that
 * two fenced neighbours stay apart (a readahead hint and nothing else, and
 * km sets neither otherwise). A host call on exactly a fenced range then
 * needs no split, so it cannot fail for want of a map (vm.max_map_count),
 * and it can be undone by its inverse, which needs none either. A fence
 * itself can fail (EAGAIN at the map count): it is then taken down.
 */
int km_host_fence(struct km_vm *vm, uint64_t gva, uint64_t len, int mark)
{
	uint8_t *at = host_of(vm, gva);

	if (madvise(at, len, mark ? MADV_SEQUENTIAL : MADV_RANDOM) == 0)
		return 0;
	madvise(at, len, MADV_NORMAL);
	return -ENOMEM;
}

/* Fenced mappings merge back with their neighbours, which takes no new map. */
void km_host_unfence(struct km_vm *vm, uint64_t gva, uint64_t len)
{
	madvise(host_of(vm, gva), len, MADV_NORMAL);
}

static bool prot_allows(int have, int want)
{
	if (want == PROT_NONE)
		return true;
	if (have == PROT_NONE)
		return false;
	return !(want & PROT_WRITE) || (have & PROT_WRITE);
}

/*
 * The host address of guest range [gva, gva+len) if all of it is mapped with
 * the rights `prot` asks for (PROT_NONE: just mapped), else NULL: for host
 * calls to use, and for km's own guarded copies below.
 */
void *km_gva(struct km_vm *vm, uint64_t gva, uint64_t len, int prot)
{
	uint64_t gpa, end = gva + len;

	if (len == 0)
		return vm->mem + vm->sys_size;
	if (end < gva || !km_gva_to_gpa(vm, gva, &gpa))
		return NULL;
	pthread_rwlock_rdlock(&vm->mm_lock);
	for (uint64_t at = gva; at < end;) {
		const struct km_vma *v = km_vma_find(vm, at);
		if (v == NULL || !prot_allows(v->prot, prot)) {
			pthread_rwlock_unlock(&vm->mm_lock);
			return NULL;
		}
		at = v->end;
	}
	pthread_rwlock_unlock(&vm->mm_lock);
	uint64_t last;
	if (!km_gva_to_gpa(vm, end - 1, &last) || last - gpa != len - 1)
		return NULL;
	return vm->mem + gpa;
}

struct string_copy {
	char *dst;
	const char *src;
	size_t len;
	bool ended;
};

static void do_string_copy(void *arg)
{
	struct string_copy *c = arg;
	const char *nul = memchr(c->src, 0, c->len);
	if (nul)
		c->len = (size_t)(nul - c->src);
	memcpy(c->dst, c->src, c->len);
	c->ended = nul != NULL;
}

/*
 * A guest string of at most max bytes with its NUL, copied into km's dst
 * (max bytes): its length, or -EFAULT, or -ENAMETOOLONG with dst holding
 * the first max bytes. km works on the copy, so the guest cannot change the
 * string between km's checks and its use.
 */
long km_string_in(struct km_vm *vm, char *dst, uint64_t gva, size_t max)
{
	size_t done = 0;

	while (done < max) {
		uint64_t at = gva + done;
		size_t chunk = KM_PAGE_SIZE - (at & (KM_PAGE_SIZE - 1));
		if (chunk > max - done)
			chunk = max - done;
		struct string_copy c = { dst + done, km_gva(vm, at, chunk, PROT_READ), chunk, false };
		if (c.src == NULL || !km_guarded(do_string_copy, &c))
			return -EFAULT;
		done += c.len;
		if (c.ended) {
			dst[done] = 0;
			return (long)done;
		}
	}
	return -ENAMETOOLONG;
}

/*
 * km's own accesses to guest memory. Another vCPU can unmap a buffer while
 * km copies it, and a MAP_SHARED file mapped past its end raises SIGBUS, so
 * each access runs inside km_guarded: a SIGSEGV or SIGBUS at an address in
 * guest memory while a thread is there jumps back out, and the access gives
 * -EFAULT, as the kernel's own copies from user memory do. Any other fault
 * is a km bug and ends km, saying so, as does a SIGILL, SIGFPE or SIGTRAP of
 * km's own. Any of them that another process sent is no fault: it goes to
 * the guest (signal.c).
 */
static __thread sigjmp_buf *fault_exit;
static uint8_t *guest_lo, *guest_hi;

/* "0x" and 16 hex digits at p, for a handler that cannot call printf. */
static char *put_hex(char *p, uint64_t v)
{
	*p++ = '0';
	*p++ = 'x';
	for (int shift = 60; shift >= 0; shift -= 4)
		*p++ = "0123456789abcdef"[(v >> shift) & 15];
	return p;
}

static char *put_str(char *p, const char *s)
{
	while (*s)
		*p++ = *s++;
	return p;
}

static void on_fault(int sig, siginfo_t *si, void *uc)
{
	extern const char __ehdr_start[]; /* where km is loaded: its addresses for addr2line */
	uint8_t *addr = si->si_addr;
	if (si->si_code <= 0) { /* sent by a process, not a fault: the guest's signal */
		km_signal_sent(si);
		return;
	}
	if ((sig == SIGSEGV || sig == SIGBUS) && fault_exit && addr >= guest_lo && addr < guest_hi)
		siglongjmp(*fault_exit, 1);
	static const char *const names[] = { [SIGSEGV] = "SIGSEGV", [SIGBUS] = "SIGBUS",
					      [SIGILL] = "SIGILL", [SIGFPE] = "SIGFPE",
					      [SIGTRAP] = "SIGTRAP" };
	uint64_t rip = (uint64_t)((ucontext_t *)uc)->uc_mcontext.gregs[REG_RIP];
	char msg[160], *p = msg;
	p = put_str(put_str(p, "km: internal error: "), names[sig]);
	p = put_hex(put_str(p, " at address "), (uint64_t)addr);
	p = put_hex(put_str(p, ", km offset "), rip - (uint64_t)__ehdr_start);
	p = put_str(p, ": a fault in km itself (a km bug)\n");
	km_write_err(msg, (size_t)(p - msg));
	km_die_by_signal(sig);
}

/* Once, before any vCPU runs. SA_NODEFER: a jump out leaves the signal unblocked. */
void km_guest_faults_init(struct km_vm *vm)
{
	struct sigaction sa = { .sa_sigaction = on_fault, .sa_flags = SA_SIGINFO | SA_NODEFER };

	guest_lo = vm->mem;
	guest_hi = vm->mem + vm->phys_size;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	/* Never km's to take from guest memory, but km's own faults all the same, or sent ones. */
	sigaction(SIGILL, &sa, NULL);
	sigaction(SIGFPE, &sa, NULL);
	sigaction(SIGTRAP, &sa, NULL);
}

/* Runs access(arg), which touches guest memory: false if it faulted there. */
bool km_guarded(void (*access)(void *), void *arg)
{
	sigjmp_buf here;
	sigjmp_buf *outer = fault_exit;

	if (sigsetjmp(here, 0)) {
		fault_exit = outer;
		return false;
	}
	fault_exit = &here;
	access(arg);
	fault_exit = outer;
	return true;
}

struct copy {
	void *dst;
	const void *src;
	size_t len;
};

static void do_copy(void *arg)
{
	struct copy *c = arg;
	memcpy(c->dst, c->src, c->len);
}

/*
 * What ptrace's POKE does: the write goes through km's mapping even where
 * the guest may not write (code), which becomes writable for it one page at
 * a time (a private file mapping gets its own copy of the page; a shared
 * mapping of a file opened read-only refuses, as Linux refuses a debugger).
 * Under the address-space lock, so that no guest call remaps meanwhile.
 */
int km_debug_poke(struct km_vm *vm, uint64_t gva, const void *src, size_t len)
{
	int err = 0;

	if (gva + len < gva || km_gva(vm, gva, len, PROT_NONE) == NULL)
		return -EFAULT;
	pthread_rwlock_wrlock(&vm->mm_lock);
	for (uint64_t at = gva; at < gva + len && !err;) {
		const struct km_vma *v = km_vma_find(vm, at);
		uint64_t page = KM_ROUND_DOWN(at, KM_PAGE_SIZE);
		uint64_t n = page + KM_PAGE_SIZE - at < gva + len - at ? page + KM_PAGE_SIZE - at : gva + len - at;
		uint8_t *host = host_of(vm, page);
		bool open = v && (v->prot & PROT_WRITE);
		if (v == NULL)
			err = -EFAULT;
		else if (!open && mprotect(host, KM_PAGE_SIZE, PROT_READ | PROT_WRITE) != 0)
			err = -errno;
		if (!err) {
			struct copy c = { host + (at - page), (const uint8_t *)src + (at - gva), n };
			if (!km_guarded(do_copy, &c))
				err = -EFAULT;
			if (!open && mprotect(host, KM_PAGE_SIZE, host_prot(v->prot)) != 0)
				km_die(1, "km: cannot restore the rights of a page gdb wrote: %s", strerror(errno));
		}
		at += n;
	}
	pthread_rwlock_unlock(&vm->mm_lock);
	return err;
}

/* len bytes of the guest's at gva into km's dst: 0 or -EFAULT. */
int km_copy_in(struct km_vm *vm, void *dst, uint64_t gva, size_t len)
{
	struct copy c = { dst, km_gva(vm, gva, len, PROT_READ), len };
	return c.src && km_guarded(do_copy, &c) ? 0 : -EFAULT;
}

/* len bytes of km's src to the guest at gva: 0 or -EFAULT. */
int km_copy_out(struct km_vm *vm, uint64_t gva, const void *src, size_t len)
{
	struct copy c = { km_gva(vm, gva, len, PROT_WRITE), src, len };
	return c.dst && km_guarded(do_copy, &c) ? 0 : -EFAULT;
}

struct word {
	uint64_t *at;
	uint64_t value;
};

static void do_store(void *arg)
{
	struct word *w = arg;
	__atomic_store_n(w->at, w->value, __ATOMIC_RELEASE);
}

/*
 * One aligned 8-byte store to the guest at gva, after every earlier write
 * of km's: 0 or -EFAULT. For a word a running guest reads while km writes:
 * memcpy may store a word twice (an 8-byte copy as two overlapping ones),
 * and a guest that acts on the first can see the second land later.
 */
int km_store_word(struct km_vm *vm, uint64_t gva, uint64_t value)
{
	struct word w = { km_gva(vm, gva, sizeof(value), PROT_WRITE), value };
	return gva % sizeof(value) == 0 && w.at && km_guarded(do_store, &w) ? 0 : -EFAULT;
}
