/* The guest's vDSO image (build/km/vdso.so), which km copies into every guest. */
	.section .rodata
	.balign 16
	.globl km_vdso_start, km_vdso_end
km_vdso_start:
	.incbin KM_VDSO_PATH
km_vdso_end:
	.section .note.GNU-stack,"",@progbits
