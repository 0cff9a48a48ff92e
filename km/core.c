/*
 * Core dumps: a program killed by a signal whose default action dumps core
 * leaves an ELF core file of the guest, as Linux writes one of a process:
 * its mappings, every thread's registers and FPU state, its auxv, the
 * files it maps, its name and arguments, so that `gdb program core` shows
 * where each thread was. The file goes where --core=PATH says, else where
 * the host's core_pattern does (a file name with Linux's %-specifiers; a
 * pipe pattern gets none), as RLIMIT_CORE allows.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/procfs.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "km.h"

#define CORE_PATTERN "/proc/sys/kernel/core_pattern"
#define CORE_USES_PID "/proc/sys/kernel/core_uses_pid"
#define STOP_WAIT_MS 1000
#define XSAVE_XCR0_OFFSET 464 /* where Linux's NT_X86_XSTATE keeps XCR0: gdb reads it there */

static const char *core_option; /* --core=PATH */

/* What the dump keeps of each thread. */
struct thread_state {
	int saved; /* atomic: the thread stopped and filled in the rest */
	struct kvm_regs regs;
	uint64_t fs_base;
	bool fpu_valid;
	uint8_t fpu[sizeof(struct kvm_xsave)];
};

static int stopping;			/* atomic: a dump is under way; vCPUs stop */
static struct thread_state *states;	/* by vCPU id */
/* The context and siginfo of a fault that kills, on the thread that took it. */
static __thread const struct kvm_regs *fault_regs;
static __thread const siginfo_t *fault_info;

void km_core_option(const char *path)
{
	if (*path == '\0')
		km_die(2, "km: --core needs a file name");
	core_option = path;
}

const char *km_core_path(void)
{
	return core_option;
}

static bool dumps_core(int sig)
{
	switch (sig) {
	case SIGQUIT: case SIGILL: case SIGTRAP: case SIGABRT: case SIGBUS: case SIGFPE:
	case SIGSEGV: case SIGXCPU: case SIGXFSZ: case SIGSYS:
		return true;
	default:
		return false;
	}
}

void km_core_fault_context(const struct kvm_regs *regs, const siginfo_t *info)
{
	fault_regs = regs;
	fault_info = info;
}

/* A thread's registers as its program sees them: out of the syscall entry, if it is there. */
static void user_regs(struct km_vcpu *vcpu, struct kvm_regs *out)
{
	*out = vcpu->run->s.regs.regs;
	if (km_x86_in_entry(out->rip))
		km_x86_return_to_user(out);
}

static void save_thread(struct km_vcpu *vcpu, struct thread_state *s, bool own_thread)
{
	user_regs(vcpu, &s->regs);
	s->fs_base = vcpu->fs_base;
	s->fpu_valid = own_thread;
	if (own_thread)
		km_x86_fpu_save(vcpu, s->fpu);
}

/* A vCPU's thread, told to stop by the dump: it leaves its state and waits to die with the process. */
_Noreturn void km_core_stop(struct km_vcpu *vcpu)
{
	if (states) {
		save_thread(vcpu, &states[vcpu->id], true);
		__atomic_store_n(&states[vcpu->id].saved, 1, __ATOMIC_RELEASE);
	}
	for (;;)
		pause();
}

bool km_core_stopping(void)
{
	return __atomic_load_n(&stopping, __ATOMIC_ACQUIRE);
}

static bool running(const struct km_vcpu *v)
{
	enum km_vcpu_state st = __atomic_load_n(&v->state, __ATOMIC_ACQUIRE);
	return st == KM_VCPU_RUNNING || st == KM_VCPU_STARTING;
}

/*
 * Stops every other guest thread and takes its state: each, kicked out of
 * the guest, stops at its next pass through the run loop. One blocked in a
 * host call past the wait is taken as its last exit left it (its registers
 * are those of the call), without FPU state.
 */
