/*
 * kvm-probe: checks that /dev/kvm really runs guest code.
 *
 * Runs a real-mode guest (mov $42,%al; out %al,$0x10; hlt) and a 64-bit
 * long-mode guest (paging on, writes memory, then loops on OUT to time VM
 * exits), and prints the KVM capabilities km relies on. Exits 0 on success.
 *
 *   gcc -O2 -Wall -o kvm-probe kvm-probe.c && ./kvm-probe [EXITS]
 *
 * EXITS (default 10000) is how many exits the timing loop makes; a large
 * number makes it a stress test of the VM exit path.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MEM_SIZE 0x200000 /* one 2 MiB page, identity mapped */
#define CODE_ADDR 0x1000
#define DATA_ADDR 0x3000
#define PML4_ADDR 0x4000
#define PDPT_ADDR 0x5000
#define PD_ADDR 0x6000
#define PORT_RESULT 0x10
#define PORT_LOOP 0x11

static const uint8_t real_mode_code[] = {
	0xb0, 0x2a, /* mov $42,%al */
	0xe6, 0x10, /* out %al,$0x10 */
	0xf4,       /* hlt */
};

static const uint8_t long_mode_code[] = {
	0x48, 0xc7, 0xc0, 0x01, 0x00, 0x00, 0x00,       /* mov $1,%rax */
	0x48, 0xc1, 0xe0, 0x20,                         /* shl $32,%rax */
	0x48, 0x83, 0xc0, 0x2a,                         /* add $42,%rax */
	0x48, 0x89, 0xc3,                               /* mov %rax,%rbx */
	0x48, 0x89, 0x04, 0x25, 0x00, 0x30, 0x00, 0x00, /* mov %rax,0x3000 */
	0xe6, 0x10,                                     /* out %al,$0x10 */
	0xe6, 0x11,                                     /* 1: out %al,$0x11 */
	0xeb, 0xfc,                                     /* jmp 1b */
};

struct vm {
	int kvm, fd, vcpu;
	uint8_t *mem;
	struct kvm_run *run;
};

static void fail(const char *fmt, ...)
{
	int err = errno;
	va_list ap;
	va_start(ap, fmt);
	fputs("kvm-probe: FAIL: ", stdout);
	vprintf(fmt, ap);
	if (err)
		printf(": %s", strerror(err));
	putchar('\n');
	va_end(ap);
	exit(1);
}

static int xioctl(int fd, unsigned long req, void *arg, const char *what)
{
	errno = 0;
	int r = ioctl(fd, req, arg);
	if (r < 0)
		fail("%s", what);
	return r;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void report_caps(int kvm)
{
	static const struct {
		int cap;
		const char *name;
	} caps[] = {
		{KVM_CAP_USER_MEMORY, "USER_MEMORY"},
		{KVM_CAP_SYNC_REGS, "SYNC_REGS"},
		{KVM_CAP_IMMEDIATE_EXIT, "IMMEDIATE_EXIT"},
		{KVM_CAP_NR_VCPUS, "NR_VCPUS"},
		{KVM_CAP_MAX_VCPUS, "MAX_VCPUS"},
		{KVM_CAP_NR_MEMSLOTS, "NR_MEMSLOTS"},
		{KVM_CAP_EXT_CPUID, "EXT_CPUID"},
		{KVM_CAP_XSAVE, "XSAVE"},
		{KVM_CAP_XCRS, "XCRS"},
		{KVM_CAP_SET_TSS_ADDR, "SET_TSS_ADDR"},
		{KVM_CAP_SET_IDENTITY_MAP_ADDR, "SET_IDENTITY_MAP_ADDR"},
		{KVM_CAP_X86_ROBUST_SINGLESTEP, "X86_ROBUST_SINGLESTEP"},
		{KVM_CAP_SET_GUEST_DEBUG, "SET_GUEST_DEBUG"},
	};
	printf("kvm-probe: KVM API version %d\n", ioctl(kvm, KVM_GET_API_VERSION, 0));
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
		printf("kvm-probe: KVM_CAP_%s = %d\n", caps[i].name,
		       ioctl(kvm, KVM_CHECK_EXTENSION, caps[i].cap));
}

static void vm_create(struct vm *vm, int kvm)
{
	vm->kvm = kvm;
	vm->fd = xioctl(kvm, KVM_CREATE_VM, 0, "KVM_CREATE_VM");
	/* Intel needs a TSS for real mode; AMD accepts and ignores it. */
	xioctl(vm->fd, KVM_SET_TSS_ADDR, (void *)0xfffbd000ul, "KVM_SET_TSS_ADDR");

	vm->mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (vm->mem == MAP_FAILED)
		fail("mmap guest memory");
	struct kvm_userspace_memory_region region = {
		.slot = 0,
		.guest_phys_addr = 0,
		.memory_size = MEM_SIZE,
		.userspace_addr = (uintptr_t)vm->mem,
	};
	xioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &region, "KVM_SET_USER_MEMORY_REGION");

	vm->vcpu = xioctl(vm->fd, KVM_CREATE_VCPU, 0, "KVM_CREATE_VCPU");
	int run_size = xioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0, "KVM_GET_VCPU_MMAP_SIZE");
	vm->run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vm->vcpu, 0);
	if (vm->run == MAP_FAILED)
		fail("mmap kvm_run");
}

