/*
 * Sockets and waiting on fds: argv[1] names the case. Each case prints the
 * same lines and ends with the same status natively and under km.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

/* A TCP listener on an ephemeral loopback port. */
static int listen_loopback(int type, uint16_t *port)
{
	int s = socket(AF_INET, type, 0);
	CHECK(s >= 0, "socket");
	int one = 1;
	CHECK(setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0, "SO_REUSEADDR");
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	CHECK(bind(s, (struct sockaddr *)&sa, sizeof(sa)) == 0, "bind");
	if (type == SOCK_STREAM)
		CHECK(listen(s, 64) == 0, "listen");
	socklen_t len = sizeof(sa);
	CHECK(getsockname(s, (struct sockaddr *)&sa, &len) == 0, "getsockname");
	*port = ntohs(sa.sin_port);
	return s;
}

static int connect_loopback(int type, uint16_t port)
{
	int s = socket(AF_INET, type, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	CHECK(s >= 0 && connect(s, (struct sockaddr *)&sa, sizeof(sa)) == 0, "connect");
	return s;
}

static void read_exact(int fd, char *buf, size_t n)
{
	for (size_t got = 0; got < n;) {
		ssize_t r = read(fd, buf + got, n - got);
		CHECK(r > 0, "read");
		got += (size_t)r;
	}
}

static void *echo_once(void *arg)
{
	int ls = (int)(long)arg;
	struct sockaddr_in peer;
	socklen_t len = sizeof(peer);
	int c = accept4(ls, (struct sockaddr *)&peer, &len, SOCK_CLOEXEC);
	CHECK(c >= 0, "accept4");
	char buf[64];
	ssize_t n;
	while ((n = read(c, buf, sizeof(buf))) > 0)
		CHECK(write(c, buf, (size_t)n) == n, "echo");
	close(c);
	return NULL;
}

static void tcp_case(void)
{
	uint16_t port;
	int ls = listen_loopback(SOCK_STREAM, &port);
	pthread_t t;
	pthread_create(&t, NULL, echo_once, (void *)(long)ls);
	int s = connect_loopback(SOCK_STREAM, port);
	int one = 1, got = 0;
	socklen_t len = sizeof(got);
	CHECK(setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == 0, "TCP_NODELAY");
	CHECK(getsockopt(s, IPPROTO_TCP, TCP_NODELAY, &got, &len) == 0 && got, "getsockopt");
	const char *msg = "hello over loopback";
	CHECK(send(s, msg, strlen(msg), 0) == (ssize_t)strlen(msg), "send");
	char buf[64] = { 0 };
	struct pollfd p = { .fd = s, .events = POLLIN };
	CHECK(poll(&p, 1, 5000) == 1 && (p.revents & POLLIN), "poll for the echo");
	read_exact(s, buf, strlen(msg));
	printf("tcp echo: %s\n", buf);
	shutdown(s, SHUT_WR);
	printf("after shutdown, read gives %zd (EOF)\n", read(s, buf, sizeof(buf)));
	pthread_join(t, NULL);
	close(s);
	close(ls);
}

static void udp_case(void)
{
	uint16_t port;
	int server = listen_loopback(SOCK_DGRAM, &port);
	int client = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	CHECK(sendto(client, "ping", 4, 0, (struct sockaddr *)&to, sizeof(to)) == 4, "sendto");
	char buf[16] = { 0 };
	struct sockaddr_in from;
	socklen_t len = sizeof(from);
	CHECK(recvfrom(server, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len) == 4, "recvfrom");
	CHECK(sendto(server, "pong", 4, 0, (struct sockaddr *)&from, len) == 4, "reply");
	char back[16] = { 0 };
	CHECK(recv(client, back, sizeof(back), 0) == 4, "recv");
	printf("udp: %s then %s\n", buf, back);
}

/* An fd passed over a UNIX socket is usable by the receiver. */
static void scm_rights_case(void)
{
	int sv[2], p[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0 && pipe(p) == 0, "socketpair, pipe");
	char data = 'x';
	struct iovec iov = { &data, 1 };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
			    .msg_controllen = sizeof(ctl.buf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &p[1], sizeof(int));
	CHECK(sendmsg(sv[0], &m, 0) == 1, "sendmsg");

	memset(&ctl, 0, sizeof(ctl));
	m.msg_controllen = sizeof(ctl.buf);
	CHECK(recvmsg(sv[1], &m, 0) == 1, "recvmsg");
	c = CMSG_FIRSTHDR(&m);
	CHECK(c && c->cmsg_type == SCM_RIGHTS, "SCM_RIGHTS received");
	int fd;
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	CHECK(write(fd, "via passed fd", 13) == 13, "write to the passed fd");
	char buf[32] = { 0 };
	read_exact(p[0], buf, 13);
	printf("scm_rights: %s (a new fd number: %d)\n", buf, fd != p[1]);
}

static void epoll_case(void)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	int ev = eventfd(0, EFD_NONBLOCK);
	int tf = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	struct epoll_event e = { .events = EPOLLIN, .data.u64 = 1 };
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, ev, &e) == 0, "add eventfd");
	e.data.u64 = 2;
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, tf, &e) == 0, "add timerfd");
	struct epoll_event out[4];
	printf("nothing ready: %d\n", epoll_wait(ep, out, 4, 20));
	uint64_t one = 5;
	CHECK(write(ev, &one, 8) == 8, "eventfd write");
	int n = epoll_wait(ep, out, 4, 1000);
	printf("eventfd ready: %d event, tag %llu\n", n, (unsigned long long)out[0].data.u64);
	CHECK(read(ev, &one, 8) == 8, "eventfd read");
	printf("eventfd counter was %llu\n", (unsigned long long)one);
	struct itimerspec its = { .it_value = { 0, 50000000 } };
	CHECK(timerfd_settime(tf, 0, &its, NULL) == 0, "timerfd_settime");
	n = epoll_wait(ep, out, 4, 5000);
	uint64_t expirations = 0;
	CHECK(read(tf, &expirations, 8) == 8, "timerfd read");
	printf("timerfd fired: %d event, tag %llu, %llu expiration\n", n,
	       (unsigned long long)out[0].data.u64, (unsigned long long)expirations);
	CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, tf, NULL) == 0, "del");
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, 12345, &e) == -1 && errno == EBADF, "EBADF");
	printf("epoll_ctl on a bad fd: EBADF\n");
}

