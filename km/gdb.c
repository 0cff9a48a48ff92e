/*
 * The gdb stub: km serves GDB's Remote Serial Protocol for the program it
 * runs, as gdbserver does for a Linux process.
 *
 * All-stop: when a thread reports an event (a breakpoint, a step, a signal)
 * or gdb interrupts, every vCPU is sent out of the guest and waits at the run
 * loop; a thread blocked in a host call stays there, and waits when the
 * call returns. A server thread talks to gdb meanwhile, and resumes them.
 * Breakpoints (hardware ones too) are int3 written into the program's
 * memory, steps the trap flag; watchpoints are the trap flag as well: while
 * one is set, every thread runs an instruction at a time and km compares the
 * watched bytes after each. The guest's debug registers would be faster,
 * but neither PVM nor QEMU's nested SVM here honours them; this way works,
 * the same, on every KVM (docs/debugging.md).
 */
#include <arpa/inet.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "gdb.h"
#include "vvar.h"

#define TF (1ul << 8)
#define RF (1ul << 16)
#define MAX_BREAKPOINTS 512
#define PARK_WAIT_MS 200

enum mode { OFF, WAIT, ATTACH, EXECED }; /* EXECED: gdb's connection, from the km before an exec */

#define MAX_WATCHPOINTS 16
#define WATCH_MAX_LEN 64

struct breakpoint {
	uint64_t addr;
	uint8_t saved;
	bool hw; /* Z1's: reported as a hardware breakpoint */
};

struct watchpoint {
	uint64_t addr, len;
	uint8_t value[WATCH_MAX_LEN]; /* as the last check found it */
};

static struct {
	enum mode mode;
	struct sockaddr_in addr;
	struct km_vm *vm;
	int listen_fd, wake[2];
	struct gdb_conn conn;
	bool connected, attached; /* attached: gdb came to a running program */
	bool exec_events;	  /* gdb asked for exec stop events */
	bool fork_wait;		  /* --gdb-fork=wait: a forked child waits for a gdb of its own */
	bool child_waits;	  /* this is such a child, yet to listen */
	pthread_mutex_t lock, send_lock;
	pthread_cond_t cond;
	int stopping; /* all-stop asked for or in effect; read without the lock */
	uint64_t resume_seq;
	struct km_vcpu *event_vcpu;
	char event[160];
	pid_t g_tid, c_tid; /* Hg and Hc: 0 any, -1 all */
	struct breakpoint bps[MAX_BREAKPOINTS];
	int nbp;
	struct watchpoint watch[MAX_WATCHPOINTS];
	int nwatch; /* read without the lock by the run loop (km_gdb_stopping) */
	uint64_t pass; /* QPassSignals, as host signal bits */
	uint64_t removed[64]; /* breakpoints taken out lately: a thread may trap on one still */
	unsigned nremoved;
	char packet[GDB_PACKET_MAX], reply[2 * GDB_PACKET_MAX + 64];
	size_t packet_len;
} g = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.send_lock = PTHREAD_MUTEX_INITIALIZER,
	.cond = PTHREAD_COND_INITIALIZER,
	.listen_fd = -1,
	.wake = { -1, -1 },
};

/* ---- options ------------------------------------------------------------- */

/* "PORT" or "ADDR:PORT"; the address defaults to 127.0.0.1. */
static void parse_address(const char *opt, const char *arg)
{
	char host[64] = "127.0.0.1";
	const char *colon = strrchr(arg, ':'), *port = colon ? colon + 1 : arg;
	char *end;

	if (colon) {
		size_t n = (size_t)(colon - arg);
		if (n == 0 || n >= sizeof(host))
			km_die(2, "km: bad --%s address '%s': use PORT or ADDR:PORT", opt, arg);
		memcpy(host, arg, n);
		host[n] = '\0';
	}
	errno = 0;
	unsigned long p = strtoul(port, &end, 10);
	if (errno || end == port || *end || p > 65535)
		km_die(2, "km: bad --%s port '%s': use a number from 0 to 65535", opt, port);
	g.addr.sin_family = AF_INET;
	g.addr.sin_port = htons((uint16_t)p);
	if (inet_pton(AF_INET, host, &g.addr.sin_addr) != 1)
		km_die(2, "km: bad --%s address '%s': use an IPv4 address such as 127.0.0.1", opt, host);
}

void km_gdb_option(int opt, const char *arg)
{
	switch (opt) {
	case 'g': g.mode = WAIT; parse_address("gdb", arg); break;
	case 'l': g.mode = WAIT; parse_address("gdb-listen", arg); break;
	case 'a': g.mode = ATTACH; parse_address("gdb-attach", arg); break;
	case 'f':
		if (strcmp(arg, "wait") != 0 && strcmp(arg, "free") != 0)
			km_die(2, "km: bad --gdb-fork '%s': use wait or free", arg);
		g.fork_wait = strcmp(arg, "wait") == 0;
		break;
	case 'F': { /* FD,ACKS,ATTACHED,EXEC_EVENTS,PASS,FORK_WAIT,ADDR,PORT: from km's own exec */
		int fd, noack, attached, exec_events, fork_wait;
		unsigned long long pass;
		unsigned addr, port;
		if (sscanf(arg, "%d,%d,%d,%d,%llx,%d,%x,%u", &fd, &noack, &attached, &exec_events, &pass,
			   &fork_wait, &addr, &port) != 8 || fd < 0 || port > 65535)
			km_die(2, "km: bad --gdb-fd '%s' (an option of km's own exec)", arg);
		g.mode = EXECED;
		g.conn.fd = fd;
		g.conn.noack = noack;
		g.attached = attached;
		g.exec_events = exec_events;
		g.pass = pass;
		g.fork_wait = fork_wait;
		g.addr.sin_family = AF_INET;
		g.addr.sin_addr.s_addr = htonl(addr);
		g.addr.sin_port = htons((uint16_t)port);
		break;
	}
	}
}

