/* km's gdb stub, inside: what its files share (gdb.c says which does what). */
#ifndef KM_GDB_H
#define KM_GDB_H

#include <netinet/in.h>

#include "km.h"

#define GDB_PACKET_MAX 16384 /* what km announces as PacketSize; replies fit it too */

struct gdb_conn {
	int fd;
	bool noack;	  /* QStartNoAckMode */
	bool interrupted; /* a 0x03 came while km waited for an ack */
	size_t pos, len;
	char buf[4096];
};

enum gdb_input { GDB_PACKET, GDB_INTERRUPT, GDB_CLOSED };

int gdb_hex_value(char c);
char *gdb_put_hex(char *out, const void *bytes, size_t len);
bool gdb_get_hex(const char *in, void *bytes, size_t len);
bool gdb_get_number(const char **p, uint64_t *n);
enum gdb_input gdb_recv(struct gdb_conn *c, char *out, size_t cap, size_t *len);
bool gdb_send(struct gdb_conn *c, const char *text);
bool gdb_send_bytes(struct gdb_conn *c, const char *data, size_t len);
bool gdb_send_binary(struct gdb_conn *c, char prefix, const void *data, size_t len, char *scratch);
int gdb_wait_input(struct gdb_conn *c, int ms);
bool gdb_conn_has_input(struct gdb_conn *c);

int gdb_signal_of(int sig);	/* gdb's number for a Linux signal */
int gdb_host_signal(int gsig); /* and back; 0 for none */

#define GDB_MAX_BREAKPOINTS 512
#define GDB_MAX_WATCHPOINTS 16
#define GDB_WATCH_MAX_LEN 64

/* GDB_EXECED: the session of the km before an exec, whose connection this km took */
enum gdb_mode { GDB_OFF, GDB_WAIT, GDB_ATTACH, GDB_EXECED };

struct gdb_breakpoint {
	uint64_t addr;
	uint8_t saved;
	bool hw; /* Z1's: reported as a hardware breakpoint */
};

struct gdb_watchpoint {
	uint64_t addr, len;
	uint8_t value[GDB_WATCH_MAX_LEN]; /* as the last check found it */
};

/* The one session of a km (gdb.c). */
struct gdb_session {
	enum gdb_mode mode;
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
	struct gdb_breakpoint bps[GDB_MAX_BREAKPOINTS];
	int nbp;
	struct gdb_watchpoint watch[GDB_MAX_WATCHPOINTS];
	int nwatch; /* read without the lock by the run loop (km_gdb_busy) */
	uint64_t pass; /* QPassSignals, as host signal bits */
	uint64_t removed[64]; /* breakpoints taken out lately: a thread may trap on one still */
	unsigned nremoved;
	char packet[GDB_PACKET_MAX], reply[2 * GDB_PACKET_MAX + 64];
	size_t packet_len;
};
extern struct gdb_session session;

/* gdb_stop.c: threads, all-stop, resume. */
bool gdb_live(const struct km_vcpu *v);
struct km_vcpu *gdb_thread(pid_t tid); /* a live thread; tid <= 0: any */
struct km_vcpu *gdb_reg_thread(void);
bool gdb_stopping(void);
void gdb_stop_all(struct km_vcpu *event, const char *reply);
void gdb_park(struct km_vcpu *vcpu);
void gdb_resume_all(void);

/* gdb_memory.c */
struct gdb_breakpoint *gdb_breakpoint_at(uint64_t addr);
bool gdb_insert_breakpoint(uint64_t addr, bool hw);
bool gdb_remove_breakpoint(uint64_t addr);
bool gdb_removed_breakpoint(uint64_t addr);
int gdb_read_memory(uint64_t addr, uint8_t *buf, size_t len);
bool gdb_write_memory(uint64_t addr, uint8_t *buf, size_t len);
bool gdb_set_watchpoint(uint64_t addr, uint64_t len, bool on);
struct gdb_watchpoint *gdb_changed_watch(void);

/* gdb_commands.c */
bool gdb_send_reply(const char *text);
bool gdb_command(const char *packet); /* false once the program runs again, or gdb left */
void gdb_detach(void);

/* gdb.c */
void gdb_child_waits(struct km_vcpu *vcpu);

/* A stopped thread's registers as its program sees them, wherever km holds them. */
void gdb_user_regs(struct km_vcpu *vcpu, struct kvm_regs *out);
void gdb_set_user_regs(struct km_vcpu *vcpu, const struct kvm_regs *in);
const char *gdb_target_xml(struct km_vm *vm);
int gdb_register_count(struct km_vm *vm);
/* Hex of register n (or all of them for n < 0, as 'g'); false if there is no such register. */
bool gdb_read_registers(struct km_vcpu *vcpu, int n, char *out);
bool gdb_write_registers(struct km_vcpu *vcpu, int n, const char *hex);

#endif