static void select_case(void)
{
	int p[2];
	CHECK(pipe(p) == 0, "pipe");
	fd_set r;
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	struct timeval tv = { 0, 50000 };
	printf("select on an empty pipe: %d\n", select(p[0] + 1, &r, NULL, NULL, &tv));
	CHECK(write(p[1], "x", 1) == 1, "write");
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	tv = (struct timeval){ 1, 0 };
	int n = select(p[0] + 1, &r, NULL, NULL, &tv);
	printf("select with data: %d, readable: %d\n", n, FD_ISSET(p[0], &r) != 0);
	struct timespec ts = { 0, 10000000 };
	FD_ZERO(&r);
	printf("pselect with nothing: %d\n", pselect(1, &r, NULL, NULL, &ts, NULL));
}

static void resolve_case(void)
{
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *res;
	int rc = getaddrinfo("localhost", "8080", &hints, &res);
	CHECK(rc == 0, "getaddrinfo: %s", gai_strerror(rc));
	struct sockaddr_in *sa = (struct sockaddr_in *)res->ai_addr;
	printf("localhost:8080 is %s port %d\n", sa->sin_addr.s_addr == htonl(INADDR_LOOPBACK) ?
	       "127.0.0.1" : "?", ntohs(sa->sin_port));
	freeaddrinfo(res);
}

static volatile sig_atomic_t handled;
static void on_usr1(int sig) { handled = sig; }
static pthread_t main_thread;

static void *poke(void *arg)
{
	usleep(100000);
	pthread_kill(main_thread, SIGUSR1);
	return arg;
}