/* ---- signals: Linux's numbers and gdb's -------------------------------------- */

static const uint8_t to_gdb[32] = {
	0, 1, 2, 3, 4, 5, 6, 10, 8, 9, 30, 11, 31, 13, 14, 15,
	143, 20, 19, 17, 18, 21, 22, 16, 24, 25, 26, 27, 28, 23, 32, 12,
};

static int gdb_signal(int sig)
{
	if (sig > 0 && sig < 32)
		return to_gdb[sig];
	if (sig == 32)
		return 77;
	if (sig > 32 && sig < 64)
		return 45 + sig - 33;
	return sig == 64 ? 78 : 143;
}

static int host_signal(int gsig)
{
	for (int s = 1; s <= KM_NSIG; s++)
		if (gdb_signal(s) == gsig)
			return s;
	return 0;
}

/* ---- threads ----------------------------------------------------------------- */

static bool live(const struct km_vcpu *v)
{
	enum km_vcpu_state st = __atomic_load_n(&v->state, __ATOMIC_ACQUIRE);
	return st == KM_VCPU_RUNNING || st == KM_VCPU_STARTING;
}

static struct km_vcpu *thread(pid_t tid)
{
	int n = __atomic_load_n(&g.vm->nvcpu, __ATOMIC_ACQUIRE);

	for (int i = 0; i < n; i++) {
		struct km_vcpu *v = g.vm->vcpus[i];
		if (live(v) && (tid <= 0 || v->tid == tid))
			return v;
	}
	return NULL;
}

/* The thread register packets are for: Hg's, else the one that stopped. */
static struct km_vcpu *reg_thread(void)
{
	struct km_vcpu *v = g.g_tid > 0 ? thread(g.g_tid) : NULL;
	return v ? v : g.event_vcpu && live(g.event_vcpu) ? g.event_vcpu : thread(0);
}

/* ---- breakpoints ------------------------------------------------------------- */

static struct breakpoint *breakpoint_at(uint64_t addr)
{
	for (int i = 0; i < g.nbp; i++)
		if (g.bps[i].addr == addr)
			return &g.bps[i];
	return NULL;
}

static bool insert_breakpoint(uint64_t addr, bool hw)
{
	static const uint8_t int3 = 0xcc;
	struct breakpoint *b = breakpoint_at(addr);

	if (b) {
		b->hw = hw;
		return true;
	}
	if (g.nbp == MAX_BREAKPOINTS || km_copy_in(g.vm, &g.bps[g.nbp].saved, addr, 1) < 0 ||
	    km_debug_poke(g.vm, addr, &int3, 1) < 0)
		return false;
	g.bps[g.nbp].hw = hw;
	g.bps[g.nbp++].addr = addr;
	return true;
}

static bool remove_breakpoint(uint64_t addr)
{
	struct breakpoint *b = breakpoint_at(addr);

	if (b == NULL)
		return true;
	km_debug_poke(g.vm, addr, &b->saved, 1); /* fails only if the program unmapped it */
	*b = g.bps[--g.nbp];
	g.removed[g.nremoved++ % 64] = addr;
	return true;
}

/*
 * An int3 trap at a breakpoint gdb took out while the thread was on its way
 * to report it: the original instruction is back, the thread runs it.
 */
static bool removed_breakpoint(uint64_t addr)
{
	uint8_t now;

	for (unsigned i = 0; i < 64 && i < g.nremoved; i++)
		if (g.removed[i] == addr)
			return km_copy_in(g.vm, &now, addr, 1) == 0 && now != 0xcc;
	return false;
}

/*
 * Memory as gdb reads it: what the program wrote, not km's int3s; and the
 * supervisor pages a program may read (syscall entry, clock page, vDSO).
 */
static int read_memory(uint64_t addr, uint8_t *buf, size_t len)
{
	const uint64_t user_lo = KM_SYS_VA + KM_SYS_ENTRY, user_hi = KM_SYS_VA + KM_SYS_VDSO_MAX;

	if (addr >= user_lo && addr < user_hi) {
		len = len < user_hi - addr ? len : user_hi - addr;
		memcpy(buf, km_sys(g.vm, addr - KM_SYS_VA), len);
		return (int)len;
	}
	if (km_copy_in(g.vm, buf, addr, len) < 0) {
		size_t n = 0; /* as much as can be read, as gdbserver answers */
		while (n < len && km_copy_in(g.vm, buf + n, addr + n, 1) == 0)
			n++;
		if (n == 0)
			return -1;
		len = n;
	}
	for (int i = 0; i < g.nbp; i++)
		if (g.bps[i].addr - addr < len)
			buf[g.bps[i].addr - addr] = g.bps[i].saved;
	return (int)len;
}

static bool write_memory(uint64_t addr, uint8_t *buf, size_t len)
{
	for (int i = 0; i < g.nbp; i++)
		if (g.bps[i].addr - addr < len) {
			g.bps[i].saved = buf[g.bps[i].addr - addr];
			buf[g.bps[i].addr - addr] = 0xcc;
		}
	return km_debug_poke(g.vm, addr, buf, len) == 0;
}

