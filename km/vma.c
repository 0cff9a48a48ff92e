/*
 * The guest's address space: which ranges are mapped, with what rights.
 * The low window holds the image and brk, the high window the stack and
 * mmap; both draw on one physical pool, so each only grows while it stays
 * clear of the other's pages.
 *
 * Each change is all or nothing: the guest's page tables, this list and
 * km's host mapping of guest memory change together or stay as they were,
 * and a host call that fails gives its errno to the guest (ENOMEM when the
 * host's map count, vm.max_map_count, runs out), as Linux's own calls do.
 * The guest's RLIMIT_AS and RLIMIT_DATA are enforced here, by Linux's rules, and
 * the memory limit on what it commits, as Linux's strict overcommit counts it.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <unistd.h>

#include "km.h"

static uint64_t max_u64(uint64_t a, uint64_t b) { return a > b ? a : b; }
static uint64_t min_u64(uint64_t a, uint64_t b) { return a < b ? a : b; }

enum window { WIN_NONE, WIN_LOW, WIN_HIGH };

/*
 * The one check of a range the guest names: [addr, addr + len) rounded out
 * to pages lies in the user address space [0, KM_TOP), as Linux's TASK_SIZE,
 * and its page-rounded end is *end. Nothing here can wrap: addr + len is at
 * most KM_TOP, which is page aligned.
 */
bool km_user_range(uint64_t addr, uint64_t len, uint64_t *end)
{
	if (addr > KM_TOP || len > KM_TOP - addr)
		return false;
	*end = KM_ROUND_UP(addr + len, KM_PAGE_SIZE);
	return true;
}

static enum window window_of(const struct km_vm *vm, uint64_t start, uint64_t end)
{
	if (end <= start)
		return WIN_NONE;
	if (end <= vm->space)
		return WIN_LOW;
	if (start >= KM_TOP - vm->space && end <= KM_TOP)
		return WIN_HIGH;
	return WIN_NONE;
}

/* Guest-physical [lo, hi) of a range inside one window. */
static void phys_range(const struct km_vm *vm, uint64_t start, uint64_t end, uint64_t *lo,
		       uint64_t *hi)
{
	if (!km_gva_to_gpa(vm, start, lo))
		*lo = end = start;
	*hi = *lo + (end - start);
}

static bool phys_clear(const struct km_vm *vm, uint64_t start, uint64_t end)
{
	enum window w = window_of(vm, start, end);
	uint64_t lo, hi;

	phys_range(vm, start, end, &lo, &hi);
	for (size_t i = 0; i < vm->nvma; i++) {
		const struct km_vma *v = &vm->vmas[i];
		if (window_of(vm, v->start, v->end) == w)
			continue;
		uint64_t vlo, vhi;
		phys_range(vm, v->start, v->end, &vlo, &vhi);
		if (vlo < hi && lo < vhi)
			return false;
	}
	return true;
}

