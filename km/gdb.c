/*
 * The gdb stub: km serves GDB's Remote Serial Protocol for the program it
 * runs, as gdbserver does for a Linux process. This file: the options, the
 * socket, the server thread, and the session across exec and fork. The
 * others: gdb_rsp.c the protocol, gdb_commands.c what gdb asks,
 * gdb_stop.c all-stop and the traps, gdb_memory.c breakpoints and
 * watchpoints, gdb_regs.c the registers (docs/architecture.md, "gdb stub").
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "gdb.h"

#define PARK_WAIT_MS 200

struct gdb_session session = {
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
	session.addr.sin_family = AF_INET;
	session.addr.sin_port = htons((uint16_t)p);
	if (inet_pton(AF_INET, host, &session.addr.sin_addr) != 1)
		km_die(2, "km: bad --%s address '%s': use an IPv4 address such as 127.0.0.1", opt, host);
}

void km_gdb_option(int opt, const char *arg)
{
	switch (opt) {
	case 'g': session.mode = GDB_WAIT; parse_address("gdb", arg); break;
	case 'l': session.mode = GDB_WAIT; parse_address("gdb-listen", arg); break;
	case 'a': session.mode = GDB_ATTACH; parse_address("gdb-attach", arg); break;
	case 'f':
		if (strcmp(arg, "wait") != 0 && strcmp(arg, "free") != 0)
			km_die(2, "km: bad --gdb-fork '%s': use wait or free", arg);
		session.fork_wait = strcmp(arg, "wait") == 0;
		break;
	case 'F': { /* FD,ACKS,ATTACHED,EXEC_EVENTS,PASS,FORK_WAIT,ADDR,PORT: from km's own exec */
		int fd, noack, attached, exec_events, fork_wait;
		unsigned long long pass;
		unsigned addr, port;
		if (sscanf(arg, "%d,%d,%d,%d,%llx,%d,%x,%u", &fd, &noack, &attached, &exec_events, &pass,
			   &fork_wait, &addr, &port) != 8 || fd < 0 || port > 65535)
			km_die(2, "km: bad --gdb-fd '%s' (an option of km's own exec)", arg);
		session.mode = GDB_EXECED;
		session.conn.fd = fd;
		session.conn.noack = noack;
		session.attached = attached;
		session.exec_events = exec_events;
		session.pass = pass;
		session.fork_wait = fork_wait;
		session.addr.sin_family = AF_INET;
		session.addr.sin_addr.s_addr = htonl(addr);
		session.addr.sin_port = htons((uint16_t)port);
		break;
	}
	}
}

