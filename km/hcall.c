/* The hypercall dispatcher: a table indexed by Linux syscall number. */
#include <linux/kvm.h>
#include <sys/syscall.h>

#include "syscalls.h"

#define KM_ENTRY(name) [__NR_##name] = km_sys_##name,
static const km_hc_fn table[] = { KM_SYSCALLS(KM_ENTRY) };
#undef KM_ENTRY

#define TABLE_SIZE (sizeof(table) / sizeof(table[0]))

extern const char *const km_syscall_names[];
extern const unsigned km_syscall_names_count;

const char *km_syscall_name(uint64_t nr)
{
	if (nr < km_syscall_names_count && km_syscall_names[nr])
		return km_syscall_names[nr];
	return "?";
}

void km_hcall(struct km_vcpu *vcpu)
{
	struct kvm_regs *r = &vcpu->run->s.regs.regs;
	const uint64_t a[6] = { r->rdi, r->rsi, r->rdx, r->r10, r->r8, r->r9 };
	uint64_t nr = r->rax;
	long ret;

	if (nr < TABLE_SIZE && table[nr]) {
		ret = table[nr](vcpu, a);
	} else {
		ret = -ENOSYS;
		if (km_verbose)
			km_log("km: unimplemented syscall %s (%lu): returning ENOSYS",
			       km_syscall_name(nr), (unsigned long)nr);
	}
	if (km_verbose)
		km_log("km: %s(0x%lx, 0x%lx, 0x%lx, 0x%lx) = %ld", km_syscall_name(nr),
		       (unsigned long)a[0], (unsigned long)a[1], (unsigned long)a[2],
		       (unsigned long)a[3], ret);
	r->rax = (uint64_t)ret;
	vcpu->run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
}
