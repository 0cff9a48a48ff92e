/* The host backend: /dev/kvm, the VM, its memory slot and vCPUs. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "km.h"

#define KM_CPUID_MAX 256

/*
 * --kvm-fd=N: the /dev/kvm that the km a guest's exec replaced had open,
 * so that a program that dropped root for a user who may not open
 * /dev/kvm (a server's worker, subprocess's user=) still execs.
 */
int km_kvm_fd_option(const char *arg)
{
	char *end;
	long fd = strtol(arg, &end, 10);
	struct stat st;

	if (*arg == '\0' || *end != '\0' || fd < 0 || fd > INT_MAX || fstat((int)fd, &st) != 0 ||
	    !S_ISCHR(st.st_mode) || ioctl((int)fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
		km_die(2, "km: --kvm-fd=%s is not an open /dev/kvm", arg);
	return (int)fd;
}

/*
 * Errors in opening KVM and making the VM are kept and reported where km
 * first needs the VM, after the program's, so that messages keep their
 * order whichever work comes first.
 */
static char open_error[256];

static bool open_failed(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(open_error, sizeof(open_error), fmt, ap);
	va_end(ap);
	return false;
}

static bool has_cap(struct km_vm *vm, long cap, const char *name)
{
	return ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, cap) > 0 ||
	       open_failed("km: this KVM lacks %s, which km needs", name);
}

void km_kvm_open(struct km_vm *vm, int inherited)
{
	int fd = inherited >= 0 ? inherited : open("/dev/kvm", O_RDWR | O_CLOEXEC);

	vm->kvm_fd = vm->vm_fd = -1;
	if (inherited >= 0 && fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) {
		open_failed("km: cannot keep /dev/kvm from the program: %s", strerror(errno));
		return;
	}
	if (fd < 0) {
		if (errno == ENOENT)
			open_failed("km: /dev/kvm does not exist: enable virtualization (VT-x or "
				    "AMD-V) and load kvm_intel or kvm_amd (kvm_pvm in a VM), or "
				    "run on a host with KVM");
		/* Debian and Fedora give /dev/kvm to the group kvm (udev). */
		else if (errno == EACCES)
			open_failed("km: no permission to open /dev/kvm: add yourself to the kvm "
				    "group (sudo usermod -aG kvm $USER) and log in again");
		else
			open_failed("km: cannot open /dev/kvm: %s", strerror(errno));
		return;
	}
	int high = fd >= vm->fd_limit ? fd : km_fd_high(fd);
	if (high < 0) {
		open_failed("km: cannot move /dev/kvm out of the guest's descriptors: %s",
			    strerror(errno));
		return;
	}
	if (ioctl(high, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		open_failed("km: /dev/kvm speaks an unknown API version");
		return;
	}
	vm->kvm_fd = high;
	if (!has_cap(vm, KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY") ||
	    !has_cap(vm, KVM_CAP_SYNC_REGS, "KVM_CAP_SYNC_REGS") ||
	    !has_cap(vm, KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID"))
		vm->kvm_fd = -1;
}

void km_kvm_create_vm(struct km_vm *vm)
{
	int fd;

	if (vm->kvm_fd < 0)
		return;
	while ((fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0)) < 0 && errno == EINTR)
		; /* a signal sent to km meanwhile: kept for the guest */
	if (fd < 0) {
		open_failed("km: KVM_CREATE_VM failed: %s", strerror(errno));
		return;
	}
	if ((vm->vm_fd = km_fd_high(fd)) < 0) {
		open_failed("km: cannot move the VM out of the guest's descriptors: %s",
			    strerror(errno));
		return;
	}
	int size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (size <= 0) {
		open_failed("km: KVM_GET_VCPU_MMAP_SIZE failed: %s", strerror(errno));
		return;
	}
	vm->run_size = (size_t)size;
}

void km_kvm_check_open(void)
{
	if (open_error[0])
		km_die(1, "%s", open_error);
}

/* One table for km's life, filled by whichever thread takes the step. */
static struct {
	union {
		struct kvm_cpuid2 table;
		uint8_t room[sizeof(struct kvm_cpuid2) + KM_CPUID_MAX * sizeof(struct kvm_cpuid_entry2)];
	};
	int error; /* errno of KVM_GET_SUPPORTED_CPUID */
} cpuid;

/* A start-up step (beside.c); a failure is reported where the table is read. */
void km_kvm_query_cpuid(struct km_vm *vm)
{
	if (vm->kvm_fd < 0)
		return; /* km_kvm_check_open ends km first */
	cpuid.table.nent = KM_CPUID_MAX;
	if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, &cpuid.table) < 0)
		cpuid.error = errno;
}

/* The CPUID that vCPUs get: KVM's supported table. */
const struct kvm_cpuid2 *km_kvm_cpuid(void)
{
	km_beside_wait(KM_STEP_CPUID);
	if (cpuid.error)
		km_die(1, "km: KVM_GET_SUPPORTED_CPUID failed: %s", strerror(cpuid.error));
	return &cpuid.table;
}

/*
 * Guest memory is given to KVM as it comes into use, in slots that double
 * from each end of the pool, rather than as one slot for all of it: KVM
 * sizes a slot's metadata by the slot (write-tracking arrays; rmaps too with
 * shadow paging, as on PVM), which for a 4 GiB pool is 2-10 MiB of kernel
 * memory allocated and zeroed at every start. See docs/performance.md.
 */
#define KM_SLOT_MIN (16ul << 20)
#define KM_SLOT_ALIGN (2ul << 20)

/* A slot for [gpa, gpa+size): false if KVM has no more, or no memory for it. */
static bool add_slot(struct km_vm *vm, uint64_t gpa, uint64_t size)
{
	struct kvm_userspace_memory_region region = {
		.slot = (uint32_t)vm->nslots,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uint64_t)vm->mem + gpa,
	};

	if (vm->nslots >= vm->max_slots) {
		km_log("km: out of KVM memory slots (%d)", vm->max_slots);
		return false;
	}
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
		km_log("km: KVM refused %lu MiB of memory for the VM: %s", (unsigned long)(size >> 20),
		       strerror(errno));
		return false;
	}
	vm->nslots++;
	return true;
}

