/* Loading the program: a static x86-64 ELF, non-PIE or static-PIE, with libelf. */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "km.h"

#define BAD_PROGRAM 2

struct segment {
	uint64_t vaddr, memsz, filesz, offset;
	int prot;
};

static int seg_prot(uint32_t flags)
{
	return (flags & PF_R ? PROT_READ : 0) | (flags & PF_W ? PROT_WRITE : 0) |
	       (flags & PF_X ? PROT_EXEC : 0);
}

static Elf *open_elf(const char *path, int *fd_out, off_t *size)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		km_die(BAD_PROGRAM, "km: cannot open program '%s': %s", path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		km_die(BAD_PROGRAM, "km: '%s' is not a regular file", path);
	if (elf_version(EV_CURRENT) == EV_NONE)
		km_die(1, "km: libelf is too old");
	Elf *e = elf_begin(fd, ELF_C_READ, NULL);
	if (e == NULL || elf_kind(e) != ELF_K_ELF)
		km_die(BAD_PROGRAM, "km: '%s' is not an ELF executable", path);
	*fd_out = fd;
	*size = st.st_size;
	return e;
}

static void check_header(Elf *e, const char *path, GElf_Ehdr *eh)
{
	if (gelf_getclass(e) != ELFCLASS64)
		km_die(BAD_PROGRAM, "km: '%s' is a 32-bit ELF; km runs 64-bit x86-64 programs", path);
	if (gelf_getehdr(e, eh) == NULL)
		km_die(BAD_PROGRAM, "km: '%s' is truncated or corrupt: %s", path, elf_errmsg(-1));
	if (eh->e_machine != EM_X86_64)
		km_die(BAD_PROGRAM, "km: '%s' is built for another machine (ELF e_machine %u); km runs "
				    "x86-64 programs", path, eh->e_machine);
	if (eh->e_type != ET_EXEC && eh->e_type != ET_DYN)
		km_die(BAD_PROGRAM, "km: '%s' is not an executable (ELF type %u): link it first", path,
		       eh->e_type);
}

static size_t read_segments(Elf *e, const char *path, off_t file_size, struct segment **out,
			    GElf_Phdr *phdr_seg)
{
	size_t n;

	if (elf_getphdrnum(e, &n) != 0)
		km_die(BAD_PROGRAM, "km: '%s' is truncated or corrupt: %s", path, elf_errmsg(-1));
	struct segment *segs = calloc(n ? n : 1, sizeof(*segs));
	size_t nload = 0;
	if (segs == NULL)
		km_die(1, "km: out of memory");
	phdr_seg->p_type = PT_NULL;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;
		if (gelf_getphdr(e, (int)i, &ph) == NULL)
			km_die(BAD_PROGRAM, "km: '%s' is truncated or corrupt: %s", path,
			       elf_errmsg(-1));
		if (ph.p_type == PT_INTERP)
			km_die(BAD_PROGRAM, "km: '%s' is dynamically linked; this km runs static "
					    "programs: build it with kontain-gcc", path);
		if (ph.p_type == PT_PHDR)
			*phdr_seg = ph;
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		if (ph.p_offset + ph.p_filesz > (uint64_t)file_size || ph.p_offset + ph.p_filesz < ph.p_offset)
			km_die(BAD_PROGRAM, "km: '%s' is truncated: a segment ends past the end of the file",
			       path);
		if (ph.p_filesz > ph.p_memsz || ph.p_vaddr + ph.p_memsz < ph.p_vaddr)
			km_die(BAD_PROGRAM, "km: '%s' is corrupt: a segment has impossible sizes", path);
		segs[nload++] = (struct segment){ ph.p_vaddr, ph.p_memsz, ph.p_filesz, ph.p_offset,
						  seg_prot(ph.p_flags) };
	}
	if (nload == 0)
		km_die(BAD_PROGRAM, "km: '%s' has nothing to load", path);
	*out = segs;
	return nload;
}

