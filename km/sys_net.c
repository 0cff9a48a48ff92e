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
#define CONTROL_MAX (64 << 10) /* ancillary data km carries; SCM_RIGHTS needs ~1 KiB */

/*
 * An optional (buffer, socklen_t *len) pair the kernel fills. The length is
 * km's copy, checked with the buffer, so the kernel never writes past what
 * was checked; out_addr_done gives the guest the length the kernel set.
 */
struct out_addr {
	void *buf;
	socklen_t len;
	uint64_t len_gva;
};

static long out_addr(struct km_vcpu *vcpu, uint64_t addr, uint64_t lenp, struct out_addr *o)
{
	*o = (struct out_addr){ NULL, 0, 0 };
	if (addr == 0)
		return 0;
	if (KM_OUT(vcpu, lenp, sizeof(socklen_t)) == NULL ||
	    km_copy_in(vcpu->vm, &o->len, lenp, sizeof(o->len)) < 0)
		return -EFAULT;
	if ((int)o->len < 0)
		return -EINVAL;
	if ((o->buf = KM_OUT(vcpu, addr, o->len)) == NULL)
		return -EFAULT;
	o->len_gva = lenp;
	return 0;
}

static long out_addr_done(struct km_vcpu *vcpu, const struct out_addr *o, long rc)
{
	if (rc >= 0 && o->len_gva && km_copy_out(vcpu->vm, o->len_gva, &o->len, sizeof(o->len)) < 0)
		return -EFAULT;
	return rc;
}

static const void *in_addr(struct km_vcpu *vcpu, uint64_t addr, uint64_t len)
{
	return len > SOCKADDR_MAX ? NULL : KM_IN(vcpu, addr, len);
}

KM_SYSCALL(socket) { return km_fd_new(vcpu->vm, km_host(socket((int)a[0], (int)a[1], (int)a[2]))); }

KM_SYSCALL(socketpair)
{
	int pair[2];
	if (KM_OUT(vcpu, a[3], 2 * sizeof(int)) == NULL)
		return -EFAULT;
	long rc = km_host(socketpair((int)a[0], (int)a[1], (int)a[2], pair));
	return rc < 0 ? rc : km_fd_pair_new(vcpu->vm, pair, a[3]);
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
	struct out_addr o;
	FD_OR_EBADF(a[0]);
	long rc = out_addr(vcpu, a[1], a[2], &o);
	if (rc < 0)
		return rc;
	rc = km_fd_new(vcpu->vm, km_host(accept4((int)a[0], o.buf, o.buf ? &o.len : NULL, flags)));
	if (rc >= 0 && out_addr_done(vcpu, &o, rc) < 0) {
		close((int)rc);
		return -EFAULT;
	}
	return rc;
}

KM_SYSCALL(accept) { return do_accept(vcpu, a, 0); }
KM_SYSCALL(accept4) { return do_accept(vcpu, a, (int)a[3]); }

static long name_call(struct km_vcpu *vcpu, const uint64_t *a, bool peer)
{
	struct out_addr o;
	FD_OR_EBADF(a[0]);
	if (a[1] == 0)
		return -EFAULT;
	long rc = out_addr(vcpu, a[1], a[2], &o);
	if (rc < 0)
		return rc;
	rc = km_host(peer ? getpeername((int)a[0], o.buf, &o.len) : getsockname((int)a[0], o.buf, &o.len));
	return out_addr_done(vcpu, &o, rc);
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
	struct out_addr o;
	FD_OR_EBADF(a[0]);
	void *buf = KM_OUT(vcpu, a[1], a[2]);
	if (buf == NULL)
		return -EFAULT;
	long rc = out_addr(vcpu, a[4], a[5], &o);
	if (rc < 0)
		return rc;
	rc = km_host(recvfrom((int)a[0], buf, a[2], (int)a[3], o.buf, o.buf ? &o.len : NULL));
	return out_addr_done(vcpu, &o, rc);
}

/*
 * A host msghdr from the guest's, read once: its name and iovecs are guest
 * memory the data moves through in place; its ancillary data is km's own
 * copy (calloc'd, in *control), so that km checks exactly what the kernel
 * sees, and the received fds are checked before the guest sees them.
 */
