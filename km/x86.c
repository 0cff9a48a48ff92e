/* x86-64 state of the guest: descriptor tables, control registers, MSRs. */
#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "km.h"

#define CR0_PE (1ul << 0)
#define CR0_MP (1ul << 1)
#define CR0_ET (1ul << 4)
#define CR0_NE (1ul << 5)
#define CR0_WP (1ul << 16)
#define CR0_AM (1ul << 18)
#define CR0_PG (1ul << 31)
#define CR4_PAE (1ul << 5)
#define CR4_OSFXSR (1ul << 9)
#define CR4_OSXMMEXCPT (1ul << 10)
#define CR4_FSGSBASE (1ul << 16)
#define CR4_OSXSAVE (1ul << 18)
#define EFER_SCE (1ul << 0)
#define EFER_LME (1ul << 8)
#define EFER_LMA (1ul << 10)
#define EFER_NXE (1ul << 11)

#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_CSTAR 0xc0000083
#define MSR_SYSCALL_MASK 0xc0000084
#define MSR_FS_BASE 0xc0000100
#define MSR_GS_BASE 0xc0000101
#define MSR_KERNEL_GS_BASE 0xc0000102

#define RFLAGS_TF (1ul << 8)
#define RFLAGS_DF (1ul << 10)
#define RFLAGS_NT (1ul << 14)
#define RFLAGS_AC (1ul << 18)

/* Exception vectors a user program may raise on purpose (int3, into). */
#define VEC_BP 3
#define VEC_OF 4

#define TSS_SIZE 104
#define TSS_IOMAP_BYTES 32 /* ports 0..255, then one terminating 0xff */

struct tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
	uint8_t iomap[TSS_IOMAP_BYTES + 1];
} __attribute__((packed));

struct idt_gate {
	uint16_t off_lo, sel;
	uint8_t ist, type_attr;
	uint16_t off_mid;
	uint32_t off_hi, zero;
} __attribute__((packed));

static const struct kvm_cpuid_entry2 *cpuid_leaf(uint32_t fn, uint32_t idx)
{
	const struct kvm_cpuid2 *table = km_kvm_cpuid();

	for (uint32_t i = 0; i < table->nent; i++) {
		const struct kvm_cpuid_entry2 *e = &table->entries[i];
		if (e->function == fn && e->index == idx)
			return e;
	}
	return NULL;
}

uint64_t km_x86_hwcap(void)
{
	const struct kvm_cpuid_entry2 *e = cpuid_leaf(1, 0);
	return e ? e->edx : 0;
}

/*
 * The TR type for the I/O permission bitmap to be honoured: Intel VM entry
 * requires a busy TSS (11); AMD does not check, but QEMU's SVM emulation
 * consults the bitmap only for an available one (9).
 */
static unsigned tss_type(void)
{
	const struct kvm_cpuid_entry2 *e = cpuid_leaf(0, 0);
	bool amd = e && e->ebx == 0x68747541 && e->edx == 0x69746e65 && e->ecx == 0x444d4163;
	return amd ? 9 : 11;
}

static uint64_t seg_desc(uint64_t type_attr, bool long_mode)
{
	/* base 0, limit 0xfffff pages; type_attr is bits 40..47 (P, DPL, S, type). */
	return 0xffffull | (type_attr << 40) | (0xfull << 48) |
	       ((long_mode ? 0xaull : 0xcull) << 52);
}

static uint64_t vcpu_page(int id)
{
	return KM_SYS_VCPU + (uint64_t)id * KM_PAGE_SIZE;
}

