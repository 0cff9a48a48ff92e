/* The vCPU run loop: each exit is a hypercall, a guest exception or a fatal event. */
#include <errno.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "km.h"

static void port_io(struct km_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;

	if (run->io.direction == KVM_EXIT_IO_OUT && run->io.port == KM_HCALL_PORT) {
		uint64_t nr = run->s.regs.regs.rax;
		vcpu->stats.hypercalls++;
		vcpu->stats.calls[km_stats_slot(nr)]++;
		km_hcall(vcpu);
	} else if (run->io.direction == KVM_EXIT_IO_OUT && run->io.port == KM_FAULT_PORT) {
		vcpu->stats.faults++;
		km_guest_fault(vcpu);
	} else {
		km_guest_killed(vcpu->vm, SIGSEGV, "access to I/O port outside the hypercall ABI");
	}
}

/* Runs the vCPU's guest thread until it exits or the process does. */
void km_run(struct km_vcpu *vcpu)
{
	struct km_vm *vm = vcpu->vm;
	char why[128];

	while (vcpu->state == KM_VCPU_RUNNING && !vm->exiting) {
		struct kvm_run *run = vcpu->run; /* a fork's child gets a new one */
		if (km_core_stopping())
			km_core_stop(vcpu);
		if (km_gdb_busy())
			km_gdb_run_loop(vcpu);
		uint64_t trips = km_mem_trips(vm);
		int rc = km_vcpu_run(vcpu);
		vcpu->stats.exits++;
		if (rc == -EINTR) {
			vcpu->stats.interruptions++;
			run->immediate_exit = 0;
			km_signal_async(vcpu);
			continue;
		}
		if (rc == -EAGAIN || (rc == -EFAULT && km_mem_tripped(vm, trips)))
			continue;
		if (rc == -EFAULT) {
			snprintf(why, sizeof(why), "memory access km could not back, near rip 0x%llx",
				 run->s.regs.regs.rip);
			km_guest_killed(vm, SIGBUS, why);
		}
		if (rc < 0)
			km_die(1, "km: KVM_RUN failed: %s", strerror(-rc));

		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			port_io(vcpu);
			break;
		case KVM_EXIT_SHUTDOWN:
			km_guest_killed(vm, SIGSEGV, "the vCPU shut down (triple fault)");
		case KVM_EXIT_MMIO:
			snprintf(why, sizeof(why), "access to guest-physical 0x%llx, which has no memory",
				 run->mmio.phys_addr);
			km_guest_killed(vm, SIGSEGV, why);
		case KVM_EXIT_FAIL_ENTRY:
			km_die(1, "km: KVM could not enter the guest (hardware reason 0x%llx)",
			       run->fail_entry.hardware_entry_failure_reason);
		case KVM_EXIT_INTERNAL_ERROR:
			km_die(1, "km: KVM internal error %u at rip 0x%llx", run->internal.suberror,
			       run->s.regs.regs.rip);
		default:
			km_die(1, "km: unexpected KVM exit %u at rip 0x%llx", run->exit_reason,
			       run->s.regs.regs.rip);
		}
	}
}