/* A write watchpoint of len bytes at addr (Z2), or its removal. */
static bool set_watchpoint(uint64_t addr, uint64_t len, bool on)
{
	for (int i = 0; i < g.nwatch; i++) {
		if (g.watch[i].addr == addr && g.watch[i].len == len) {
			if (!on)
				g.watch[i] = g.watch[--g.nwatch];
			return true;
		}
	}
	if (!on)
		return true;
	if (len == 0 || len > WATCH_MAX_LEN || g.nwatch == MAX_WATCHPOINTS)
		return false;
	struct watchpoint *w = &g.watch[g.nwatch];
	if (read_memory(addr, w->value, len) != (int)len)
		return false;
	w->addr = addr;
	w->len = len;
	__atomic_store_n(&g.nwatch, g.nwatch + 1, __ATOMIC_RELEASE);
	return true;
}

/* The first watched range whose bytes changed since the last look, its new bytes kept; or NULL. */
static struct watchpoint *changed_watch(void)
{
	uint8_t now[WATCH_MAX_LEN];

	for (int i = 0; i < g.nwatch; i++) {
		struct watchpoint *w = &g.watch[i];
		if (read_memory(w->addr, now, w->len) == (int)w->len && memcmp(now, w->value, w->len)) {
			memcpy(w->value, now, w->len);
			return w;
		}
	}
	return NULL;
}

/* ---- stopping and resuming the vCPUs ---------------------------------------- */

bool km_gdb_attached(void)
{
	return __atomic_load_n(&g.connected, __ATOMIC_ACQUIRE);
}

static bool stopping(void)
{
	return __atomic_load_n(&g.stopping, __ATOMIC_ACQUIRE);
}

/* Whether the run loop has anything to do for gdb: one load per exit, idle or not. */
bool km_gdb_busy(void)
{
	return __atomic_load_n(&g.stopping, __ATOMIC_ACQUIRE) |
	       (__atomic_load_n(&g.nwatch, __ATOMIC_ACQUIRE) > 0);
}

/* With g.lock held: every vCPU out of the guest, the server told. */
static void stop_all(struct km_vcpu *event, const char *reply)
{
	snprintf(g.event, sizeof(g.event), "%s", reply);
	g.event_vcpu = event;
	__atomic_store_n(&g.stopping, 1, __ATOMIC_RELEASE);
	int n = __atomic_load_n(&g.vm->nvcpu, __ATOMIC_ACQUIRE);
	for (int i = 0; i < n; i++)
		if (live(g.vm->vcpus[i]))
			km_vcpu_interrupt(g.vm->vcpus[i]);
	char b = 1;
	if (write(g.wake[1], &b, 1) < 0) {
		/* the pipe is full: the server has a wakeup to read already */
	}
}

/* gdb's resume for this thread, as it leaves the stop. */
static void take_resume(struct km_vcpu *vcpu)
{

	if (vcpu->gdb.step) {
		struct kvm_regs r;
		gdb_user_regs(vcpu, &r);
		r.rflags |= TF;
		gdb_set_user_regs(vcpu, &r);
		vcpu->gdb.stepping = true;
	}
}

/*
 * A vCPU at the run loop while gdb has the program stopped: waits there.
 * One inside an exception entry first runs to its `out`, where km (and
 * gdb) find the program's context; the I/O of its last exit is completed,
 * so that gdb may move rip.
 */
static bool in_exception_entry(struct km_vcpu *vcpu)
{
	uint64_t rip = vcpu->run->s.regs.regs.rip, stub = KM_SYS_VA + KM_SYS_STUB;
	return rip - stub < (uint64_t)(km_stub_fault_out - km_stub_start);
}

static void park(struct km_vcpu *vcpu)
{
	if (in_exception_entry(vcpu))
		return;
	if (vcpu->run->exit_reason == KVM_EXIT_IO)
		km_vcpu_complete_io(vcpu);
	pthread_mutex_lock(&g.lock);
	if (!g.stopping) {
		pthread_mutex_unlock(&g.lock);
		return;
	}
	uint64_t seq = g.resume_seq;
	vcpu->gdb.parked = true;
	pthread_cond_broadcast(&g.cond);
	while (g.resume_seq == seq)
		pthread_cond_wait(&g.cond, &g.lock);
	vcpu->gdb.parked = false;
	take_resume(vcpu);
	pthread_mutex_unlock(&g.lock);
}

static void listen_for_gdb(const char *who);
static void wait_for_gdb(struct km_vcpu *vcpu);

/* At the run loop when km_gdb_busy: wait while gdb has the program stopped; step while it watches. */
void km_gdb_run_loop(struct km_vcpu *vcpu)
{
	if (g.child_waits) {
		char who[64];
		g.child_waits = false;
		g.stopping = 0;
		snprintf(who, sizeof(who), "child %d waits for", getpid());
		listen_for_gdb(who);
		wait_for_gdb(vcpu);
		return;
	}
	if (stopping())
		park(vcpu);
	if (__atomic_load_n(&g.nwatch, __ATOMIC_ACQUIRE) > 0 && !in_exception_entry(vcpu)) {
		struct kvm_regs r;
		gdb_user_regs(vcpu, &r);
		if (!(r.rflags & TF)) {
			r.rflags |= TF;
			gdb_set_user_regs(vcpu, &r);
		}
		vcpu->gdb.watching = true;
	}
}

/*
 * vcpu has an event for gdb: stops everything and waits for gdb's resume.
 * False when another thread's stop came first and this event is to be
 * dropped (the caller repeats or forgets it): gdb resumed in between.
 */
static bool report(struct km_vcpu *vcpu, const char *reply, bool drop_if_late)
{
	pthread_mutex_lock(&g.lock);
	while (g.stopping) {
		pthread_mutex_unlock(&g.lock);
		park(vcpu);
		if (drop_if_late)
			return false;
		pthread_mutex_lock(&g.lock);
	}
	if (!g.connected) {
		pthread_mutex_unlock(&g.lock);
		return false;
	}
	stop_all(vcpu, reply);
	pthread_mutex_unlock(&g.lock);
	park(vcpu);
	return true;
}

