/*
 * Sockets. Guest fds are host sockets, so km checks fds and guest buffers
 * and lets the host kernel do the networking. Blocking calls block only the
 * calling vCPU's thread.
 */
#include <stddef.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "syscalls.h"

#define SOCKADDR_MAX 128 /* sizeof(struct sockaddr_storage) */

/* An optional (buffer, socklen_t *len) pair the kernel fills: both checked. */
static long out_addr(struct km_vcpu *vcpu, uint64_t addr, uint64_t lenp, void **haddr,
		     socklen_t **hlen)
{
	*haddr = NULL;
	*hlen = NULL;
	if (addr == 0)
		return 0;
	if ((*hlen = KM_OUT(vcpu, lenp, sizeof(socklen_t))) == NULL)
		return -EFAULT;
	if ((int)**hlen < 0)
		return -EINVAL;
	if ((*haddr = KM_OUT(vcpu, addr, **hlen)) == NULL)
		return -EFAULT;
	return 0;
}

static const void *in_addr(struct km_vcpu *vcpu, uint64_t addr, uint64_t len)
{
	return len > SOCKADDR_MAX ? NULL : KM_IN(vcpu, addr, len);
}

KM_SYSCALL(socket) { return km_fd_new(vcpu->vm, km_host(socket((int)a[0], (int)a[1], (int)a[2]))); }

KM_SYSCALL(socketpair)
{
	int *sv = KM_OUT(vcpu, a[3], 2 * sizeof(int));
	int pair[2];
	if (sv == NULL)
		return -EFAULT;
	long rc = km_host(socketpair((int)a[0], (int)a[1], (int)a[2], pair));
	return rc < 0 ? rc : km_fd_pair_new(vcpu->vm, pair, sv);
}

KM_SYSCALL(bind)
{
	FD_OR_EBADF(a[0]);
	const void *sa = in_addr(vcpu, a[1], a[2]);
	return sa ? km_host(bind((int)a[0], sa, (socklen_t)a[2])) : a[2] > SOCKADDR_MAX ? -EINVAL : -EFAULT;
}

KM_SYSCALL(connect)
{
	FD_OR_EBADF(a[0]);
	const void *sa = in_addr(vcpu, a[1], a[2]);
	return sa ? km_host(connect((int)a[0], sa, (socklen_t)a[2])) : a[2] > SOCKADDR_MAX ? -EINVAL : -EFAULT;
}

KM_SYSCALL(listen)
{
	FD_OR_EBADF(a[0]);
	return km_host(listen((int)a[0], (int)a[1]));
}

static long do_accept(struct km_vcpu *vcpu, const uint64_t *a, int flags)
{
	void *addr;
	socklen_t *len;
	FD_OR_EBADF(a[0]);
	long rc = out_addr(vcpu, a[1], a[2], &addr, &len);
	if (rc < 0)
		return rc;
	return km_fd_new(vcpu->vm, km_host(accept4((int)a[0], addr, len, flags)));
}

KM_SYSCALL(accept) { return do_accept(vcpu, a, 0); }
KM_SYSCALL(accept4) { return do_accept(vcpu, a, (int)a[3]); }

static long name_call(struct km_vcpu *vcpu, const uint64_t *a, bool peer)
{
	void *addr;
	socklen_t *len;
	FD_OR_EBADF(a[0]);
	if (a[1] == 0)
		return -EFAULT;
	long rc = out_addr(vcpu, a[1], a[2], &addr, &len);
	if (rc < 0)
		return rc;
	return km_host(peer ? getpeername((int)a[0], addr, len) : getsockname((int)a[0], addr, len));
}

KM_SYSCALL(getsockname) { return name_call(vcpu, a, false); }
KM_SYSCALL(getpeername) { return name_call(vcpu, a, true); }

KM_SYSCALL(sendto)
{
	FD_OR_EBADF(a[0]);
	const void *buf = KM_IN(vcpu, a[1], a[2]);
	const void *to = NULL;
	if (buf == NULL || (a[4] && (to = in_addr(vcpu, a[4], a[5])) == NULL))
		return -EFAULT;
	return km_host(sendto((int)a[0], buf, a[2], (int)a[3], to, (socklen_t)a[5]));
}

