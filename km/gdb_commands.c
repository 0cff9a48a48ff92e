/* What gdb asks of a stopped program: queries, registers, memory, breakpoints, resumes. */
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gdb.h"

/* ---- the conversation ---------------------------------------------------------- */

bool gdb_send_reply(const char *text)
{
	pthread_mutex_lock(&session.send_lock);
	bool ok = gdb_send(&session.conn, text);
	pthread_mutex_unlock(&session.send_lock);
	return ok;
}

/* A qXfer object's [off, off+len) as 'm' (more follows) or 'l' (last) data. */
static void send_object(const char *data, size_t size, const char *args)
{
	uint64_t off, len;
	const char *p = strrchr(args, ':');

	if (p == NULL || !(p++, gdb_get_number(&p, &off)) || *p++ != ',' ||
	    !gdb_get_number(&p, &len)) {
		gdb_send_reply("E01");
		return;
	}
	if (len > GDB_PACKET_MAX / 2)
		len = GDB_PACKET_MAX / 2;
	if (off >= size) {
		gdb_send_reply("l");
		return;
	}
	size_t n = size - off < len ? size - off : len;
	pthread_mutex_lock(&session.send_lock);
	gdb_send_binary(&session.conn, off + n < size ? 'm' : 'l', data + off, n, session.reply);
	pthread_mutex_unlock(&session.send_lock);
}