static void clear_step(struct km_vcpu *vcpu, struct km_fault_frame *f)
{
	f->rflags &= ~TF;

	vcpu->gdb.stepping = false;
}

bool km_gdb_trap(struct km_vcpu *vcpu, struct km_fault_frame *f)
{
	char reply[96];

	if (f->vector == 3) {
		pthread_mutex_lock(&g.lock);
		bool ours = breakpoint_at(f->rip - 1) != NULL, gone = !ours && removed_breakpoint(f->rip - 1);
		bool hw = ours && breakpoint_at(f->rip - 1)->hw;
		pthread_mutex_unlock(&g.lock);
		if (gone) {
			f->rip--;
			return true;
		}
		if (!ours)
			return false; /* the program's own int3: a SIGTRAP, which gdb sees as a signal */
		f->rip--;
		if (vcpu->gdb.stepping)
			clear_step(vcpu, f);
		snprintf(reply, sizeof(reply), "T05thread:%x;%s:;", vcpu->tid, hw ? "hwbreak" : "swbreak");
		report(vcpu, reply, true);
		return true;
	}
	/* A #DB: the trap flag of gdb's step or of the watchpoints' stepping, or the program's own */
	bool mine = vcpu->gdb.stepping || vcpu->gdb.watching;
	if (!mine)
		return false;
	if (__atomic_load_n(&g.nwatch, __ATOMIC_ACQUIRE) > 0) {
		pthread_mutex_lock(&g.lock);
		struct watchpoint *w = changed_watch();
		uint64_t addr = w ? w->addr : 0;
		pthread_mutex_unlock(&g.lock);
		if (w) {
			clear_step(vcpu, f);
			snprintf(reply, sizeof(reply), "T05thread:%x;watch:%lx;", vcpu->tid,
				 (unsigned long)addr);
			report(vcpu, reply, false);
			return true;
		}
	} else {
		vcpu->gdb.watching = false;
	}
	if (vcpu->gdb.stepping) {
		clear_step(vcpu, f);
		snprintf(reply, sizeof(reply), "T05thread:%x;", vcpu->tid);
		report(vcpu, reply, true);
		return true;
	}
	if (!vcpu->gdb.watching)
		f->rflags &= ~TF;
	return true;
}

int km_gdb_signal(struct km_vcpu *vcpu, int sig)
{
	char reply[64];

	if (sig < 1 || sig > KM_NSIG || (g.pass & KM_SIG_BIT(sig)))
		return sig;
	snprintf(reply, sizeof(reply), "T%02xthread:%x;", gdb_signal(sig), vcpu->tid);
	vcpu->gdb.signal = sig;
	if (!report(vcpu, reply, false))
		return sig;
	return vcpu->gdb.signal;
}

/* ---- the conversation ---------------------------------------------------------- */

static bool send_reply(const char *text)
{
	pthread_mutex_lock(&g.send_lock);
	bool ok = gdb_send(&g.conn, text);
	pthread_mutex_unlock(&g.send_lock);
	return ok;
}

/* A qXfer object's [off, off+len) as 'm' (more follows) or 'l' (last) data. */
static void send_object(const char *data, size_t size, const char *args)
{
	uint64_t off, len;
	const char *p = strrchr(args, ':');

	if (p == NULL || !(p++, gdb_get_number(&p, &off)) || *p++ != ',' ||
	    !gdb_get_number(&p, &len)) {
		send_reply("E01");
		return;
	}
	if (len > GDB_PACKET_MAX / 2)
		len = GDB_PACKET_MAX / 2;
	if (off >= size) {
		send_reply("l");
		return;
	}
	size_t n = size - off < len ? size - off : len;
	pthread_mutex_lock(&g.send_lock);
	gdb_send_binary(&g.conn, off + n < size ? 'm' : 'l', data + off, n, g.reply);
	pthread_mutex_unlock(&g.send_lock);
}

static void send_threads_xml(void)
{
	static char xml[64 * KM_MAX_VCPUS];
	size_t len = (size_t)snprintf(xml, sizeof(xml), "<?xml version=\"1.0\"?><threads>");
	int n = __atomic_load_n(&g.vm->nvcpu, __ATOMIC_ACQUIRE);

	for (int i = 0; i < n && len < sizeof(xml) - 96; i++) {
		struct km_vcpu *v = g.vm->vcpus[i];
		if (live(v))
			len += (size_t)snprintf(xml + len, sizeof(xml) - len,
						"<thread id=\"%x\" name=\"%s\"/>", v->tid,
						km_thread_name(g.vm, v));
	}
	len += (size_t)snprintf(xml + len, sizeof(xml) - len, "</threads>");
	send_object(xml, len, g.packet);
}

static void send_auxv(void)
{
	static uint8_t auxv[4096];
	size_t len = g.vm->auxv_end - g.vm->auxv_start;

	if (len > sizeof(auxv) || km_copy_in(g.vm, auxv, g.vm->auxv_start, len) < 0) {
		send_reply("E01");
		return;
	}
	send_object((const char *)auxv, len, g.packet);
}

/* A value of the program's auxiliary vector, or 0. */
static uint64_t auxv_value(uint64_t type)
{
	for (uint64_t at = g.vm->auxv_start; at + 16 <= g.vm->auxv_end; at += 16) {
		uint64_t pair[2];
		if (km_copy_in(g.vm, pair, at, sizeof(pair)) < 0 || pair[0] == 0)
			break;
		if (pair[0] == type)
			return pair[1];
	}
	return 0;
}