KM_SYSCALL(recvfrom)
{
	void *from;
	socklen_t *len;
	FD_OR_EBADF(a[0]);
	void *buf = KM_OUT(vcpu, a[1], a[2]);
	if (buf == NULL)
		return -EFAULT;
	long rc = out_addr(vcpu, a[4], a[5], &from, &len);
	if (rc < 0)
		return rc;
	return km_host(recvfrom((int)a[0], buf, a[2], (int)a[3], from, len));
}

/* A host msghdr whose pointers are the guest's, translated; the guest's lengths are written back. */
static long host_msghdr(struct km_vcpu *vcpu, uint64_t gva, bool to_guest, struct msghdr **g,
			struct msghdr *h)
{
	if ((*g = (to_guest ? KM_OUT(vcpu, gva, sizeof(**g)) : KM_IN(vcpu, gva, sizeof(**g)))) == NULL)
		return -EFAULT;
	*h = **g;
	h->msg_name = NULL;
	h->msg_control = NULL;
	if ((*g)->msg_name && (*g)->msg_namelen &&
	    (h->msg_name = km_gva(vcpu->vm, (uint64_t)(*g)->msg_name, (*g)->msg_namelen,
				  to_guest ? PROT_WRITE : PROT_READ)) == NULL)
		return -EFAULT;
	if ((*g)->msg_control && (*g)->msg_controllen &&
	    (h->msg_control = km_gva(vcpu->vm, (uint64_t)(*g)->msg_control, (*g)->msg_controllen,
				     to_guest ? PROT_WRITE : PROT_READ)) == NULL)
		return -EFAULT;
	return km_host_iov(vcpu, (uint64_t)(*g)->msg_iov, (*g)->msg_iovlen, to_guest, &h->msg_iov);
}

/* The fds an SCM_RIGHTS message carries, or none for any other control message. */
static int *rights_fds(struct cmsghdr *c, size_t *n)
{
	*n = 0;
	if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
		return NULL;
	*n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
	return (int *)CMSG_DATA(c);
}

static long send_one(struct km_vcpu *vcpu, int fd, uint64_t msg, int flags)
{
	struct msghdr *g, h;
	long rc = host_msghdr(vcpu, msg, false, &g, &h);
	if (rc < 0)
		return rc;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&h); c; c = CMSG_NXTHDR(&h, c)) {
		size_t n;
		int *fds = rights_fds(c, &n);
		for (size_t i = 0; i < n; i++)
			if (!km_fd_ok(vcpu->vm, fds[i])) {
				free(h.msg_iov);
				return -EBADF;
			}
	}
	rc = km_host(sendmsg(fd, &h, flags));
	free(h.msg_iov);
	return rc;
}

KM_SYSCALL(sendmsg)
{
	FD_OR_EBADF(a[0]);
	return send_one(vcpu, (int)a[0], a[1], (int)a[2]);
}

/* Received fds land in the host's table like any other; one above the guest's range is refused. */
static void check_received_fds(struct km_vcpu *vcpu, struct msghdr *h)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c)) {
		size_t n;
		int *fds = rights_fds(c, &n);
		for (size_t i = 0; i < n; i++)
			if (!km_fd_ok(vcpu->vm, fds[i])) {
				close(fds[i]);
				fds[i] = -1;
				h->msg_flags |= MSG_CTRUNC;
			}
	}
}

static long recv_one(struct km_vcpu *vcpu, int fd, uint64_t msg, int flags)
{
	struct msghdr *g, h;
	long rc = host_msghdr(vcpu, msg, true, &g, &h);
	if (rc < 0)
		return rc;
	rc = km_host(recvmsg(fd, &h, flags));
	if (rc >= 0) {
		check_received_fds(vcpu, &h);
		g->msg_namelen = h.msg_namelen;
		g->msg_controllen = h.msg_controllen;
		g->msg_flags = h.msg_flags;
	}
	free(h.msg_iov);
	return rc;
}