/* A thread's name (the program's to choose: prctl) as an XML attribute value. */
static void xml_escape(const char *in, char *out, size_t size)
{
	size_t n = 0;

	for (; *in && n + 7 < size; in++) {
		const char *e = *in == '&' ? "&amp;" : *in == '<' ? "&lt;" : *in == '>' ? "&gt;" :
				*in == '"' ? "&quot;" : *in == '\'' ? "&apos;" : NULL;
		if (e) {
			n += (size_t)snprintf(out + n, size - n, "%s", e);
		} else {
			unsigned char c = (unsigned char)*in;
			out[n++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
		}
	}
	out[n] = '\0';
}

static void send_threads_xml(void)
{
	static char xml[128 * KM_MAX_VCPUS];
	size_t len = (size_t)snprintf(xml, sizeof(xml), "<?xml version=\"1.0\"?><threads>");
	int n = __atomic_load_n(&session.vm->nvcpu, __ATOMIC_ACQUIRE);
	char name[6 * 16 + 1];

	for (int i = 0; i < n && len < sizeof(xml) - 160; i++) {
		struct km_vcpu *v = session.vm->vcpus[i];
		if (!gdb_live(v))
			continue;
		xml_escape(km_thread_name(session.vm, v), name, sizeof(name));
		len += (size_t)snprintf(xml + len, sizeof(xml) - len, "<thread id=\"%x\" name=\"%s\"/>",
					v->tid, name);
	}
	len += (size_t)snprintf(xml + len, sizeof(xml) - len, "</threads>");
	send_object(xml, len, session.packet);
}

static void send_auxv(void)
{
	static uint8_t auxv[4096];
	size_t len = session.vm->auxv_end - session.vm->auxv_start;

	if (len > sizeof(auxv) || km_copy_in(session.vm, auxv, session.vm->auxv_start, len) < 0) {
		gdb_send_reply("E01");
		return;
	}
	send_object((const char *)auxv, len, session.packet);
}

/* A value of the program's auxiliary vector, or 0. */
static uint64_t auxv_value(uint64_t type)
{
	for (uint64_t at = session.vm->auxv_start; at + 16 <= session.vm->auxv_end; at += 16) {
		uint64_t pair[2];
		if (km_copy_in(session.vm, pair, at, sizeof(pair)) < 0 || pair[0] == 0)
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
	    !gdb_get_number(&p, &lm) || lm != 0 || gdb_thread((pid_t)tid) == NULL) {
		gdb_send_reply("E01");
		return;
	}
	for (uint64_t i = 0; i < phnum && i < 64; i++) {
		if (km_copy_in(session.vm, &ph, phdr + i * sizeof(ph), sizeof(ph)) < 0)
			break;
		if (ph.p_type == PT_PHDR)
			bias = phdr - ph.p_vaddr;
		if (ph.p_type == PT_TLS)
			tls = ph;
	}
	if (tls.p_type != PT_TLS || tls.p_align == 0 || (tls.p_align & (tls.p_align - 1))) {
		gdb_send_reply("E01");
		return;
	}
	uint64_t image = bias + tls.p_vaddr;
	uint64_t block = tls.p_memsz + ((-tls.p_memsz - image) & (tls.p_align - 1));
	uint64_t tp = km_x86_get_fs_base(gdb_thread((pid_t)tid));
	snprintf(session.reply, sizeof(session.reply), "%lx", (unsigned long)(tp - block + offset));
	gdb_send_reply(session.reply);
}

static void query(const char *q)
{
	if (strncmp(q, "qSupported", 10) == 0) {
		session.exec_events = strstr(q, "exec-events+") != NULL;
		snprintf(session.reply, sizeof(session.reply),
			 "PacketSize=%x;QStartNoAckMode+;qXfer:features:read+;qXfer:threads:read+;"
			 "qXfer:auxv:read+;qXfer:exec-file:read+;QPassSignals+;swbreak+;hwbreak+;"
			 "vContSupported+%s",
			 GDB_PACKET_MAX, session.exec_events ? ";exec-events+" : "");
		gdb_send_reply(session.reply);
	} else if (strncmp(q, "qXfer:features:read:target.xml:", 31) == 0) {
		const char *xml = gdb_target_xml(session.vm);
		send_object(xml, strlen(xml), q);
	} else if (strncmp(q, "qXfer:threads:read:", 19) == 0) {
		send_threads_xml();
	} else if (strncmp(q, "qXfer:auxv:read:", 16) == 0) {
		send_auxv();
	} else if (strncmp(q, "qXfer:exec-file:read:", 21) == 0) {
		send_object(session.vm->exe_path, strlen(session.vm->exe_path), q);
	} else if (strcmp(q, "qC") == 0) {
		struct km_vcpu *v = gdb_reg_thread();
		snprintf(session.reply, sizeof(session.reply), "QC%x", v ? v->tid : getpid());
		gdb_send_reply(session.reply);
	} else if (strcmp(q, "qfThreadInfo") == 0) {
		char *o = session.reply + sprintf(session.reply, "m");
		int n = __atomic_load_n(&session.vm->nvcpu, __ATOMIC_ACQUIRE);
		for (int i = 0; i < n && o < session.reply + sizeof(session.reply) - 16; i++)
			if (gdb_live(session.vm->vcpus[i]))
				o += sprintf(o, "%s%x", o == session.reply + 1 ? "" : ",", session.vm->vcpus[i]->tid);
		gdb_send_reply(session.reply);
	} else if (strcmp(q, "qsThreadInfo") == 0) {
		gdb_send_reply("l");
	} else if (strcmp(q, "qAttached") == 0 || strncmp(q, "qAttached:", 10) == 0) {
		gdb_send_reply(session.attached ? "1" : "0");
	} else if (strncmp(q, "qGetTLSAddr:", 12) == 0) {
		tls_address(q + 12);
	} else if (strncmp(q, "qSymbol", 7) == 0) {
		gdb_send_reply("OK");
	} else {
		gdb_send_reply("");
	}
}

static void set_pass_signals(const char *list)
{
	session.pass = 0;
	for (const char *p = list; *p;) {
		uint64_t n;
		if (!gdb_get_number(&p, &n))
			break;
		int sig = gdb_host_signal((int)n);
		if (sig)
			session.pass |= KM_SIG_BIT(sig);
		if (*p == ';')
			p++;
	}
	gdb_send_reply("OK");
}

static void memory(char kind, const char *args)
{
	uint64_t addr, len;
	const char *p = args;
	static uint8_t buf[GDB_PACKET_MAX];

	if (!gdb_get_number(&p, &addr) || *p++ != ',' || !gdb_get_number(&p, &len)) {
		gdb_send_reply("E01");
		return;
	}
	if (kind == 'm') {
		if (len > GDB_PACKET_MAX / 2 - 8)
			len = GDB_PACKET_MAX / 2 - 8;
		int n = gdb_read_memory(addr, buf, len);
		if (n < 0) {
			gdb_send_reply("E14");
			return;
		}
		gdb_put_hex(session.reply, buf, (size_t)n);
		gdb_send_reply(session.reply);
		return;
	}
	if (*p++ != ':' || len > sizeof(buf)) {
		gdb_send_reply("E01");
		return;
	}
	if (kind == 'M' && (strlen(p) != 2 * len || !gdb_get_hex(p, buf, len))) {
		gdb_send_reply("E01");
		return;
	}
	if (kind == 'X') {
		if (len > session.packet_len - (size_t)(p - session.packet)) {
			gdb_send_reply("E01");
			return;
		}
		memcpy(buf, p, len); /* unescaped by gdb_recv */
	}
	gdb_send_reply(len == 0 || gdb_write_memory(addr, buf, len) ? "OK" : "E14");
}

static void registers(char kind, const char *args)
{
	struct km_vcpu *v = gdb_reg_thread();
	uint64_t n = (uint64_t)-1;
	const char *p = args;

	if (v == NULL) {
		gdb_send_reply("E01");
		return;
	}
	if ((kind == 'p' || kind == 'P') && (!gdb_get_number(&p, &n) || n > 1024)) {
		gdb_send_reply("E01");
		return;
	}
	if (kind == 'g' || kind == 'p') {
		bool ok = gdb_read_registers(v, (int)n, session.reply);
		gdb_send_reply(ok ? session.reply : "E01");
		return;
	}
	if (kind == 'P' && *p++ != '=') {
		gdb_send_reply("E01");
		return;
	}
	gdb_send_reply(gdb_write_registers(v, (int)n, p) ? "OK" : "E01");
}

static void breakpoints(bool on, const char *args)
{
	uint64_t type, addr, kind;
	const char *p = args;
	bool ok;

	if (!gdb_get_number(&p, &type) || *p++ != ',' || !gdb_get_number(&p, &addr) || *p++ != ',' ||
	    !gdb_get_number(&p, &kind) || type > 4) {
		gdb_send_reply("E01");
		return;
	}
	if (type == 3 || type == 4) {
		gdb_send_reply(""); /* read and access watchpoints: not offered (docs/debugging.md) */
		return;
	}
	if (type == 0)
		ok = on ? gdb_insert_breakpoint(addr, false) : gdb_remove_breakpoint(addr);
	else
		ok = type == 1 ? (on ? gdb_insert_breakpoint(addr, true) : gdb_remove_breakpoint(addr))
			       : gdb_set_watchpoint(addr, kind, on);
	gdb_send_reply(ok ? "OK" : "E01");
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
	if (tid > 0 && gdb_thread(tid) == NULL) {
		gdb_send_reply("E01");
		return;
	}
	if (which == 'g')
		session.g_tid = tid;
	else
		session.c_tid = tid;
	gdb_send_reply("OK");
}

/*
 * A resume: each thread's action (vCont's per thread, else c/s/C/S for
 * Hc's thread, the others continuing), then every vCPU goes. True if the
 * packet was a resume.
 */
static bool resume(const char *cmd)
{

	int n = __atomic_load_n(&session.vm->nvcpu, __ATOMIC_ACQUIRE);
	uint64_t sig = 0;
	const char *p = cmd + 1;

	for (int i = 0; i < n; i++) {
		struct km_vcpu *v = session.vm->vcpus[i];
		v->gdb.step = false;
		v->gdb.signal = 0;
	}
	if (cmd[0] == 'c' || cmd[0] == 's' || cmd[0] == 'C' || cmd[0] == 'S') {
		if ((cmd[0] == 'C' || cmd[0] == 'S') && !gdb_get_number(&p, &sig))
			return false;
		struct km_vcpu *v = session.c_tid > 0 ? gdb_thread(session.c_tid) : gdb_reg_thread();
		if (v) {
			v->gdb.step = cmd[0] == 's' || cmd[0] == 'S';
			v->gdb.signal = gdb_host_signal((int)sig);
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
				struct km_vcpu *v = session.vm->vcpus[i];
				if (set[i] || (!all && v->tid != (pid_t)tid))
					continue;
				set[i] = true;
				v->gdb.step = a == 's' || a == 'S';
				v->gdb.signal = gdb_host_signal((int)sig);
			}
			while (*p && *p != ';')
				p++;
		}
		free(set);
	}
	gdb_resume_all();
	return true;
}