/*
 * qGetTLSAddr for the executable's own TLS (lm 0, as gdb asks for a static
 * program): x86-64 puts its block just below the thread pointer, at the
 * block's size rounded so that its image keeps its alignment (glibc and musl alike).
 */
static void tls_address(const char *args)
{
	uint64_t tid, offset, lm, phdr = auxv_value(AT_PHDR), phnum = auxv_value(AT_PHNUM);
	const char *p = args;
	Elf64_Phdr ph, tls = { .p_type = PT_NULL };
	uint64_t bias = 0;

	if (!gdb_get_number(&p, &tid) || *p++ != ',' || !gdb_get_number(&p, &offset) || *p++ != ',' ||
	    !gdb_get_number(&p, &lm) || lm != 0 || thread((pid_t)tid) == NULL) {
		send_reply("E01");
		return;
	}
	for (uint64_t i = 0; i < phnum && i < 64; i++) {
		if (km_copy_in(g.vm, &ph, phdr + i * sizeof(ph), sizeof(ph)) < 0)
			break;
		if (ph.p_type == PT_PHDR)
			bias = phdr - ph.p_vaddr;
		if (ph.p_type == PT_TLS)
			tls = ph;
	}
	if (tls.p_type != PT_TLS || tls.p_align == 0 || (tls.p_align & (tls.p_align - 1))) {
		send_reply("E01");
		return;
	}
	uint64_t image = bias + tls.p_vaddr;
	uint64_t block = tls.p_memsz + ((-tls.p_memsz - image) & (tls.p_align - 1));
	uint64_t tp = km_x86_get_fs_base(thread((pid_t)tid));
	snprintf(g.reply, sizeof(g.reply), "%lx", (unsigned long)(tp - block + offset));
	send_reply(g.reply);
}

static void query(const char *q)
{
	if (strncmp(q, "qSupported", 10) == 0) {
		g.exec_events = strstr(q, "exec-events+") != NULL;
		snprintf(g.reply, sizeof(g.reply),
			 "PacketSize=%x;QStartNoAckMode+;qXfer:features:read+;qXfer:threads:read+;"
			 "qXfer:auxv:read+;qXfer:exec-file:read+;QPassSignals+;swbreak+;hwbreak+;"
			 "vContSupported+%s",
			 GDB_PACKET_MAX, g.exec_events ? ";exec-events+" : "");
		send_reply(g.reply);
	} else if (strncmp(q, "qXfer:features:read:target.xml:", 31) == 0) {
		const char *xml = gdb_target_xml(g.vm);
		send_object(xml, strlen(xml), q);
	} else if (strncmp(q, "qXfer:threads:read:", 19) == 0) {
		send_threads_xml();
	} else if (strncmp(q, "qXfer:auxv:read:", 16) == 0) {
		send_auxv();
	} else if (strncmp(q, "qXfer:exec-file:read:", 21) == 0) {
		send_object(g.vm->exe_path, strlen(g.vm->exe_path), q);
	} else if (strcmp(q, "qC") == 0) {
		struct km_vcpu *v = reg_thread();
		snprintf(g.reply, sizeof(g.reply), "QC%x", v ? v->tid : getpid());
		send_reply(g.reply);
	} else if (strcmp(q, "qfThreadInfo") == 0) {
		char *o = g.reply + sprintf(g.reply, "m");
		int n = __atomic_load_n(&g.vm->nvcpu, __ATOMIC_ACQUIRE);
		for (int i = 0; i < n && o < g.reply + sizeof(g.reply) - 16; i++)
			if (live(g.vm->vcpus[i]))
				o += sprintf(o, "%s%x", o == g.reply + 1 ? "" : ",", g.vm->vcpus[i]->tid);
		send_reply(g.reply);
	} else if (strcmp(q, "qsThreadInfo") == 0) {
		send_reply("l");
	} else if (strcmp(q, "qAttached") == 0 || strncmp(q, "qAttached:", 10) == 0) {
		send_reply(g.attached ? "1" : "0");
	} else if (strncmp(q, "qGetTLSAddr:", 12) == 0) {
		tls_address(q + 12);
	} else if (strncmp(q, "qSymbol", 7) == 0) {
		send_reply("OK");
	} else {
		send_reply("");
	}
}

static void set_pass_signals(const char *list)
{
	g.pass = 0;
	for (const char *p = list; *p;) {
		uint64_t n;
		if (!gdb_get_number(&p, &n))
			break;
		int sig = host_signal((int)n);
		if (sig)
			g.pass |= KM_SIG_BIT(sig);
		if (*p == ';')
			p++;
	}
	send_reply("OK");
}

static void memory(char kind, const char *args)
{
	uint64_t addr, len;
	const char *p = args;
	static uint8_t buf[GDB_PACKET_MAX];

	if (!gdb_get_number(&p, &addr) || *p++ != ',' || !gdb_get_number(&p, &len)) {
		send_reply("E01");
		return;
	}
	if (kind == 'm') {
		if (len > GDB_PACKET_MAX / 2 - 8)
			len = GDB_PACKET_MAX / 2 - 8;
		int n = read_memory(addr, buf, len);
		if (n < 0) {
			send_reply("E14");
			return;
		}
		gdb_put_hex(g.reply, buf, (size_t)n);
		send_reply(g.reply);
		return;
	}
	if (*p++ != ':' || len > sizeof(buf)) {
		send_reply("E01");
		return;
	}
	if (kind == 'M' && (strlen(p) != 2 * len || !gdb_get_hex(p, buf, len))) {
		send_reply("E01");
		return;
	}
	if (kind == 'X') {
		if (len > g.packet_len - (size_t)(p - g.packet)) {
			send_reply("E01");
			return;
		}
		memcpy(buf, p, len); /* unescaped by gdb_recv */
	}
	send_reply(len == 0 || write_memory(addr, buf, len) ? "OK" : "E14");
}

