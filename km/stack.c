/* The initial stack: argc, argv, envp and the auxiliary vector, as Linux lays them out. */
#include <elf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <unistd.h>

#include "km.h"
#include "vvar.h"

#define AUXV_MAX 24

struct stack_builder {
	struct km_vm *vm;
	uint64_t sp; /* guest address, grows down */
};

static uint64_t push_bytes(struct stack_builder *b, const void *data, size_t len)
{
	b->sp -= len;
	void *dst = km_gva(b->vm, b->sp, len, PROT_WRITE);
	if (dst == NULL)
		km_die(2, "km: arguments and environment do not fit the %lu KiB stack",
		       KM_STACK_SIZE >> 10);
	memcpy(dst, data, len);
	return b->sp;
}

static uint64_t push_string(struct stack_builder *b, const char *s)
{
	return push_bytes(b, s, strlen(s) + 1);
}

uint64_t km_stack_init(struct km_vm *vm, const struct km_image *img, int argc, char **argv,
		       char **envp)
{
	struct stack_builder b = { vm, KM_TOP };
	int envc = 0;
	uint8_t random[16];

	if (km_mmap(vm, KM_TOP - KM_STACK_SIZE, KM_STACK_SIZE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0, KM_VMA_STACK) < 0)
		km_die(2, "km: the memory limit is too small for the stack");
	km_mem_no_huge_pages(vm, KM_TOP - KM_STACK_SIZE, KM_STACK_SIZE);
	vm->mmap_top = KM_TOP - KM_STACK_SIZE - KM_STACK_GAP;

	while (envp[envc])
		envc++;
	uint64_t *argp = calloc((size_t)argc + 1, sizeof(*argp));
	uint64_t *envq = calloc((size_t)envc + 1, sizeof(*envq));
	if (argp == NULL || envq == NULL)
		km_die(1, "km: out of memory");

	uint64_t execfn = push_string(&b, img->execfn);
	vm->env_end = b.sp;
	for (int i = envc - 1; i >= 0; i--)
		envq[i] = push_string(&b, envp[i]);
	vm->env_start = vm->arg_end = b.sp;
	for (int i = argc - 1; i >= 0; i--)
		argp[i] = push_string(&b, argv[i]);
	vm->arg_start = b.sp;
	uint64_t platform = push_string(&b, "x86_64");
	if (getrandom(random, sizeof(random), 0) != sizeof(random))
		km_die(1, "km: getrandom failed");
	uint64_t at_random = push_bytes(&b, random, sizeof(random));

	uint64_t auxv[AUXV_MAX * 2], *a = auxv;
#define AUX(k, v) (*a++ = (k), *a++ = (v))
	AUX(AT_PHDR, img->phdr);
	AUX(AT_PHENT, img->phent);
	AUX(AT_PHNUM, img->phnum);
	AUX(AT_PAGESZ, KM_PAGE_SIZE);
	AUX(AT_BASE, img->base);
	AUX(AT_FLAGS, 0);
	AUX(AT_ENTRY, img->entry);
	AUX(AT_UID, getuid());
	AUX(AT_EUID, geteuid());
	AUX(AT_GID, getgid());
	AUX(AT_EGID, getegid());
	AUX(AT_SECURE, 0);
	uint64_t *hwcap = a + 1; /* km_stack_set_hwcap's */
	AUX(AT_HWCAP, 0);
	AUX(AT_HWCAP2, 0);
	AUX(AT_CLKTCK, (uint64_t)sysconf(_SC_CLK_TCK));
	AUX(AT_RANDOM, at_random);
	AUX(AT_PLATFORM, platform);
	AUX(AT_EXECFN, execfn);
	AUX(AT_SYSINFO_EHDR, KM_SYS_VA + KM_SYS_VDSO);
	AUX(AT_NULL, 0);
#undef AUX

	/* argc, argv[], NULL, envp[], NULL, auxv: rsp must end 16-byte aligned. */
	size_t words = 1 + (size_t)argc + 1 + (size_t)envc + 1 + (size_t)(a - auxv);
	b.sp = KM_ROUND_DOWN(b.sp - words * 8, 16) + words * 8;
	vm->auxv_end = b.sp;
	vm->auxv_start = push_bytes(&b, auxv, (size_t)(a - auxv) * 8);
	vm->hwcap_at = vm->auxv_start + (uint64_t)(hwcap - auxv) * 8;
	uint64_t zero = 0;
	push_bytes(&b, &zero, 8);
	push_bytes(&b, envq, (size_t)envc * 8);
	push_bytes(&b, &zero, 8);
	push_bytes(&b, argp, (size_t)argc * 8);
	uint64_t count = (uint64_t)argc;
	push_bytes(&b, &count, 8);
	free(argp);
	free(envq);
	return b.sp;
}

/*
 * AT_HWCAP is the vCPU's CPUID leaf 1 EDX, which km knows once it has made
 * the first vCPU: the stack is built before, while KVM is still asked.
 */
void km_stack_set_hwcap(struct km_vm *vm)
{
	uint64_t hwcap = km_x86_hwcap();
	void *at = km_gva(vm, vm->hwcap_at, sizeof(hwcap), PROT_WRITE);

	if (at)
		memcpy(at, &hwcap, sizeof(hwcap));
}
