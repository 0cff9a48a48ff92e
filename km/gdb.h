/* km's gdb stub, inside: the protocol (gdb_rsp.c), the registers (gdb_regs.c), the session (gdb.c). */
#ifndef KM_GDB_H
#define KM_GDB_H

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

/* A stopped thread's registers as its program sees them, wherever km holds them. */
void gdb_user_regs(struct km_vcpu *vcpu, struct kvm_regs *out);
void gdb_set_user_regs(struct km_vcpu *vcpu, const struct kvm_regs *in);
const char *gdb_target_xml(struct km_vm *vm);
int gdb_register_count(struct km_vm *vm);
/* Hex of register n (or all of them for n < 0, as 'g'); false if there is no such register. */
bool gdb_read_registers(struct km_vcpu *vcpu, int n, char *out);
bool gdb_write_registers(struct km_vcpu *vcpu, int n, const char *hex);

#endif
