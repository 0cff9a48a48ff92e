/*
 * What gcc's unwinder (Debian's libgcc_eh.a, built against glibc) expects
 * of the C library, for musl. The unwinder's use of _dl_find_object links
 * this file exactly when the unwinder is linked.
 */
#define _GNU_SOURCE
#include <link.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/*
 * libgcc_eh references the pthread functions weakly and uses them all once
 * __pthread_key_create is linked, as it always comes with the rest of
 * glibc's static libpthread. musl keeps each in its own object, so link
 * them all here: the unwinder then takes its locks and calls no null
 * function.
 */
__attribute__((used)) static void *const unwinder_uses_pthread[] = {
	(void *)pthread_key_create, (void *)pthread_once,
	(void *)pthread_getspecific, (void *)pthread_setspecific,
	(void *)pthread_mutex_lock, (void *)pthread_mutex_unlock,
};

/*
 * To find the unwind tables of a code address, glibc 2.35+ builds of the
 * unwinder call _dl_find_object and give up if it fails. Answer it from
 * dl_iterate_phdr: the object whose PT_LOAD holds the address, and its
 * PT_GNU_EH_FRAME (.eh_frame_hdr).
 */

/* glibc's x86-64 layout (no dlfo_eh_dbase there), as libgcc_eh reads it. */
struct dl_find_object {
	unsigned long long dlfo_flags;
	void *dlfo_map_start;
	void *dlfo_map_end;
	struct link_map *dlfo_link_map;
	void *dlfo_eh_frame;
	unsigned long long __dlfo_reserved[7];
};

struct search {
	uintptr_t pc;
	struct dl_find_object *result;
};

static int contains_pc(const struct dl_phdr_info *info, uintptr_t pc)
{
	for (size_t i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t start = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type == PT_LOAD && pc - start < ph->p_memsz)
			return 1;
	}
	return 0;
}

static int describe_object(struct dl_phdr_info *info, size_t size, void *data)
{
	struct search *s = data;
	uintptr_t lo = UINTPTR_MAX, hi = 0;
	void *eh_frame = NULL;

	(void)size;
	if (!contains_pc(info, s->pc))
		return 0;
	for (size_t i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t start = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type == PT_LOAD) {
			if (start < lo)
				lo = start;
			if (start + ph->p_memsz > hi)
				hi = start + ph->p_memsz;
		} else if (ph->p_type == PT_GNU_EH_FRAME) {
			eh_frame = (void *)start;
		}
	}
	*s->result = (struct dl_find_object){
		.dlfo_map_start = (void *)lo,
		.dlfo_map_end = (void *)hi,
		.dlfo_eh_frame = eh_frame,
	};
	return 1;
}

int _dl_find_object(void *pc, struct dl_find_object *result)
{
	struct search s = { (uintptr_t)pc, result };

	return dl_iterate_phdr(describe_object, &s) ? 0 : -1;
}