/* Index of the first vma that ends above gva. */
static size_t vma_index(const struct km_vm *vm, uint64_t gva)
{
	size_t lo = 0, hi = vm->nvma;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (vm->vmas[mid].end <= gva)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct km_vma *km_vma_find(const struct km_vm *vm, uint64_t gva)
{
	size_t i = vma_index(vm, gva);

	return i < vm->nvma && vm->vmas[i].start <= gva ? &vm->vmas[i] : NULL;
}

static bool range_free(const struct km_vm *vm, uint64_t start, uint64_t end)
{
	size_t i = vma_index(vm, start);

	return i == vm->nvma || vm->vmas[i].start >= end;
}

static void vma_insert_at(struct km_vm *vm, size_t i, struct km_vma v)
{
	if (vm->nvma == vm->vma_cap) {
		vm->vma_cap = vm->vma_cap ? vm->vma_cap * 2 : 64;
		vm->vmas = realloc(vm->vmas, vm->vma_cap * sizeof(*vm->vmas));
		if (vm->vmas == NULL)
			km_die(1, "km: out of memory");
	}
	memmove(&vm->vmas[i + 1], &vm->vmas[i], (vm->nvma - i) * sizeof(*vm->vmas));
	vm->vmas[i] = v;
	vm->nvma++;
}

static void vma_delete_at(struct km_vm *vm, size_t i)
{
	memmove(&vm->vmas[i], &vm->vmas[i + 1], (vm->nvma - i - 1) * sizeof(*vm->vmas));
	vm->nvma--;
}

/* Makes `at` a vma boundary if a vma spans it: whether it did. */
static bool vma_split(struct km_vm *vm, uint64_t at)
{
	size_t i = vma_index(vm, at);

	if (i < vm->nvma && vm->vmas[i].start < at) {
		struct km_vma tail = vm->vmas[i];
		tail.start = at;
		tail.off += at - vm->vmas[i].start;
		vm->vmas[i].end = at;
		vma_insert_at(vm, i + 1, tail);
		return true;
	}
	return false;
}

/* Undoes vma_split(at). */
static void vma_join(struct km_vm *vm, uint64_t at)
{
	size_t i = vma_index(vm, at);

	if (i > 0 && i < vm->nvma && vm->vmas[i - 1].end == at && vm->vmas[i].start == at) {
		vm->vmas[i - 1].end = vm->vmas[i].end;
		vma_delete_at(vm, i);
	}
}

/* Backed by a file or a System V segment: its pages are not km's to grow or merge. */
static bool file_backed(enum km_vma_kind kind)
{
	return kind == KM_VMA_FILE || kind == KM_VMA_SHM;
}

static bool vma_joinable(const struct km_vma *a, const struct km_vma *b)
{
	return a->end == b->start && a->prot == b->prot && a->kind == b->kind &&
	       a->shared == b->shared && !file_backed(a->kind) && a->name == 0 && b->name == 0;
}

/*
 * Joins neighbours that are the same mapping in all but extent, in one pass
 * that moves the rest of the list once: a change over thousands of vmas
 * (mprotect of a range split page by page) stays linear.
 */
static void vma_merge_around(struct km_vm *vm, uint64_t start, uint64_t end)
{
	size_t i = vma_index(vm, start), to, from;

	if (i > 0)
		i--;
	for (to = i, from = i + 1; from < vm->nvma && vm->vmas[to].start <= end; from++) {
		if (vma_joinable(&vm->vmas[to], &vm->vmas[from]))
			vm->vmas[to].end = vm->vmas[from].end;
		else
			vm->vmas[++to] = vm->vmas[from];
	}
	if (to + 1 < from) {
		memmove(&vm->vmas[to + 1], &vm->vmas[from], (vm->nvma - from) * sizeof(*vm->vmas));
		vm->nvma -= from - to - 1;
	}
}

static void vma_add(struct km_vm *vm, uint64_t start, uint64_t end, int prot,
		    enum km_vma_kind kind, bool shared, uint64_t off)
{
	vma_insert_at(vm, vma_index(vm, start),
		      (struct km_vma){ .start = start, .end = end, .prot = prot, .kind = kind,
				       .shared = shared, .off = off });
	vma_merge_around(vm, start, end);
}

/* Takes [start, end) out of the list; the caller has dealt with the memory. */
static void vma_drop(struct km_vm *vm, uint64_t start, uint64_t end)
{
	vma_split(vm, start);
	vma_split(vm, end);
	size_t i = vma_index(vm, start), n = 0;
	while (i + n < vm->nvma && vm->vmas[i + n].start < end)
		n++;
	if (n == 0)
		return; /* nothing listed there, maybe no list at all */
	memmove(&vm->vmas[i], &vm->vmas[i + n], (vm->nvma - i - n) * sizeof(*vm->vmas));
	vm->nvma -= n;
}

/* The name of path (dev, ino) for the maps file, kept once: 0 if km has no memory for it. */
static uint32_t intern_name(struct km_vm *vm, const char *path, uint64_t dev, uint64_t ino)
{
	for (uint32_t i = 0; i < vm->nnames; i++)
		if (vm->names[i].dev == dev && vm->names[i].ino == ino &&
		    strcmp(vm->names[i].path, path) == 0)
			return i + 1;
	if (vm->nnames == vm->names_cap) {
		uint32_t cap = vm->names_cap ? vm->names_cap * 2 : 16;
		struct km_mapname *grown = realloc(vm->names, cap * sizeof(*grown));
		if (grown == NULL)
			return 0;
		vm->names = grown;
		vm->names_cap = cap;
	}
	char *copy = strdup(path);
	if (copy == NULL)
		return 0;
	vm->names[vm->nnames] = (struct km_mapname){ copy, dev, ino };
	return ++vm->nnames;
}

/* The name of the file open on fd (km's host fd): its path as the host's /proc names it. */
uint32_t km_vma_name_of_fd(struct km_vm *vm, int fd)
{
	char link[32], path[PATH_MAX];
	struct stat st;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, path, sizeof(path) - 1);
	if (n <= 0 || fstat(fd, &st) != 0)
		return 0;
	path[n] = '\0';
	return intern_name(vm, path, st.st_dev, st.st_ino);
}