static void vm_destroy(struct vm *vm)
{
	close(vm->vcpu);
	close(vm->fd);
	munmap(vm->mem, MEM_SIZE);
}

static void set_regs(struct vm *vm, uint64_t rip)
{
	struct kvm_regs regs = {.rip = rip, .rflags = 2, .rsp = MEM_SIZE};
	xioctl(vm->vcpu, KVM_SET_REGS, &regs, "KVM_SET_REGS");
}

/* Runs the vCPU to its next exit and checks it is OUT of one byte to port. */
static uint8_t run_to_out(struct vm *vm, uint16_t port)
{
	struct kvm_run *run = vm->run;
	xioctl(vm->vcpu, KVM_RUN, 0, "KVM_RUN");
	if (run->exit_reason != KVM_EXIT_IO)
		fail("exit reason %u, expected KVM_EXIT_IO (%u)%s", run->exit_reason, KVM_EXIT_IO,
		     run->exit_reason == KVM_EXIT_FAIL_ENTRY ? " (entry failed)" : "");
	if (run->io.direction != KVM_EXIT_IO_OUT || run->io.port != port || run->io.size != 1)
		fail("unexpected I/O exit: dir %u port %#x size %u", run->io.direction, run->io.port,
		     run->io.size);
	return *((uint8_t *)run + run->io.data_offset);
}

static void probe_real_mode(int kvm)
{
	struct vm vm;
	vm_create(&vm, kvm);
	memcpy(vm.mem + CODE_ADDR, real_mode_code, sizeof(real_mode_code));

	struct kvm_sregs sregs;
	xioctl(vm.vcpu, KVM_GET_SREGS, &sregs, "KVM_GET_SREGS");
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	xioctl(vm.vcpu, KVM_SET_SREGS, &sregs, "KVM_SET_SREGS");
	set_regs(&vm, CODE_ADDR);

	uint8_t value = run_to_out(&vm, PORT_RESULT);
	if (value != 42)
		fail("real mode: OUT value %u, expected 42", value);
	xioctl(vm.vcpu, KVM_RUN, 0, "KVM_RUN");
	if (vm.run->exit_reason != KVM_EXIT_HLT)
		fail("real mode: exit reason %u after OUT, expected KVM_EXIT_HLT", vm.run->exit_reason);
	printf("kvm-probe: real mode: KVM_EXIT_IO port %#x value %u, then KVM_EXIT_HLT: ok\n",
	       PORT_RESULT, value);
	vm_destroy(&vm);
}