/* A vCPU's own GDT (its TSS descriptor differs) and TSS (its own CPL 0 stack). */
static void init_vcpu_page(struct km_vm *vm, int id)
{
	uint64_t page = vcpu_page(id);
	uint64_t *gdt = km_sys(vm, page + KM_VCPU_GDT);
	struct tss64 *tss = km_sys(vm, page + KM_VCPU_TSS);
	uint64_t tss_va = KM_SYS_VA + page + KM_VCPU_TSS;
	uint64_t limit = sizeof(struct tss64) - 1;

	gdt[KM_SEL_KCODE >> 3] = seg_desc(0x9b, true);
	gdt[KM_SEL_KDATA >> 3] = seg_desc(0x93, false);
	gdt[KM_SEL_UCODE32 >> 3] = seg_desc(0xfb, false);
	gdt[KM_SEL_UDATA >> 3] = seg_desc(0xf3, false);
	gdt[KM_SEL_UCODE >> 3] = seg_desc(0xfb, true);
	gdt[KM_SEL_TSS >> 3] = (limit & 0xffff) | ((tss_va & 0xffffff) << 16) |
			       ((0x80ull | tss_type()) << 40) | ((tss_va >> 24 & 0xff) << 56);
	gdt[(KM_SEL_TSS >> 3) + 1] = tss_va >> 32;

	tss->rsp[0] = KM_SYS_VA + page + KM_VCPU_STACK_HI;
	tss->iomap_base = TSS_SIZE;
	memset(tss->iomap, 0xff, sizeof(tss->iomap));
	for (int port = KM_HCALL_PORT; port < KM_HCALL_PORT + KM_HCALL_PORT_SPAN; port++)
		tss->iomap[port / 8] &= (uint8_t)~(1u << (port % 8));

	pthread_rwlock_wrlock(&vm->mm_lock);
	km_map_sys_page(vm, page, false, PROT_READ | PROT_WRITE);
	pthread_rwlock_unlock(&vm->mm_lock);
}

static void init_idt(struct km_vm *vm)
{
	struct idt_gate *idt = km_sys(vm, KM_SYS_IDT);
	uint64_t vectors = KM_SYS_VA + KM_SYS_STUB + (uint64_t)(km_stub_vectors - km_stub_start);

	for (int v = 0; v < 32; v++) {
		uint64_t off = vectors + (uint64_t)v * KM_STUB_VEC_SIZE;
		bool user = v == VEC_BP || v == VEC_OF;
		idt[v] = (struct idt_gate){
			.off_lo = off & 0xffff,
			.sel = KM_SEL_KCODE,
			.type_attr = user ? 0xee : 0x8e,
			.off_mid = off >> 16 & 0xffff,
			.off_hi = off >> 32,
		};
	}
}

void km_x86_init_sys_area(struct km_vm *vm)
{
	size_t stub = (size_t)(km_stub_end - km_stub_start);
	size_t entry = (size_t)(km_entry_end - km_entry_start);

	if (stub > KM_PAGE_SIZE || entry > KM_PAGE_SIZE)
		km_die(1, "km: internal: guest stubs do not fit a page");
	memcpy(km_sys(vm, KM_SYS_STUB), km_stub_start, stub);
	memcpy(km_sys(vm, KM_SYS_ENTRY), km_entry_start, entry);
	init_idt(vm);

	km_map_sys_page(vm, KM_SYS_IDT, false, PROT_READ | PROT_WRITE);
	km_map_sys_page(vm, KM_SYS_STUB, false, PROT_READ | PROT_EXEC);
	km_map_sys_page(vm, KM_SYS_ENTRY, true, PROT_READ | PROT_EXEC);
	km_vdso_init(vm);
}

static void set_msrs(struct km_vcpu *vcpu, const uint32_t *idx, const uint64_t *val, int n)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[8];
	} m = { .hdr.nmsrs = (uint32_t)n };

	for (int i = 0; i < n; i++)
		m.e[i] = (struct kvm_msr_entry){ .index = idx[i], .data = val[i] };
	if (ioctl(vcpu->fd, KVM_SET_MSRS, &m) != n)
		km_die(1, "km: KVM_SET_MSRS failed");
}

/* As Linux's arch_prctl: a base outside the user address space is EPERM (KVM refuses it). */
int km_x86_set_fs_base(struct km_vcpu *vcpu, uint64_t base)
{
	uint32_t idx = MSR_FS_BASE;

	if (base >= KM_TOP)
		return -EPERM;
	set_msrs(vcpu, &idx, &base, 1);
	vcpu->fs_base = base;
	return 0;
}