/* [start, end) maps the named file from off on (the loader's segments). */
void km_vma_set_name(struct km_vm *vm, uint64_t start, uint64_t end, uint32_t name, uint64_t off)
{
	vma_split(vm, start);
	vma_split(vm, end);
	for (size_t i = vma_index(vm, start); i < vm->nvma && vm->vmas[i].start < end; i++) {
		vm->vmas[i].name = name;
		vm->vmas[i].off = off + (vm->vmas[i].start - start);
	}
	vma_merge_around(vm, start, end);
}

/* The page tables of what the list maps in [start, end): cleared, or as the list says. */
static void pte_each(struct km_vm *vm, uint64_t start, uint64_t end, bool as_listed)
{
	for (size_t i = vma_index(vm, start); i < vm->nvma && vm->vmas[i].start < end; i++) {
		const struct km_vma *v = &vm->vmas[i];
		uint64_t s = max_u64(v->start, start), e = min_u64(v->end, end);
		km_pte_set(vm, s, e - s, as_listed ? v->prot : PROT_NONE);
	}
}

static void pte_clear(struct km_vm *vm, uint64_t start, uint64_t end)
{
	pte_each(vm, start, end, false);
}

static void pte_restore(struct km_vm *vm, uint64_t start, uint64_t end)
{
	pte_each(vm, start, end, true);
}

/* Linux's is_data_mapping: what RLIMIT_DATA counts (since 4.7). */
static bool is_data(int prot, bool shared, enum km_vma_kind kind)
{
	return (prot & PROT_WRITE) && !shared && kind != KM_VMA_STACK;
}

/*
 * What Linux's strict overcommit charges, which km charges against the
 * memory limit: private writable memory and shared anonymous memory. A
 * reservation (PROT_NONE) and a read-only or shared file cost nothing.
 */
static bool is_committed(int prot, bool shared, enum km_vma_kind kind)
{
	return shared ? !file_backed(kind) : (prot & PROT_WRITE) != 0;
}

/* Pages mapped: all of them, those that are data, those committed. */
struct usage {
	uint64_t total, data, committed;
};

static void usage_add(struct usage *u, int prot, bool shared, enum km_vma_kind kind, uint64_t n)
{
	u->total += n;
	u->data += is_data(prot, shared, kind) ? n : 0;
	u->committed += is_committed(prot, shared, kind) ? n : 0;
}

static struct usage usage_of(const struct km_vm *vm, uint64_t start, uint64_t end)
{
	struct usage u = { 0, 0, 0 };

	for (size_t i = vma_index(vm, start); i < vm->nvma && vm->vmas[i].start < end; i++) {
		const struct km_vma *v = &vm->vmas[i];
		usage_add(&u, v->prot, v->shared, v->kind,
			  (min_u64(v->end, end) - max_u64(v->start, start)) / KM_PAGE_SIZE);
	}
	return u;
}

/*
 * The limits bind the program's own calls, not km loading it (before its
 * first vCPU), as exec maps a program whatever they say.
 */
static bool limited(const struct km_vm *vm)
{
	return vm->nvcpu > 0;
}

/*
 * Linux's may_expand_vm against the guest's limits, and its strict
 * overcommit check against the memory limit: may the pages `more` be
 * mapped beside those `now`? A soft RLIMIT_DATA of 0 under a hard limit
 * that allows them lets them through, as Linux does for Valgrind.
 */
static bool may_expand_with(const struct km_vm *vm, const struct usage *now, const struct usage *more)
{
	const struct rlimit *as = &vm->rlim[RLIMIT_AS], *dl = &vm->rlim[RLIMIT_DATA];

	if (now->committed + more->committed > vm->mem_limit / KM_PAGE_SIZE)
		return false;
	if (now->total + more->total > as->rlim_cur / KM_PAGE_SIZE)
		return false;
	if (more->data && now->data + more->data > dl->rlim_cur / KM_PAGE_SIZE)
		return dl->rlim_cur == 0 && now->data + more->data <= dl->rlim_max / KM_PAGE_SIZE;
	return true;
}