static long host_msghdr(struct km_vcpu *vcpu, uint64_t gva, bool to_guest, struct msghdr *h,
			uint64_t *control_gva)
{
	int prot = to_guest ? PROT_WRITE : PROT_READ;

	if (km_gva(vcpu->vm, gva, sizeof(*h), prot) == NULL ||
	    km_copy_in(vcpu->vm, h, gva, sizeof(*h)) < 0)
		return -EFAULT;
	uint64_t control = *control_gva = (uint64_t)h->msg_control;
	if (h->msg_iovlen > IOV_MAX_LINUX)
		return -EMSGSIZE;
	if (h->msg_namelen > SOCKADDR_MAX) /* as Linux: a longer name buffer is used in part */
		h->msg_namelen = SOCKADDR_MAX;
	if (h->msg_controllen > CONTROL_MAX) {
		if (!to_guest)
			return -ENOBUFS; /* as the kernel's optmem limit */
		h->msg_controllen = CONTROL_MAX;
	}
	if (h->msg_name == NULL || h->msg_namelen == 0)
		h->msg_name = NULL;
	else if ((h->msg_name = km_gva(vcpu->vm, (uint64_t)h->msg_name, h->msg_namelen, prot)) == NULL)
		return -EFAULT;
	h->msg_control = NULL;
	if (control && h->msg_controllen) {
		if (km_gva(vcpu->vm, control, h->msg_controllen, prot) == NULL)
			return -EFAULT;
		if ((h->msg_control = calloc(1, h->msg_controllen)) == NULL)
			return -ENOMEM;
		if (!to_guest && km_copy_in(vcpu->vm, h->msg_control, control, h->msg_controllen) < 0) {
			free(h->msg_control);
			return -EFAULT;
		}
	}
	long rc = km_host_iov(vcpu, (uint64_t)h->msg_iov, h->msg_iovlen, to_guest, &h->msg_iov);
	if (rc < 0)
		free(h->msg_control);
	return rc;
}

static void free_msghdr(struct msghdr *h)
{
	free(h->msg_iov);
	free(h->msg_control);
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
	struct msghdr h;
	uint64_t control;
	long rc = host_msghdr(vcpu, msg, false, &h, &control);
	if (rc < 0)
		return rc;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&h); c && rc == 0; c = CMSG_NXTHDR(&h, c)) {
		size_t n;
		int *fds = rights_fds(c, &n);
		for (size_t i = 0; i < n; i++)
			if (!km_fd_ok(vcpu->vm, fds[i]))
				rc = -EBADF;
	}
	if (rc == 0)
		rc = km_host(sendmsg(fd, &h, flags));
	free_msghdr(&h);
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

#define PUT_FIELD(vcpu, msg, h, field) \
	km_copy_out((vcpu)->vm, (msg) + offsetof(struct msghdr, field), &(h)->field, sizeof((h)->field))

/* What recvmsg fills in besides the data: the ancillary data and three fields of the msghdr. */
static long give_received(struct km_vcpu *vcpu, uint64_t msg, const struct msghdr *h,
			  uint64_t control)
{
	if (h->msg_controllen && km_copy_out(vcpu->vm, control, h->msg_control, h->msg_controllen) < 0)
		return -EFAULT;
	if (PUT_FIELD(vcpu, msg, h, msg_namelen) < 0 || PUT_FIELD(vcpu, msg, h, msg_controllen) < 0 ||
	    PUT_FIELD(vcpu, msg, h, msg_flags) < 0)
		return -EFAULT;
	return 0;
}

static long recv_one(struct km_vcpu *vcpu, int fd, uint64_t msg, int flags)
{
	struct msghdr h;
	uint64_t control;
	long rc = host_msghdr(vcpu, msg, true, &h, &control);
	if (rc < 0)
		return rc;
	rc = km_host(recvmsg(fd, &h, flags));
	if (rc >= 0) {
		check_received_fds(vcpu, &h);
		long put = give_received(vcpu, msg, &h, control);
		rc = put < 0 ? put : rc;
	}
	free_msghdr(&h);
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
	unsigned n = (unsigned)len;
	return km_copy_out(vcpu->vm, msg + MMSG_LEN, &n, sizeof(n)) == 0;
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
		struct timespec t;
		if (km_copy_in(vcpu->vm, &t, a[4], sizeof(t)) < 0)
			return -EFAULT;
		if (t.tv_sec < 0 || t.tv_nsec < 0 || t.tv_nsec >= 1000000000)
			return -EINVAL;
		clock_gettime(CLOCK_MONOTONIC, &deadline);
		deadline.tv_sec += t.tv_sec + (deadline.tv_nsec + t.tv_nsec) / 1000000000;
		deadline.tv_nsec = (deadline.tv_nsec + t.tv_nsec) % 1000000000;
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
	struct out_addr o;
	FD_OR_EBADF(a[0]);
	long rc = out_addr(vcpu, a[3], a[4], &o);
	if (rc < 0)
		return rc;
	if (o.buf == NULL)
		return -EFAULT;
	rc = km_host(getsockopt((int)a[0], (int)a[1], (int)a[2], o.buf, &o.len));
	return out_addr_done(vcpu, &o, rc);
}

KM_SYSCALL(shutdown)
{
	FD_OR_EBADF(a[0]);
	return km_host(shutdown((int)a[0], (int)a[1]));
}
