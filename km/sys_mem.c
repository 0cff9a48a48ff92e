/* Memory syscalls: the address space itself lives in vma.c. */
#include "syscalls.h"

/* Changes to the address space are serialised; km_gva readers wait for them. */
#define LOCKED(vm, call)                                   \
	({                                                 \
		pthread_rwlock_wrlock(&(vm)->mm_lock);     \
		long rc_ = (call);                         \
		pthread_rwlock_unlock(&(vm)->mm_lock);     \
		rc_;                                       \
	})

KM_SYSCALL(brk) { return LOCKED(vcpu->vm, km_brk(vcpu->vm, a[0])); }

KM_SYSCALL(mmap)
{
	return LOCKED(vcpu->vm, km_mmap(vcpu->vm, a[0], a[1], (int)a[2], (int)a[3], (int)a[4], a[5],
					KM_VMA_ANON));
}

KM_SYSCALL(munmap) { return LOCKED(vcpu->vm, km_munmap(vcpu->vm, a[0], a[1])); }
KM_SYSCALL(mprotect) { return LOCKED(vcpu->vm, km_mprotect(vcpu->vm, a[0], a[1], (int)a[2])); }

KM_SYSCALL(mremap)
{
	if (a[3] >> 32)
		return -EINVAL; /* Linux's flags are a long: no bit above the int is one */
	return LOCKED(vcpu->vm, km_mremap(vcpu->vm, a[0], a[1], a[2], (int)a[3], a[4]));
}

/*
 * Checks that [addr, addr+len) is mapped, as Linux does before advice or
 * locks. A length that rounds to 0 is no range: 0 with *host NULL. A range
 * whose end wraps is `wraps`, the call's own errno for it; one outside the
 * user address space or not all mapped is ENOMEM.
 */
static long mapped_range(struct km_vcpu *vcpu, uint64_t addr, uint64_t len, long wraps,
			 void **host, uint64_t *rounded)
{
	uint64_t end;

	*host = NULL;
	*rounded = len = KM_ROUND_UP(len, KM_PAGE_SIZE);
	if (addr & ~KM_PAGE_MASK)
		return -EINVAL;
	if (len == 0)
		return 0;
	if (addr + len < addr)
		return wraps;
	if (!km_user_range(addr, len, &end) || (*host = km_gva(vcpu->vm, addr, len, PROT_NONE)) == NULL)
		return -ENOMEM;
	return 0;
}

KM_SYSCALL(madvise)
{
	uint64_t len;
	void *host;

	if (a[1] && KM_ROUND_UP(a[1], KM_PAGE_SIZE) == 0)
		return -EINVAL; /* a length that rounds to 0 is not advice on nothing */
	long rc = mapped_range(vcpu, a[0], a[1], -EINVAL, &host, &len);
	if (rc < 0 || host == NULL)
		return rc;
	/* Only advice that changes contents matters; the rest is a hint. */
	if ((int)a[2] == MADV_DONTNEED || (int)a[2] == MADV_FREE)
		return km_host(madvise(host, len, MADV_DONTNEED));
	return 0;
}

KM_SYSCALL(msync)
{
	uint64_t len;
	void *host;
	long rc = mapped_range(vcpu, a[0], a[1], -ENOMEM, &host, &len);

	if (rc < 0 || host == NULL)
		return rc;
	return km_host(msync(host, len, (int)a[2]));
}

/* Guest memory is never swapped out behind the guest's back by km itself. */
KM_SYSCALL(mlock)
{
	uint64_t len;
	void *host;
	return mapped_range(vcpu, KM_ROUND_DOWN(a[0], KM_PAGE_SIZE), a[1] + (a[0] & ~KM_PAGE_MASK),
			    -EINVAL, &host, &len);
}

KM_SYSCALL(munlock) { return km_sys_mlock(vcpu, a); }
KM_SYSCALL(mlockall) { return 0; }
KM_SYSCALL(munlockall) { return 0; }