/* May n more pages with these rights be mapped? */
static bool may_expand(const struct km_vm *vm, int prot, bool shared, enum km_vma_kind kind,
		       uint64_t n)
{
	struct usage more = { 0, 0, 0 };

	if (!limited(vm))
		return true;
	usage_add(&more, prot, shared, kind, n);
	struct usage now = usage_of(vm, 0, KM_TOP);
	return may_expand_with(vm, &now, &more);
}

/*
 * May [start, end) be mapped with these rights? What it replaces is given
 * back first, as Linux counts it.
 */
static bool may_replace(const struct km_vm *vm, uint64_t start, uint64_t end, int prot, bool shared,
			enum km_vma_kind kind)
{
	if (!limited(vm))
		return true;
	struct usage now = usage_of(vm, 0, KM_TOP), gone = usage_of(vm, start, end);
	struct usage more = { 0, 0, 0 };
	now.total -= gone.total;
	now.data -= gone.data;
	now.committed -= gone.committed;
	usage_add(&more, prot, shared, kind, (end - start) / KM_PAGE_SIZE);
	return may_expand_with(vm, &now, &more);
}

/*
 * Maps [start, end) afresh for the guest, replacing what it had there:
 * anonymous memory (fd < 0), the file fd at off, or with KM_VMA_SHM the
 * System V segment whose id fd is.
 */
static long place(struct km_vm *vm, uint64_t start, uint64_t end, int prot, int flags, int fd,
		  uint64_t off, enum km_vma_kind kind)
{
	uint64_t len = end - start;
	bool gone;
	long rc = prot == PROT_NONE ? 0 : km_mem_cover(vm, start, len);

	if (rc < 0)
		return rc;
	pte_clear(vm, start, end);
	if (kind == KM_VMA_SHM)
		rc = km_host_shmat(vm, start, len, fd, prot, &gone);
	else
		rc = km_host_map(vm, start, len, prot, flags, fd, off, &gone);
	if (rc < 0) {
		if (gone)
			vma_drop(vm, start, end); /* as Linux, whose unmap of the range completed */
		else
			pte_restore(vm, start, end);
		return rc;
	}
	vma_drop(vm, start, end);
	km_pte_set(vm, start, len, prot);
	vma_add(vm, start, end, prot, kind, flags & MAP_SHARED, fd < 0 ? 0 : off);
	return 0;
}

/*
 * Unmaps [start, end): its host memory becomes fresh reserved memory, one
 * host call per window it touches. A range in both windows (a huge munmap)
 * is fenced first, so that the second call cannot fail once the first has
 * dropped pages.
 */
static long unmap_range(struct km_vm *vm, uint64_t start, uint64_t end)
{
	uint64_t lo[2] = { UINT64_MAX, UINT64_MAX }, hi[2] = { 0, 0 };
	int windows = 0;
	long rc = 0;

	if (start >= end) /* mremap to the same length: nothing to release */
		return 0;
	for (size_t i = vma_index(vm, start); i < vm->nvma && vm->vmas[i].start < end; i++) {
		const struct km_vma *v = &vm->vmas[i];
		int w = window_of(vm, v->start, v->end) == WIN_LOW ? 0 : 1;
		lo[w] = min_u64(lo[w], max_u64(v->start, start));
		hi[w] = max_u64(hi[w], min_u64(v->end, end));
	}
	windows = (hi[0] != 0) + (hi[1] != 0);
	if (windows == 0)
		return 0;
	pte_clear(vm, start, end);
	if (windows == 2 && (rc = km_host_fence(vm, lo[0], hi[0] - lo[0], 0)) == 0 &&
	    (rc = km_host_fence(vm, lo[1], hi[1] - lo[1], 0)) < 0)
		km_host_unfence(vm, lo[0], hi[0] - lo[0]);
	for (int w = 0; w < 2 && rc == 0; w++) {
		bool gone;
		if (hi[w] == 0)
			continue;
		rc = km_host_map(vm, lo[w], hi[w] - lo[w], PROT_NONE, MAP_PRIVATE, -1, 0, &gone);
		if (rc < 0 && windows == 2) {
			if (w == 1)
				km_die(1, "km: cannot release guest memory: %s", strerror((int)-rc));
			km_host_unfence(vm, lo[0], hi[0] - lo[0]);
			km_host_unfence(vm, lo[1], hi[1] - lo[1]);
		}
	}
	if (rc < 0) {
		pte_restore(vm, start, end);
		return rc;
	}
	vma_drop(vm, start, end);
	return 0;
}

