/*
 * The clock page km publishes to the guest's vDSO, read-only to the guest at
 * KM_SYS_VA + KM_SYS_VVAR. Guest nanoseconds come from the guest's TSC:
 *
 *   monotonic = mono_base + ((tsc - tsc_base) * mult >> 32)
 *   realtime  = monotonic + real_offset,  boottime = monotonic + boot_offset
 *
 * km rewrites it under a sequence count (odd while it writes), so a reader
 * retries when the count changed or is odd. The pid is outside that.
 */
#ifndef KM_VVAR_H
#define KM_VVAR_H

#include <stdint.h>

#define KM_SYS_VVAR 0x5000ul	/* in the supervisor area, user-readable */
#define KM_SYS_VDSO 0x6000ul	/* the vDSO image, user-executable */
#define KM_SYS_VDSO_MAX 0xa000ul /* up to the per-vCPU pages */

enum km_vvar_mode {
	KM_VVAR_HCALL = 0, /* no usable TSC: the vDSO makes the hypercall */
	KM_VVAR_TSC = 1,
};

struct km_vvar {
	uint32_t seq;
	uint32_t mode;
	uint64_t tsc_base;
	uint64_t mono_base;
	uint64_t mult;
	uint64_t real_offset;
	uint64_t boot_offset;
	int32_t pid; /* the process's, set by km at start and in a forked child */
};

#endif