/* gdb goes: no breakpoints, watchpoints or steps left; the program runs on. */
void gdb_detach(void)
{
	while (session.nbp > 0)
		gdb_remove_breakpoint(session.bps[0].addr);
	__atomic_store_n(&session.nwatch, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&session.connected, false, __ATOMIC_RELEASE);
	close(session.conn.fd);
	session.conn.fd = -1;
	resume("c");
}

/* One packet while the program is stopped: false once it runs again (or gdb left). */
bool gdb_command(const char *p)
{
	switch (p[0]) {
	case '?': gdb_send_reply(session.event); return true;
	case 'q': query(p); return true;
	case 'Q':
		if (strcmp(p, "QStartNoAckMode") == 0) {
			gdb_send_reply("OK");
			session.conn.noack = true;
		} else if (strncmp(p, "QPassSignals:", 13) == 0) {
			set_pass_signals(p + 13);
		} else {
			gdb_send_reply("");
		}
		return true;
	case 'H': set_thread(p + 1); return true;
	case 'T': {
		uint64_t tid;
		const char *q = p + 1;
		gdb_send_reply(gdb_get_number(&q, &tid) && gdb_thread((pid_t)tid) ? "OK" : "E01");
		return true;
	}
	case 'g': case 'G': case 'p': case 'P': registers(p[0], p + 1); return true;
	case 'm': case 'M': case 'X': memory(p[0], p + 1); return true;
	case 'Z': case 'z': breakpoints(p[0] == 'Z', p + 1); return true;
	case 'c': case 's': case 'C': case 'S':
		if (strchr(p, ';') || (p[1] && (p[0] == 'c' || p[0] == 's'))) {
			gdb_send_reply("E01"); /* resuming at another address: not offered */
			return true;
		}
		return !resume(p);
	case 'D':
		gdb_send_reply("OK");
		gdb_detach();
		return false;
	case 'k':
		km_signal_fatal(session.vm, SIGKILL);
	case 'v':
		if (strcmp(p, "vCont?") == 0) {
			gdb_send_reply("vCont;c;C;s;S");
			return true;
		}
		if (strncmp(p, "vCont;", 6) == 0)
			return !resume(p);
		if (strncmp(p, "vKill", 5) == 0) {
			gdb_send_reply("OK");
			km_signal_fatal(session.vm, SIGKILL);
		}
		gdb_send_reply("");
		return true;
	default:
		gdb_send_reply("");
		return true;
	}
}
