#!/usr/bin/env bats
# Sockets, poll/select/epoll, eventfd and timerfd: the same as natively.

setup() {
	load helpers
	need_kvm
}

@test "TCP on loopback: accept4, send, poll, shutdown, socket options" {
	same_as_native net tcp
	assert_success
	assert_output "tcp echo: hello over loopback
after shutdown, read gives 0 (EOF)"
}

@test "UDP datagrams with sendto and recvfrom" {
	same_as_native net udp
	assert_success
	assert_output "udp: ping then pong"
}

@test "an fd passed with SCM_RIGHTS over a UNIX socketpair works" {
	same_as_native net scm-rights
	assert_success
	assert_output "scm_rights: via passed fd (a new fd number: 1)"
}

@test "epoll with eventfd and timerfd" {
	same_as_native net epoll
	assert_success
	assert_output "nothing ready: 0
eventfd ready: 1 event, tag 1
eventfd counter was 5
timerfd fired: 1 event, tag 2, 1 expiration
epoll_ctl on a bad fd: EBADF"
}

@test "select and pselect time out and see data" {
	same_as_native net select
	assert_success
	assert_output "select on an empty pipe: 0
select with data: 1, readable: 1
pselect with nothing: 0"
}

@test "getaddrinfo resolves localhost" {
	same_as_native net resolve
	assert_success
	assert_output "localhost:8080 is 127.0.0.1 port 8080"
}

@test "ppoll's signal mask lets a signal in only while it waits" {
	same_as_native net ppoll
	assert_success
	assert_output "ppoll: -1 EINTR, handler ran: 1, SIGUSR1 blocked again: 1"
}

@test "an epoll server echoes to 8 client threads at once" {
	same_as_native net server
	assert_success
	assert_output "8 clients served, 3920 bytes echoed"
}

@test "signalfd: readiness in epoll, queued siginfo, blocking and non-blocking reads" {
	same_as_native net signalfd
	assert_success
	assert_output "ok: signalfd: EAGAIN when empty, epoll readiness, 2 signals with their siginfo, a blocking read, not ready once a handler took the signal"
}

@test "sendmmsg and recvmmsg move a batch of datagrams" {
	same_as_native net mmsg
	assert_success
	assert_output "received 3: one two three"
}
