/* The floor program's VM, shared by its run loop and its long-mode setup. */
#ifndef FLOOR_H
#define FLOOR_H

#include <linux/kvm.h>
#include <stdint.h>

#define FLOOR_CODE 0x8000 /* guest-physical address of the guest's code */

struct floor_vm {
	int vm_fd, vcpu_fd;
	uint8_t *mem; /* guest-physical 0 */
	struct kvm_run *run;
};

/* 64-bit long mode at CPL 3, the port open in the TSS I/O bitmap, rip at FLOOR_CODE. */
void floor_enter_user_mode(struct floor_vm *f);

#endif
