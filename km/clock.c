/*
 * Guest time without exits: km maps the vDSO and keeps its clock page
 * (km/vdso/vvar.h). Every vCPU's TSC offset is 0, so the guest's rdtsc reads
 * the host's TSC and km can sample it with its own. Once a second km ties
 * it to the host's CLOCK_MONOTONIC again and sets the rate for the next
 * second so that the guest's clock converges on the host's without ever
 * stepping back. Without a stable host TSC the vDSO makes the hypercall.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "km.h"
#include "vvar.h"

#define NSEC 1000000000ll
#define MAX_SLEW_NS (NSEC / 2000) /* per second: 500 ppm, as NTP allows */
#define MAX_GAP_NS (NSEC / 10)	  /* further behind than this: step forward */
#define MAX_RATE_CHANGE 100	  /* a rate more than 1% off the last is a bad sample */
#define SAMPLE_TRIES 5

extern const uint8_t km_vdso_start[], km_vdso_end[];

struct sample {
	uint64_t tsc;
	int64_t mono, real, boot;
};

static struct km_vvar *page;
static struct sample last;
static uint64_t rate; /* TSC ticks per second, measured */
static bool tsc_trusted; /* the host's clocksource when km started */

static uint64_t rdtsc_host(void)
{
	uint32_t lo, hi;
	__asm__ __volatile__("lfence; rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
	return (uint64_t)hi << 32 | lo;
}

/* The host's clock clk in nanoseconds. */
int64_t km_ns_of(clockid_t clk)
{
	struct timespec ts;
	clock_gettime(clk, &ts);
	return ts.tv_sec * NSEC + ts.tv_nsec;
}

/* clk - CLOCK_MONOTONIC, read with monotonic on both sides of it. */
static int64_t offset_of(clockid_t clk)
{
	int64_t before = km_ns_of(CLOCK_MONOTONIC), t = km_ns_of(clk), after = km_ns_of(CLOCK_MONOTONIC);
	return t - (before + (after - before) / 2);
}

/*
 * The best of a few tries: a try the scheduler interrupted between its two
 * rdtscs would tie the clocks together wrongly by half the interruption.
 */
static void take_sample(struct sample *s)
{
	uint64_t best = UINT64_MAX;

	for (int i = 0; i < SAMPLE_TRIES; i++) {
		uint64_t before = rdtsc_host();
		int64_t mono = km_ns_of(CLOCK_MONOTONIC);
		uint64_t after = rdtsc_host();
		if (after - before < best) {
			best = after - before;
			s->tsc = before + (after - before) / 2;
			s->mono = mono;
		}
	}
	s->real = s->mono + offset_of(CLOCK_REALTIME);
	int64_t boot = offset_of(CLOCK_BOOTTIME);
	s->boot = s->mono + (boot > 0 ? boot : 0); /* never behind monotonic */
}

/* Ticks per second to nanoseconds per tick, scaled by 2^32, covering ns_per_s each second. */
static uint64_t mult_for(int64_t ns_per_s)
{
	return (uint64_t)(((unsigned __int128)ns_per_s << 32) / rate);
}

static void publish(uint64_t tsc, uint64_t mono, uint64_t mult, const struct sample *s)
{
	__atomic_store_n(&page->seq, page->seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	page->tsc_base = tsc;
	page->mono_base = mono;
	page->mult = mult;
	page->real_offset = (uint64_t)(s->real - s->mono);
	page->boot_offset = (uint64_t)(s->boot - s->mono);
	page->mode = KM_VVAR_TSC;
	__atomic_store_n(&page->seq, page->seq + 1, __ATOMIC_RELEASE);
}

/*
 * The host kernel keeps "tsc" as its clocksource only while it trusts the
 * TSC to be synchronised and constant; KVM's own stable-TSC flag is not
 * known before a vCPU has run.
 */
static bool host_trusts_tsc(void)
{
	char name[16] = "";
	int fd = open(KM_CLOCKSOURCE_PATH, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, name, sizeof(name) - 1);
	close(fd);
	return n == 4 && memcmp(name, "tsc\n", 4) == 0;
}

/* The vDSO and its clock page, in the supervisor area where the guest cannot unmap them. */
void km_vdso_init(struct km_vm *vm)
{
	size_t size = (size_t)(km_vdso_end - km_vdso_start);

	if (size > KM_SYS_VDSO_MAX)
		km_die(1, "km: internal: the vDSO does not fit its place");
	memcpy(km_sys(vm, KM_SYS_VDSO), km_vdso_start, size);
	for (uint64_t off = 0; off < size; off += KM_PAGE_SIZE)
		km_map_sys_page(vm, KM_SYS_VDSO + off, true, PROT_READ | PROT_EXEC);
	km_map_sys_page(vm, KM_SYS_VVAR, true, PROT_READ);
	page = km_sys(vm, KM_SYS_VVAR);
	page->mode = KM_VVAR_HCALL;
	page->pid = getpid();
	tsc_trusted = host_trusts_tsc(); /* here, beside the VM's making (beside.c) */
}

/* A forked child's pid, for its vDSO's getpid. */
void km_vdso_after_fork(void)
{
	__atomic_store_n(&page->pid, getpid(), __ATOMIC_RELEASE);
}

/* KVM_SET_DEVICE_ATTR or KVM_GET_DEVICE_ATTR of the vCPU's TSC offset. */
static int tsc_offset(struct km_vcpu *vcpu, unsigned long request, uint64_t *offset)
{
	struct kvm_device_attr attr = {
		.group = KVM_VCPU_TSC_CTRL,
		.attr = KVM_VCPU_TSC_OFFSET,
		.addr = (uint64_t)offset,
	};
	return ioctl(vcpu->fd, request, &attr);
}

/* Guest TSC = host TSC on this vCPU; if KVM cannot, the clock page says so. */
void km_clock_vcpu(struct km_vcpu *vcpu)
{
	uint64_t zero = 0;

	if (tsc_offset(vcpu, KVM_SET_DEVICE_ATTR, &zero) != 0 && page &&
	    page->mode != KM_VVAR_HCALL) {
		__atomic_store_n(&page->mode, KM_VVAR_HCALL, __ATOMIC_RELEASE);
		if (km_verbose)
			km_log("km: KVM cannot set the TSC offset (%s): time calls exit",
			       strerror(errno));
	}
}

/* After the first vCPU exists: is the TSC a clock km can hand the guest? */
void km_clock_start(struct km_vcpu *vcpu)
{
	uint64_t offset = 1;
	long khz = ioctl(vcpu->fd, KVM_GET_TSC_KHZ, 0);
	bool trusted = tsc_trusted;
	bool follows = tsc_offset(vcpu, KVM_GET_DEVICE_ATTR, &offset) == 0 && offset == 0;
	if (khz <= 0 || !trusted || !follows) {
		page->mode = KM_VVAR_HCALL;
		if (km_verbose)
			km_log("km: no TSC to give the guest as a clock (%ld kHz, host clocksource %s, "
			       "offset %s): time calls exit", khz, trusted ? "tsc" : "not tsc",
			       follows ? "0" : "not settable");
		return;
	}
	rate = (uint64_t)khz * 1000;
	take_sample(&last);
	publish(last.tsc, (uint64_t)last.mono, mult_for(NSEC), &last);
}

/*
 * Once a second, from the routing thread: measure the rate over the last
 * interval, and choose the next second's so that the guest's clock, which
 * continues from where it is, closes its gap to the host's by up to 500 ppm.
 */
void km_clock_tick(void)
{
	struct sample s;

	if (page == NULL || __atomic_load_n(&page->mode, __ATOMIC_ACQUIRE) != KM_VVAR_TSC)
		return;
	take_sample(&s);
	if (s.mono - last.mono < NSEC)
		return;
	if (!host_trusts_tsc()) {
		__atomic_store_n(&page->mode, KM_VVAR_HCALL, __ATOMIC_RELEASE);
		return;
	}
	uint64_t measured = (uint64_t)(((unsigned __int128)(s.tsc - last.tsc) * NSEC) /
				       (uint64_t)(s.mono - last.mono));
	uint64_t change = measured > rate ? measured - rate : rate - measured;
	if (change < rate / MAX_RATE_CHANGE)
		rate = measured;
	uint64_t guest = page->mono_base +
			 (uint64_t)(((unsigned __int128)(s.tsc - page->tsc_base) * page->mult) >> 32);
	int64_t gap = s.mono - (int64_t)guest;
	if (gap > MAX_GAP_NS) {
		guest = (uint64_t)s.mono;
		gap = 0;
	}
	if (gap > MAX_SLEW_NS)
		gap = MAX_SLEW_NS;
	if (gap < -MAX_SLEW_NS)
		gap = -MAX_SLEW_NS;
	publish(s.tsc, guest, mult_for(NSEC + gap), &s);
	last = s;
}
