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

/*
 * Fast calls (docs/architecture.md, "Fast calls"): where an exit is dear
 * (PVM), a thread may post a call in guest memory instead, for a km thread
 * that polls them, and wait for the answer without leaving the guest.
 *
 * KM_HC_FAST_SLOT returns the calling thread's slot (an address in the
 * page after KM_FAST_VA), or a negative errno when km takes no calls this
 * way. A caller posts a struct km_fast_req of its own (8-byte aligned, on
 * its stack) by a compare-and-swap of the slot's word from 0 to its
 * address, then waits for `done`. km claims a request by setting the
 * word's bit 0, clears the word, writes `ret`, then sets `done` with one
 * store, its last access to the request (the caller may reuse it at once):
 *
 *   KM_FAST_DONE      ret is the call's result
 *   KM_FAST_DECLINED  not made: make it with the hypercall instead
 *   KM_FAST_PARTIAL   a write: ret bytes were written, the rest were not;
 *                     write them with the hypercall (from buffer + ret)
 *
 * A caller that waited hdr->spin_tsc TSC ticks takes its request back by
 * swapping the word from its address to 0, and makes the hypercall; if that
 * fails km has claimed it, and `done` comes soon. km takes a request back
 * the same way before it gives the thread a signal (setting DECLINED).
 * hdr->calls is a bitmap of the numbers worth posting; hdr->awake says a km
 * thread is polling now (a hypercall of such a number wakes it).
 */
#define KM_HC_FAST_SLOT (KM_HC_BASE + 1)
#define KM_FAST_VA 0xffffffffc0410000ul
#define KM_FAST_SLOTS_VA (KM_FAST_VA + 0x1000ul)
#define KM_FAST_SLOT_SIZE 64
#define KM_FAST_NRS 1024
#define KM_FAST_DONE 1
#define KM_FAST_DECLINED 2
#define KM_FAST_PARTIAL 3
#define KM_FAST_CLAIMED 1ul

/*
 * KM_HC_INIT_TP(tp, clear_tid, slot_out): a program's first thread set up
 * in one exit, for musl's __init_tp: arch_prctl(ARCH_SET_FS, tp), then
 * set_tid_address(clear_tid), then, unless slot_out is 0, what
 * KM_HC_FAST_SLOT would return stored there as a long. Returns the tid, or
 * a negative errno with nothing done; a km without it returns -ENOSYS.
 */
#define KM_HC_INIT_TP (KM_HC_BASE + 2)

#ifndef __ASSEMBLER__
struct km_fast_hdr {
	unsigned awake;
	unsigned unused;
	unsigned long spin_tsc;
	unsigned long calls[KM_FAST_NRS / 64];
};

struct km_fast_req {
	long nr, a[6];
	long ret;
	unsigned long done;
};
#endif

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