static void stop_threads(struct km_vm *vm, struct km_vcpu *me)
{
	int n = __atomic_load_n(&vm->nvcpu, __ATOMIC_ACQUIRE);

	states = calloc((size_t)n, sizeof(*states));
	__atomic_store_n(&stopping, 1, __ATOMIC_RELEASE);
	if (states == NULL)
		return;
	for (int i = 0; i < n; i++)
		if (vm->vcpus[i] != me && running(vm->vcpus[i]))
			km_vcpu_kick(vm, vm->vcpus[i]);
	for (int ms = 0; ms < STOP_WAIT_MS; ms++) {
		bool all = true;
		for (int i = 0; i < n && all; i++)
			all = vm->vcpus[i] == me || !running(vm->vcpus[i]) ||
			      __atomic_load_n(&states[i].saved, __ATOMIC_ACQUIRE);
		if (all)
			break;
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	}
	for (int i = 0; i < n; i++) {
		struct km_vcpu *v = vm->vcpus[i];
		if (v != me && running(v) && !__atomic_load_n(&states[i].saved, __ATOMIC_ACQUIRE)) {
			save_thread(v, &states[i], false);
			states[i].saved = 1;
		}
	}
	if (me) {
		save_thread(me, &states[me->id], true);
		if (fault_regs)
			states[me->id].regs = *fault_regs;
		states[me->id].saved = 1;
	}
}

/* The core file's name: --core's, else core_pattern's, expanded; NULL when there is none. */
static char *core_name(struct km_vm *vm, int sig, pid_t tid, bool *relative)
{
	char pattern[256] = "core", out[PATH_MAX];
	size_t len = 0;
	bool has_pid = false;

	int fd = open(CORE_PATTERN, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t got = read(fd, pattern, sizeof(pattern) - 1);
		close(fd);
		pattern[got > 0 ? got : 0] = '\0';
		pattern[strcspn(pattern, "\n")] = '\0';
	}
	/* Where the kernel puts a core of km: in its cwd only for a relative file name. */
	*relative = pattern[0] != '|' && pattern[0] != '/' && pattern[0] != '\0';
	if (core_option)
		return strdup(core_option);
	if (pattern[0] == '|' || pattern[0] == '\0')
		return NULL;

	struct utsname u;
	uname(&u);
	for (const char *p = pattern; *p && len < sizeof(out) - 64; p++) {
		if (*p != '%') {
			out[len++] = *p;
			continue;
		}
		char word[PATH_MAX];
		word[0] = '\0';
		switch (*++p) {
		case '%': strcpy(word, "%"); break;
		case 'p': case 'P': snprintf(word, sizeof(word), "%d", getpid()); has_pid = true; break;
		case 'i': case 'I': snprintf(word, sizeof(word), "%d", tid); break;
		case 'u': snprintf(word, sizeof(word), "%u", getuid()); break;
		case 'g': snprintf(word, sizeof(word), "%u", getgid()); break;
		case 's': snprintf(word, sizeof(word), "%d", sig); break;
		case 't': snprintf(word, sizeof(word), "%ld", (long)time(NULL)); break;
		case 'h': snprintf(word, sizeof(word), "%s", u.nodename); break;
		case 'e': snprintf(word, sizeof(word), "%s", vm->comm); break;
		case 'E':
			snprintf(word, sizeof(word), "%s", vm->exe_path);
			for (char *c = word; *c; c++)
				if (*c == '/')
					*c = '!';
			break;
		case 'c': {
			struct rlimit r;
			getrlimit(RLIMIT_CORE, &r);
			snprintf(word, sizeof(word), "%llu", (unsigned long long)r.rlim_cur);
			break;
		}
		case 'd': strcpy(word, "1"); break;
		case '\0': p--; break;
		default: break; /* Linux drops what it does not know */
		}
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%s", word);
		if (len >= sizeof(out))
			len = sizeof(out) - 1;
	}
	out[len] = '\0';
	fd = open(CORE_USES_PID, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		char c = '0';
		if (read(fd, &c, 1) == 1 && c != '0' && !has_pid)
			snprintf(out + len, sizeof(out) - len, ".%d", getpid());
		close(fd);
	}
	return strdup(out);
}