/* Top-down search of the high window for len free bytes. */
static uint64_t find_free(const struct km_vm *vm, uint64_t len)
{
	uint64_t floor = KM_TOP - vm->space;
	uint64_t hi = vm->mmap_top;
	size_t i = vma_index(vm, hi);

	/* A mapping that mremap grew in place past mmap_top ends the first gap. */
	if (i < vm->nvma && vm->vmas[i].start < hi)
		hi = vm->vmas[i].start;
	for (;;) {
		uint64_t lo = floor;
		if (i > 0 && vm->vmas[i - 1].end > floor)
			lo = vm->vmas[i - 1].end;
		if (hi - lo >= len && phys_clear(vm, hi - len, hi))
			return hi - len;
		if (i == 0 || vm->vmas[i - 1].end <= floor)
			return 0;
		i--;
		hi = vm->vmas[i].start;
	}
}

long km_mmap(struct km_vm *vm, uint64_t addr, uint64_t len, int prot, int flags, int fd,
	     uint64_t off, enum km_vma_kind kind)
{
	bool fixed = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE);
	bool anon = flags & MAP_ANONYMOUS;

	if (len == 0 || (addr & ~KM_PAGE_MASK && fixed) || (!anon && off & ~KM_PAGE_MASK))
		return -EINVAL;
	if (!(flags & (MAP_SHARED | MAP_PRIVATE | MAP_SHARED_VALIDATE)))
		return -EINVAL;
	uint64_t start = 0, end;
	if (!km_user_range(0, len, &len) || len > vm->space)
		return -ENOMEM;
	if (!anon && !km_fd_ok(vm, fd))
		return -EBADF;

	if (fixed) {
		if (!km_user_range(addr, len, &end) || window_of(vm, addr, end) == WIN_NONE ||
		    !phys_clear(vm, addr, end))
			return -ENOMEM;
		if (!range_free(vm, addr, end) && (flags & MAP_FIXED_NOREPLACE))
			return -EEXIST;
		start = addr;
	} else {
		addr &= KM_PAGE_MASK;
		if (addr && km_user_range(addr, len, &end) && window_of(vm, addr, end) != WIN_NONE &&
		    range_free(vm, addr, end) && phys_clear(vm, addr, end))
			start = addr;
		else if ((start = find_free(vm, len)) == 0)
			return -ENOMEM;
	}
	end = start + len;
	if (!anon)
		kind = KM_VMA_FILE;
	if (!may_replace(vm, start, end, prot, flags & MAP_SHARED, kind))
		return -ENOMEM;
	long rc = place(vm, start, end, prot, flags, anon ? -1 : fd, off, kind);
	if (rc < 0)
		return rc;
	if (!anon)
		km_vma_set_name(vm, start, end, km_vma_name_of_fd(vm, fd), off);
	return (long)start;
}

long km_munmap(struct km_vm *vm, uint64_t addr, uint64_t len)
{
	uint64_t end;

	if (addr & ~KM_PAGE_MASK || len == 0 || !km_user_range(addr, len, &end))
		return -EINVAL;
	return unmap_range(vm, addr, end);
}

static bool fully_mapped(const struct km_vm *vm, uint64_t start, uint64_t end)
{
	for (uint64_t at = start; at < end;) {
		const struct km_vma *v = km_vma_find(vm, at);
		if (v == NULL)
			return false;
		at = v->end;
	}
	return true;
}

/*
 * Linux's checks when mprotect makes memory writable: a vma that becomes
 * data must fit RLIMIT_DATA (may_expand_vm fails with the new rights and
 * passes with the old), and one that becomes committed the memory limit,
 * counted vma by vma as mprotect goes.
 */
static bool protect_may(const struct km_vm *vm, uint64_t start, uint64_t end, int prot)
{
	if (!limited(vm) || !(prot & PROT_WRITE))
		return true;
	struct usage now = usage_of(vm, 0, KM_TOP);
	for (size_t i = vma_index(vm, start); i < vm->nvma && vm->vmas[i].start < end; i++) {
		const struct km_vma *v = &vm->vmas[i];
		uint64_t n = (min_u64(v->end, end) - max_u64(v->start, start)) / KM_PAGE_SIZE;
		struct usage was = { 0, 0, 0 }, will = { 0, 0, 0 };
		usage_add(&was, v->prot, v->shared, v->kind, n);
		usage_add(&will, prot, v->shared, v->kind, n);
		uint64_t charge = will.committed - was.committed; /* it only grows: prot writes */
		if (now.committed + charge > vm->mem_limit / KM_PAGE_SIZE)
			return false;
		was.committed = will.committed = 0;
		if (!may_expand_with(vm, &now, &will) && may_expand_with(vm, &now, &was))
			return false;
		now.data = now.data - was.data + will.data;
		now.committed += charge;
	}
	return true;
}

