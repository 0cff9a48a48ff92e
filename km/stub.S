/*
 * Guest code that km copies into the supervisor area. It is data to km:
 * it runs only in the guest, at the addresses km gives it, so every jump
 * here is relative.
 */
#include <kontain/hcall_abi.h>

	.section .rodata
	.balign 16
	.globl km_stub_start, km_stub_vectors, km_stub_fault_out, km_stub_end
km_stub_start:
/*
 * CPL 0 exception entries. Each pushes its vector (and a zero where the CPU
 * pushes no error code) and tells km through KM_FAULT_PORT; km reads the
 * frame on the supervisor stack, and may rewrite it, before the iretq.
 */
.macro VECTOR n, has_error_code
	.balign 16
	.if \has_error_code == 0
	pushq $0
	.endif
	pushq $\n
	jmp exception_common
.endm

km_stub_vectors:
	VECTOR 0, 0
	VECTOR 1, 0
	VECTOR 2, 0
	VECTOR 3, 0
	VECTOR 4, 0
	VECTOR 5, 0
	VECTOR 6, 0
	VECTOR 7, 0
	VECTOR 8, 1
	VECTOR 9, 0
	VECTOR 10, 1
	VECTOR 11, 1
	VECTOR 12, 1
	VECTOR 13, 1
	VECTOR 14, 1
	VECTOR 15, 0
	VECTOR 16, 0
	VECTOR 17, 1
	VECTOR 18, 0
	VECTOR 19, 0
	VECTOR 20, 0
	VECTOR 21, 1
	VECTOR 22, 0
	VECTOR 23, 0
	VECTOR 24, 0
	VECTOR 25, 0
	VECTOR 26, 0
	VECTOR 27, 0
	VECTOR 28, 0
	VECTOR 29, 1
	VECTOR 30, 1
	VECTOR 31, 0

	.balign 16
exception_common:
km_stub_fault_out:
	outl %eax, $KM_FAULT_PORT
	addq $16, %rsp
	iretq
km_stub_end:

/*
 * The LSTAR entry for programs that use the `syscall` instruction: a
 * hypercall, then sysretq. It touches no memory: a thread that unmapped its
 * own stack may exit through it (musl's pthread_exit). On hardware VMX/SVM
 * it runs at CPL 0; on PVM `syscall` stays at CPL 3, where sysretq would
 * fault, so km returns to rcx with r11's flags itself (km_x86_return_to_user).
 */
	.balign 16
	.globl km_entry_start, km_entry_end
km_entry_start:
	outl %eax, $KM_HCALL_PORT
	sysretq
km_entry_end:

	.section .note.GNU-stack, "", @progbits