/* The core file, written in order, stopping where RLIMIT_CORE does (as Linux truncates). */
struct writer {
	int fd;
	uint64_t at, limit;
	bool failed;
};

static void put(struct writer *w, const void *data, size_t len)
{
	if (w->failed || w->at >= w->limit)
		return;
	size_t room = w->limit - w->at < len ? (size_t)(w->limit - w->at) : len;
	for (size_t done = 0; done < room;) {
		ssize_t n = pwrite(w->fd, (const char *)data + done, room - done, (off_t)(w->at + done));
		if (n < 0 && errno == EFAULT) { /* memory km cannot read: a hole */
			done = room;
			break;
		}
		if (n <= 0) {
			w->failed = true;
			return;
		}
		done += (size_t)n;
	}
	w->at += len;
}

/* A note: name, type, descriptor, each padded to 4 bytes as in Linux's cores. */
struct notes {
	uint8_t *buf;
	size_t len, cap;
};

static void note(struct notes *n, const char *name, uint32_t type, const void *desc, size_t size)
{
	size_t namesz = strlen(name) + 1;
	size_t need = sizeof(Elf64_Nhdr) + KM_ROUND_UP(namesz, 4) + KM_ROUND_UP(size, 4);
	if (n->len + need > n->cap) {
		size_t cap = (n->cap + need) * 2;
		uint8_t *b = realloc(n->buf, cap);
		if (b == NULL)
			km_die(1, "km: out of memory for a core file's notes");
		n->buf = b;
		n->cap = cap;
	}
	Elf64_Nhdr h = { (Elf64_Word)namesz, (Elf64_Word)size, type };
	uint8_t *at = n->buf + n->len;
	memset(at, 0, need);
	memcpy(at, &h, sizeof(h));
	memcpy(at + sizeof(h), name, namesz);
	memcpy(at + sizeof(h) + KM_ROUND_UP(namesz, 4), desc, size);
	n->len += need;
}

static void regs_of(const struct thread_state *s, elf_gregset_t out)
{
	const struct kvm_regs *r = &s->regs;
	struct user_regs_struct u = {
		.r15 = r->r15, .r14 = r->r14, .r13 = r->r13, .r12 = r->r12, .rbp = r->rbp,
		.rbx = r->rbx, .r11 = r->r11, .r10 = r->r10, .r9 = r->r9, .r8 = r->r8,
		.rax = r->rax, .rcx = r->rcx, .rdx = r->rdx, .rsi = r->rsi, .rdi = r->rdi,
		.orig_rax = (uint64_t)-1, .rip = r->rip, .cs = KM_SEL_UCODE, .eflags = r->rflags,
		.rsp = r->rsp, .ss = KM_SEL_UDATA, .fs_base = s->fs_base,
	};
	_Static_assert(sizeof(u) == sizeof(elf_gregset_t), "user_regs_struct is elf_gregset_t");
	memcpy(out, &u, sizeof(u));
}

static void thread_notes(struct km_vm *vm, struct notes *n, const struct km_vcpu *v,
			 const struct thread_state *s, int sig)
{
	struct elf_prstatus st;
	memset(&st, 0, sizeof(st));
	st.pr_info.si_signo = st.pr_cursig = (short)sig;
	st.pr_sigpend = v->sig_pending.set;
	st.pr_sighold = v->sigmask;
	st.pr_pid = v->tid;
	st.pr_ppid = getppid();
	st.pr_pgrp = getpgrp();
	st.pr_sid = getsid(0);
	regs_of(s, st.pr_reg);
	st.pr_fpvalid = s->fpu_valid;
	note(n, "CORE", NT_PRSTATUS, &st, sizeof(st));
	if (!s->fpu_valid)
		return;
	note(n, "CORE", NT_FPREGSET, s->fpu, sizeof(elf_fpregset_t));
	if (vm->has_xsave) {
		size_t size = km_x86_fpu_size(vm);
		uint8_t xs[sizeof(s->fpu)];
		memcpy(xs, s->fpu, size);
		memcpy(xs + XSAVE_XCR0_OFFSET, &vm->xcr0, sizeof(vm->xcr0));
		note(n, "LINUX", NT_X86_XSTATE, xs, size);
	}
}

