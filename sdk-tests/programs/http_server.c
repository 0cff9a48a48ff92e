/*
 * A small HTTP/1.1 server: a thread per connection, keep-alive, one fixed
 * reply. It listens on loopback on a port of its own, or on every address on
 * the port argv[1] gives (as a container's server does), prints its port,
 * serves until SIGTERM, then reports how many requests it answered and
 * exits 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"

static const char reply[] = "HTTP/1.1 200 OK\r\n"
			    "Content-Type: text/plain\r\n"
			    "Content-Length: 13\r\n"
			    "Connection: keep-alive\r\n"
			    "\r\n"
			    "Hello, world\n";

static atomic_long requests;
static volatile sig_atomic_t stopping;

static void on_term(int sig)
{
	(void)sig;
	stopping = 1;
}

static bool send_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n <= 0)
			return false;
		buf += n;
		len -= (size_t)n;
	}
	return true;
}

/* Answers every complete request in the buffer; keeps a partial one for the next read. */
static void *serve(void *arg)
{
	int fd = (int)(long)arg;
	char buf[8192];
	size_t have = 0;

	for (;;) {
		ssize_t n = recv(fd, buf + have, sizeof(buf) - have - 1, 0);
		if (n <= 0)
			break;
		have += (size_t)n;
		buf[have] = 0;
		char *end;
		while ((end = strstr(buf, "\r\n\r\n")) != NULL) {
			if (!send_all(fd, reply, sizeof(reply) - 1))
				goto out;
			atomic_fetch_add(&requests, 1);
			size_t used = (size_t)(end + 4 - buf);
			memmove(buf, buf + used, have - used + 1);
			have -= used;
		}
		if (have == sizeof(buf) - 1)
			break; /* a request too large for us */
	}
out:
	close(fd);
	return NULL;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_term }; /* no SA_RESTART: accept returns EINTR */
	sigaction(SIGTERM, &sa, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);

	int ls = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	if (argc > 1) {
		addr.sin_addr.s_addr = htonl(INADDR_ANY);
		addr.sin_port = htons((unsigned short)atoi(argv[1]));
	}
	CHECK(bind(ls, (struct sockaddr *)&addr, sizeof(addr)) == 0, "bind");
	CHECK(listen(ls, 512) == 0, "listen");
	socklen_t len = sizeof(addr);
	getsockname(ls, (struct sockaddr *)&addr, &len);
	printf("listening on %d\n", ntohs(addr.sin_port));

	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 64 << 10);
	while (!stopping) {
		int c = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0) {
			CHECK(errno == EINTR || errno == ECONNABORTED, "accept4");
			continue;
		}
		pthread_t t;
		if (pthread_create(&t, &attr, serve, (void *)(long)c) != 0)
			close(c);
	}
	close(ls);
	printf("shut down after %ld requests\n", atomic_load(&requests));
	return 0;
}