/*
 * The rights prot on the contiguous vmas v[0..n). Until km's host mapping
 * has them, the guest's page tables give only what the old and new rights
 * share. Each vma whose host mapping changes is fenced first, neighbours
 * with different marks, so that each host call needs no new map and can be
 * undone; a failure puts back the old rights everywhere.
 */
static long protect_vmas(struct km_vm *vm, const struct km_vma *v, size_t n, int prot)
{
	uint64_t start = v[0].start, end = v[n - 1].end;
	bool fenced = false;
	size_t touched = 0; /* vmas whose host mapping may have changed */
	long rc = prot == PROT_NONE ? 0 : km_mem_cover(vm, start, end - start);

	for (size_t i = 0; i < n && rc == 0; i++) {
		if (km_host_differs(vm, v[i].prot, prot)) {
			rc = km_host_fence(vm, v[i].start, v[i].end - v[i].start, (int)(i & 1));
			fenced = true;
		}
	}
	if (rc == 0) {
		for (size_t i = 0; i < n; i++)
			km_pte_set(vm, v[i].start, v[i].end - v[i].start, km_prot_common(v[i].prot, prot));
		while (touched < n && rc == 0) {
			const struct km_vma *t = &v[touched++];
			rc = km_host_protect(vm, t->start, t->end - t->start, t->prot, prot);
		}
	}
	if (rc < 0) {
		/* The one that failed may have gone half way (the PROT_NONE round trip). */
		for (size_t i = 0; i < touched; i++)
			if (km_host_differs(vm, v[i].prot, prot) &&
			    km_host_restore(vm, v[i].start, v[i].end - v[i].start, v[i].prot) < 0)
				km_die(1, "km: cannot restore guest memory rights after a failed change: %s",
				       strerror(errno));
		for (size_t i = 0; i < n && touched; i++)
			km_pte_set(vm, v[i].start, v[i].end - v[i].start, v[i].prot);
	} else {
		km_pte_set(vm, start, end - start, prot);
	}
	if (fenced)
		km_host_unfence(vm, start, end - start);
	return rc;
}

long km_mprotect(struct km_vm *vm, uint64_t addr, uint64_t len, int prot)
{
	uint64_t end;

	if (addr & ~KM_PAGE_MASK)
		return -EINVAL;
	if (len == 0)
		return 0;
	if (!km_user_range(addr, len, &end))
		return -ENOMEM; /* not mapped, as Linux says of a range that wraps or leaves user space */
	if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC))
		return -EINVAL;
	if (!fully_mapped(vm, addr, end) || !protect_may(vm, addr, end, prot))
		return -ENOMEM;
	bool split_lo = vma_split(vm, addr), split_hi = vma_split(vm, end);
	size_t first = vma_index(vm, addr), n = 0;
	while (first + n < vm->nvma && vm->vmas[first + n].start < end)
		n++;
	long rc = protect_vmas(vm, &vm->vmas[first], n, prot);
	if (rc < 0) {
		if (split_hi)
			vma_join(vm, end);
		if (split_lo)
			vma_join(vm, addr);
		return rc;
	}
	for (size_t i = 0; i < n; i++)
		vm->vmas[first + i].prot = prot;
	vma_merge_around(vm, addr, end);
	return 0;
}

/*
 * Moves the guest's [old, old+old_len) to the free range [dest,
 * dest+new_len) with the host's mremap, so no page is copied; what new_len
 * adds is fresh memory. Both ranges are fenced (with different marks, as
 * they may be neighbours) and the added part gets its rights first, so the
 * move, which the kernel refuses up front when maps run short, is the last
 * step that can fail, and each step before it can be undone.
 */
