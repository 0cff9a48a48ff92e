/* An unmodified-style program: Linux `syscall` instructions, no libc. */
	.globl _start
_start:
	movl $1, %eax		/* write(1, msg, len) */
	movl $1, %edi
	leaq msg(%rip), %rsi
	movl $len, %edx
	movq $0x5555, %rcx	/* must not matter: syscall overwrites rcx */
	pushq $0x77		/* red zone content kept below rsp */
	addq $8, %rsp
	syscall
	cmpq $len, %rax
	jne fail
	cmpq $0x77, -8(%rsp)
	jne fail
	movl $60, %eax		/* exit(42) */
	movl $42, %edi
	syscall
fail:	movl $60, %eax
	movl $1, %edi
	syscall
	.section .rodata
msg:	.ascii "raw syscall ok\n"
	len = . - msg
	.section .note.GNU-stack, "", @progbits