static void registers(char kind, const char *args)
{
	struct km_vcpu *v = reg_thread();
	uint64_t n = (uint64_t)-1;
	const char *p = args;

	if (v == NULL) {
		send_reply("E01");
		return;
	}
	if ((kind == 'p' || kind == 'P') && (!gdb_get_number(&p, &n) || n > 1024)) {
		send_reply("E01");
		return;
	}
	if (kind == 'g' || kind == 'p') {
		bool ok = gdb_read_registers(v, (int)n, g.reply);
		send_reply(ok ? g.reply : "E01");
		return;
	}
	if (kind == 'P' && *p++ != '=') {
		send_reply("E01");
		return;
	}
	send_reply(gdb_write_registers(v, (int)n, p) ? "OK" : "E01");
}

static void breakpoints(bool on, const char *args)
{
	uint64_t type, addr, kind;
	const char *p = args;
	bool ok;

	if (!gdb_get_number(&p, &type) || *p++ != ',' || !gdb_get_number(&p, &addr) || *p++ != ',' ||
	    !gdb_get_number(&p, &kind) || type > 4) {
		send_reply("E01");
		return;
	}
	if (type == 3 || type == 4) {
		send_reply(""); /* read and access watchpoints: not offered (docs/debugging.md) */
		return;
	}
	if (type == 0)
		ok = on ? insert_breakpoint(addr, false) : remove_breakpoint(addr);
	else
		ok = type == 1 ? (on ? insert_breakpoint(addr, true) : remove_breakpoint(addr))
			       : set_watchpoint(addr, kind, on);
	send_reply(ok ? "OK" : "E01");
}

static void set_thread(const char *args)
{
	char which = *args++;
	pid_t tid = 0;
	uint64_t n;

	if (strcmp(args, "-1") == 0)
		tid = -1;
	else if (gdb_get_number(&args, &n))
		tid = (pid_t)n;
	if (tid > 0 && thread(tid) == NULL) {
		send_reply("E01");
		return;
	}
	if (which == 'g')
		g.g_tid = tid;
	else
		g.c_tid = tid;
	send_reply("OK");
}

/*
 * A resume: each thread's action (vCont's per thread, else c/s/C/S for
 * Hc's thread, the others continuing), then every vCPU goes. True if the
 * packet was a resume.
 */
static bool resume(const char *cmd)
{

	int n = __atomic_load_n(&g.vm->nvcpu, __ATOMIC_ACQUIRE);
	uint64_t sig = 0;
	const char *p = cmd + 1;

	for (int i = 0; i < n; i++) {
		struct km_vcpu *v = g.vm->vcpus[i];
		v->gdb.step = false;
		v->gdb.signal = 0;
	}
	if (cmd[0] == 'c' || cmd[0] == 's' || cmd[0] == 'C' || cmd[0] == 'S') {
		if ((cmd[0] == 'C' || cmd[0] == 'S') && !gdb_get_number(&p, &sig))
			return false;
		struct km_vcpu *v = g.c_tid > 0 ? thread(g.c_tid) : reg_thread();
		if (v) {
			v->gdb.step = cmd[0] == 's' || cmd[0] == 'S';
			v->gdb.signal = host_signal((int)sig);
		}
	} else { /* vCont;ACTION[:TID];...: the first action that names a thread is its */
		bool *set = calloc((size_t)n, sizeof(bool));
		if (set == NULL)
			return false;
		for (p = cmd + 5; *p == ';';) {
			char a = *++p;
			sig = 0;
			p++;
			if ((a == 'C' || a == 'S') && !gdb_get_number(&p, &sig))
				break;
			uint64_t tid = 0;
			bool all = true;
			if (*p == ':') {
				p++;
				if (strncmp(p, "-1", 2) == 0)
					p += 2;
				else if (gdb_get_number(&p, &tid))
					all = false;
			}
			for (int i = 0; i < n; i++) {
				struct km_vcpu *v = g.vm->vcpus[i];
				if (set[i] || (!all && v->tid != (pid_t)tid))
					continue;
				set[i] = true;
				v->gdb.step = a == 's' || a == 'S';
				v->gdb.signal = host_signal((int)sig);
			}
			while (*p && *p != ';')
				p++;
		}
		free(set);
	}
	pthread_mutex_lock(&g.lock);
	__atomic_store_n(&g.stopping, 0, __ATOMIC_RELEASE);
	g.resume_seq++;
	pthread_cond_broadcast(&g.cond);
	pthread_mutex_unlock(&g.lock);
	return true;
}

/* gdb goes: no breakpoints, watchpoints or steps left; the program runs on. */
static void detach(void)
{
	while (g.nbp > 0)
		remove_breakpoint(g.bps[0].addr);
	__atomic_store_n(&g.nwatch, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&g.connected, false, __ATOMIC_RELEASE);
	close(g.conn.fd);
	g.conn.fd = -1;
	resume("c");
}