static long move_range(struct km_vm *vm, uint64_t old, uint64_t old_len, uint64_t dest,
		       uint64_t new_len, const struct km_vma *v)
{
	uint64_t keep = min_u64(old_len, new_len), added = new_len - keep;
	long rc = v->prot == PROT_NONE ? 0 : km_mem_cover(vm, dest, new_len);
	bool gone;

	if (rc < 0)
		return rc;
	pte_clear(vm, old, old + old_len);
	if ((rc = km_host_fence(vm, old, old_len, 0)) < 0)
		goto restore;
	if ((rc = km_host_fence(vm, dest, new_len, 1)) < 0)
		goto unfence_old;
	if (added && (rc = km_host_protect(vm, dest + keep, added, PROT_NONE, v->prot)) < 0)
		goto unfence;
	if ((rc = km_host_move(vm, old, dest, keep)) < 0) {
		if (added && km_host_restore(vm, dest + keep, added, PROT_NONE) < 0)
			km_die(1, "km: cannot give back guest memory: %s", strerror(errno));
		goto unfence;
	}
	if (km_host_map(vm, old, old_len, PROT_NONE, MAP_PRIVATE, -1, 0, &gone) < 0)
		km_die(1, "km: cannot release guest memory after a move: %s", strerror(errno));
	km_host_unfence(vm, dest, new_len);
	vma_drop(vm, old, old + old_len);
	km_pte_set(vm, dest, new_len, v->prot);
	vma_add(vm, dest, dest + new_len, v->prot, v->kind, v->shared, v->off);
	if (v->name)
		km_vma_set_name(vm, dest, dest + new_len, v->name, v->off);
	return 0;
unfence:
	km_host_unfence(vm, dest, new_len);
unfence_old:
	km_host_unfence(vm, old, old_len);
restore:
	pte_restore(vm, old, old + old_len);
	return rc == -EFAULT ? -ENOMEM : rc; /* a range km's host keeps in two pieces */
}

/*
 * Moves or grows a mapping. The new length and a fixed target are checked
 * as Linux checks them: a length that rounds to 0 or exceeds the user
 * address space, or a target range that leaves it, is EINVAL.
 */
long km_mremap(struct km_vm *vm, uint64_t old, uint64_t old_len, uint64_t new_len, int flags,
	       uint64_t new_addr)
{
	uint64_t dest_end = 0;

	if (old & ~KM_PAGE_MASK || flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED) ||
	    ((flags & MREMAP_FIXED) && !(flags & MREMAP_MAYMOVE)))
		return -EINVAL;
	if (new_len == 0 || !km_user_range(0, new_len, &new_len))
		return -EINVAL;
	if ((flags & MREMAP_FIXED) &&
	    (new_addr & ~KM_PAGE_MASK || !km_user_range(new_addr, new_len, &dest_end)))
		return -EINVAL;
	uint64_t old_end;
	const struct km_vma *v = km_vma_find(vm, old);
	if (v == NULL)
		return -EFAULT;
	/* An old length that rounds to 0 (km has no shared duplicates) or leaves user space. */
	if (KM_ROUND_UP(old_len, KM_PAGE_SIZE) == 0 || !km_user_range(old, old_len, &old_end))
		return -EINVAL;
	old_len = old_end - old;
	if (old_len > v->end - old)
		return -EFAULT;
	struct km_vma moved = *v;
	long rc;
	if (!(flags & MREMAP_FIXED)) {
		if (new_len <= old_len) {
			rc = unmap_range(vm, old + new_len, old + old_len);
			return rc < 0 ? rc : (long)old;
		}
		if (!may_expand(vm, moved.prot, moved.shared, moved.kind,
				(new_len - old_len) / KM_PAGE_SIZE))
			return -ENOMEM;
		uint64_t end = old + new_len;
		if (window_of(vm, old, end) != WIN_NONE && range_free(vm, old + old_len, end) &&
		    phys_clear(vm, old + old_len, end) && !file_backed(moved.kind)) {
			rc = place(vm, old + old_len, end, moved.prot,
				   moved.shared ? MAP_SHARED : MAP_PRIVATE, -1, 0, moved.kind);
			return rc < 0 ? rc : (long)old;
		}
		if (!(flags & MREMAP_MAYMOVE))
			return -ENOMEM;
	}
	uint64_t dest;
	if (flags & MREMAP_FIXED) {
		dest = new_addr;
		if (dest < old + old_len && old < dest_end)
			return -EINVAL;
		if (window_of(vm, dest, dest_end) == WIN_NONE || !phys_clear(vm, dest, dest_end))
			return -ENOMEM;
		/* Linux unmaps the target first, whatever happens next. */
		if ((rc = unmap_range(vm, dest, dest_end)) < 0)
			return rc;
		if (new_len > old_len && !may_expand(vm, moved.prot, moved.shared, moved.kind,
						     (new_len - old_len) / KM_PAGE_SIZE))
			return -ENOMEM;
	} else if ((dest = find_free(vm, new_len)) == 0) {
		return -ENOMEM;
	}
	rc = move_range(vm, old, old_len, dest, new_len, &moved);
	return rc < 0 ? rc : (long)dest;
}