/* ppoll's mask lets SIGUSR1 in only while it waits. */
static void ppoll_case(void)
{
	sigset_t block, during;
	signal(SIGUSR1, on_usr1);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &during);
	sigdelset(&during, SIGUSR1);
	main_thread = pthread_self();
	int p[2];
	CHECK(pipe(p) == 0, "pipe");
	pthread_t t;
	pthread_create(&t, NULL, poke, NULL);
	struct pollfd pf = { .fd = p[0], .events = POLLIN };
	struct timespec ts = { 10, 0 };
	int rc = ppoll(&pf, 1, &ts, &during);
	int err = errno;
	pthread_join(t, NULL);
	sigset_t now;
	sigprocmask(SIG_BLOCK, NULL, &now);
	printf("ppoll: %d %s, handler ran: %d, SIGUSR1 blocked again: %d\n", rc,
	       err == EINTR ? "EINTR" : "?", handled == SIGUSR1, sigismember(&now, SIGUSR1));
}

/* Clients on threads, one event-driven server: every byte comes back. */
#define CLIENTS 8
#define ROUNDS 50

static void *client(void *arg)
{
	int s = connect_loopback(SOCK_STREAM, (uint16_t)(long)arg);
	char out[32], in[32];
	for (int i = 0; i < ROUNDS; i++) {
		int n = snprintf(out, sizeof(out), "request %d", i);
		CHECK(write(s, out, (size_t)n) == n, "client write");
		read_exact(s, in, (size_t)n);
		CHECK(memcmp(in, out, (size_t)n) == 0, "echoed");
	}
	close(s);
	return NULL;
}

static void server_case(void)
{
	uint16_t port;
	int ls = listen_loopback(SOCK_STREAM, &port);
	int ep = epoll_create1(0);
	struct epoll_event e = { .events = EPOLLIN, .data.fd = ls };
	epoll_ctl(ep, EPOLL_CTL_ADD, ls, &e);
	pthread_t t[CLIENTS];
	for (long i = 0; i < CLIENTS; i++)
		pthread_create(&t[i], NULL, client, (void *)(long)port);
	int open_clients = 0, served = 0;
	long bytes = 0;
	while (served < CLIENTS || open_clients > 0) {
		struct epoll_event ev[16];
		int n = epoll_wait(ep, ev, 16, 10000);
		CHECK(n > 0, "epoll_wait");
		for (int i = 0; i < n; i++) {
			int fd = ev[i].data.fd;
			if (fd == ls) {
				int c = accept4(ls, NULL, NULL, SOCK_NONBLOCK);
				CHECK(c >= 0, "accept");
				e = (struct epoll_event){ .events = EPOLLIN, .data.fd = c };
				epoll_ctl(ep, EPOLL_CTL_ADD, c, &e);
				open_clients++;
				served++;
				continue;
			}
			char buf[256];
			ssize_t r = read(fd, buf, sizeof(buf));
			if (r > 0) {
				CHECK(write(fd, buf, (size_t)r) == r, "server write");
				bytes += r;
			} else if (r == 0) {
				epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
				close(fd);
				open_clients--;
			}
		}
	}
	for (int i = 0; i < CLIENTS; i++)
		pthread_join(t[i], NULL);
	printf("%d clients served, %ld bytes echoed\n", served, bytes);
}

static volatile sig_atomic_t usr2_handled;

static void on_usr2(int sig)
{
	(void)sig;
	usr2_handled++;
}