/* NT_FILE: the mappings of files, and their names. */
static void file_note(struct km_vm *vm, struct notes *n)
{
	size_t count = 0, names = 0;
	for (size_t i = 0; i < vm->nvma; i++)
		if (vm->vmas[i].name) {
			count++;
			names += strlen(vm->names[vm->vmas[i].name - 1].path) + 1;
		}
	size_t size = 16 + count * 24 + names;
	uint64_t *d = calloc(1, size);
	if (d == NULL)
		return;
	d[0] = count;
	d[1] = KM_PAGE_SIZE;
	char *text = (char *)(d + 2 + count * 3);
	size_t k = 0;
	for (size_t i = 0; i < vm->nvma; i++) {
		const struct km_vma *v = &vm->vmas[i];
		if (!v->name)
			continue;
		d[2 + k * 3] = v->start;
		d[3 + k * 3] = v->end;
		d[4 + k * 3] = v->off / KM_PAGE_SIZE;
		k++;
		const char *path = vm->names[v->name - 1].path;
		memcpy(text, path, strlen(path) + 1);
		text += strlen(path) + 1;
	}
	note(n, "CORE", NT_FILE, d, size);
	free(d);
}

static void process_notes(struct km_vm *vm, struct notes *n, int sig, const siginfo_t *info)
{
	struct elf_prpsinfo ps;
	memset(&ps, 0, sizeof(ps));
	ps.pr_sname = 'R';
	ps.pr_uid = getuid();
	ps.pr_gid = getgid();
	ps.pr_pid = getpid();
	ps.pr_ppid = getppid();
	ps.pr_pgrp = getpgrp();
	ps.pr_sid = getsid(0);
	snprintf(ps.pr_fname, sizeof(ps.pr_fname), "%s", vm->comm);
	size_t args = vm->arg_end - vm->arg_start;
	if (args > sizeof(ps.pr_psargs) - 1)
		args = sizeof(ps.pr_psargs) - 1;
	if (km_copy_in(vm, ps.pr_psargs, vm->arg_start, args) == 0)
		for (size_t i = 0; i + 1 < args; i++)
			if (ps.pr_psargs[i] == '\0')
				ps.pr_psargs[i] = ' ';
	note(n, "CORE", NT_PRPSINFO, &ps, sizeof(ps));

	siginfo_t si;
	memset(&si, 0, sizeof(si));
	if (info)
		si = *info;
	si.si_signo = sig;
	note(n, "CORE", NT_SIGINFO, &si, sizeof(si));

	size_t auxv = vm->auxv_end - vm->auxv_start;
	uint8_t *a = auxv ? malloc(auxv) : NULL;
	if (a && km_copy_in(vm, a, vm->auxv_start, auxv) == 0)
		note(n, "CORE", NT_AUXV, a, auxv);
	free(a);
	file_note(vm, n);
}

/* A mapping's pages: anonymous ones the host never touched are holes, as Linux skips them. */
static void put_memory(struct km_vm *vm, struct writer *w, const struct km_vma *v)
{
	uint64_t gpa;
	if (!km_gva_to_gpa(vm, v->start, &gpa))
		return;
	const uint8_t *host = vm->mem + gpa;
	uint64_t len = v->end - v->start;
	bool anon = v->kind != KM_VMA_FILE && v->kind != KM_VMA_IMAGE;

	for (uint64_t off = 0; off < len; off += KM_PAGE_SIZE) {
		unsigned char in = 1;
		if (anon && mincore((void *)(host + off), KM_PAGE_SIZE, &in) == 0 && !(in & 1)) {
			w->at += KM_PAGE_SIZE; /* a hole: the file reads zeros there */
			continue;
		}
		put(w, host + off, KM_PAGE_SIZE); /* a page km cannot read is a hole too */
	}
}

