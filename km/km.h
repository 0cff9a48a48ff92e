/*
 * km: the Kontain monitor. This header is km's whole internal interface.
 *
 * One guest process is one VM. Guest-physical memory is one host mapping,
 * laid out as:
 *
 *   [0, KM_SYS_SIZE)            supervisor area: GDT, TSS, IDT, stubs,
 *                               supervisor stack, then the page-table pool
 *   [sys, sys + space)          the program's memory, shared by two windows
 *
 * The low window maps guest-virtual [0, space) and grows up (image, brk);
 * the high window maps [KM_TOP - space, KM_TOP) and grows down (stack,
 * mmap). Both are linear onto the same physical pool, so a guest range is a
 * contiguous host range, and the two only have to avoid each other's
 * physical pages. The space is several times the memory limit, which bounds
 * what the guest commits, not what it reserves. See docs/architecture.md.
 */
#ifndef KM_H
#define KM_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <getopt.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <kontain/hcall_abi.h>

#define KM_PAGE_SIZE 4096ul
#define KM_PAGE_MASK (~(KM_PAGE_SIZE - 1))
#define KM_LARGE_PAGE (2ul << 20)
#define KM_ROUND_UP(x, a) (((x) + (a) - 1) & ~((a) - 1))
#define KM_ROUND_DOWN(x, a) ((x) & ~((a) - 1))

#define KM_TOP 0x7ffffffff000ul /* end of the user address space, as Linux */
#define KM_RFLAGS_USER 0x50dd5ul /* the flags a program may set: Linux's FIX_EFLAGS */
#define KM_RFLAGS_FIXED 0x202ul	 /* IF and the reserved bit 1 */
#define KM_SYS_VA 0xffffffffc0000000ul /* where the supervisor area is mapped */
#define KM_STACK_SIZE (8ul << 20)
#define KM_STACK_GAP (1ul << 20) /* kept free below the stack */
#define KM_DEFAULT_MEM_LIMIT (4ul << 30)
#define KM_IMAGE_BASE_PIE 0x400000ul /* load bias of a static-PIE program */

/* Supervisor area, offsets from guest-physical 0 (and from KM_SYS_VA). */
#define KM_SYS_IDT 0x2000ul
#define KM_SYS_STUB 0x3000ul /* CPL 0 exception entries */
#define KM_SYS_ENTRY 0x4000ul /* syscall entry, user executable */
#define KM_SYS_VCPU 0x10000ul /* one page per vCPU: its GDT, TSS and CPL 0 stack */
#define KM_MAX_VCPUS 1024
#define KM_SYS_FAST (KM_SYS_VCPU + KM_MAX_VCPUS * KM_PAGE_SIZE) /* fastcall.c: header, slots */
#define KM_SYS_FAST_SIZE (KM_PAGE_SIZE + KM_MAX_VCPUS * KM_FAST_SLOT_SIZE)
#define KM_SYS_PT_POOL (KM_SYS_FAST + KM_SYS_FAST_SIZE)

/* Inside a vCPU's page. */
#define KM_VCPU_GDT 0x000ul
#define KM_VCPU_TSS 0x080ul
#define KM_VCPU_STACK_LO 0x200ul
#define KM_VCPU_STACK_HI 0x1000ul

/* Segment selectors, the same numbers as Linux so saved contexts look alike. */
#define KM_SEL_KCODE 0x10
#define KM_SEL_KDATA 0x18
#define KM_SEL_UCODE32 0x23
#define KM_SEL_UDATA 0x2b
#define KM_SEL_UCODE 0x33
#define KM_SEL_TSS 0x40

enum km_vma_kind { KM_VMA_IMAGE, KM_VMA_BRK, KM_VMA_STACK, KM_VMA_ANON, KM_VMA_FILE, KM_VMA_SHM };

struct km_vma {
	uint64_t start, end; /* guest-virtual, page aligned */
	int prot;	     /* PROT_* as the guest asked */
	enum km_vma_kind kind;
	bool shared; /* MAP_SHARED: not data, as Linux counts RLIMIT_DATA */
	uint32_t name; /* the file it maps, 1 + its index in vm->names; 0: none */
	uint64_t off;  /* of start in that file, or in a System V segment (KM_VMA_SHM) */
};

/* A file some mapping maps, as /proc/<pid>/maps names it. */
struct km_mapname {
	char *path;
	uint64_t dev, ino;
};

struct km_vcpu;

