/*
 * Long mode at CPL 3 for the floor program, the way km runs its guests: one
 * 2 MiB identity-mapped page, a GDT with user segments, and a TSS whose I/O
 * permission bitmap opens the hypercall port to CPL 3. No IDT: a fault is a
 * triple fault, which the run loop reports.
 */
#include <cpuid.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "floor.h"

#define PML4 0x1000
#define PDPT 0x2000
#define PD 0x3000
#define GDT 0x4000
#define TSS 0x5000
#define TSS_IOMAP 104
#define TSS_LIMIT (TSS_IOMAP + 32) /* ports 0..255, then a terminating 0xff */
#define PORT 0xE8
#define PORT_SPAN 4 /* an outl checks the bits of four ports */

#define SEL_UDATA (3 << 3 | 3)
#define SEL_UCODE (4 << 3 | 3)
#define SEL_TSS (5 << 3)

static void die(const char *what)
{
	fprintf(stderr, "floor: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint64_t seg_desc(uint64_t type_attr, int long_mode)
{
	return 0xffffull | (type_attr << 40) | (0xfull << 48) | ((long_mode ? 0xaull : 0xcull) << 52);
}

/* QEMU's SVM emulation honours the I/O bitmap only for an available TSS (9); Intel wants busy (11). */
static unsigned tss_type(void)
{
	unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
	__get_cpuid(0, &eax, &ebx, &ecx, &edx);
	return ebx == 0x68747541 ? 9 : 11; /* "Auth"enticAMD */
}

static struct kvm_segment user_seg(uint16_t sel, int code)
{
	return (struct kvm_segment){ .selector = sel, .limit = 0xffffffff, .type = code ? 11 : 3,
				     .present = 1, .dpl = 3, .db = !code, .s = 1, .l = code, .g = 1 };
}

static void build_tables(uint8_t *mem, unsigned tss_kind)
{
	uint64_t *pml4 = (uint64_t *)(mem + PML4), *pdpt = (uint64_t *)(mem + PDPT);
	uint64_t *pd = (uint64_t *)(mem + PD), *gdt = (uint64_t *)(mem + GDT);
	uint8_t *tss = mem + TSS;

	pml4[0] = PDPT | 7; /* present, writable, user */
	pdpt[0] = PD | 7;
	pd[0] = 0x87; /* a 2 MiB page at 0 */
	gdt[1] = seg_desc(0x9b, 1);
	gdt[2] = seg_desc(0x93, 0);
	gdt[3] = seg_desc(0xf3, 0);
	gdt[4] = seg_desc(0xfb, 1);
	gdt[5] = TSS_LIMIT | (uint64_t)TSS << 16 | (0x80ull | tss_kind) << 40;
	gdt[6] = 0;
	memset(tss, 0, TSS_LIMIT + 1);
	tss[102] = TSS_IOMAP & 0xff;
	tss[103] = TSS_IOMAP >> 8;
	memset(tss + TSS_IOMAP, 0xff, 33);
	for (int port = PORT; port < PORT + PORT_SPAN; port++)
		tss[TSS_IOMAP + port / 8] &= (uint8_t)~(1u << (port % 8));
}

void floor_enter_user_mode(struct floor_vm *f)
{
	unsigned tss_kind = tss_type();
	struct kvm_sregs s;

	build_tables(f->mem, tss_kind);
	if (ioctl(f->vcpu_fd, KVM_GET_SREGS, &s) < 0)
		die("KVM_GET_SREGS");
	s.cs = user_seg(SEL_UCODE, 1);
	s.ss = s.ds = s.es = s.fs = s.gs = user_seg(SEL_UDATA, 0);
	s.tr = (struct kvm_segment){ .base = TSS, .limit = TSS_LIMIT, .selector = SEL_TSS,
				     .type = (uint8_t)tss_kind, .present = 1 };
	s.ldt = (struct kvm_segment){ .unusable = 1 };
	s.gdt = (struct kvm_dtable){ .base = GDT, .limit = 7 * 8 - 1 };
	s.cr0 = 1u | 1u << 4 | 1u << 5 | 1u << 31; /* PE, ET, NE, PG */
	s.cr3 = PML4;
	s.cr4 = 1u << 5; /* PAE */
	s.efer = 1u << 8 | 1u << 10; /* LME, LMA */
	if (ioctl(f->vcpu_fd, KVM_SET_SREGS, &s) < 0)
		die("KVM_SET_SREGS");
	struct kvm_regs r = { .rip = FLOOR_CODE, .rflags = 2, .rsp = 0x200000 };
	if (ioctl(f->vcpu_fd, KVM_SET_REGS, &r) < 0)
		die("KVM_SET_REGS");
}