/*
 * shmat: the System V segment shmid (size bytes) attached at addr, or where
 * mmap would put it, by Linux's rules for the address: SHM_RND rounds it
 * down, else it must be page aligned; without SHM_REMAP it must be free, and
 * SHM_REMAP needs one.
 */
long km_shmat(struct km_vm *vm, uint64_t addr, uint64_t size, int shmid, int shmflg)
{
	int prot = PROT_READ | (shmflg & SHM_RDONLY ? 0 : PROT_WRITE) |
		   (shmflg & SHM_EXEC ? PROT_EXEC : 0);
	uint64_t len, start, end;

	if (addr & ~KM_PAGE_MASK) {
		if (!(shmflg & SHM_RND))
			return -EINVAL;
		addr &= KM_PAGE_MASK;
	}
	if (addr == 0 && (shmflg & SHM_REMAP))
		return -EINVAL;
	if (!km_user_range(0, size, &len) || len == 0 || len > vm->space)
		return -ENOMEM;
	if (addr) {
		if (!km_user_range(addr, len, &end) || window_of(vm, addr, end) == WIN_NONE ||
		    !phys_clear(vm, addr, end))
			return -ENOMEM;
		if (!(shmflg & SHM_REMAP) && !range_free(vm, addr, end))
			return -EINVAL;
		start = addr;
	} else if ((start = find_free(vm, len)) == 0) {
		return -ENOMEM;
	}
	end = start + len;
	if (!may_replace(vm, start, end, prot, true, KM_VMA_SHM))
		return -ENOMEM;
	long rc = place(vm, start, end, prot, MAP_SHARED, shmid, 0, KM_VMA_SHM);
	return rc < 0 ? rc : (long)start;
}

/*
 * shmdt: detaches the segment attached at addr, as Linux finds it: the
 * mappings from the first one at or above addr whose offset in a segment is
 * its distance from addr, on through those that continue it.
 */
long km_shmdt(struct km_vm *vm, uint64_t addr)
{
	if (addr & ~KM_PAGE_MASK)
		return -EINVAL;
	size_t i = vma_index(vm, addr);
	if (i == vm->nvma || vm->vmas[i].kind != KM_VMA_SHM ||
	    vm->vmas[i].start - addr != vm->vmas[i].off)
		return -EINVAL;
	while (i + 1 < vm->nvma) {
		const struct km_vma *v = &vm->vmas[i], *next = v + 1;
		if (next->start != v->end || next->kind != KM_VMA_SHM ||
		    next->off != v->off + (v->end - v->start))
			break;
		i++;
	}
	return unmap_range(vm, addr, vm->vmas[i].end);
}

/*
 * A break that cannot be had leaves the old one, which is the result, as on
 * Linux; so does one past RLIMIT_DATA with the image's data, checked as
 * Linux's brk checks it, growing or not.
 */
long km_brk(struct km_vm *vm, uint64_t addr)
{
	uint64_t old_end = KM_ROUND_UP(vm->brk, KM_PAGE_SIZE), new_end;
	rlim_t data_limit = vm->rlim[RLIMIT_DATA].rlim_cur;

	if (addr < vm->brk_start || !km_user_range(addr, 0, &new_end))
		return (long)vm->brk;
	if (data_limit != RLIM_INFINITY && addr - vm->brk_start + vm->data_size > data_limit)
		return (long)vm->brk;
	if (new_end > old_end) {
		if (window_of(vm, old_end, new_end) != WIN_LOW || !range_free(vm, old_end, new_end) ||
		    !phys_clear(vm, old_end, new_end) ||
		    !may_expand(vm, PROT_READ | PROT_WRITE, false, KM_VMA_BRK,
				(new_end - old_end) / KM_PAGE_SIZE) ||
		    place(vm, old_end, new_end, PROT_READ | PROT_WRITE, MAP_PRIVATE, -1, 0,
			  KM_VMA_BRK) < 0)
			return (long)vm->brk;
	} else if (new_end < old_end && unmap_range(vm, new_end, old_end) < 0) {
		return (long)vm->brk;
	}
	vm->brk = addr;
	return (long)addr;
}
