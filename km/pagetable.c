/*
 * The guest's page tables, which km alone writes. A 2 MiB stretch of a
 * window mapped whole with one set of rights is one large-page entry in its
 * directory; anything finer gets a leaf table. Either way, mapping memory
 * costs km a write per 2 MiB at most, so a guest mapping gigabytes (a huge
 * System V segment, say) cannot keep km busy for long.
 *
 * Each 2 MiB of each window has its own leaf table at a fixed place in the
 * pool, so a table page only ever describes the addresses it was made for:
 * KVM's shadow pages (PVM) and the CPU's paging-structure caches can hold
 * an old link to it, and whatever they find there is about the right
 * addresses. Rights only grow without a host call; where they shrink, vma.c
 * also takes them away on km's mapping, whose MMU notifier drops KVM's
 * translations on every vCPU (see mem.c).
 */
#include <sys/mman.h>

#include "km.h"

#define PTE_P (1ull << 0)
#define PTE_W (1ull << 1)
#define PTE_U (1ull << 2)
#define PTE_A (1ull << 5)
#define PTE_D (1ull << 6)
#define PTE_PS (1ull << 7) /* in a directory entry: a 2 MiB page */
#define PTE_NX (1ull << 63)
#define PTE_ADDR 0x000ffffffffff000ull
#define PTE_LINK (PTE_P | PTE_W | PTE_U | PTE_A) /* to a lower table: the leaf decides */

#define LARGE KM_LARGE_PAGE
#define ENTRIES 512

static uint64_t *table_at(struct km_vm *vm, uint64_t gpa)
{
	return (uint64_t *)(vm->mem + gpa);
}

static uint64_t alloc_table(struct km_vm *vm)
{
	if (vm->pt_next + KM_PAGE_SIZE > vm->pt_leaves)
		km_die(1, "km: internal: guest page-table pool exhausted");
	uint64_t gpa = vm->pt_next;
	vm->pt_next += KM_PAGE_SIZE;
	/*
	 * Written first: a fresh page that is read first maps the zero page,
	 * and the write after it faults again to copy it.
	 */
	__atomic_store_n(table_at(vm, gpa), 0, __ATOMIC_RELAXED);
	return gpa;
}

/*
 * Page-table pages for the space: the directories above the leaves (one per
 * GiB of each window and a few more), then one leaf per 2 MiB of each window.
 */
uint64_t km_pt_pool_size(uint64_t space)
{
	uint64_t directories = 2 * (space >> 30) + 16;
	uint64_t leaves = 2 * (space / LARGE + 1);
	return (directories + leaves) * KM_PAGE_SIZE;
}

void km_pt_init(struct km_vm *vm)
{
	vm->pt_next = KM_SYS_PT_POOL;
	vm->pt_leaves = KM_SYS_PT_POOL + (2 * (vm->space >> 30) + 16) * KM_PAGE_SIZE;
	vm->pml4 = alloc_table(vm);
}

/* The directory entry above gva's leaf, made if asked; NULL if there is none. */
static uint64_t *directory_entry(struct km_vm *vm, uint64_t gva, bool create)
{
	uint64_t table = vm->pml4;

	for (int level = 3; level > 1; level--) {
		uint64_t *e = table_at(vm, table) + (gva >> (12 + 9 * level) & 511);
		if (!(*e & PTE_P)) {
			if (!create)
				return NULL;
			*e = alloc_table(vm) | PTE_LINK;
		}
		table = *e & PTE_ADDR;
	}
	return table_at(vm, table) + (gva >> 21 & 511);
}

/*
 * gva's own leaf table: fixed for a window's 2 MiB, taken from the
 * directories' pages for the rest (the supervisor area).
 */
static uint64_t leaf_of(struct km_vm *vm, uint64_t gva)
{
	uint64_t gpa, chunks = (vm->phys_size - vm->sys_size) / LARGE;

	if (!km_gva_to_gpa(vm, gva, &gpa))
		return alloc_table(vm);
	uint64_t index = (gpa - vm->sys_size) / LARGE + (gva < vm->space ? 0 : chunks);
	return vm->pt_leaves + index * KM_PAGE_SIZE;
}