/* Read back, not remembered: with CR4.FSGSBASE the program may wrfsbase itself. */
uint64_t km_x86_get_fs_base(struct km_vcpu *vcpu)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e;
	} m = { .hdr.nmsrs = 1, .e.index = MSR_FS_BASE };

	if (ioctl(vcpu->fd, KVM_GET_MSRS, &m) != 1)
		km_die(1, "km: KVM_GET_MSRS failed");
	return m.e.data;
}

static struct kvm_segment user_seg(uint16_t sel, bool code)
{
	return (struct kvm_segment){
		.selector = sel,
		.limit = 0xffffffff,
		.type = code ? 11 : 3,
		.present = 1,
		.dpl = 3,
		.db = code ? 0 : 1,
		.s = 1,
		.l = code ? 1 : 0,
		.g = 1,
	};
}

static void init_sregs(struct km_vcpu *vcpu)
{
	struct km_vm *vm = vcpu->vm;
	const struct kvm_cpuid_entry2 *leaf1 = cpuid_leaf(1, 0);
	const struct kvm_cpuid_entry2 *leaf7 = cpuid_leaf(7, 0);
	struct kvm_sregs s;

	if (ioctl(vcpu->fd, KVM_GET_SREGS, &s) < 0)
		km_die(1, "km: KVM_GET_SREGS failed: %s", strerror(errno));
	s.cs = user_seg(KM_SEL_UCODE, true);
	s.ss = s.ds = s.es = s.fs = s.gs = user_seg(KM_SEL_UDATA, false);
	s.tr = (struct kvm_segment){ .base = KM_SYS_VA + vcpu_page(vcpu->id) + KM_VCPU_TSS,
				     .limit = sizeof(struct tss64) - 1,
				     .selector = KM_SEL_TSS,
				     .type = tss_type(),
				     .present = 1 };
	s.ldt = (struct kvm_segment){ .unusable = 1 };
	s.gdt = (struct kvm_dtable){ .base = KM_SYS_VA + vcpu_page(vcpu->id) + KM_VCPU_GDT,
				     .limit = 0x4f };
	s.idt = (struct kvm_dtable){ .base = KM_SYS_VA + KM_SYS_IDT, .limit = 32 * 16 - 1 };
	s.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_AM | CR0_PG;
	s.cr3 = vm->pml4;
	s.cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
	if (leaf7 && (leaf7->ebx & 1))
		s.cr4 |= CR4_FSGSBASE;
	if (leaf1 && (leaf1->ecx & (1u << 26)))
		s.cr4 |= CR4_OSXSAVE;
	s.efer = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE;
	if (ioctl(vcpu->fd, KVM_SET_SREGS, &s) < 0)
		km_die(1, "km: KVM_SET_SREGS failed: %s", strerror(errno));

	if (s.cr4 & CR4_OSXSAVE) {
		struct kvm_xcrs xcrs = { .nr_xcrs = 1 };
		xcrs.xcrs[0].value = km_x86_xcr0();
		if (ioctl(vcpu->fd, KVM_SET_XCRS, &xcrs) < 0)
			km_die(1, "km: KVM_SET_XCRS failed: %s", strerror(errno));
	}
}

/*
 * The syscall entry (stub.S) is a hypercall `out` and a sysretq. Where the
 * vCPU stopped in it tells the KVM: hardware KVM stops at the `out` (and
 * steps over it at the next entry); PVM stops past it, having emulated it.
 */
bool km_x86_in_entry(uint64_t rip)
{
	return rip - (KM_SYS_VA + KM_SYS_ENTRY) <= 2;
}

/*
 * A call through the syscall entry: its return address must be user code
 * (a `syscall` always leaves one in rcx; a jump into the entry need not), and
 * the flags sysretq loads from r11 only those a program may set itself.
 */
