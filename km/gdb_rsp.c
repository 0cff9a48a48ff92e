/*
 * GDB's Remote Serial Protocol on a socket: packets ($data#checksum),
 * acknowledgements until gdb turns them off, binary escapes, run-length
 * free replies, and the interrupt byte (0x03) gdb sends to stop the program.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gdb.h"

static const char hexdigits[] = "0123456789abcdef";

int gdb_hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *gdb_put_hex(char *out, const void *bytes, size_t len)
{
	const uint8_t *b = bytes;

	for (size_t i = 0; i < len; i++) {
		*out++ = hexdigits[b[i] >> 4];
		*out++ = hexdigits[b[i] & 15];
	}
	*out = '\0';
	return out;
}

/* len bytes from 2*len hex digits at in: false on a bad or short string. */
bool gdb_get_hex(const char *in, void *bytes, size_t len)
{
	uint8_t *b = bytes;

	for (size_t i = 0; i < len; i++) {
		int hi = gdb_hex_value(in[2 * i]), lo = hi < 0 ? -1 : gdb_hex_value(in[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		b[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

/* A hex number at *p, which moves past it: false if there is none or it overflows. */
bool gdb_get_number(const char **p, uint64_t *n)
{
	const char *s = *p;
	uint64_t v = 0;
	int d;

	if (gdb_hex_value(*s) < 0)
		return false;
	while ((d = gdb_hex_value(*s)) >= 0) {
		if (v >> 60)
			return false;
		v = v << 4 | (uint64_t)d;
		s++;
	}
	*p = s;
	*n = v;
	return true;
}

static bool write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

/* One byte from the connection: -1 when it is closed or broken. */
static int next_byte(struct gdb_conn *c)
{
	if (c->pos == c->len) {
		ssize_t n;
		while ((n = read(c->fd, c->buf, sizeof(c->buf))) < 0 && errno == EINTR)
			;
		if (n <= 0)
			return -1;
		c->pos = 0;
		c->len = (size_t)n;
	}
	return (uint8_t)c->buf[c->pos++];
}

bool gdb_conn_has_input(struct gdb_conn *c)
{
	return c->pos < c->len;
}

/*
 * The next packet's data, unescaped and NUL-terminated, in out (cap bytes):
 * GDB_PACKET, GDB_INTERRUPT for a 0x03 between packets, or GDB_CLOSED.
 * A packet with a bad checksum is refused ('-') and read again; one longer
 * than cap is refused the same way, having been announced by PacketSize.
 */
enum gdb_input gdb_recv(struct gdb_conn *c, char *out, size_t cap, size_t *len)
{
	for (;;) {
		int b = next_byte(c);
		if (b < 0)
			return GDB_CLOSED;
		if (b == 0x03)
			return GDB_INTERRUPT;
		if (b != '$')
			continue; /* acks, and noise between packets */
		size_t n = 0;
		uint8_t sum = 0;
		bool fits = true, escaped = false;
		while ((b = next_byte(c)) >= 0 && b != '#') {
			sum = (uint8_t)(sum + b);
			if (b == '}' && !escaped) {
				escaped = true;
				continue;
			}
			if (escaped)
				b ^= 0x20;
			escaped = false;
			if (n + 1 < cap)
				out[n++] = (char)b;
			else
				fits = false;
		}
		int hi = b < 0 ? -1 : next_byte(c), lo = hi < 0 ? -1 : next_byte(c);
		if (lo < 0)
			return GDB_CLOSED;
		out[n] = '\0';
		bool good = gdb_hex_value((char)hi) >= 0 && gdb_hex_value((char)lo) >= 0 &&
			    (gdb_hex_value((char)hi) << 4 | gdb_hex_value((char)lo)) == sum;
		if (c->noack && fits) {
			*len = n;
			return GDB_PACKET;
		}
		if (!write_all(c->fd, good && fits ? "+" : "-", 1))
			return GDB_CLOSED;
		if (good && fits) {
			*len = n;
			return GDB_PACKET;
		}
	}
}

/* Sends data (len bytes) as one packet; waits for gdb's '+' unless acks are off. */
bool gdb_send_bytes(struct gdb_conn *c, const char *data, size_t len)
{
	char head = '$', tail[3];
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + (uint8_t)data[i]);
	snprintf(tail, sizeof(tail), "%02x", sum);
	for (int tries = 0; tries < 8; tries++) {
		if (!write_all(c->fd, &head, 1) || !write_all(c->fd, data, len) ||
		    !write_all(c->fd, "#", 1) || !write_all(c->fd, tail, 2))
			return false;
		if (c->noack)
			return true;
		int b;
		while ((b = next_byte(c)) >= 0 && b != '+' && b != '-')
			if (b == 0x03)
				c->interrupted = true;
		if (b == '+')
			return true;
		if (b < 0)
			return false;
	}
	return false;
}

/* A reply of binary data after a prefix (qXfer's 'l' or 'm'), escaped as the protocol asks. */
bool gdb_send_binary(struct gdb_conn *c, char prefix, const void *data, size_t len, char *scratch)
{
	const uint8_t *d = data;
	size_t n = 0;

	scratch[n++] = prefix;
	for (size_t i = 0; i < len; i++) {
		if (d[i] == '$' || d[i] == '#' || d[i] == '}' || d[i] == '*') {
			scratch[n++] = '}';
			scratch[n++] = (char)(d[i] ^ 0x20);
		} else {
			scratch[n++] = (char)d[i];
		}
	}
	return gdb_send_bytes(c, scratch, n);
}

bool gdb_send(struct gdb_conn *c, const char *text)
{
	return gdb_send_bytes(c, text, strlen(text));
}

/* Waits up to ms (-1: for ever) for input from gdb: 1 input, 0 none, -1 error. */
int gdb_wait_input(struct gdb_conn *c, int ms)
{
	if (gdb_conn_has_input(c))
		return 1;
	struct pollfd p = { .fd = c->fd, .events = POLLIN };
	struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };
	int n = ppoll(&p, 1, ms < 0 ? NULL : &t, NULL);
	if (n < 0)
		return errno == EINTR ? 0 : -1;
	return n;
}

/* ---- signals: Linux's numbers and gdb's -------------------------------------- */

static const uint8_t to_gdb[32] = {
	0, 1, 2, 3, 4, 5, 6, 10, 8, 9, 30, 11, 31, 13, 14, 15,
	143, 20, 19, 17, 18, 21, 22, 16, 24, 25, 26, 27, 28, 23, 32, 12,
};

int gdb_signal_of(int sig)
{
	if (sig > 0 && sig < 32)
		return to_gdb[sig];
	if (sig == 32)
		return 77;
	if (sig > 32 && sig < 64)
		return 45 + sig - 33;
	return sig == 64 ? 78 : 143;
}

int gdb_host_signal(int gsig)
{
	for (int s = 1; s <= KM_NSIG; s++)
		if (gdb_signal_of(s) == gsig)
			return s;
	return 0;
}
