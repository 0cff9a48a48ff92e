/*
 * Loading the program, an x86-64 ELF with libelf: static (non-PIE or
 * static-PIE) or dynamic, with its ELF interpreter (PT_INTERP: glibc's
 * ld-linux, musl's ld-musl, any other), which km loads beside it and enters
 * as Linux does; the interpreter maps the libraries itself. The checks that
 * decide whether km can load a file are one function, which exec uses too
 * (km_elf_check), so that a program the guest's execve lets through is one
 * the new km loads.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <limits.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "km.h"

#define BAD_PROGRAM 2
#define KONTAIN_INTERP "kontain-interp" /* toolchain/kontain-interp.c */

struct segment {
	uint64_t vaddr, memsz, filesz, offset;
	int prot;
};

/* A file examined: what loading it needs, or (status, why) it cannot be loaded. */
struct program {
	Elf *e;
	GElf_Ehdr eh;
	GElf_Phdr phdr_seg;
	struct segment *segs;
	size_t n;
	uint64_t lo, hi, bias; /* the image's extent once placed, and its load bias */
	bool pie;
	char *interp; /* PT_INTERP's path, if any */
	int status; /* 0, or km's exit status for the reason in why */
	enum km_elf_verdict verdict;
	char why[512];
};

static int seg_prot(uint32_t flags)
{
	return (flags & PF_R ? PROT_READ : 0) | (flags & PF_W ? PROT_WRITE : 0) |
	       (flags & PF_X ? PROT_EXEC : 0);
}

static bool refuse(struct program *p, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static bool refuse(struct program *p, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->why, sizeof(p->why), fmt, ap);
	va_end(ap);
	p->status = status;
	if (p->verdict == KM_ELF_OK)
		p->verdict = KM_ELF_BAD;
	return false;
}

static bool check_header(struct program *p, int fd, const char *path)
{
	if (elf_version(EV_CURRENT) == EV_NONE)
		return refuse(p, 1, "km: libelf is too old");
	p->e = elf_begin(fd, ELF_C_READ, NULL);
	if (p->e == NULL || elf_kind(p->e) != ELF_K_ELF)
		return refuse(p, BAD_PROGRAM, "km: '%s' is not an ELF executable", path);
	if (gelf_getclass(p->e) != ELFCLASS64)
		return refuse(p, BAD_PROGRAM, "km: '%s' is a 32-bit ELF; km runs 64-bit x86-64 programs",
			      path);
	if (gelf_getehdr(p->e, &p->eh) == NULL)
		return refuse(p, BAD_PROGRAM, "km: '%s' is truncated or corrupt: %s", path,
			      elf_errmsg(-1));
	if (p->eh.e_machine != EM_X86_64)
		return refuse(p, BAD_PROGRAM, "km: '%s' is built for another machine (ELF e_machine %u); "
			      "km runs x86-64 programs", path, p->eh.e_machine);
	if (p->eh.e_type != ET_EXEC && p->eh.e_type != ET_DYN)
		return refuse(p, BAD_PROGRAM, "km: '%s' is not an executable (ELF type %u): link it first",
			      path, p->eh.e_type);
	return true;
}

/*
 * kontain-gcc names kontain-interp as the interpreter only so that Linux runs
 * the program with km: for km the program is static.
 */
static bool kontain_interp(const char *interp)
{
	const char *slash = strrchr(interp, '/');

	return strcmp(slash ? slash + 1 : interp, KONTAIN_INTERP) == 0;
}

/* PT_INTERP: a path, NUL-terminated within the segment, as Linux reads it. */
static bool read_interp(struct program *p, int fd, const char *path, const GElf_Phdr *ph,
			off_t file_size)
{
	if (p->interp)
		return refuse(p, BAD_PROGRAM, "km: '%s' is corrupt: it names two ELF interpreters", path);
	if (ph->p_filesz < 2 || ph->p_filesz > PATH_MAX || ph->p_offset > (uint64_t)file_size ||
	    ph->p_filesz > (uint64_t)file_size - ph->p_offset)
		return refuse(p, BAD_PROGRAM, "km: '%s' is corrupt: a bad ELF interpreter path", path);
	if ((p->interp = malloc(ph->p_filesz)) == NULL)
		return refuse(p, 1, "km: out of memory");
	if (pread(fd, p->interp, ph->p_filesz, (off_t)ph->p_offset) != (ssize_t)ph->p_filesz ||
	    p->interp[ph->p_filesz - 1] != '\0' || strlen(p->interp) == 0)
		return refuse(p, BAD_PROGRAM, "km: '%s' is corrupt: a bad ELF interpreter path", path);
	if (kontain_interp(p->interp)) {
		free(p->interp);
		p->interp = NULL;
	}
	return true;
}