void km_x86_entry_check(struct km_vcpu *vcpu)
{
	struct kvm_regs *r = &vcpu->run->s.regs.regs;

	if (r->rcx >= KM_TOP)
		km_guest_killed(vcpu->vm, SIGSEGV, "a return address outside user space at the syscall entry");
	r->r11 = (r->r11 & KM_RFLAGS_USER) | KM_RFLAGS_FIXED;
	vcpu->run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
}

/* The CPL the entry runs at, learnt once per process from the first vCPU stopped there. */
static int entry_cpl(struct km_vcpu *vcpu)
{
	int cpl = __atomic_load_n(&vcpu->vm->entry_cpl, __ATOMIC_RELAXED);
	struct kvm_sregs s;

	if (cpl >= 0)
		return cpl;
	if (ioctl(vcpu->fd, KVM_GET_SREGS, &s) < 0)
		km_die(1, "km: KVM_GET_SREGS failed: %s", strerror(errno));
	cpl = s.cs.selector & 3;
	__atomic_store_n(&vcpu->vm->entry_cpl, cpl, __ATOMIC_RELAXED);
	return cpl;
}

/*
 * Whether the entry's sysretq cannot return this call: on PVM, which runs
 * `syscall` at CPL 3 (DESIGN.md), where sysretq faults; km returns for it.
 * Asked as the exit is taken, before anything completes the `out`: only PVM
 * stops past it, so the CPL learnt here is PVM's and no guest on hardware
 * KVM, where real calls enter at CPL 0, can teach km a CPL 3.
 */
bool km_x86_entry_in_user_mode(struct km_vcpu *vcpu)
{
	return vcpu->run->s.regs.regs.rip == KM_SYS_VA + KM_SYS_ENTRY + 2 && entry_cpl(vcpu) == 3;
}

/* What sysretq does with the registers, for code that is at CPL 3 already. */
void km_x86_return_to_user(struct kvm_regs *r)
{
	r->rip = r->rcx;
	r->rflags = (r->r11 & KM_RFLAGS_USER) | KM_RFLAGS_FIXED;
}

/*
 * For a vCPU stopped in the syscall entry that km sends straight to user
 * code, a signal handler or rt_sigreturn's context, rather than through
 * sysretq: if the entry runs at CPL 0 (hardware), CS and SS become the
 * user's, as sysretq would make them.
 */
void km_x86_leave_entry(struct km_vcpu *vcpu)
{
	struct kvm_sregs s;

	if (__atomic_load_n(&vcpu->vm->entry_cpl, __ATOMIC_RELAXED) == 3)
		return;
	if (ioctl(vcpu->fd, KVM_GET_SREGS, &s) < 0)
		km_die(1, "km: KVM_GET_SREGS failed: %s", strerror(errno));
	if ((s.cs.selector & 3) == 3)
		return;
	s.cs = user_seg(KM_SEL_UCODE, true);
	s.ss = user_seg(KM_SEL_UDATA, false);
	if (ioctl(vcpu->fd, KVM_SET_SREGS, &s) < 0)
		km_die(1, "km: KVM_SET_SREGS failed: %s", strerror(errno));
}

/* The state a vCPU keeps across the guest threads it runs. */
void km_x86_init_vcpu(struct km_vcpu *vcpu)
{
	static const uint32_t idx[] = { MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SYSCALL_MASK,
					MSR_GS_BASE, MSR_KERNEL_GS_BASE };
	uint64_t val[] = {
		(uint64_t)KM_SEL_UCODE32 << 48 | (uint64_t)KM_SEL_KCODE << 32,
		KM_SYS_VA + KM_SYS_ENTRY,
		0,
		RFLAGS_TF | RFLAGS_DF | RFLAGS_NT | RFLAGS_AC,
		0,
		0,
	};

	init_vcpu_page(vcpu->vm, vcpu->id);
	init_sregs(vcpu);
	set_msrs(vcpu, idx, val, (int)(sizeof(idx) / sizeof(idx[0])));
}