/* One packet while the program is stopped: false once it runs again (or gdb left). */
static bool command(const char *p)
{
	switch (p[0]) {
	case '?': send_reply(g.event); return true;
	case 'q': query(p); return true;
	case 'Q':
		if (strcmp(p, "QStartNoAckMode") == 0) {
			send_reply("OK");
			g.conn.noack = true;
		} else if (strncmp(p, "QPassSignals:", 13) == 0) {
			set_pass_signals(p + 13);
		} else {
			send_reply("");
		}
		return true;
	case 'H': set_thread(p + 1); return true;
	case 'T': {
		uint64_t tid;
		const char *q = p + 1;
		send_reply(gdb_get_number(&q, &tid) && thread((pid_t)tid) ? "OK" : "E01");
		return true;
	}
	case 'g': case 'G': case 'p': case 'P': registers(p[0], p + 1); return true;
	case 'm': case 'M': case 'X': memory(p[0], p + 1); return true;
	case 'Z': case 'z': breakpoints(p[0] == 'Z', p + 1); return true;
	case 'c': case 's': case 'C': case 'S':
		if (strchr(p, ';') || (p[1] && (p[0] == 'c' || p[0] == 's'))) {
			send_reply("E01"); /* resuming at another address: not offered */
			return true;
		}
		return !resume(p);
	case 'D':
		send_reply("OK");
		detach();
		return false;
	case 'k':
		km_signal_fatal(g.vm, SIGKILL);
	case 'v':
		if (strcmp(p, "vCont?") == 0) {
			send_reply("vCont;c;C;s;S");
			return true;
		}
		if (strncmp(p, "vCont;", 6) == 0)
			return !resume(p);
		if (strncmp(p, "vKill", 5) == 0) {
			send_reply("OK");
			km_signal_fatal(g.vm, SIGKILL);
		}
		send_reply("");
		return true;
	default:
		send_reply("");
		return true;
	}
}

/* Waits (a while) until every live vCPU waits: those still in host calls are stopped there. */
static void wait_parked(void)
{
	for (int ms = 0; ms < PARK_WAIT_MS; ms++) {
		int n = __atomic_load_n(&g.vm->nvcpu, __ATOMIC_ACQUIRE);
		bool all = true;
		pthread_mutex_lock(&g.lock);
		for (int i = 0; i < n && all; i++)
			all = !live(g.vm->vcpus[i]) || g.vm->vcpus[i]->gdb.parked;
		pthread_mutex_unlock(&g.lock);
		if (all)
			return;
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	}
}

/* The program is stopped: report why, then serve gdb until it resumes it. */
static void serve_stop(void)
{
	size_t len;

	wait_parked();
	if (!send_reply(g.event)) {
		detach();
		return;
	}
	for (;;) {
		enum gdb_input in = gdb_recv(&g.conn, g.packet, sizeof(g.packet), &len);
		if (in == GDB_CLOSED) {
			detach();
			return;
		}
		g.packet_len = len;
		if (in == GDB_PACKET && !command(g.packet))
			return;
	}
}

/* While the program runs: a stop from a vCPU, or gdb's interrupt. */
static void serve_running(void)
{
	struct pollfd fds[2] = { { .fd = g.conn.fd, .events = POLLIN }, { .fd = g.wake[0], .events = POLLIN } };
	char drain[64], reply[64];

	for (;;) {
		if (!gdb_conn_has_input(&g.conn) &&
		    ppoll(fds, 2, NULL, NULL) < 0 && errno != EINTR)
			return;
		if (fds[1].revents & POLLIN) {
			if (read(g.wake[0], drain, sizeof(drain)) < 0 && errno != EAGAIN)
				return;
			if (stopping())
				return;
		}
		if (gdb_conn_has_input(&g.conn) || (fds[0].revents & (POLLIN | POLLHUP | POLLERR))) {
			size_t len;
			enum gdb_input in = gdb_recv(&g.conn, g.packet, sizeof(g.packet), &len);
			if (in == GDB_CLOSED) {
				pthread_mutex_lock(&g.lock);
				stop_all(NULL, "");
				pthread_mutex_unlock(&g.lock);
				wait_parked();
				detach();
				return;
			}
			if (in == GDB_INTERRUPT || g.conn.interrupted) {
				g.conn.interrupted = false;
				pthread_mutex_lock(&g.lock);
				if (!g.stopping) {
					struct km_vcpu *v = thread(g.c_tid > 0 ? g.c_tid : 0);
					snprintf(reply, sizeof(reply), "T02thread:%x;", v ? v->tid : getpid());
					stop_all(v, reply);
				}
				pthread_mutex_unlock(&g.lock);
				return;
			}
		}
	}
}

static bool accept_gdb(void)
{
	int fd;

	while ((fd = accept4(g.listen_fd, NULL, NULL, SOCK_CLOEXEC)) < 0 && errno == EINTR)
		;
	if (fd < 0)
		return false;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	memset(&g.conn, 0, sizeof(g.conn));
	g.conn.fd = km_fd_move_high(fd);
	g.g_tid = g.c_tid = 0;
	__atomic_store_n(&g.connected, true, __ATOMIC_RELEASE);
	return true;
}

static void *server(void *arg)
{
	(void)arg;
	for (;;) {
		if (!km_gdb_attached()) {
			if (g.mode != ATTACH || !accept_gdb())
				return NULL;
			g.attached = true;
			pthread_mutex_lock(&g.lock);
			struct km_vcpu *v = thread(0);
			char reply[64];
			snprintf(reply, sizeof(reply), "T05thread:%x;", v ? v->tid : getpid());
			stop_all(v, reply);
			pthread_mutex_unlock(&g.lock);
		}
		if (stopping())
			serve_stop();
		else
			serve_running();
	}
}

/* ---- the session's life -------------------------------------------------------- */

static void make_wake_pipe(void)
{
	if (pipe2(g.wake, O_CLOEXEC | O_NONBLOCK) != 0)
		km_die(1, "km: cannot make a pipe for gdb: %s", strerror(errno));
	g.wake[0] = km_fd_move_high(g.wake[0]);
	g.wake[1] = km_fd_move_high(g.wake[1]);
}