struct km_sigaction {
	uint64_t handler, flags, restorer, mask; /* the kernel's layout */
};

#define KM_NSIG 64
#define KM_SIG_BIT(sig) (1ull << ((sig) - 1))

/* Signals queued for a thread or for the process: one entry per instance. */
struct km_sigq {
	struct km_sigq *next;
	siginfo_t info;
};
struct km_sigpend {
	uint64_t set; /* the signals with an entry below; read without the lock as a hint */
	struct km_sigq *head;
};

struct km_vm {
	int kvm_fd, vm_fd;
	size_t run_size;
	bool has_xsave;	 /* the guest has XSAVE features beyond SSE: signal frames carry its area */
	bool kvm_xsave;	 /* KVM_GET/SET_XSAVE work, whatever the guest's CPUID */
	int entry_cpl; /* the CPL the syscall entry runs at: 0, 3, or -1 not known yet */
	uint64_t xcr0;
	size_t xsave_size;

	uint8_t *mem;	    /* host mapping of guest-physical memory */
	uint64_t phys_size; /* KM_SYS_SIZE-like supervisor part + space */
	uint64_t sys_size;
	uint64_t mem_limit; /* what the guest may commit (strict overcommit), and its RAM */
	uint64_t space;	    /* the size of each window, and of the pool */
	uint64_t pt_next;   /* next free directory page (guest-physical) */
	uint64_t pt_leaves; /* the windows' leaf tables, one per 2 MiB */
	uint64_t pml4;
	/*
	 * KVM memory slots cover guest-physical [0, slot_lo) and [slot_hi,
	 * phys_size), grown as the windows' use reaches need_lo and need_hi.
	 */
	uint64_t need_lo, need_hi, slot_lo, slot_hi;
	int nslots, max_slots;
	bool slots_live;
	/* PROT_NONE round trips begun and ended (mem.c): a vCPU's EFAULT inside one is retried. */
	uint64_t trips_begun, trips_ended;

	struct km_vma *vmas; /* sorted by start, never overlapping */
	struct km_mapname *names; /* kept for the process's life; few distinct files */
	uint32_t nnames, names_cap;
	size_t nvma, vma_cap;
	uint64_t brk_start, brk;
	uint64_t data_size; /* the image's initialised data, which brk's RLIMIT_DATA check counts */
	uint64_t mmap_top;  /* top-down mmap search starts here */

	/* The guest's own limits: only AS, DATA and STACK are kept here (limits.c). */
	struct rlimit rlim[RLIM_NLIMITS];
	bool cap_sys_resource; /* km may raise a hard limit, so the guest may */

	/* Writers change the address space; readers look at it (km_gva). */
	pthread_rwlock_t mm_lock;

	/* Signals: dispositions, process-directed pending, and the routing thread. */
	pthread_mutex_t sig_lock;
	struct km_sigaction sigact[KM_NSIG + 1];
	struct km_sigpend sig_pending;
	struct km_vcpu *sig_taker[65]; /* the thread each pending process signal went to, under sig_lock */
	int sig_queued; /* queued entries, against RLIMIT_SIGPENDING */
	pid_t sig_thread_tid;
	uint64_t start_sigmask; /* the first thread's, as km was started (exec keeps masks) */
	int fd_limit; /* guest fds are below it; km's own fds are above */
	char *exe_path;
	const char *km_argv0, *log_path; /* to exec km again for the guest */
	/* Where the initial stack keeps them, for /proc/self. */
	uint64_t arg_start, arg_end, env_start, env_end, auxv_start, auxv_end;
	uint64_t hwcap_at; /* AT_HWCAP's value in the first thread's stack */

	char comm[16]; /* the program's name, as a new thread's comm */
	/* Threads: every vCPU ever created, live or parked for reuse. */
	uint64_t park_seq;
	pthread_mutex_t thread_lock;
	struct km_vcpu *vcpus[KM_MAX_VCPUS];
	int nvcpu, max_vcpus;
	int live; /* guest threads not yet exited */
	int leader_exit_code;

	bool exiting; /* exit_group: the vCPU that saw it ends the process */
	int exit_status;
};

enum km_vcpu_state {
	KM_VCPU_PARKED,	  /* free for the next clone */
	KM_VCPU_CLAIMED,  /* taken by a clone that is filling in its start state */
	KM_VCPU_STARTING, /* launched: its host thread loads the state and runs */
	KM_VCPU_RUNNING,
	KM_VCPU_EXITED, /* its guest thread left; parked once off the vCPU */
};