/* A blocked signal read from a signalfd: through epoll, blocking read, nonblocking read. */
static void signalfd_case(void)
{
	sigset_t mask;
	struct signalfd_siginfo si[4];

	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGRTMIN + 1);
	CHECK(sigprocmask(SIG_BLOCK, &mask, NULL) == 0, "sigprocmask");
	int fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	CHECK(fd >= 0, "signalfd");
	CHECK(read(fd, si, sizeof(si)) < 0 && errno == EAGAIN, "a read with nothing pending");

	int ep = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0, "epoll_ctl");
	CHECK(epoll_wait(ep, &ev, 1, 0) == 0, "ready with nothing pending");
	union sigval v = { .sival_int = 42 };
	CHECK(sigqueue(getpid(), SIGRTMIN + 1, v) == 0, "sigqueue");
	CHECK(kill(getpid(), SIGUSR1) == 0, "kill");
	CHECK(epoll_wait(ep, &ev, 1, 1000) == 1 && ev.data.fd == fd, "epoll_wait");
	ssize_t n = read(fd, si, sizeof(si));
	CHECK(n == 2 * (ssize_t)sizeof(si[0]), "read %zd bytes", n);
	CHECK(si[0].ssi_signo == SIGUSR1 && si[0].ssi_pid == (uint32_t)getpid(), "first %u", si[0].ssi_signo);
	CHECK(si[1].ssi_signo == (uint32_t)SIGRTMIN + 1 && si[1].ssi_int == 42 &&
		      si[1].ssi_code == SI_QUEUE, "second %u", si[1].ssi_signo);
	CHECK(epoll_wait(ep, &ev, 1, 0) == 0, "still ready after the read");

	int blocking = signalfd(-1, &mask, 0);
	pid_t parent = getpid();
	pid_t child = fork();
	if (child == 0) {
		usleep(50000);
		kill(parent, SIGUSR1);
		_exit(0);
	}
	n = read(blocking, si, sizeof(si));
	CHECK(n == (ssize_t)sizeof(si[0]) && si[0].ssi_signo == SIGUSR1, "blocking read %zd", n);
	waitpid(child, NULL, 0);

	/* A signal a handler took is no longer pending, so its signalfd is not ready either. */
	sigset_t usr2;
	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	signal(SIGUSR2, on_usr2);
	CHECK(sigprocmask(SIG_BLOCK, &usr2, NULL) == 0, "block SIGUSR2");
	int taken = signalfd(-1, &usr2, SFD_NONBLOCK | SFD_CLOEXEC);
	struct epoll_event ev2 = { .events = EPOLLIN, .data.fd = taken };
	CHECK(taken >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, taken, &ev2) == 0, "signalfd for SIGUSR2");
	raise(SIGUSR2);
	CHECK(epoll_wait(ep, &ev, 1, 0) == 1 && ev.data.fd == taken, "ready while SIGUSR2 is pending");
	CHECK(sigprocmask(SIG_UNBLOCK, &usr2, NULL) == 0 && usr2_handled == 1, "the handler ran");
	CHECK(epoll_wait(ep, &ev, 1, 0) == 0, "still ready after the handler took SIGUSR2");
	OK("signalfd: EAGAIN when empty, epoll readiness, 2 signals with their siginfo, a blocking read, "
	   "not ready once a handler took the signal");
}

/* Batches of datagrams: sendmmsg, then recvmmsg with MSG_WAITFORONE. */
static void mmsg_case(void)
{
	int sv[2];
	CHECK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0, "socketpair");
	char out[3][8] = { "one", "two", "three" }, in[4][8];
	struct iovec oiov[3], iiov[4];
	struct mmsghdr om[3], im[4];
	memset(om, 0, sizeof(om));
	memset(im, 0, sizeof(im));
	for (int i = 0; i < 3; i++) {
		oiov[i] = (struct iovec){ out[i], strlen(out[i]) };
		om[i].msg_hdr.msg_iov = &oiov[i];
		om[i].msg_hdr.msg_iovlen = 1;
	}
	for (int i = 0; i < 4; i++) {
		iiov[i] = (struct iovec){ in[i], sizeof(in[i]) };
		im[i].msg_hdr.msg_iov = &iiov[i];
		im[i].msg_hdr.msg_iovlen = 1;
	}
	CHECK(sendmmsg(sv[0], om, 3, 0) == 3, "sendmmsg");
	CHECK(om[2].msg_len == 5, "msg_len %u", om[2].msg_len);
	int n = recvmmsg(sv[1], im, 4, MSG_WAITFORONE, NULL);
	CHECK(n == 3, "recvmmsg %d", n);
	printf("received %d:", n);
	for (int i = 0; i < n; i++)
		printf(" %.*s", (int)im[i].msg_len, in[i]);
	printf("\n");
}

int main(int argc, char **argv)
{
	static const struct test_case cases[] = {
		{ "tcp", tcp_case },	   { "udp", udp_case },		{ "scm-rights", scm_rights_case },
		{ "epoll", epoll_case },   { "select", select_case },	{ "resolve", resolve_case },
		{ "ppoll", ppoll_case },   { "server", server_case },	{ "signalfd", signalfd_case },
		{ "mmsg", mmsg_case },
	};
	setvbuf(stdout, NULL, _IOLBF, 0);
	return RUN_CASE(argc, argv, cases);
}