/*
 * The leaf table under *pde, made for gva's 2 MiB if there is none: empty,
 * or the large page's rights on each of its pages. Filled before it is linked.
 */
static uint64_t *leaf_table(struct km_vm *vm, uint64_t *pde, uint64_t gva)
{
	if ((*pde & PTE_P) && !(*pde & PTE_PS))
		return table_at(vm, *pde & PTE_ADDR);
	uint64_t gpa = leaf_of(vm, gva);
	uint64_t *leaf = table_at(vm, gpa);
	for (int i = 0; i < ENTRIES; i++)
		leaf[i] = *pde & PTE_P ? (*pde & ~PTE_PS) + (uint64_t)i * KM_PAGE_SIZE : 0;
	__atomic_store_n(pde, gpa | PTE_LINK, __ATOMIC_RELEASE);
	return leaf;
}

uint64_t km_pte_bits(int prot, bool user)
{
	if (prot == PROT_NONE)
		return 0;
	uint64_t bits = PTE_P | PTE_A | (user ? PTE_U : 0);
	if (prot & PROT_WRITE)
		bits |= PTE_W | PTE_D;
	if (!(prot & PROT_EXEC))
		bits |= PTE_NX;
	return bits;
}

void km_map_sys_page(struct km_vm *vm, uint64_t off, bool user, int prot)
{
	uint64_t gva = KM_SYS_VA + off;
	uint64_t *leaf = leaf_table(vm, directory_entry(vm, gva, true), gva);

	leaf[gva >> 12 & 511] = off | km_pte_bits(prot, user);
}

int km_pte_prot(struct km_vm *vm, uint64_t gva)
{
	uint64_t *pde = directory_entry(vm, gva, false), pte;

	if (pde == NULL || !(*pde & PTE_P))
		return PROT_NONE;
	pte = *pde & PTE_PS ? *pde : table_at(vm, *pde & PTE_ADDR)[gva >> 12 & 511];
	if (!(pte & PTE_P))
		return PROT_NONE;
	return PROT_READ | (pte & PTE_W ? PROT_WRITE : 0) | (pte & PTE_NX ? 0 : PROT_EXEC);
}

/* Bytes of [gva, gva+len) under one directory entry: up to the next 2 MiB boundary. */
static uint64_t directory_span(uint64_t gva, uint64_t len)
{
	uint64_t to_boundary = LARGE - (gva & (LARGE - 1));
	return len < to_boundary ? len : to_boundary;
}

/*
 * The guest's rights on [gva, gva+len), a range inside one window, in its
 * page tables only: whole 2 MiB as large pages, the rest page by page.
 * PROT_NONE builds no table where there is none.
 */
void km_pte_set(struct km_vm *vm, uint64_t gva, uint64_t len, int prot)
{
	uint64_t gpa;

	if (len == 0 || !km_gva_to_gpa(vm, gva, &gpa))
		return;
	len = KM_ROUND_UP(len, KM_PAGE_SIZE);
	uint64_t bits = km_pte_bits(prot, true);
	for (uint64_t off = 0, span; off < len; off += span) {
		span = directory_span(gva + off, len - off);
		uint64_t *pde = directory_entry(vm, gva + off, bits != 0);
		if (pde == NULL || (bits == 0 && !(*pde & PTE_P)))
			continue;
		if (span == LARGE) {
			__atomic_store_n(pde, bits ? (gpa + off) | bits | PTE_PS : 0, __ATOMIC_RELEASE);
			continue;
		}
		uint64_t *pte = leaf_table(vm, pde, gva + off) + ((gva + off) >> 12 & 511);
		for (uint64_t i = 0; i < span / KM_PAGE_SIZE; i++)
			pte[i] = bits ? (gpa + off + i * KM_PAGE_SIZE) | bits : 0;
	}
}
