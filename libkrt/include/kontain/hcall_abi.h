/*
 * The hypercall ABI between a Kontain guest and km. This one file is
 * included by km, by libkrt and by the patched musl; never copy it.
 *
 * A hypercall is `outl %eax, $KM_HCALL_PORT` with the Linux x86-64 syscall
 * register convention: eax holds the syscall number, the arguments are in
 * rdi, rsi, rdx, r10, r8, r9 and the result comes back in rax (a negative
 * errno on failure). No other register is changed, so unlike `syscall`
 * rcx and r11 survive.
 *
 * Safe to include from assembler (.S) files.
 */
#ifndef KONTAIN_HCALL_ABI_H
#define KONTAIN_HCALL_ABI_H

/*
 * I/O ports; an 8-bit immediate so `out` needs no register for the port.
 * A 4-byte `outl` to P is checked against the bits of ports P..P+3, so CPL 3
 * is given those four, and the fault port lies outside them.
 */
#define KM_HCALL_PORT 0xE8 /* syscall by number, from musl or the LSTAR entry */
#define KM_HCALL_PORT_SPAN 4
#define KM_FAULT_PORT 0xEC /* CPL 0 exception entry: frame on the supervisor stack */

/* Numbers from here up are km's own hypercalls, never Linux syscalls. */
#define KM_HC_BASE 0x1000

#ifndef __ASSEMBLER__

static inline long km_hcall6(long n, long a1, long a2, long a3, long a4,
                             long a5, long a6)
{
	register long r10 __asm__("r10") = a4;
	register long r8 __asm__("r8") = a5;
	register long r9 __asm__("r9") = a6;
	unsigned long ret;

	__asm__ __volatile__("outl %%eax, %1"
			     : "=a"(ret)
			     : "i"(KM_HCALL_PORT), "a"(n), "D"(a1), "S"(a2),
			       "d"(a3), "r"(r10), "r"(r8), "r"(r9)
			     : "memory");
	return ret;
}

#endif /* __ASSEMBLER__ */
#endif /* KONTAIN_HCALL_ABI_H */