static uint64_t max_u64(uint64_t a, uint64_t b) { return a > b ? a : b; }
static uint64_t min_u64(uint64_t a, uint64_t b) { return a < b ? a : b; }

/*
 * Adds slots until need_lo and need_hi are covered; mm_lock held or single
 * threaded. False if KVM would not take one: the guest's mapping fails.
 */
bool km_kvm_cover(struct km_vm *vm)
{
	if (!vm->slots_live)
		return true;
	if (vm->need_lo > vm->slot_lo && vm->slot_lo < vm->slot_hi) {
		uint64_t end = max_u64(vm->need_lo, vm->slot_lo + max_u64(vm->slot_lo, KM_SLOT_MIN));
		end = min_u64(KM_ROUND_UP(end, KM_SLOT_ALIGN), vm->slot_hi);
		if (!add_slot(vm, vm->slot_lo, end - vm->slot_lo))
			return false;
		vm->slot_lo = end;
	}
	if (vm->need_hi < vm->slot_hi && vm->slot_lo < vm->slot_hi) {
		uint64_t step = max_u64(vm->phys_size - vm->slot_hi, KM_SLOT_MIN);
		uint64_t start = min_u64(vm->need_hi, vm->slot_hi > step ? vm->slot_hi - step : 0);
		start = max_u64(KM_ROUND_DOWN(start, KM_SLOT_ALIGN), vm->slot_lo);
		if (!add_slot(vm, start, vm->slot_hi - start))
			return false;
		vm->slot_hi = start;
	}
	return true;
}

void km_kvm_map_memory(struct km_vm *vm)
{
	int n = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_MEMSLOTS);

	vm->max_slots = n > 0 ? n : 32;
	vm->slots_live = true;
	if (!km_kvm_cover(vm))
		km_die(1, "km: cannot give the program's memory to the VM");
}

/*
 * A KVM vCPU with this id for vcpu, its kvm_run mapped; false, with errno
 * and nothing created, when KVM or km's open-files limit has no room for
 * one more. Its fd number (above the guest's) is taken first, because KVM
 * cannot take back a vCPU once it exists.
 */
static bool attach_vcpu(struct km_vcpu *vcpu)
{
	struct km_vm *vm = vcpu->vm;
	int slot = vcpu->fd > 0 ? vcpu->fd : km_fd_dup_high(vm->kvm_fd);
	if (slot < 0)
		return false;
	int fd;
	while ((fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, vcpu->id)) < 0 &&
	       (errno == EINTR || (errno == EMFILE && km_fd_room())))
		;
	if (fd < 0) {
		int saved = errno;
		if (slot != vcpu->fd)
			close(slot);
		errno = saved;
		return false;
	}
	vcpu->fd = km_fd_replace(fd, slot);
	vcpu->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu->fd, 0);
	if (vcpu->run == MAP_FAILED)
		km_die(1, "km: cannot map the vCPU state: %s", strerror(errno));
	if (ioctl(vcpu->fd, KVM_SET_CPUID2, km_kvm_cpuid()) < 0)
		km_die(1, "km: KVM_SET_CPUID2 failed: %s", strerror(errno));
	km_clock_vcpu(vcpu);
	return true;
}