static Elf64_Word segment_flags(int prot)
{
	return (prot & PROT_READ ? PF_R : 0) | (prot & PROT_WRITE ? PF_W : 0) |
	       (prot & PROT_EXEC ? PF_X : 0);
}

static bool write_core(struct km_vm *vm, int fd, uint64_t limit, struct km_vcpu *first, int sig,
		       const siginfo_t *info)
{
	struct notes n = { 0 };
	int nv = __atomic_load_n(&vm->nvcpu, __ATOMIC_ACQUIRE);

	/* The thread that took the signal first, with the process's notes after it, as Linux. */
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < nv; i++) {
			struct km_vcpu *v = vm->vcpus[i];
			bool is_first = first ? v == first : i == 0;
			if ((pass == 0) != is_first || !states[i].saved)
				continue;
			thread_notes(vm, &n, v, &states[i], sig);
			if (pass == 0)
				process_notes(vm, &n, sig, info);
		}

	size_t nphdr = 1 + vm->nvma;
	uint64_t data = KM_ROUND_UP(sizeof(Elf64_Ehdr) + nphdr * sizeof(Elf64_Phdr) + n.len, KM_PAGE_SIZE);
	Elf64_Ehdr eh = {
		.e_ident = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3, ELFCLASS64, ELFDATA2LSB, EV_CURRENT,
			     ELFOSABI_NONE },
		.e_type = ET_CORE, .e_machine = EM_X86_64, .e_version = EV_CURRENT,
		.e_phoff = sizeof(Elf64_Ehdr), .e_ehsize = sizeof(Elf64_Ehdr),
		.e_phentsize = sizeof(Elf64_Phdr), .e_phnum = (Elf64_Half)nphdr,
	};
	struct writer w = { fd, 0, limit, false };
	put(&w, &eh, sizeof(eh));
	Elf64_Phdr note_ph = { .p_type = PT_NOTE, .p_offset = sizeof(eh) + nphdr * sizeof(Elf64_Phdr),
			       .p_filesz = n.len, .p_align = 4 };
	put(&w, &note_ph, sizeof(note_ph));
	uint64_t at = data;
	for (size_t i = 0; i < vm->nvma; i++) {
		const struct km_vma *v = &vm->vmas[i];
		uint64_t size = v->prot & PROT_READ ? v->end - v->start : 0;
		Elf64_Phdr ph = { .p_type = PT_LOAD, .p_flags = segment_flags(v->prot), .p_offset = at,
				  .p_vaddr = v->start, .p_filesz = size, .p_memsz = v->end - v->start,
				  .p_align = KM_PAGE_SIZE };
		put(&w, &ph, sizeof(ph));
		at += size;
	}
	put(&w, n.buf, n.len);
	free(n.buf);
	w.at = data;
	for (size_t i = 0; i < vm->nvma && !w.failed; i++)
		if (vm->vmas[i].prot & PROT_READ)
			put_memory(vm, &w, &vm->vmas[i]);
	if (!w.failed && ftruncate(fd, (off_t)(w.at < limit ? w.at : limit)) < 0)
		w.failed = true;
	return !w.failed;
}

/*
 * The guest dies of sig: writes its core when sig's default action dumps
 * one and the limits allow. Returns whether km should die with the
 * "core dumped" status.
 */
