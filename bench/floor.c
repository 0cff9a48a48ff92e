/*
 * floor: the least KVM work a monitor cannot avoid, as a yardstick for km.
 *
 *   floor                 open /dev/kvm, create a VM and one vCPU, map memory,
 *                         run one `out` to an exit, exit: start-to-exit floor
 *   floor pio N R [real]  N bare port I/O exits, R times: prints the median
 *                         round trip in ns (CPL 3 in long mode through the TSS
 *                         I/O bitmap, as km's hypercalls; `real` for real mode)
 *   floor slot N R        N round trips through a request slot in guest memory
 *                         that a host thread polls, no exit: the guest at CPL 3
 *                         bumps a sequence number and spins until the host
 *                         echoes it (needs two CPUs, one spinning on each side)
 *
 * The guest is a few bytes: `out` to port 0xE8, then a jump back to it.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "floor.h"
#include "measure.h"

#define PORT 0xE8
#define MEM_SIZE (2ul << 20)

static void die(const char *what)
{
	fprintf(stderr, "floor: %s: %s\n", what, strerror(errno));
	exit(1);
}

static const uint8_t out_loop[] = {
	0xe7, PORT, /* outl %eax, $PORT */
	0xeb, 0xfc, /* jmp back to the out */
};

static void run_to_io_exit(struct floor_vm *f)
{
	if (ioctl(f->vcpu_fd, KVM_RUN, 0) < 0)
		die("KVM_RUN");
	if (f->run->exit_reason != KVM_EXIT_IO || f->run->io.port != PORT) {
		fprintf(stderr, "floor: unexpected exit %u\n", f->run->exit_reason);
		exit(1);
	}
}

static void open_vm(struct floor_vm *f)
{
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		die("/dev/kvm");
	f->vm_fd = ioctl(kvm, KVM_CREATE_VM, 0);
	if (f->vm_fd < 0)
		die("KVM_CREATE_VM");
	f->mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		      -1, 0);
	if (f->mem == MAP_FAILED)
		die("mmap");
	struct kvm_userspace_memory_region region = {
		.memory_size = MEM_SIZE,
		.userspace_addr = (uint64_t)f->mem,
	};
	if (ioctl(f->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		die("KVM_SET_USER_MEMORY_REGION");
	f->vcpu_fd = ioctl(f->vm_fd, KVM_CREATE_VCPU, 0);
	if (f->vcpu_fd < 0)
		die("KVM_CREATE_VCPU");
	int size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (size <= 0)
		die("KVM_GET_VCPU_MMAP_SIZE");
	f->run = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, f->vcpu_fd, 0);
	if (f->run == MAP_FAILED)
		die("mmap vcpu");
}

/* Real mode: the vCPU's reset state with CS based at 0, code at FLOOR_CODE. */
static void enter_real_mode(struct floor_vm *f)
{
	struct kvm_sregs s;
	if (ioctl(f->vcpu_fd, KVM_GET_SREGS, &s) < 0)
		die("KVM_GET_SREGS");
	s.cs.base = 0;
	s.cs.selector = 0;
	if (ioctl(f->vcpu_fd, KVM_SET_SREGS, &s) < 0)
		die("KVM_SET_SREGS");
	struct kvm_regs r = { .rip = FLOOR_CODE, .rflags = 2 };
	if (ioctl(f->vcpu_fd, KVM_SET_REGS, &r) < 0)
		die("KVM_SET_REGS");
}

static int pio(int n, int rounds, int real)
{
	struct floor_vm f;
	double *t = calloc((size_t)rounds, sizeof(*t));

	if (n <= 0 || rounds <= 0 || t == NULL) {
		fprintf(stderr, "usage: floor pio N R [real]\n");
		return 2;
	}
	open_vm(&f);
	memcpy(f.mem + FLOOR_CODE, out_loop, sizeof(out_loop));
	if (real)
		enter_real_mode(&f);
	else
		floor_enter_user_mode(&f);
	run_to_io_exit(&f); /* the first exit pays for faulting the guest in */
	for (int r = 0; r < rounds; r++) {
		double start = now_ns();
		for (int i = 0; i < n; i++)
			run_to_io_exit(&f);
		t[r] = (now_ns() - start) / n;
	}
	printf("%.3f\n", median(t, rounds));
	return 0;
}