/* Each page gets the union of the rights of the segments that touch it. */
static void apply_rights(struct km_vm *vm, const struct segment *segs, size_t n, uint64_t bias,
			 uint64_t lo, uint64_t hi)
{
	size_t pages = (hi - lo) / KM_PAGE_SIZE;
	int *prot = calloc(pages, sizeof(*prot));
	bool *used = calloc(pages, sizeof(*used));

	if (prot == NULL || used == NULL)
		km_die(1, "km: out of memory");
	for (size_t i = 0; i < n; i++) {
		uint64_t s = KM_ROUND_DOWN(segs[i].vaddr + bias, KM_PAGE_SIZE);
		uint64_t e = KM_ROUND_UP(segs[i].vaddr + bias + segs[i].memsz, KM_PAGE_SIZE);
		for (uint64_t p = s; p < e; p += KM_PAGE_SIZE) {
			prot[(p - lo) / KM_PAGE_SIZE] |= segs[i].prot;
			used[(p - lo) / KM_PAGE_SIZE] = true;
		}
	}
	for (size_t p = 0; p < pages;) {
		size_t q = p;
		while (q < pages && used[q] == used[p] && prot[q] == prot[p])
			q++;
		uint64_t at = lo + p * KM_PAGE_SIZE, len = (q - p) * KM_PAGE_SIZE;
		if (used[p])
			km_mprotect(vm, at, len, prot[p]);
		else
			km_munmap(vm, at, len);
		p = q;
	}
	free(prot);
	free(used);
}

/*
 * Linux's end_data - start_data, which brk counts against RLIMIT_DATA: from
 * the highest segment start to the highest end of file contents.
 */
static uint64_t data_size(const struct segment *segs, size_t n)
{
	uint64_t start = 0, end = 0;

	for (size_t i = 0; i < n; i++) {
		if (segs[i].vaddr > start)
			start = segs[i].vaddr;
		if (segs[i].vaddr + segs[i].filesz > end)
			end = segs[i].vaddr + segs[i].filesz;
	}
	return end - start;
}

void km_elf_load(struct km_vm *vm, const char *path, struct km_image *img)
{
	int fd;
	off_t size;
	GElf_Ehdr eh;
	GElf_Phdr phdr_seg = { .p_type = PT_NULL };
	struct segment *segs;

	Elf *e = open_elf(path, &fd, &size);
	check_header(e, path, &eh);
	size_t n = read_segments(e, path, size, &segs, &phdr_seg);

	uint64_t lo = UINT64_MAX, hi = 0;
	for (size_t i = 0; i < n; i++)
		if (segs[i].vaddr < lo)
			lo = segs[i].vaddr;
	lo = KM_ROUND_DOWN(lo, KM_PAGE_SIZE);
	img->pie = eh.e_type == ET_DYN;
	img->bias = img->pie ? KM_IMAGE_BASE_PIE - lo : 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t end;
		/* Its offset in the image first, so that a PIE's bias cannot wrap it around. */
		if (segs[i].vaddr - lo > KM_TOP ||
		    !km_user_range(segs[i].vaddr + img->bias, segs[i].memsz, &end))
			km_die(BAD_PROGRAM, "km: '%s' is not a valid program: its segment at 0x%lx-0x%lx lies "
					    "outside the user address space (below 0x%lx)", path,
			       (unsigned long)segs[i].vaddr, (unsigned long)(segs[i].vaddr + segs[i].memsz),
			       KM_TOP);
		if (end > hi)
			hi = end;
	}
	lo += img->bias;
	if (hi > vm->mem_limit / 2)
		km_die(BAD_PROGRAM, "km: '%s' needs its image at 0x%lx-0x%lx, beyond half the memory "
				    "limit (%lu MiB): raise it with --mem-limit", path,
		       (unsigned long)lo, (unsigned long)hi, (unsigned long)(vm->mem_limit >> 20));
	if (km_mmap(vm, lo, hi - lo, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
		    -1, 0, KM_VMA_IMAGE) < 0)
		km_die(1, "km: cannot place '%s' at 0x%lx", path, (unsigned long)lo);

	for (size_t i = 0; i < n; i++) {
		void *dst = km_gva(vm, segs[i].vaddr + img->bias, segs[i].filesz, PROT_WRITE);
		if (pread(fd, dst, segs[i].filesz, (off_t)segs[i].offset) != (ssize_t)segs[i].filesz)
			km_die(BAD_PROGRAM, "km: cannot read '%s': truncated", path);
	}
	apply_rights(vm, segs, n, img->bias, lo, hi);

	img->entry = eh.e_entry + img->bias;
	img->phnum = eh.e_phnum;
	img->phent = eh.e_phentsize;
	img->phdr = 0;
	if (phdr_seg.p_type == PT_PHDR) {
		img->phdr = phdr_seg.p_vaddr + img->bias;
	} else {
		for (size_t i = 0; i < n; i++)
			if (eh.e_phoff >= segs[i].offset && eh.e_phoff < segs[i].offset + segs[i].filesz)
				img->phdr = segs[i].vaddr + (eh.e_phoff - segs[i].offset) + img->bias;
	}
	vm->brk_start = vm->brk = hi;
	vm->data_size = data_size(segs, n);
	free(segs);
	elf_end(e);
	close(fd);
}
