/* Breakpoints as int3 in the program's code, write watchpoints, and memory as gdb sees it. */
#include <string.h>

#include "gdb.h"
#include "vvar.h"

/* ---- breakpoints ------------------------------------------------------------- */

struct gdb_breakpoint *gdb_breakpoint_at(uint64_t addr)
{
	for (int i = 0; i < session.nbp; i++)
		if (session.bps[i].addr == addr)
			return &session.bps[i];
	return NULL;
}

bool gdb_insert_breakpoint(uint64_t addr, bool hw)
{
	static const uint8_t int3 = 0xcc;
	struct gdb_breakpoint *b = gdb_breakpoint_at(addr);

	if (b) {
		b->hw = hw;
		return true;
	}
	struct gdb_breakpoint *new = &session.bps[session.nbp];
	if (session.nbp == GDB_MAX_BREAKPOINTS || km_copy_in(session.vm, &new->saved, addr, 1) < 0 ||
	    km_debug_poke(session.vm, addr, &int3, 1) < 0)
		return false;
	session.bps[session.nbp].hw = hw;
	session.bps[session.nbp++].addr = addr;
	return true;
}

bool gdb_remove_breakpoint(uint64_t addr)
{
	struct gdb_breakpoint *b = gdb_breakpoint_at(addr);

	if (b == NULL)
		return true;
	km_debug_poke(session.vm, addr, &b->saved, 1); /* fails only if the program unmapped it */
	*b = session.bps[--session.nbp];
	session.removed[session.nremoved++ % 64] = addr;
	return true;
}

/*
 * An int3 trap at a breakpoint gdb took out while the thread was on its way
 * to report it: the original instruction is back, the thread runs it.
 */
bool gdb_removed_breakpoint(uint64_t addr)
{
	uint8_t now;

	for (unsigned i = 0; i < 64 && i < session.nremoved; i++)
		if (session.removed[i] == addr)
			return km_copy_in(session.vm, &now, addr, 1) == 0 && now != 0xcc;
	return false;
}

/*
 * Memory as gdb reads it: what the program wrote, not km's int3s; and the
 * supervisor pages a program may read (syscall entry, clock page, vDSO).
 */
int gdb_read_memory(uint64_t addr, uint8_t *buf, size_t len)
{
	const uint64_t user_lo = KM_SYS_VA + KM_SYS_ENTRY, user_hi = KM_SYS_VA + KM_SYS_VDSO_MAX;

	if (addr >= user_lo && addr < user_hi) {
		len = len < user_hi - addr ? len : user_hi - addr;
		memcpy(buf, km_sys(session.vm, addr - KM_SYS_VA), len);
		return (int)len;
	}
	if (km_copy_in(session.vm, buf, addr, len) < 0) {
		size_t n = 0; /* as much as can be read, as gdbserver answers */
		while (n < len && km_copy_in(session.vm, buf + n, addr + n, 1) == 0)
			n++;
		if (n == 0)
			return -1;
		len = n;
	}
	for (int i = 0; i < session.nbp; i++)
		if (session.bps[i].addr - addr < len)
			buf[session.bps[i].addr - addr] = session.bps[i].saved;
	return (int)len;
}

bool gdb_write_memory(uint64_t addr, uint8_t *buf, size_t len)
{
	for (int i = 0; i < session.nbp; i++)
		if (session.bps[i].addr - addr < len) {
			session.bps[i].saved = buf[session.bps[i].addr - addr];
			buf[session.bps[i].addr - addr] = 0xcc;
		}
	return km_debug_poke(session.vm, addr, buf, len) == 0;
}

/* A write watchpoint of len bytes at addr (Z2), or its removal. */
bool gdb_set_watchpoint(uint64_t addr, uint64_t len, bool on)
{
	for (int i = 0; i < session.nwatch; i++) {
		if (session.watch[i].addr == addr && session.watch[i].len == len) {
			if (!on)
				session.watch[i] = session.watch[--session.nwatch];
			return true;
		}
	}
	if (!on)
		return true;
	if (len == 0 || len > GDB_WATCH_MAX_LEN || session.nwatch == GDB_MAX_WATCHPOINTS)
		return false;
	struct gdb_watchpoint *w = &session.watch[session.nwatch];
	if (gdb_read_memory(addr, w->value, len) != (int)len)
		return false;
	w->addr = addr;
	w->len = len;
	__atomic_store_n(&session.nwatch, session.nwatch + 1, __ATOMIC_RELEASE);
	return true;
}

/* The first watched range whose bytes changed since the last look, its new bytes kept; or NULL. */
struct gdb_watchpoint *gdb_changed_watch(void)
{
	uint8_t now[GDB_WATCH_MAX_LEN];

	for (int i = 0; i < session.nwatch; i++) {
		struct gdb_watchpoint *w = &session.watch[i];
		if (gdb_read_memory(w->addr, now, w->len) == (int)w->len && memcmp(now, w->value, w->len)) {
			memcpy(w->value, now, w->len);
			return w;
		}
	}
	return NULL;
}