/* The socket gdb connects to, at g.addr; says where, as "who" waits. */
static void listen_for_gdb(const char *who)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	if (fd < 0)
		km_die(1, "km: cannot listen for gdb: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	char host[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &g.addr.sin_addr, host, sizeof(host));
	if (bind(fd, (struct sockaddr *)&g.addr, sizeof(g.addr)) != 0 || listen(fd, 1) != 0)
		km_die(1, "km: cannot listen for gdb on %s:%u: %s", host, ntohs(g.addr.sin_port),
		       strerror(errno));
	socklen_t alen = sizeof(g.addr);
	getsockname(fd, (struct sockaddr *)&g.addr, &alen);
	g.listen_fd = km_fd_move_high(fd);
	km_err("km: %s gdb on %s:%u (target remote %s:%u)", who, host, ntohs(g.addr.sin_port), host,
	       ntohs(g.addr.sin_port));
}

void km_gdb_init(struct km_vm *vm)
{
	if (g.mode == OFF)
		return;
	g.vm = vm;
	make_wake_pipe();
	if (g.mode == EXECED) {
		if (fcntl(g.conn.fd, F_SETFD, FD_CLOEXEC) != 0)
			km_die(1, "km: gdb's connection did not survive the exec: %s", strerror(errno));
		return;
	}
	listen_for_gdb(g.mode == WAIT ? "waiting for" : "ready for");
}

static void start_server(void)
{
	pthread_t t;
	pthread_attr_t attr;
	sigset_t all, old;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	sigfillset(&all);
	sigdelset(&all, SIGSYS);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	if (pthread_create(&t, &attr, server, NULL) != 0)
		km_die(1, "km: cannot start the gdb server thread");
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
}

/* The first guest thread: under --gdb, it waits for gdb at the program's first instruction. */
void km_gdb_start(struct km_vcpu *vcpu)
{
	static bool started;

	if (g.mode == OFF)
		return;
	if (started)
		return;
	started = true;
	if (g.mode == ATTACH) {
		start_server();
		return;
	}
	wait_for_gdb(vcpu);
}

/* The program stops for gdb: one that connects (--gdb, a forked child), or the one before an exec. */
static void wait_for_gdb(struct km_vcpu *vcpu)
{
	char reply[64 + 2 * PATH_MAX];
	if (g.mode == EXECED) {
		__atomic_store_n(&g.connected, true, __ATOMIC_RELEASE);
		char *o = reply + sprintf(reply, "T05");
		if (g.exec_events) {
			o += sprintf(o, "exec:");
			o = gdb_put_hex(o, g.vm->exe_path, strnlen(g.vm->exe_path, PATH_MAX));
			o += sprintf(o, ";");
		}
		sprintf(o, "thread:%x;", vcpu->tid);
	} else {
		if (!accept_gdb())
			km_die(1, "km: gdb did not connect: %s", strerror(errno));
		snprintf(reply, sizeof(reply), "T05thread:%x;", vcpu->tid);
	}
	pthread_mutex_lock(&g.lock);
	stop_all(vcpu, reply);
	pthread_mutex_unlock(&g.lock);
	start_server();
	park(vcpu);
}

/* The program ended: gdb hears how (W: exit status, X: signal). */
void km_gdb_exit(int status, int sig)
{
	char reply[16];

	if (!km_gdb_attached())
		return;
	if (sig)
		snprintf(reply, sizeof(reply), "X%02x", gdb_signal(sig));
	else
		snprintf(reply, sizeof(reply), "W%02x", status & 0xff);
	send_reply(reply);
}

/*
 * An exec: the new km takes gdb's connection (as --gdb-fd, with the
 * session's settings) and tells gdb the new program stopped at its start.
 */
bool km_gdb_exec_option(char *out, size_t size)
{
	if (!km_gdb_attached())
		return false;
	snprintf(out, size, "--gdb-fd=%d,%d,%d,%d,%llx,%d,%x,%u", g.conn.fd, g.conn.noack, g.attached,
		 g.exec_events, (unsigned long long)g.pass, g.fork_wait, ntohl(g.addr.sin_addr.s_addr),
		 ntohs(g.addr.sin_port));
	return true;
}

void km_gdb_before_exec(bool going)
{
	if (km_gdb_attached())
		fcntl(g.conn.fd, F_SETFD, going ? 0 : FD_CLOEXEC);
}

/* A forked child runs free of gdb (as gdb's detach-on-fork): no int3 of the parent's, no connection. */
void km_gdb_after_fork(struct km_vm *vm)
{
	(void)vm;
	if (g.mode == OFF)
		return;
	pthread_mutex_init(&g.lock, NULL);
	pthread_mutex_init(&g.send_lock, NULL);
	pthread_cond_init(&g.cond, NULL);
	while (g.nbp > 0)
		remove_breakpoint(g.bps[0].addr);
	g.nwatch = 0;
	if (g.conn.fd > 0)
		close(g.conn.fd);
	close(g.listen_fd);
	g.conn.fd = g.listen_fd = -1;
	g.connected = false;
	g.stopping = 0;
	g.mode = OFF;
	if (g.fork_wait) { /* it listens, and waits, at its first pass through the run loop */
		g.mode = WAIT;
		g.child_waits = true;
		g.addr.sin_port = 0;
		g.stopping = 1;
		g.attached = false;
		g.conn.noack = false;
		close(g.wake[0]);
		close(g.wake[1]);
		make_wake_pipe();
	}
}