/* What a vCPU starts a guest thread with (clone, or the program's entry). */
struct km_thread_start {
	struct kvm_regs regs;
	bool fpu_inherited; /* fpu holds the creator's state (km_x86_fpu_save), else initial */
	uint8_t fpu[sizeof(struct kvm_xsave)];
	uint64_t fs_base;
};

/*
 * Why a vCPU left the guest (stats.c): a counter per call, Linux's numbers
 * first, km's own (KM_HC_BASE up) after them, the last for any other.
 */
#define KM_STATS_CALLS 512
#define KM_STATS_OWN 4
unsigned km_stats_slot(uint64_t nr);
struct km_exit_stats {
	uint64_t exits, hypercalls, faults, interruptions;
	uint64_t calls[KM_STATS_CALLS];
	uint64_t fast_calls, fast[KM_STATS_CALLS]; /* answered by fastcall.c's poller, no exit */
};

struct km_vcpu {
	struct km_vm *vm;
	int id, fd;
	struct kvm_run *run;
	pid_t tid; /* the host thread's tid, which is also the guest's */
	pthread_t thread;
	pthread_cond_t wake;
	enum km_vcpu_state state; /* under vm->thread_lock */
	struct km_thread_start start;
	int exit_code;
	uint64_t parked_seq; /* when it was last parked, in vm->park_seq's count */
	struct km_exit_stats stats;

	uint64_t clear_child_tid, robust_list, fs_base;
	/* Signal state of the guest thread; sigmask changes under vm->sig_lock. */
	uint64_t sigmask;
	struct km_sigpend sig_pending;
	uint64_t saved_sigmask; /* sigsuspend's, for the frame of the signal that ends it */
	bool restore_sigmask;
	bool sig_waiting; /* in sigsuspend, sigtimedwait or pause */
	uint32_t sig_seq; /* a futex word: bumped when a signal is posted to this thread */
	int kick_pending; /* a kick is in flight; the routing thread repeats it */
	int fast_busy;	  /* fastcall.c's poller is making a call this thread posted */
	uint64_t altstack[3]; /* stack_t: ss_sp, ss_flags, ss_size */
	char name[16];
	struct {
		bool parked;   /* waiting at the run loop while gdb has the program stopped */
		bool step;     /* gdb's resume: one instruction */
		bool stepping; /* TF is gdb's: its trap ends the step */
		bool watching; /* TF is the watchpoints': each trap compares the watched bytes */
		int signal;    /* gdb's resume: the signal the thread gets, 0 none */
	} gdb;
};