/* A new vCPU, or NULL (errno set) when KVM or the open-files limit has no room for it. */
struct km_vcpu *km_vcpu_create(struct km_vm *vm, int id)
{
	struct km_vcpu *vcpu = calloc(1, sizeof(*vcpu));
	if (vcpu == NULL)
		return NULL;
	vcpu->vm = vm;
	vcpu->id = id;
	if (!attach_vcpu(vcpu)) {
		int saved = errno;
		free(vcpu);
		errno = saved;
		return NULL;
	}
	return vcpu;
}

/*
 * In a forked km: a VM fd belongs to the process that made it, so the child
 * makes a new VM over its copy-on-write copy of guest memory and gives the
 * forking thread's vcpu a new KVM vCPU 0 in it. Every other vCPU stays
 * behind with the parent. The new fds take the old ones' numbers. False,
 * with errno, when KVM has no room for one more VM or vCPU: fork fails then.
 */
bool km_kvm_rebuild_after_fork(struct km_vm *vm, struct km_vcpu *survivor)
{
	for (int i = 0; i < vm->nvcpu; i++) {
		struct km_vcpu *v = vm->vcpus[i];
		munmap(v->run, vm->run_size);
		if (v != survivor) {
			close(v->fd);
			free(v);
		}
	}
	int fd;
	while ((fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0)) < 0 && errno == EINTR)
		; /* a signal sent to the new process meanwhile: kept for the guest (signal.c) */
	if (fd < 0)
		return false;
	vm->vm_fd = km_fd_replace(fd, vm->vm_fd);
	/* The new VM has no slots: cover again what the parent's covered, in at most two. */
	vm->nslots = 0;
	vm->slot_lo = 0;
	vm->slot_hi = vm->phys_size;
	km_kvm_map_memory(vm);
	survivor->id = 0;
	if (!attach_vcpu(survivor))
		return false;
	vm->vcpus[0] = survivor;
	vm->nvcpu = 1;
	return true;
}

/*
 * Finishes the hypercall `out` the vCPU stopped at, so that rip is past it
 * and nothing is pending, before km moves rip or copies the context (a
 * signal frame, rt_sigreturn, a new thread or process). KVMs report an `out`
 * exit differently: hardware KVM (VMX, SVM) stops with rip at the `out` and
 * steps over it at the next entry, if rip was not moved meanwhile; PVM
 * emulates a CPL 3 `out` whole before it exits, rip already past it. KVM_RUN
 * with immediate_exit set completes pending I/O on every KVM, then returns
 * EINTR before the guest runs: afterwards rip is past the `out` on both.
 */
void km_vcpu_complete_io(struct km_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;

	run->immediate_exit = 1;
	int rc = km_vcpu_run(vcpu);
	run->immediate_exit = 0; /* a kick that came meanwhile is repeated by the router */
	if (rc != -EINTR)
		km_die(1, "km: KVM_RUN did not return at once to complete an I/O exit (%d)", rc);
}

/*
 * A VM's first KVM_RUN may fail for want of host resources: KVM starts a
 * worker thread for the VM then, which RLIMIT_NPROC can refuse with EAGAIN,
 * at every try. So it is made once with immediate_exit, before the guest
 * runs: 0, or the -errno that the new process's or thread's start fails with.
 */
int km_vcpu_first_run(struct km_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;

	run->immediate_exit = 1;
	int rc = ioctl(vcpu->fd, KVM_RUN, 0) < 0 ? -errno : 0;
	run->immediate_exit = 0;
	return rc == -EINTR ? 0 : rc == 0 ? -EIO : rc;
}

/* Registers travel in kvm_run (sync regs): no GET/SET_REGS on the hot path. */
int km_vcpu_run(struct km_vcpu *vcpu)
{
	vcpu->run->kvm_valid_regs = KVM_SYNC_X86_REGS;
	int rc = ioctl(vcpu->fd, KVM_RUN, 0);
	vcpu->run->kvm_dirty_regs = 0;
	return rc < 0 ? -errno : 0;
}