/* A guest thread's first registers, FPU state and thread pointer. */
void km_x86_load_start(struct km_vcpu *vcpu)
{
	const struct km_thread_start *st = &vcpu->start;

	km_x86_set_fs_base(vcpu, st->fs_base);
	if (!st->fpu_inherited)
		km_x86_fpu_init(vcpu);
	else if (!km_x86_fpu_restore(vcpu, st->fpu, true))
		km_die(1, "km: cannot give a new thread its FPU state: %s", strerror(errno));
	/* Through sync regs, which also replace what a previous thread left dirty. */
	vcpu->run->s.regs.regs = st->regs;
	vcpu->run->kvm_dirty_regs = KVM_SYNC_X86_REGS;
}

/* x87, SSE, AVX and AVX-512 state: what programs use and signal frames carry. */
uint64_t km_x86_xcr0(void)
{
	const struct kvm_cpuid_entry2 *xs = cpuid_leaf(0xd, 0);
	return (xs ? xs->eax : 3) & 0xe7;
}

#define FXSAVE_SIZE 512
#define XFEATURES_FP_SSE 3ull

/*
 * The size of the FPU state in a signal frame: the standard-format XSAVE
 * area for the features the guest can use beyond x87 and SSE, else the
 * 512-byte FXSAVE area. Those features are what KVM's XSAVE leaf (0xd)
 * names, not its leaf 1: on some PVM hosts the guest's CPUID instruction
 * runs on the host's processor and shows XSAVE and AVX, which the guest then
 * uses, while KVM's leaf 1 shows neither; KVM_GET/SET_XSAVE carry them all
 * the same. (Where CPUID faults to KVM, the guest sees OSXSAVE clear and
 * leaves AVX alone.) A frame without them would lose the upper halves of the YMM
 * registers at every rt_sigreturn. Computed once, published last.
 */
size_t km_x86_fpu_size(struct km_vm *vm)
{
	size_t size = __atomic_load_n(&vm->xsave_size, __ATOMIC_ACQUIRE);

	if (size)
		return size;
	bool kvm_xsave = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE) > 0;
	uint64_t xcr0 = kvm_xsave ? km_x86_xcr0() : XFEATURES_FP_SSE;
	size = FXSAVE_SIZE;
	if (xcr0 & ~XFEATURES_FP_SSE) {
		size = FXSAVE_SIZE + 64;
		for (uint32_t i = 2; i < 64; i++) {
			const struct kvm_cpuid_entry2 *c = cpuid_leaf(0xd, i);
			if ((xcr0 >> i & 1) && c && c->ebx + c->eax > size)
				size = c->ebx + c->eax;
		}
		if (size > sizeof(struct kvm_xsave))
			size = sizeof(struct kvm_xsave);
	}
	vm->kvm_xsave = kvm_xsave;
	vm->has_xsave = size > FXSAVE_SIZE;
	vm->xcr0 = xcr0;
	__atomic_store_n(&vm->xsave_size, size, __ATOMIC_RELEASE);
	return size;
}

/* struct kvm_fpu to and from the FXSAVE layout a signal frame uses. */
static void fpu_to_fxsave(const struct kvm_fpu *f, uint8_t *fx)
{
	memset(fx, 0, FXSAVE_SIZE);
	memcpy(fx + 0, &f->fcw, 2);
	memcpy(fx + 2, &f->fsw, 2);
	fx[4] = f->ftwx;
	memcpy(fx + 6, &f->last_opcode, 2);
	memcpy(fx + 8, &f->last_ip, 8);
	memcpy(fx + 16, &f->last_dp, 8);
	memcpy(fx + 24, &f->mxcsr, 4);
	for (int i = 0; i < 8; i++)
		memcpy(fx + 32 + 16 * i, f->fpr[i], 16);
	memcpy(fx + 160, f->xmm, sizeof(f->xmm));
}

static void fxsave_to_fpu(const uint8_t *fx, struct kvm_fpu *f)
{
	memset(f, 0, sizeof(*f));
	memcpy(&f->fcw, fx + 0, 2);
	memcpy(&f->fsw, fx + 2, 2);
	f->ftwx = fx[4];
	memcpy(&f->last_opcode, fx + 6, 2);
	memcpy(&f->last_ip, fx + 8, 8);
	memcpy(&f->last_dp, fx + 16, 8);
	memcpy(&f->mxcsr, fx + 24, 4);
	f->mxcsr &= 0xffff; /* reserved MXCSR bits would make the load fault */
	for (int i = 0; i < 8; i++)
		memcpy(f->fpr[i], fx + 32 + 16 * i, 16);
	memcpy(f->xmm, fx + 160, sizeof(f->xmm));
}