KM_SYSCALL(recvmsg)
{
	FD_OR_EBADF(a[0]);
	return recv_one(vcpu, (int)a[0], a[1], (int)a[2]);
}

/* struct mmsghdr: a msghdr, then the byte count the call fills in. */
#define MMSG_SIZE sizeof(struct mmsghdr)
#define MMSG_LEN offsetof(struct mmsghdr, msg_len)
#define MMSG_MAX 1024 /* UIO_MAXIOV, Linux's cap on vlen */

static bool put_len(struct km_vcpu *vcpu, uint64_t msg, long len)
{
	unsigned *out = KM_OUT(vcpu, msg + MMSG_LEN, sizeof(*out));
	if (out)
		*out = (unsigned)len;
	return out != NULL;
}

/* One message at a time; an error after the first ends the batch with its count, as Linux. */
KM_SYSCALL(sendmmsg)
{
	unsigned n = (unsigned)a[2] < MMSG_MAX ? (unsigned)a[2] : MMSG_MAX, i;
	FD_OR_EBADF(a[0]);
	for (i = 0; i < n; i++) {
		uint64_t msg = a[1] + i * MMSG_SIZE;
		long rc = send_one(vcpu, (int)a[0], msg, (int)a[3]);
		if (rc < 0)
			return i ? (long)i : rc;
		if (!put_len(vcpu, msg, rc))
			return i ? (long)i : -EFAULT;
	}
	return i;
}

/* MSG_WAITFORONE: only the first waits; the timeout is checked after each message, as Linux. */
KM_SYSCALL(recvmmsg)
{
	unsigned n = (unsigned)a[2] < MMSG_MAX ? (unsigned)a[2] : MMSG_MAX, i;
	int flags = (int)a[3] & ~MSG_WAITFORONE;
	struct timespec deadline = { 0 }, now;
	FD_OR_EBADF(a[0]);
	if (a[4]) {
		const struct timespec *t = KM_IN(vcpu, a[4], sizeof(*t));
		if (t == NULL)
			return -EFAULT;
		if (t->tv_sec < 0 || t->tv_nsec < 0 || t->tv_nsec >= 1000000000)
			return -EINVAL;
		clock_gettime(CLOCK_MONOTONIC, &deadline);
		deadline.tv_sec += t->tv_sec + (deadline.tv_nsec + t->tv_nsec) / 1000000000;
		deadline.tv_nsec = (deadline.tv_nsec + t->tv_nsec) % 1000000000;
	}
	for (i = 0; i < n; i++) {
		uint64_t msg = a[1] + i * MMSG_SIZE;
		long rc = recv_one(vcpu, (int)a[0], msg, flags);
		if (rc < 0)
			return i ? (long)i : rc;
		if (!put_len(vcpu, msg, rc))
			return i ? (long)i : -EFAULT;
		if (a[3] & MSG_WAITFORONE)
			flags |= MSG_DONTWAIT;
		if (a[4] && clock_gettime(CLOCK_MONOTONIC, &now) == 0 &&
		    (now.tv_sec > deadline.tv_sec ||
		     (now.tv_sec == deadline.tv_sec && now.tv_nsec >= deadline.tv_nsec)))
			return i + 1;
	}
	return i;
}

KM_SYSCALL(setsockopt)
{
	FD_OR_EBADF(a[0]);
	const void *val = NULL;
	if (a[3] && (val = KM_IN(vcpu, a[3], a[4])) == NULL)
		return -EFAULT;
	return km_host(setsockopt((int)a[0], (int)a[1], (int)a[2], val, (socklen_t)a[4]));
}

KM_SYSCALL(getsockopt)
{
	void *val;
	socklen_t *len;
	FD_OR_EBADF(a[0]);
	long rc = out_addr(vcpu, a[3], a[4], &val, &len);
	if (rc < 0)
		return rc;
	if (val == NULL)
		return -EFAULT;
	return km_host(getsockopt((int)a[0], (int)a[1], (int)a[2], val, len));
}

KM_SYSCALL(shutdown)
{
	FD_OR_EBADF(a[0]);
	return km_host(shutdown((int)a[0], (int)a[1]));
}