static bool read_segments(struct program *p, int fd, const char *path, off_t file_size)
{
	size_t n;

	if (elf_getphdrnum(p->e, &n) != 0)
		return refuse(p, BAD_PROGRAM, "km: '%s' is truncated or corrupt: %s", path,
			      elf_errmsg(-1));
	if ((p->segs = calloc(n ? n : 1, sizeof(*p->segs))) == NULL)
		return refuse(p, 1, "km: out of memory");
	p->phdr_seg.p_type = PT_NULL;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;
		if (gelf_getphdr(p->e, (int)i, &ph) == NULL)
			return refuse(p, BAD_PROGRAM, "km: '%s' is truncated or corrupt: %s", path,
				      elf_errmsg(-1));
		if (ph.p_type == PT_INTERP && !read_interp(p, fd, path, &ph, file_size))
			return false;
		if (ph.p_type == PT_PHDR)
			p->phdr_seg = ph;
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		if (ph.p_offset + ph.p_filesz > (uint64_t)file_size ||
		    ph.p_offset + ph.p_filesz < ph.p_offset)
			return refuse(p, BAD_PROGRAM, "km: '%s' is truncated: a segment ends past the end "
				      "of the file", path);
		if (ph.p_filesz > ph.p_memsz || ph.p_vaddr + ph.p_memsz < ph.p_vaddr)
			return refuse(p, BAD_PROGRAM, "km: '%s' is corrupt: a segment has impossible sizes",
				      path);
		p->segs[p->n++] = (struct segment){ ph.p_vaddr, ph.p_memsz, ph.p_filesz, ph.p_offset,
						    seg_prot(ph.p_flags) };
	}
	if (p->n == 0)
		return refuse(p, BAD_PROGRAM, "km: '%s' has nothing to load", path);
	return true;
}

/* Where the image goes: inside the user address space and the low half of the memory limit. */
static bool place(struct program *p, const char *path, uint64_t mem_limit)
{
	p->lo = UINT64_MAX;
	p->hi = 0;
	for (size_t i = 0; i < p->n; i++)
		if (p->segs[i].vaddr < p->lo)
			p->lo = p->segs[i].vaddr;
	p->lo = KM_ROUND_DOWN(p->lo, KM_PAGE_SIZE);
	p->pie = p->eh.e_type == ET_DYN;
	p->bias = p->pie ? KM_IMAGE_BASE_PIE - p->lo : 0;
	for (size_t i = 0; i < p->n; i++) {
		const struct segment *s = &p->segs[i];
		uint64_t end;
		/* Its offset in the image first, so that a PIE's bias cannot wrap it around. */
		if (s->vaddr - p->lo > KM_TOP || !km_user_range(s->vaddr + p->bias, s->memsz, &end))
			return refuse(p, BAD_PROGRAM, "km: '%s' is not a valid program: its segment at "
				      "0x%lx-0x%lx lies outside the user address space (below 0x%lx)",
				      path, (unsigned long)s->vaddr, (unsigned long)(s->vaddr + s->memsz),
				      KM_TOP);
		if (end > p->hi)
			p->hi = end;
	}
	p->lo += p->bias;
	if (p->hi > mem_limit / 2 && (p->verdict = KM_ELF_TOO_BIG))
		return refuse(p, BAD_PROGRAM, "km: '%s' needs its image at 0x%lx-0x%lx, beyond half the "
			      "memory limit (%lu MiB): raise it with --mem-limit", path,
			      (unsigned long)p->lo, (unsigned long)p->hi, (unsigned long)(mem_limit >> 20));
	return true;
}

/* Everything km checks before loading the file open at fd: p->status 0 if it can. */
static void examine(struct program *p, int fd, const char *path, uint64_t mem_limit)
{
	struct stat st;

	memset(p, 0, sizeof(*p));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		refuse(p, BAD_PROGRAM, "km: '%s' is not a regular file", path);
		return;
	}
	if (check_header(p, fd, path) && read_segments(p, fd, path, st.st_size))
		place(p, path, mem_limit);
}