/*
 * FPU state moves through KVM_GET/SET_XSAVE wherever KVM has them, whatever
 * the guest's CPUID says (PVM's shows no XSAVE): they carry the header that
 * says which components are live. KVM_SET_FPU writes the legacy area only,
 * which the CPU ignores for a component the header calls initial; a new
 * thread's, a forked child's and a signal handler's MXCSR and x87 control
 * word were lost that way.
 */
void km_x86_fpu_save(struct km_vcpu *vcpu, void *buf)
{
	struct km_vm *vm = vcpu->vm;

	km_x86_fpu_size(vm);
	if (vm->kvm_xsave) {
		struct kvm_xsave xs;
		if (ioctl(vcpu->fd, KVM_GET_XSAVE, &xs) < 0)
			km_die(1, "km: KVM_GET_XSAVE failed: %s", strerror(errno));
		memcpy(buf, xs.region, vm->xsave_size);
		return;
	}
	struct kvm_fpu f;
	if (ioctl(vcpu->fd, KVM_GET_FPU, &f) < 0)
		km_die(1, "km: KVM_GET_FPU failed: %s", strerror(errno));
	fpu_to_fxsave(&f, buf);
}

/*
 * Loads FPU state a signal handler may have edited: all of an XSAVE area
 * when `full` (and the guest has XSAVE), else its FXSAVE part, the other
 * components initial, as Linux restores a frame without extended state.
 * False if KVM refuses it (the caller treats that as a bad frame).
 */
bool km_x86_fpu_restore(struct km_vcpu *vcpu, const void *buf, bool full)
{
	struct km_vm *vm = vcpu->vm;

	km_x86_fpu_size(vm);
	if (vm->kvm_xsave) {
		struct kvm_xsave xs;
		full = full && vm->has_xsave;
		if (ioctl(vcpu->fd, KVM_GET_XSAVE, &xs) < 0)
			km_die(1, "km: KVM_GET_XSAVE failed: %s", strerror(errno));
		memcpy(xs.region, buf, full ? vm->xsave_size : FXSAVE_SIZE);
		uint32_t *mxcsr = (uint32_t *)((uint8_t *)xs.region + 24);
		*mxcsr &= 0xffff;
		uint64_t *xstate_bv = (uint64_t *)((uint8_t *)xs.region + FXSAVE_SIZE);
		*xstate_bv = full ? *xstate_bv & vm->xcr0 : XFEATURES_FP_SSE;
		memset(xstate_bv + 1, 0, 56); /* XCOMP_BV and reserved: standard format */
		return ioctl(vcpu->fd, KVM_SET_XSAVE, &xs) == 0;
	}
	struct kvm_fpu f;
	fxsave_to_fpu(buf, &f);
	return ioctl(vcpu->fd, KVM_SET_FPU, &f) == 0;
}

/* The state a program starts with, and a signal handler: x87 and SSE defaults, the rest initial. */
void km_x86_fpu_init(struct km_vcpu *vcpu)
{
	static const uint16_t fcw = 0x37f;
	static const uint32_t mxcsr = 0x1f80;
	static const uint64_t xstate_bv = XFEATURES_FP_SSE;
	uint8_t area[sizeof(struct kvm_xsave)] = { 0 };

	memcpy(area, &fcw, sizeof(fcw));
	memcpy(area + 24, &mxcsr, sizeof(mxcsr));
	memcpy(area + FXSAVE_SIZE, &xstate_bv, sizeof(xstate_bv));
	if (!km_x86_fpu_restore(vcpu, area, true))
		km_die(1, "km: cannot give a vCPU its initial FPU state: %s", strerror(errno));
}