/* Waits (a while) until every live vCPU waits: those still in host calls are stopped there. */
static void wait_parked(void)
{
	for (int ms = 0; ms < PARK_WAIT_MS; ms++) {
		int n = __atomic_load_n(&session.vm->nvcpu, __ATOMIC_ACQUIRE);
		bool all = true;
		pthread_mutex_lock(&session.lock);
		for (int i = 0; i < n && all; i++)
			all = !gdb_live(session.vm->vcpus[i]) || session.vm->vcpus[i]->gdb.parked;
		pthread_mutex_unlock(&session.lock);
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
	if (!gdb_send_reply(session.event)) {
		gdb_detach();
		return;
	}
	for (;;) {
		enum gdb_input in = gdb_recv(&session.conn, session.packet, sizeof(session.packet), &len);
		if (in == GDB_CLOSED) {
			gdb_detach();
			return;
		}
		session.packet_len = len;
		if (in == GDB_PACKET && !gdb_command(session.packet))
			return;
	}
}

/* While the program runs: a stop from a vCPU, or gdb's interrupt. */
static void serve_running(void)
{
	struct pollfd fds[2] = { { .fd = session.conn.fd, .events = POLLIN },
				 { .fd = session.wake[0], .events = POLLIN } };
	char drain[64], reply[64];

	for (;;) {
		if (!gdb_conn_has_input(&session.conn) &&
		    ppoll(fds, 2, NULL, NULL) < 0 && errno != EINTR)
			return;
		if (fds[1].revents & POLLIN) {
			if (read(session.wake[0], drain, sizeof(drain)) < 0 && errno != EAGAIN)
				return;
			if (gdb_stopping())
				return;
		}
		if (gdb_conn_has_input(&session.conn) || (fds[0].revents & (POLLIN | POLLHUP | POLLERR))) {
			size_t len;
			enum gdb_input in = gdb_recv(&session.conn, session.packet, sizeof(session.packet), &len);
			if (in == GDB_CLOSED) {
				pthread_mutex_lock(&session.lock);
				gdb_stop_all(NULL, "");
				pthread_mutex_unlock(&session.lock);
				wait_parked();
				gdb_detach();
				return;
			}
			if (in == GDB_INTERRUPT || session.conn.interrupted) {
				session.conn.interrupted = false;
				pthread_mutex_lock(&session.lock);
				if (!session.stopping) {
					struct km_vcpu *v = gdb_thread(session.c_tid > 0 ? session.c_tid : 0);
					snprintf(reply, sizeof(reply), "T02thread:%x;", v ? v->tid : getpid());
					gdb_stop_all(v, reply);
				}
				pthread_mutex_unlock(&session.lock);
				return;
			}
		}
	}
}

static bool accept_gdb(void)
{
	int fd;

	while ((fd = accept4(session.listen_fd, NULL, NULL, SOCK_CLOEXEC)) < 0 && errno == EINTR)
		;
	if (fd < 0)
		return false;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	memset(&session.conn, 0, sizeof(session.conn));
	session.conn.fd = km_fd_move_high(fd);
	session.g_tid = session.c_tid = 0;
	__atomic_store_n(&session.connected, true, __ATOMIC_RELEASE);
	return true;
}

static void *server(void *arg)
{
	(void)arg;
	for (;;) {
		if (!km_gdb_attached()) {
			if (session.mode != GDB_ATTACH || !accept_gdb())
				return NULL;
			session.attached = true;
			pthread_mutex_lock(&session.lock);
			struct km_vcpu *v = gdb_thread(0);
			char reply[64];
			snprintf(reply, sizeof(reply), "T05thread:%x;", v ? v->tid : getpid());
			gdb_stop_all(v, reply);
			pthread_mutex_unlock(&session.lock);
		}
		if (gdb_stopping())
			serve_stop();
		else
			serve_running();
	}
}

/* ---- the session's life -------------------------------------------------------- */

static void make_wake_pipe(void)
{
	if (pipe2(session.wake, O_CLOEXEC | O_NONBLOCK) != 0)
		km_die(1, "km: cannot make a pipe for gdb: %s", strerror(errno));
	session.wake[0] = km_fd_move_high(session.wake[0]);
	session.wake[1] = km_fd_move_high(session.wake[1]);
}

/* The socket gdb connects to, at session.addr; says where, as "who" waits. */
static void listen_for_gdb(const char *who)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	if (fd < 0)
		km_die(1, "km: cannot listen for gdb: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	char host[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &session.addr.sin_addr, host, sizeof(host));
	if (bind(fd, (struct sockaddr *)&session.addr, sizeof(session.addr)) != 0 || listen(fd, 1) != 0)
		km_die(1, "km: cannot listen for gdb on %s:%u: %s", host, ntohs(session.addr.sin_port),
		       strerror(errno));
	socklen_t alen = sizeof(session.addr);
	getsockname(fd, (struct sockaddr *)&session.addr, &alen);
	session.listen_fd = km_fd_move_high(fd);
	km_err("km: %s gdb on %s:%u (target remote %s:%u)", who, host, ntohs(session.addr.sin_port), host,
	       ntohs(session.addr.sin_port));
}

void km_gdb_init(struct km_vm *vm)
{
	if (session.mode == GDB_OFF)
		return;
	session.vm = vm;
	make_wake_pipe();
	if (session.mode == GDB_EXECED) {
		if (fcntl(session.conn.fd, F_SETFD, FD_CLOEXEC) != 0)
			km_die(1, "km: gdb's connection did not survive the exec: %s", strerror(errno));
		return;
	}
	listen_for_gdb(session.mode == GDB_WAIT ? "waiting for" : "ready for");
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

/* The program stops for gdb: one that connects (--gdb, a forked child), or the exec'ing km's. */
static void wait_for_gdb(struct km_vcpu *vcpu)
{
	char reply[64 + 2 * PATH_MAX];
	if (session.mode == GDB_EXECED) {
		__atomic_store_n(&session.connected, true, __ATOMIC_RELEASE);
		char *o = reply + sprintf(reply, "T05");
		if (session.exec_events) {
			o += sprintf(o, "exec:");
			o = gdb_put_hex(o, session.vm->exe_path, strnlen(session.vm->exe_path, PATH_MAX));
			o += sprintf(o, ";");
		}
		sprintf(o, "thread:%x;", vcpu->tid);
	} else {
		if (!accept_gdb())
			km_die(1, "km: gdb did not connect: %s", strerror(errno));
		snprintf(reply, sizeof(reply), "T05thread:%x;", vcpu->tid);
	}
	pthread_mutex_lock(&session.lock);
	gdb_stop_all(vcpu, reply);
	pthread_mutex_unlock(&session.lock);
	start_server();
	gdb_park(vcpu);
}

/* The first guest thread: under --gdb, it waits for gdb at the program's first instruction. */
void km_gdb_start(struct km_vcpu *vcpu)
{
	static bool started;

	if (session.mode == GDB_OFF)
		return;
	if (started)
		return;
	started = true;
	if (session.mode == GDB_ATTACH) {
		start_server();
		return;
	}
	wait_for_gdb(vcpu);
}

/* A child of --gdb-fork=wait, at its first pass through the run loop: it listens, and waits. */
void gdb_child_waits(struct km_vcpu *vcpu)
{
	char who[64];

	session.child_waits = false;
	session.stopping = 0;
	snprintf(who, sizeof(who), "child %d waits for", getpid());
	listen_for_gdb(who);
	wait_for_gdb(vcpu);
}

/* The program ended: gdb hears how (W: exit status, X: signal). */
void km_gdb_exit(int status, int sig)
{
	char reply[16];

	if (!km_gdb_attached())
		return;
	if (sig)
		snprintf(reply, sizeof(reply), "X%02x", gdb_signal_of(sig));
	else
		snprintf(reply, sizeof(reply), "W%02x", status & 0xff);
	gdb_send_reply(reply);
}

/*
 * An exec: the new km takes gdb's connection (as --gdb-fd, with the
 * session's settings) and tells gdb the new program stopped at its start.
 */
bool km_gdb_exec_option(char *out, size_t size)
{
	if (!km_gdb_attached())
		return false;
	snprintf(out, size, "--gdb-fd=%d,%d,%d,%d,%llx,%d,%x,%u", session.conn.fd, session.conn.noack,
		 session.attached, session.exec_events, (unsigned long long)session.pass, session.fork_wait,
		 ntohl(session.addr.sin_addr.s_addr), ntohs(session.addr.sin_port));
	return true;
}

void km_gdb_before_exec(bool going)
{
	if (km_gdb_attached())
		fcntl(session.conn.fd, F_SETFD, going ? 0 : FD_CLOEXEC);
}

/* A forked child: without the parent's int3s and connection; free, or waiting for its own gdb. */
void km_gdb_after_fork(struct km_vm *vm)
{
	(void)vm;
	if (session.mode == GDB_OFF)
		return;
	pthread_mutex_init(&session.lock, NULL);
	pthread_mutex_init(&session.send_lock, NULL);
	pthread_cond_init(&session.cond, NULL);
	while (session.nbp > 0)
		gdb_remove_breakpoint(session.bps[0].addr);
	session.nwatch = 0;
	if (session.conn.fd > 0)
		close(session.conn.fd);
	close(session.listen_fd);
	session.conn.fd = session.listen_fd = -1;
	session.connected = false;
	session.stopping = 0;
	session.mode = GDB_OFF;
	if (session.fork_wait) { /* it listens, and waits, at its first pass through the run loop */
		session.mode = GDB_WAIT;
		session.child_waits = true;
		session.addr.sin_port = 0;
		session.stopping = 1;
		session.attached = false;
		session.conn.noack = false;
		close(session.wake[0]);
		close(session.wake[1]);
		make_wake_pipe();
	}
}