/* An interpreter: a shared object (ET_DYN) without one of its own, as Linux requires. */
static void examine_interp(struct program *p, int fd, const char *path, uint64_t mem_limit)
{
	examine(p, fd, path, mem_limit);
	if (p->status == 0 && p->eh.e_type != ET_DYN)
		refuse(p, BAD_PROGRAM, "km: ELF interpreter '%s' is not a shared object", path);
	else if (p->status == 0 && p->interp)
		refuse(p, BAD_PROGRAM, "km: ELF interpreter '%s' has an interpreter itself", path);
}

static void forget(struct program *p)
{
	free(p->segs);
	free(p->interp);
	if (p->e)
		elf_end(p->e);
}

/* Whether km_elf_load would load the file open at fd with this memory limit, and if not, why. */
enum km_elf_verdict km_elf_check(int fd, const char *path, uint64_t mem_limit)
{
	struct program p, ip;

	examine(&p, fd, path, mem_limit);
	if (p.status == 0 && p.interp) {
		int ifd = open(p.interp, O_RDONLY | O_CLOEXEC);
		if (ifd < 0) {
			p.verdict = KM_ELF_NO_INTERP;
		} else {
			examine_interp(&ip, ifd, p.interp, mem_limit);
			p.verdict = ip.status ? KM_ELF_BAD_INTERP : KM_ELF_OK;
			forget(&ip);
			close(ifd);
		}
	}
	forget(&p);
	return p.verdict;
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

/*
 * The pages of segment i that come from its file alone, as [*lo, *hi) (empty
 * if none): not writable, on no page of another segment's, and placed as
 * Linux maps them (offset and address alike within a page); the end page
 * too where no zeros follow the file's bytes in memory.
 */
static void file_pages(const struct program *p, size_t i, uint64_t *lo, uint64_t *hi)
{
	const struct segment *s = &p->segs[i];
	uint64_t start = s->vaddr + p->bias, file_end = start + s->filesz;
	uint64_t a = KM_ROUND_DOWN(start, KM_PAGE_SIZE);
	uint64_t b = s->memsz == s->filesz ? KM_ROUND_UP(file_end, KM_PAGE_SIZE) :
					     KM_ROUND_DOWN(file_end, KM_PAGE_SIZE);

	*lo = *hi = 0;
	if ((s->prot & PROT_WRITE) || s->filesz == 0 || (s->vaddr - s->offset) % KM_PAGE_SIZE != 0)
		return;
	for (size_t j = 0; j < p->n && a < b; j++) {
		uint64_t js = KM_ROUND_DOWN(p->segs[j].vaddr + p->bias, KM_PAGE_SIZE);
		uint64_t je = KM_ROUND_UP(p->segs[j].vaddr + p->bias + p->segs[j].memsz, KM_PAGE_SIZE);
		if (j == i || je <= a || js >= b)
			continue;
		if (js <= a)
			a = je;
		else if (je >= b)
			b = js;
		else
			return; /* inside: leave it all to copying */
	}
	if (a < b) {
		*lo = a;
		*hi = b;
	}
}

/*
 * [lo, hi) of segment s mapped from the file, MAP_PRIVATE, as Linux's
 * loader maps a program: pages shared with the page cache (and every km
 * running the same program), not copied into fresh ones, and the same
 * pages at every start. False, with the range anonymous again, where the
 * file cannot be mapped (a pipe, say): it is then read.
 */
static bool map_from_file(struct km_vm *vm, int fd, const struct segment *s, uint64_t bias,
			  uint64_t lo, uint64_t hi)
{
	uint64_t off = KM_ROUND_DOWN(s->offset, KM_PAGE_SIZE) + lo -
		       KM_ROUND_DOWN(s->vaddr + bias, KM_PAGE_SIZE);

	if (km_mmap(vm, lo, hi - lo, s->prot, MAP_PRIVATE | MAP_FIXED, fd, off, KM_VMA_FILE) >= 0)
		return true;
	if (km_mmap(vm, lo, hi - lo, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
		    -1, 0, KM_VMA_IMAGE) < 0)
		km_die(1, "km: cannot place the program at 0x%lx", (unsigned long)lo);
	return false;
}

/* The bytes of segment s for [from, to), a part of its file contents in memory, read in. */
static void read_part(struct km_vm *vm, int fd, const char *path, const struct segment *s,
		      uint64_t bias, uint64_t from, uint64_t to)
{
	if (from >= to)
		return;
	void *dst = km_gva(vm, from, to - from, PROT_WRITE);
	off_t at = (off_t)(s->offset + (from - (s->vaddr + bias)));
	if (dst == NULL || pread(fd, dst, to - from, at) != (ssize_t)(to - from))
		km_die(BAD_PROGRAM, "km: cannot read '%s': truncated", path);
}

/* Maps p's image at its placed addresses and fills it from fd: its segments, then their rights. */
static void load_segments(struct km_vm *vm, int fd, const char *path, const struct program *p)
{
	if (km_mmap(vm, p->lo, p->hi - p->lo, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0, KM_VMA_IMAGE) < 0)
		km_die(1, "km: cannot place '%s' at 0x%lx", path, (unsigned long)p->lo);
	for (size_t i = 0; i < p->n; i++) {
		const struct segment *s = &p->segs[i];
		uint64_t start = s->vaddr + p->bias, end = start + s->filesz, lo, hi;
		file_pages(p, i, &lo, &hi);
		if (lo < hi && map_from_file(vm, fd, s, p->bias, lo, hi)) {
			/* file_pages keeps start < hi and lo < end */
			read_part(vm, fd, path, s, p->bias, start, lo);
			read_part(vm, fd, path, s, p->bias, hi, end);
		} else {
			read_part(vm, fd, path, s, p->bias, start, end);
		}
	}
	apply_rights(vm, p->segs, p->n, p->bias, p->lo, p->hi);
	uint32_t name = km_vma_name_of_fd(vm, fd);
	for (size_t i = 0; i < p->n && name; i++) {
		const struct segment *s = &p->segs[i];
		uint64_t start = KM_ROUND_DOWN(s->vaddr + p->bias, KM_PAGE_SIZE);
		km_vma_set_name(vm, start, KM_ROUND_UP(s->vaddr + p->bias + s->memsz, KM_PAGE_SIZE),
				name, KM_ROUND_DOWN(s->offset, KM_PAGE_SIZE));
	}
}

/*
 * The interpreter goes just below the stack and its guard gap (km_stack_init
 * maps them next), where Linux's mmap area starts; later mmaps go below it.
 */
static void load_interp(struct km_vm *vm, const char *prog, const char *path, struct km_image *img)
{
	struct program p;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		km_die(BAD_PROGRAM, "km: cannot run '%s': its ELF interpreter '%s': %s", prog, path,
		       strerror(errno));
	examine_interp(&p, fd, path, vm->mem_limit);
	if (p.status)
		km_die(p.status, "%s", p.why);
	uint64_t span = p.hi - p.lo, top = KM_TOP - KM_STACK_SIZE - KM_STACK_GAP;
	if (span > top / 2)
		km_die(BAD_PROGRAM, "km: ELF interpreter '%s' is too big", path);
	uint64_t base = KM_ROUND_DOWN(top - span, KM_PAGE_SIZE);
	p.bias += base - p.lo;
	p.hi += base - p.lo;
	p.lo = base;
	load_segments(vm, fd, path, &p);
	img->base = base;
	img->start = p.eh.e_entry + p.bias;
	forget(&p);
	close(fd);
}

/* The program at path, open at fd already or (-1) opened here; fd is closed. */
void km_elf_load(struct km_vm *vm, const char *path, int fd, struct km_image *img)
{
	struct program p;

	if (fd < 0)
		fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		km_die(BAD_PROGRAM, "km: cannot open program '%s': %s", path, strerror(errno));
	examine(&p, fd, path, vm->mem_limit);
	if (p.status) {
		forget(&p);
		close(fd);
		km_die(p.status, "%s", p.why);
	}
	load_segments(vm, fd, path, &p);

	img->pie = p.pie;
	img->bias = p.bias;
	img->entry = img->start = p.eh.e_entry + p.bias;
	img->base = 0;
	img->phnum = p.eh.e_phnum;
	img->phent = p.eh.e_phentsize;
	img->phdr = 0;
	if (p.phdr_seg.p_type == PT_PHDR) {
		img->phdr = p.phdr_seg.p_vaddr + p.bias;
	} else {
		for (size_t i = 0; i < p.n; i++)
			if (p.eh.e_phoff >= p.segs[i].offset &&
			    p.eh.e_phoff < p.segs[i].offset + p.segs[i].filesz)
				img->phdr = p.segs[i].vaddr + (p.eh.e_phoff - p.segs[i].offset) + p.bias;
	}
	vm->brk_start = vm->brk = p.hi;
	vm->data_size = data_size(p.segs, p.n);
	if (p.interp)
		load_interp(vm, path, p.interp, img);
	forget(&p);
	close(fd);
}