/* log.c: one place for what km says. */
extern int km_verbose;
void km_log_init(void);
void km_log_open(const char *path);
void km_write_err(const char *text, size_t len);
void km_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void km_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void km_die(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void km_log_after_exec(void);
_Noreturn void km_die_by_signal(int sig);
_Noreturn void km_die_of_default(int sig);

/* beside.c: start-up steps, taken by a thread on another CPU or by the first thread. */
enum { KM_STEP_FILTER, KM_STEP_SETUP, KM_STEP_PROGRAM, KM_STEP_CPUID, KM_STEPS };
struct km_step {
	void (*run)(void *arg);
	unsigned needs; /* bits of the steps that must be done first */
};
void km_beside_start(const struct km_step *steps, void *arg);
void km_beside_wait(int step);

/* seccomp.c: km confines itself to the host calls it makes. */
enum km_seccomp {
	KM_SECCOMP_ON,
	KM_SECCOMP_OFF,	      /* --no-seccomp, for debugging km */
	KM_SECCOMP_INHERITED, /* exec'd by a confined km: its filter is already there */
};
void km_seccomp_catch(void);
void km_seccomp_confine(enum km_seccomp mode);
const char *km_seccomp_exec_option(void);

/* landlock.c: --allow-path, the host files the guest may reach. */
void km_allow_path_option(const char *arg);
void km_landlock_confine(const struct km_vm *vm);

/* stats.c: --stats, the guest's exits counted per process, and the start's steps timed. */
void km_stats_option(const char *path);
const char *km_stats_path(void);
void km_stats_start(void);
void km_stats_step(const char *step);
void km_stats_init(struct km_vm *vm);
void km_stats_after_fork(struct km_vm *vm);
void km_stats_write(const char *ended);

/* clock.c: whether the host trusts the TSC; an exec'd km reads it again. */
#define KM_CLOCKSOURCE_PATH "/sys/devices/system/clocksource/clocksource0/current_clocksource"

/* kvm.c: the host backend. */
int km_kvm_fd_option(const char *arg);
void km_kvm_open(struct km_vm *vm, int inherited);
void km_kvm_create_vm(struct km_vm *vm);
void km_kvm_check_open(void);
void km_kvm_query_cpuid(struct km_vm *vm);
const struct kvm_cpuid2 *km_kvm_cpuid(void);
void km_kvm_map_memory(struct km_vm *vm);
bool km_kvm_cover(struct km_vm *vm);
struct km_vcpu *km_vcpu_create(struct km_vm *vm, int id);
bool km_kvm_rebuild_after_fork(struct km_vm *vm, struct km_vcpu *survivor);
int km_vcpu_run(struct km_vcpu *vcpu);
int km_vcpu_first_run(struct km_vcpu *vcpu);
void km_vcpu_complete_io(struct km_vcpu *vcpu);

/* clock.c: the guest's vDSO and the clock page it computes time from. */
void km_vdso_init(struct km_vm *vm);
void km_vdso_after_fork(void);
void km_clock_vcpu(struct km_vcpu *vcpu);
void km_clock_start(struct km_vcpu *vcpu);
void km_clock_tick(void);
int64_t km_ns_of(clockid_t clk);

/* x86.c: descriptor tables, control registers and MSRs for a vCPU. */
void km_x86_init_sys_area(struct km_vm *vm);
void km_x86_init_vcpu(struct km_vcpu *vcpu);
void km_x86_load_start(struct km_vcpu *vcpu);
bool km_x86_in_entry(uint64_t rip);
void km_x86_entry_check(struct km_vcpu *vcpu);
bool km_x86_entry_in_user_mode(struct km_vcpu *vcpu);
void km_x86_return_to_user(struct kvm_regs *r);
void km_x86_leave_entry(struct km_vcpu *vcpu);
int km_x86_set_fs_base(struct km_vcpu *vcpu, uint64_t base);
uint64_t km_x86_get_fs_base(struct km_vcpu *vcpu);
uint64_t km_x86_hwcap(void);
size_t km_x86_fpu_size(struct km_vm *vm);
void km_x86_fpu_save(struct km_vcpu *vcpu, void *buf);
bool km_x86_fpu_restore(struct km_vcpu *vcpu, const void *buf, bool full);
void km_x86_fpu_init(struct km_vcpu *vcpu);
uint64_t km_x86_xcr0(void);

/* thread.c: guest threads on vCPUs, each vCPU on a host thread of its own. */
void km_threads_init(struct km_vm *vm);
_Noreturn void km_thread_main(struct km_vm *vm, uint64_t entry, uint64_t sp);
struct km_vcpu *km_thread_claim(struct km_vm *vm);
void km_thread_launch(struct km_vcpu *vcpu);
void km_thread_exit(struct km_vcpu *vcpu, int code);

/* fork.c and exec.c: new processes are new kms. */
struct km_fork_args {
	uint64_t flags, stack, ptid, ctid, tls;
};
long km_fork(struct km_vcpu *vcpu, const struct km_fork_args *args);
struct km_exec_args {
	const char *path; /* as the guest named it */
	char **argv, **envp;
};
long km_exec(struct km_vcpu *vcpu, const struct km_exec_args *args);
int km_options_end(int argc, char **argv);
extern const struct option km_options[]; /* options.c, with KM_OPTSTRING */
#define KM_OPTSTRING "+m:vh"

/* procfs.c: what the guest opens in /proc is decided on the opened file; km's own never shows. */
long km_proc_open(struct km_vm *vm, int dirfd, const char *path, int flags, mode_t mode);
char *km_proc_status_text(struct km_vm *vm, pid_t tid, size_t *len);
char *km_proc_comm_text(struct km_vm *vm, pid_t tid, size_t *len);
char *km_proc_meminfo_text(struct km_vm *vm, size_t *len);
long km_proc_task_dents(struct km_vcpu *vcpu, int fd, uint64_t gva, uint64_t count, bool *mine);
const char *km_thread_name(struct km_vm *vm, const struct km_vcpu *vcpu);
long km_proc_readlink(struct km_vm *vm, int dirfd, const char *path, char *out, size_t size);
const char *km_proc_stat_exe(struct km_vm *vm, int dirfd, const char *path, int at_flags,
			     dev_t dev, ino_t ino);

/* stub.S: guest code km copies into the supervisor area. */
extern const uint8_t km_stub_start[], km_stub_end[];
extern const uint8_t km_stub_vectors[]; /* 32 entries, KM_STUB_VEC_SIZE apart */
extern const uint8_t km_stub_fault_out[]; /* the `out` that reports an exception */
extern const uint8_t km_entry_start[], km_entry_end[];
#define KM_STUB_VEC_SIZE 16

/* pagetable.c: the guest's page tables. */
uint64_t km_pt_pool_size(uint64_t space);
void km_pt_init(struct km_vm *vm);
void km_pte_set(struct km_vm *vm, uint64_t gva, uint64_t len, int prot);
uint64_t km_pte_bits(int prot, bool user);
int km_pte_prot(struct km_vm *vm, uint64_t gva);
void km_map_sys_page(struct km_vm *vm, uint64_t off, bool user, int prot);

/* mem.c: guest memory and the checks on guest pointers. */
void km_mem_init(struct km_vm *vm, uint64_t mem_limit);
bool km_gva_to_gpa(const struct km_vm *vm, uint64_t gva, uint64_t *gpa);
void km_mem_no_huge_pages(struct km_vm *vm, uint64_t gva, uint64_t len);
int km_mem_cover(struct km_vm *vm, uint64_t gva, uint64_t len);
int km_prot_common(int a, int b);
bool km_host_differs(const struct km_vm *vm, int old, int new);
int km_host_map(struct km_vm *vm, uint64_t gva, uint64_t len, int prot, int flags, int fd,
		uint64_t off, bool *gone);
int km_host_protect(struct km_vm *vm, uint64_t gva, uint64_t len, int old, int new);
int km_host_restore(struct km_vm *vm, uint64_t gva, uint64_t len, int prot);
int km_host_move(struct km_vm *vm, uint64_t from, uint64_t to, uint64_t len);
int km_host_fence(struct km_vm *vm, uint64_t gva, uint64_t len, int mark);
int km_host_shmat(struct km_vm *vm, uint64_t gva, uint64_t len, int shmid, int prot, bool *gone);
void km_host_unfence(struct km_vm *vm, uint64_t gva, uint64_t len);
void *km_gva(struct km_vm *vm, uint64_t gva, uint64_t len, int prot);
void *km_sys(struct km_vm *vm, uint64_t off);
long km_string_in(struct km_vm *vm, char *dst, uint64_t gva, size_t max);
void km_guest_faults_init(struct km_vm *vm);
bool km_guarded(void (*access)(void *), void *arg);
int km_copy_in(struct km_vm *vm, void *dst, uint64_t gva, size_t len);
int km_copy_out(struct km_vm *vm, uint64_t gva, const void *src, size_t len);
int km_store_word(struct km_vm *vm, uint64_t gva, uint64_t value);
uint64_t km_mem_trips(struct km_vm *vm);
bool km_mem_tripped(struct km_vm *vm, uint64_t since);

/* vma.c: the guest's address space: mmap, munmap, mprotect, brk. */
bool km_user_range(uint64_t addr, uint64_t len, uint64_t *end);
long km_mmap(struct km_vm *vm, uint64_t addr, uint64_t len, int prot, int flags, int fd,
	     uint64_t off, enum km_vma_kind kind);
long km_munmap(struct km_vm *vm, uint64_t addr, uint64_t len);
long km_mprotect(struct km_vm *vm, uint64_t addr, uint64_t len, int prot);
uint32_t km_vma_name_of_fd(struct km_vm *vm, int fd);
void km_vma_set_name(struct km_vm *vm, uint64_t start, uint64_t end, uint32_t name, uint64_t off);
long km_shmat(struct km_vm *vm, uint64_t addr, uint64_t size, int shmid, int shmflg);
long km_shmdt(struct km_vm *vm, uint64_t addr);
long km_mremap(struct km_vm *vm, uint64_t old, uint64_t old_len, uint64_t new_len, int flags,
	       uint64_t new_addr);
long km_brk(struct km_vm *vm, uint64_t addr);
const struct km_vma *km_vma_find(const struct km_vm *vm, uint64_t gva);

/* limits.c: the guest's own address-space, data and stack limits. */
#define KM_RLIMIT_OPTIONS 3	  /* km options that carry them across exec */
#define KM_RLIMIT_OPTION_MAX 64 /* bytes of each, with its NUL */
void km_rlimit_option(const char *arg);
void km_limits_init(struct km_vm *vm);
bool km_rlimit_viewed(int resource);
long km_rlimit_view(struct km_vm *vm, int resource, const struct rlimit *new, struct rlimit *old);
int km_rlimit_options(const struct km_vm *vm, char *at, char **opts);

/* elf.c and stack.c: loading the program and its initial stack. */
struct km_image {
	uint64_t entry, phdr, phnum, phent, bias; /* the program's (AT_ENTRY, AT_PHDR...) */
	uint64_t start, base; /* where the first thread starts, and the interpreter's base (AT_BASE) */
	bool pie;
	const char *execfn; /* the path it was run by (AT_EXECFN) */
};
/* exec.c: the program km starts on: found in PATH, a script's interpreter. */
char **km_start_program(char **argv, const char **file, const char **execfn, int *fd);
void km_elf_load(struct km_vm *vm, const char *path, int fd, struct km_image *img);
enum km_elf_verdict { KM_ELF_OK, KM_ELF_BAD, KM_ELF_NO_INTERP, KM_ELF_BAD_INTERP, KM_ELF_TOO_BIG };
enum km_elf_verdict km_elf_check(int fd, const char *path, uint64_t mem_limit);
uint64_t km_stack_init(struct km_vm *vm, const struct km_image *img, int argc, char **argv,
		       char **envp);
void km_stack_set_hwcap(struct km_vm *vm);

/* run.c and fault.c: the run loop and what guest exceptions become. */
struct km_fault_frame { /* what the CPU and the stub leave on the supervisor stack */
	uint64_t vector, error, rip, cs, rflags, rsp, ss;
};
void km_run(struct km_vcpu *vcpu);
void km_guest_fault(struct km_vcpu *vcpu);
struct km_fault_frame *km_fault_frame_at_out(struct km_vcpu *vcpu);
_Noreturn void km_guest_killed(struct km_vm *vm, int sig, const char *why);

/* core.c: the guest's core file when a signal kills it; its threads stop for it at the run loop. */
void km_core_option(const char *path);
const char *km_core_path(void); /* --core's, for an exec'd km */
void km_core_fault_context(const struct kvm_regs *regs, const siginfo_t *info);
bool km_core_stopping(void);
_Noreturn void km_core_stop(struct km_vcpu *vcpu);
_Noreturn void km_core_die(struct km_vm *vm, int sig);

/*
 * gdb.c: the gdb stub. Idle, it costs one flag test per exit; attached, it
 * stops every vCPU at the run loop (all-stop) and takes the debug traps.
 */
void km_gdb_option(int opt, const char *arg);
void km_gdb_init(struct km_vm *vm);
void km_gdb_start(struct km_vcpu *vcpu);
bool km_gdb_busy(void);
void km_gdb_run_loop(struct km_vcpu *vcpu);
bool km_gdb_attached(void);
bool km_gdb_trap(struct km_vcpu *vcpu, struct km_fault_frame *f);
int km_gdb_signal(struct km_vcpu *vcpu, int sig);
void km_gdb_exit(int status, int sig);
void km_gdb_after_fork(struct km_vm *vm);
bool km_gdb_exec_option(char *out, size_t size);
void km_gdb_before_exec(bool going);

/* A debugger's write: [gva, gva+len) mapped, whatever the guest's rights (0 or -errno). */
int km_debug_poke(struct km_vm *vm, uint64_t gva, const void *src, size_t len);
void km_vcpu_interrupt(struct km_vcpu *v);

/* sys_timer.c: a guest POSIX timer fired (its host timer signalled the router). */
#define KM_SIG_TIMER (SIGRTMIN + 28) /* 62 */
void km_timer_fired(struct km_vm *vm, const siginfo_t *host);
void km_timers_hold(void);
void km_timers_release(void);
void km_timers_after_fork(void);

/* signal.c: posting, kicking and delivering signals; the host-signal routing thread. */
void km_signals_init(struct km_vm *vm);
void km_signals_start(struct km_vm *vm);
void km_signals_take_pending(struct km_vm *vm);
void km_signals_blocked(sigset_t *set);
void km_signals_vcpu_thread(struct km_vcpu *vcpu);
long km_signal_post(struct km_vm *vm, struct km_vcpu *target, const siginfo_t *info, bool must_queue);
void km_signal_settle(struct km_vm *vm);
struct km_vcpu *km_thread_by_tid(struct km_vm *vm, pid_t tid);
struct km_vcpu *km_current_vcpu(void);
void km_vcpu_kick(struct km_vm *vm, struct km_vcpu *v);
bool km_signal_deliverable(struct km_vcpu *vcpu);
void km_signal_deliver(struct km_vcpu *vcpu, bool after_hcall, bool restart, uint64_t nr);
void km_signal_async(struct km_vcpu *vcpu);
bool km_signal_fault(struct km_vcpu *vcpu, int sig, int code, uint64_t addr, uint64_t *iret,
		     uint64_t err, uint64_t trapno);
long km_signal_return(struct km_vcpu *vcpu);
bool km_on_altstack(const struct km_vcpu *vcpu, uint64_t sp);
void km_signal_thread_exit(struct km_vcpu *vcpu);
long km_signal_wait(struct km_vcpu *vcpu, const struct timespec *deadline);
bool km_sig_dequeue(struct km_vcpu *vcpu, uint64_t allowed, siginfo_t *out);
bool km_sig_dequeue_for_handler(struct km_vcpu *vcpu, siginfo_t *out);
_Noreturn void km_signal_fatal(struct km_vm *vm, int sig);
bool km_signals_after_fork(struct km_vcpu *vcpu);
void km_aio_after_fork(void); /* sys_aio.c */
void km_signals_before_fork(struct km_vm *vm, sigset_t *saved);
void km_signals_fork_done(const sigset_t *saved);
void km_signal_sent(const siginfo_t *info);
void km_signals_sigchld(struct km_vm *vm);
pid_t km_router_tid(struct km_vm *vm);
void km_signals_before_exec(struct km_vcpu *vcpu, sigset_t *saved);
void km_signals_exec_failed(struct km_vm *vm, const sigset_t *saved);
void km_sigmask_set(struct km_vcpu *vcpu, uint64_t mask);
void km_sigmask_wait_with(struct km_vcpu *vcpu, uint64_t mask);
void km_sigmask_end_wait(struct km_vcpu *vcpu);
bool km_sig_ignored(struct km_vm *vm, int sig);
void km_signal_discard(struct km_vm *vm, int sig);
bool km_sig_default_ignored(int sig);
bool km_sig_default_stops(int sig);

/* signalfd.c: signalfds are km's, over host pipes. */
void km_signalfd_update(struct km_vm *vm);
bool km_signalfd_read(struct km_vcpu *vcpu, int fd, uint64_t buf, uint64_t len, long *ret);
void km_signalfd_hold(void);
void km_signalfd_release(void);
void km_signalfd_after_fork(void);
bool km_signalfd_any(void);

/* fastcall.c: calls a guest posts in memory, taken by a polling km thread (PVM). */
void km_fast_option(const char *arg);
bool km_fast_enabled(void);
const char *km_fast_exec_option(void);
void km_fast_init(struct km_vm *vm);
long km_fast_slot(struct km_vcpu *vcpu);
long km_init_tp(struct km_vcpu *vcpu, const uint64_t *a);
void km_fast_missed(struct km_vm *vm, uint64_t nr);
void km_fast_settle(struct km_vcpu *vcpu);
void km_fast_after_fork(struct km_vm *vm);

/* hcall.c: the dispatcher, a table indexed by syscall number. */
typedef long (*km_hc_fn)(struct km_vcpu *vcpu, const uint64_t *a);
void km_hcall(struct km_vcpu *vcpu);
bool km_hcall_served(uint64_t nr);
const char *km_syscall_name(uint64_t nr);
uint64_t km_call_insn_at(struct km_vm *vm, uint64_t ret);

/* fdtab.c: guest fds are host fds below vm->fd_limit; km's own are above. */
void km_fds_init(struct km_vm *vm);
int km_fd_dup_high(int fd);
int km_fd_high(int fd);
int km_fd_move_high(int fd);
int km_fd_replace(int fd, int old);
bool km_fd_room(void);
void km_fds_before_exec(struct rlimit *raised);
void km_fds_exec_failed(const struct rlimit *raised);
bool km_fd_ok(const struct km_vm *vm, long fd);
long km_fd_new(struct km_vm *vm, long fd);
long km_fd_pair_new(struct km_vm *vm, const int fds[2], uint64_t gva);
long km_dirfd_ok(const struct km_vm *vm, long fd);

#endif
