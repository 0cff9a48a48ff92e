/*
 * The guest's address space: which ranges are mapped, with what rights.
 * The low window holds the image and brk, the high window the stack and
 * mmap; both draw on one physical pool, so each only grows while it stays
 * clear of the other's pages.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "km.h"

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
	if (end <= vm->mem_limit)
		return WIN_LOW;
	if (start >= KM_TOP - vm->mem_limit && end <= KM_TOP)
		return WIN_HIGH;
	return WIN_NONE;
}

/* Physical offsets [lo, hi) in the pool, for a range inside one window. */
static void phys_range(const struct km_vm *vm, uint64_t start, uint64_t end, uint64_t *lo,
		       uint64_t *hi)
{
	uint64_t base = window_of(vm, start, end) == WIN_LOW ? 0 : KM_TOP - vm->mem_limit;
	*lo = start - base;
	*hi = end - base;
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

/* Makes `at` a vma boundary if a vma spans it. */
static void vma_split(struct km_vm *vm, uint64_t at)
{
	size_t i = vma_index(vm, at);

	if (i < vm->nvma && vm->vmas[i].start < at) {
		struct km_vma tail = vm->vmas[i];
		tail.start = at;
		vm->vmas[i].end = at;
		vma_insert_at(vm, i + 1, tail);
	}
}

/* Joins neighbours that are the same mapping in all but extent. */
static void vma_merge_around(struct km_vm *vm, uint64_t start, uint64_t end)
{
	size_t i = vma_index(vm, start);

	if (i > 0)
		i--;
	while (i + 1 < vm->nvma && vm->vmas[i].start <= end) {
		struct km_vma *a = &vm->vmas[i], *b = &vm->vmas[i + 1];
		if (a->end == b->start && a->prot == b->prot && a->kind == b->kind &&
		    a->kind != KM_VMA_FILE) {
			a->end = b->end;
			vma_delete_at(vm, i + 1);
		} else {
			i++;
		}
	}
}

static void vma_add(struct km_vm *vm, uint64_t start, uint64_t end, int prot,
		    enum km_vma_kind kind)
{
	vma_insert_at(vm, vma_index(vm, start),
		      (struct km_vma){ .start = start, .end = end, .prot = prot, .kind = kind });
	vma_merge_around(vm, start, end);
}

static void unmap_range(struct km_vm *vm, uint64_t start, uint64_t end)
{
	vma_split(vm, start);
	vma_split(vm, end);
	size_t i = vma_index(vm, start);
	while (i < vm->nvma && vm->vmas[i].start < end) {
		km_unmap_pages(vm, vm->vmas[i].start, vm->vmas[i].end - vm->vmas[i].start);
		vma_delete_at(vm, i);
	}
}

/* Top-down search of the high window for len free bytes. */
static uint64_t find_free(const struct km_vm *vm, uint64_t len)
{
	uint64_t floor = KM_TOP - vm->mem_limit;
	uint64_t hi = vm->mmap_top;
	size_t i = vma_index(vm, hi);

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

static long map_file(struct km_vm *vm, uint64_t start, uint64_t len, int prot, int flags, int fd,
		     uint64_t off)
{
	uint64_t gpa;

	km_gva_to_gpa(vm, start, &gpa);
	int share = flags & MAP_SHARED ? MAP_SHARED : MAP_PRIVATE;
	int hprot = prot == PROT_NONE ? PROT_NONE : (prot & PROT_WRITE ? PROT_READ | PROT_WRITE : PROT_READ);
	if (mmap(vm->mem + gpa, len, hprot, share | MAP_FIXED, fd, (off_t)off) == MAP_FAILED) {
		long err = -errno;
		km_unmap_pages(vm, start, len);
		return err;
	}
	return 0;
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
	if (!km_user_range(0, len, &len) || len > vm->mem_limit)
		return -ENOMEM;
	if (!anon && !km_fd_ok(vm, fd))
		return -EBADF;

	if (fixed) {
		if (!km_user_range(addr, len, &end) || window_of(vm, addr, end) == WIN_NONE ||
		    !phys_clear(vm, addr, end))
			return -ENOMEM;
		if (!range_free(vm, addr, end)) {
			if (flags & MAP_FIXED_NOREPLACE)
				return -EEXIST;
			unmap_range(vm, addr, end);
		}
		start = addr;
	} else {
		addr &= KM_PAGE_MASK;
		if (addr && km_user_range(addr, len, &end) && window_of(vm, addr, end) != WIN_NONE &&
		    range_free(vm, addr, end) && phys_clear(vm, addr, end))
			start = addr;
		else if ((start = find_free(vm, len)) == 0)
			return -ENOMEM;
	}
	if (!anon) {
		long rc = map_file(vm, start, len, prot, flags, fd, off);
		if (rc < 0)
			return rc;
		kind = KM_VMA_FILE;
	}
	km_map_pages(vm, start, len, prot);
	vma_add(vm, start, start + len, prot, kind);
	return (long)start;
}

long km_munmap(struct km_vm *vm, uint64_t addr, uint64_t len)
{
	uint64_t end;

	if (addr & ~KM_PAGE_MASK || len == 0 || !km_user_range(addr, len, &end))
		return -EINVAL;
	unmap_range(vm, addr, end);
	return 0;
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
	if (!fully_mapped(vm, addr, end))
		return -ENOMEM;
	vma_split(vm, addr);
	vma_split(vm, end);
	for (size_t i = vma_index(vm, addr); i < vm->nvma && vm->vmas[i].start < end; i++) {
		struct km_vma *v = &vm->vmas[i];
		km_map_pages(vm, v->start, v->end - v->start, prot);
		v->prot = prot;
	}
	vma_merge_around(vm, addr, end);
	return 0;
}

/*
 * Moves or grows a mapping with the host's mremap, so no page is copied.
 * The new length and a fixed target are checked as Linux checks them: a
 * length that rounds to 0 or exceeds the user address space, or a target
 * range that leaves it, is EINVAL.
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
	if (!(flags & MREMAP_FIXED)) {
		if (new_len <= old_len) {
			unmap_range(vm, old + new_len, old + old_len);
			return (long)old;
		}
		uint64_t end = old + new_len;
		if (window_of(vm, old, end) != WIN_NONE && range_free(vm, old + old_len, end) &&
		    phys_clear(vm, old + old_len, end) && v->kind != KM_VMA_FILE) {
			int prot = v->prot;
			enum km_vma_kind kind = v->kind;
			km_map_pages(vm, old + old_len, new_len - old_len, prot);
			vma_add(vm, old + old_len, end, prot, kind);
			return (long)old;
		}
		if (!(flags & MREMAP_MAYMOVE))
			return -ENOMEM;
	}
	struct km_vma moved = *v;
	uint64_t dest;
	if (flags & MREMAP_FIXED) {
		dest = new_addr;
		if (dest < old + old_len && old < dest_end)
			return -EINVAL;
		if (window_of(vm, dest, dest_end) == WIN_NONE || !phys_clear(vm, dest, dest_end))
			return -ENOMEM;
		unmap_range(vm, dest, dest_end);
	} else if ((dest = find_free(vm, new_len)) == 0) {
		return -ENOMEM;
	}
	uint64_t from, to;
	km_gva_to_gpa(vm, old, &from);
	km_gva_to_gpa(vm, dest, &to);
	uint64_t keep = old_len < new_len ? old_len : new_len;
	if (mremap(vm->mem + from, keep, keep, MREMAP_MAYMOVE | MREMAP_FIXED, vm->mem + to) ==
	    MAP_FAILED)
		km_die(1, "km: cannot move guest memory: %s", strerror(errno));
	km_map_pages(vm, dest, new_len, moved.prot);
	unmap_range(vm, old, old + old_len);
	vma_add(vm, dest, dest + new_len, moved.prot, moved.kind);
	return (long)dest;
}

/* A break that cannot be had leaves the old one, which is the result, as on Linux. */
long km_brk(struct km_vm *vm, uint64_t addr)
{
	uint64_t old_end = KM_ROUND_UP(vm->brk, KM_PAGE_SIZE), new_end;

	if (addr < vm->brk_start || !km_user_range(addr, 0, &new_end))
		return (long)vm->brk;
	if (new_end > old_end) {
		if (window_of(vm, old_end, new_end) != WIN_LOW || !range_free(vm, old_end, new_end) ||
		    !phys_clear(vm, old_end, new_end))
			return (long)vm->brk;
		km_map_pages(vm, old_end, new_end - old_end, PROT_READ | PROT_WRITE);
		vma_add(vm, old_end, new_end, PROT_READ | PROT_WRITE, KM_VMA_BRK);
	} else if (new_end < old_end) {
		unmap_range(vm, new_end, old_end);
	}
	vm->brk = addr;
	return (long)addr;
}