/*
 * The slot: the guest's request sequence number, the host's answer a cache
 * line further, and a stop flag after it; identity-mapped at SLOT.
 */
#define SLOT 0x10000
extern const uint8_t slot_guest[], slot_guest_end[];
__asm__(".pushsection .rodata\n"
	"slot_guest:\n"
	"	mov $" "0x10000" ", %ebx\n"
	"1:	mov (%rbx), %eax\n"
	"	inc %eax\n"
	"	mov %eax, (%rbx)\n"
	"2:	pause\n"
	"	cmp 64(%rbx), %eax\n"
	"	jne 2b\n"
	"	cmpl $0, 128(%rbx)\n"
	"	je 1b\n"
	"	out %eax, $0xe8\n"
	"	jmp 1b\n"
	"slot_guest_end:\n"
	".popsection");

struct poller {
	volatile uint32_t *req, *resp, *stop;
	int n, rounds;
	double *t;
	bool gone;
};

/* Answers the next request; false if none came in time (the vCPU is gone). */
static bool answer(struct poller *p, uint32_t *last)
{
	for (long spins = 0; spins < 2000000000l; spins++) {
		uint32_t q = __atomic_load_n(p->req, __ATOMIC_ACQUIRE);
		if (q != *last) {
			*last = q;
			__atomic_store_n(p->resp, q, __ATOMIC_RELEASE);
			return true;
		}
		__builtin_ia32_pause();
	}
	return false;
}

/* The host's side, on a thread of its own: the vCPU runs on the thread that made it. */
static void *poller_main(void *arg)
{
	struct poller *p = arg;
	uint32_t last = 0;

	for (int i = 0; i < p->n && i < 1000; i++) /* warm up: the guest faults in, both sides spin */
		if (!answer(p, &last))
			goto gone;
	/* A round is N round trips or one second, whichever ends first: under emulation one takes ms. */
	for (int r = 0; r < p->rounds; r++) {
		double start = now_ns(), elapsed = 0;
		int i = 0;
		while (i < p->n && elapsed < 1e9) {
			if (!answer(p, &last))
				goto gone;
			if (++i % 64 == 0)
				elapsed = now_ns() - start;
		}
		p->t[r] = (now_ns() - start) / i;
	}
	*p->stop = 1;
	answer(p, &last); /* the request the guest made before it saw the flag */
	return NULL;
gone:
	p->gone = true;
	*p->stop = 1;
	return NULL;
}

static int slot(int n, int rounds)
{
	struct floor_vm f;
	struct poller p = { .n = n, .rounds = rounds, .t = calloc((size_t)rounds, sizeof(double)) };
	pthread_t poller;

	if (n <= 0 || rounds <= 0 || p.t == NULL) {
		fprintf(stderr, "usage: floor slot N R\n");
		return 2;
	}
	open_vm(&f);
	memcpy(f.mem + FLOOR_CODE, slot_guest, (size_t)(slot_guest_end - slot_guest));
	floor_enter_user_mode(&f);
	p.req = (uint32_t *)(f.mem + SLOT);
	p.resp = p.req + 16;
	p.stop = p.req + 32;
	if (pthread_create(&poller, NULL, poller_main, &p) != 0)
		die("pthread_create");
	run_to_io_exit(&f); /* the guest's `out` once it sees the stop flag */
	pthread_join(poller, NULL);
	if (p.gone) {
		fprintf(stderr, "floor: the guest stopped making requests\n");
		return 1;
	}
	printf("%.3f\n", median(p.t, rounds));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "pio") == 0)
		return pio(argc > 2 ? atoi(argv[2]) : 0, argc > 3 ? atoi(argv[3]) : 0,
			   argc > 4 && strcmp(argv[4], "real") == 0);
	if (argc > 1 && strcmp(argv[1], "slot") == 0)
		return slot(argc > 2 ? atoi(argv[2]) : 0, argc > 3 ? atoi(argv[3]) : 0);
	if (argc > 1) {
		fprintf(stderr, "usage: floor | floor pio N R [real] | floor slot N R\n");
		return 2;
	}
	struct floor_vm f;
	open_vm(&f);
	memcpy(f.mem + FLOOR_CODE, out_loop, sizeof(out_loop));
	enter_real_mode(&f);
	run_to_io_exit(&f);
	return 0;
}