static bool dump(struct km_vm *vm, int sig)
{
	struct rlimit lim;
	bool relative = false;

	getrlimit(RLIMIT_CORE, &lim);
	uint64_t limit = core_option ? UINT64_MAX : lim.rlim_cur;
	if (limit == 0)
		return false;
	/* Not after a change of credentials or PR_SET_DUMPABLE 0, as Linux (suid_dumpable 0) */
	if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 1) {
		if (core_option)
			km_err("km: %s: no core file: the program changed its credentials or is not "
			       "dumpable", vm->exe_path);
		return false;
	}
	struct km_vcpu *me = km_current_vcpu();
	char *path = core_name(vm, sig, me ? me->tid : getpid(), &relative);
	if (path == NULL) {
		km_err("km: %s: no core file: the host's core_pattern is a pipe", vm->exe_path);
		return false;
	}
	stop_threads(vm, me);
	if (states == NULL)
		return false;
	/* Every other thread has stopped; this one may hold the lock already. */
	bool locked = pthread_rwlock_tryrdlock(&vm->mm_lock) == 0;
	unlink(path); /* as Linux: a new file, never one the name led to */
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	bool ok = fd >= 0 && write_core(vm, fd, limit, me, sig, fault_info);
	if (locked)
		pthread_rwlock_unlock(&vm->mm_lock);
	if (fd >= 0)
		close(fd);
	if (!ok && core_option) /* without --core, as Linux: no word */
		km_err("km: %s: could not write the core file %s: %s", vm->exe_path, path,
		       strerror(errno));
	free(path);
	return ok && relative && lim.rlim_max >= KM_PAGE_SIZE;
}

/* Closes every fd but keep (close_range). */
static void close_all_but(int keep)
{
	if (keep > 0)
		syscall(SYS_close_range, 0u, (unsigned)keep - 1, 0u);
	syscall(SYS_close_range, (unsigned)keep + 1, ~0u, 0u);
}

/*
 * A child that waits for km to be gone (the pipe's other end closes when
 * it is, after the kernel's dump of it), then removes dir and what the
 * kernel wrote in it.
 */
static void remove_when_gone(const char *dir, int done)
{
	char buf[4096], c;

	close_all_but(done);
	while (read(done, &c, 1) > 0 || errno == EINTR)
		;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	long n;
	while (fd >= 0 && (n = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0)
		for (long at = 0; at < n;) {
			struct dirent64_ {
				uint64_t ino;
				int64_t off;
				unsigned short reclen;
				unsigned char type;
				char name[];
			} *d = (struct dirent64_ *)(buf + at);
			if (strcmp(d->name, ".") && strcmp(d->name, ".."))
				unlinkat(fd, d->name, 0);
			at += d->reclen;
		}
	rmdir(dir);
	_exit(0);
}

/*
 * Dies of sig with the "core dumped" status, as the guest did: the kernel
 * sets that bit only when it writes a core of km, so km has it write one,
 * without the guest's memory, in a directory of its own made its cwd (the
 * host's pattern is relative to the cwd), which a child removes once km is gone.
 */
static _Noreturn void die_with_core(struct km_vm *vm, int sig)
{
	char dir[] = "/tmp/km-core-XXXXXX"; /* not the cwd: the child removes it a moment later */
	int done[2];

	if (mkdtemp(dir) == NULL)
		km_die_by_signal(sig);
	if (pipe2(done, O_CLOEXEC) < 0) {
		rmdir(dir);
		km_die_by_signal(sig);
	}
	fflush(NULL); /* what km said is out before it dies */
	pid_t child = fork();
	if (child == 0) {
		close(done[1]);
		remove_when_gone(dir, done[0]);
	}
	close(done[0]);
	if (child < 0 || chdir(dir) < 0) {
		rmdir(dir);
		km_die_by_signal(sig);
	}
	madvise(vm->mem, vm->phys_size, MADV_DONTDUMP);
	struct rlimit lim;
	getrlimit(RLIMIT_CORE, &lim);
	lim.rlim_cur = lim.rlim_max; /* --core wrote one whatever the soft limit said */
	setrlimit(RLIMIT_CORE, &lim);
	km_die_of_default(sig);
}

_Noreturn void km_core_die(struct km_vm *vm, int sig)
{
	static int dying;

	/* One thread ends the process; another that gets here meanwhile waits for it. */
	if (__atomic_exchange_n(&dying, 1, __ATOMIC_ACQ_REL)) {
		struct km_vcpu *me = km_current_vcpu();
		if (me && km_core_stopping())
			km_core_stop(me);
		for (;;)
			pause();
	}
	km_gdb_exit(0, sig);
	if (dumps_core(sig) && dump(vm, sig))
		die_with_core(vm, sig);
	km_die_by_signal(sig);
}