static void set_long_mode(struct vm *vm)
{
	uint64_t *pml4 = (uint64_t *)(vm->mem + PML4_ADDR);
	uint64_t *pdpt = (uint64_t *)(vm->mem + PDPT_ADDR);
	uint64_t *pd = (uint64_t *)(vm->mem + PD_ADDR);
	pml4[0] = PDPT_ADDR | 3;  /* present, writable */
	pdpt[0] = PD_ADDR | 3;
	pd[0] = 0 | 0x83;         /* present, writable, 2 MiB page */

	struct kvm_sregs sregs;
	xioctl(vm->vcpu, KVM_GET_SREGS, &sregs, "KVM_GET_SREGS");
	sregs.cr3 = PML4_ADDR;
	sregs.cr4 = 1u << 5;                       /* PAE */
	sregs.cr0 = 1u << 0 | 1u << 4 | 1u << 31;  /* PE, ET, PG */
	sregs.efer = 1u << 8 | 1u << 10;           /* LME, LMA */
	struct kvm_segment code = {
		.base = 0, .limit = 0xffffffff, .selector = 8, .type = 11,
		.present = 1, .s = 1, .l = 1, .g = 1,
	};
	struct kvm_segment data = code;
	data.selector = 16;
	data.type = 3;
	data.l = 0;
	data.db = 1;
	sregs.cs = code;
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
	xioctl(vm->vcpu, KVM_SET_SREGS, &sregs, "KVM_SET_SREGS");
}

static uint64_t guest_rbx(struct vm *vm, int sync_regs)
{
	if (sync_regs)
		return vm->run->s.regs.regs.rbx;
	struct kvm_regs regs;
	xioctl(vm->vcpu, KVM_GET_REGS, &regs, "KVM_GET_REGS");
	return regs.rbx;
}

static void probe_long_mode(int kvm, long exits)
{
	const uint64_t expect = (1ull << 32) + 42;
	int sync_regs = ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_SYNC_REGS) & KVM_SYNC_X86_REGS;
	struct vm vm;
	vm_create(&vm, kvm);
	memcpy(vm.mem + CODE_ADDR, long_mode_code, sizeof(long_mode_code));
	set_long_mode(&vm);
	set_regs(&vm, CODE_ADDR);
	if (sync_regs)
		vm.run->kvm_valid_regs = KVM_SYNC_X86_REGS;

	uint8_t value = run_to_out(&vm, PORT_RESULT);
	uint64_t rbx = guest_rbx(&vm, sync_regs), stored;
	memcpy(&stored, vm.mem + DATA_ADDR, sizeof(stored));
	if (value != 42 || rbx != expect || stored != expect)
		fail("long mode: OUT %u rbx %#llx memory %#llx, expected 42 and %#llx", value,
		     (unsigned long long)rbx, (unsigned long long)stored, (unsigned long long)expect);
	printf("kvm-probe: long mode: 64-bit rbx %#llx (read via %s), memory write seen: ok\n",
	       (unsigned long long)rbx, sync_regs ? "kvm_run sync regs" : "KVM_GET_REGS");

	double start = now();
	for (long i = 0; i < exits; i++)
		run_to_out(&vm, PORT_LOOP);
	double elapsed = now() - start;
	printf("kvm-probe: %ld I/O exits in %.3f s: %.1f us per guest exit and re-entry\n", exits,
	       elapsed, elapsed * 1e6 / exits);
	vm_destroy(&vm);
}

int main(int argc, char **argv)
{
	long exits = argc > 1 ? atol(argv[1]) : 10000;
	if (exits < 1)
		exits = 1;
	errno = 0;
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		fail("open /dev/kvm");
	report_caps(kvm);
	probe_real_mode(kvm);
	probe_long_mode(kvm, exits);
	printf("kvm-probe: success\n");
	return 0;
}
