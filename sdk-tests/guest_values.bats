#!/usr/bin/env bats
# Hostile numbers in system call arguments: lengths and addresses that wrap or
# leave the user address space, fds with bits above the int, calls at the fd
# limit, and what a signal does to each kind of call. Linux's answer is the
# expectation; km must neither hang nor lose the program's memory.

setup() {
	load helpers
	need_kvm
}

# A km that cannot hang the suite: a call made again forever ends in status 124.
km() {
	timeout 20 "$KONTAIN/bin/km" "$@"
}

@test "brk to an address that wraps or leaves the user address space keeps the break, at once" {
	same_as_native guest_values brk
	assert_success
	assert_line "brk(0xfffffffffffff001): the break stays"
	assert_line "brk(0xfffffffffffffffc): the break stays"
	assert_line "brk grows by 3 pages afterwards: 1"
	assert_line "the program's image is still there"
}

@test "mremap to a length past the user address space is refused, one that rounds to 0 is EINVAL" {
	same_as_native guest_values mremap
	assert_success
	assert_line "mremap(2 pages to 0xfffffffffffff000, MAYMOVE): refused, the mapping is intact"
	assert_line "mremap(2 pages to 0x800000000000): refused, the mapping is intact"
	assert_line "mremap(2 pages to 0xffffffffffffffff): EINVAL, the mapping is intact"
	assert_line "mremap(1 page to 0x2000 bytes at 0x7fffffffe000, FIXED): EINVAL, the mapping is intact"
	assert_line "mremap(old length 0xfffffffffffff000 to 1 page): EINVAL, the mapping is intact"
	assert_line "an ordinary mremap afterwards keeps the contents: intact"
	assert_line "mremap(2 of 16 pages to 0x1001 bytes): success in place, the mapping is intact"
	assert_line "mremap(2 pages, flags 0x100000001): EINVAL, the mapping is intact"
}

@test "munmap of a range past the user address space is EINVAL and unmaps nothing" {
	same_as_native guest_values munmap
	assert_success
	assert_line "munmap(0x0, 0xffffffffc0000000): EINVAL"
	assert_line "munmap(0x1000, 0xfffffffffffff000): EINVAL"
	assert_line "the program and its mapping are still there: intact"
}

@test "mprotect of a length that wraps is ENOMEM and changes nothing" {
	same_as_native guest_values mprotect
	assert_success
	assert_line "mprotect(a mapping, 0xffffffffffffffff, PROT_READ): ENOMEM"
	assert_line "the mapping is still writable"
}

@test "mmap of a length or a fixed address past the user address space is ENOMEM" {
	same_as_native guest_values mmap
	assert_success
	assert_line "mmap(NULL, 0xffffffffffffffff): ENOMEM"
	assert_line "mmap(0xfffffffffffff000, 0x2000, MAP_FIXED): ENOMEM"
	assert_line "mmap with a hint past the user space: success"
}

@test "madvise, msync and mlock of a length that rounds to 0 or wraps answer as Linux does" {
	same_as_native guest_values advice
	assert_success
	assert_line "madvise(a mapping, 0xffffffffffffffff, MADV_DONTNEED): EINVAL"
	assert_line "msync(a mapping, 0xffffffffffffffff): success"
	assert_line "msync(a mapping, 0xfffffffffffff000): ENOMEM"
	assert_line "mlock(a mapping, 0xfffffffffffff000): EINVAL"
	assert_line "the mapping is intact"
}

@test "an fd argument is an int: the upper half of its register is ignored" {
	same_as_native guest_values fd-bits
	assert_success
	assert_output --regexp 'read\(0xffffffff[0-9a-f]{8}\): 2 "hi"'
	assert_line "read(0xffffffffffffffff): EBADF"
	assert_line "write after that close: EBADF"
}

@test "dup, F_DUPFD and pipe at the open-files limit are EMFILE; F_DUPFD from the limit is EINVAL" {
	ulimit -Sn 64
	same_as_native guest_values fd-limit
	assert_success
	assert_line "dup until it fails: EMFILE, the last fd is the limit less one: 1"
	assert_line "fcntl(0, F_DUPFD, 0): EMFILE"
	assert_line "fcntl(0, F_DUPFD, limit): EINVAL"
	assert_line "fcntl(0, F_DUPFD, 0) with one free: success"
}

@test "with SA_RESTART, read and wait4 are made again; poll, nanosleep and sigsuspend fail with EINTR" {
	same_as_native guest_values restart
	assert_success
	assert_output "read, SA_RESTART: restarted, got the byte after 1 signal
wait4, SA_RESTART: restarted
poll, SA_RESTART: EINTR
nanosleep, SA_RESTART: EINTR
sigsuspend, SA_RESTART: EINTR
signals taken: 5"
}

@test "EPIPE raises SIGPIPE from every call that writes, except with MSG_NOSIGNAL" {
	same_as_native guest_values sigpipe
	assert_success
	assert_line "pwritev2: EPIPE, SIGPIPE 3"
	assert_line "send, MSG_NOSIGNAL: EPIPE, SIGPIPE 4"
	assert_line "sendmmsg, MSG_NOSIGNAL: EPIPE, SIGPIPE 6"
	assert_line "write to the socket: EPIPE, SIGPIPE 7"
}

@test "an FS base outside the user address space is EPERM for arch_prctl and clone, and km goes on" {
	same_as_native guest_values fs-base
	assert_success
	assert_line "arch_prctl(ARCH_SET_FS, 0x8000000000000000): EPERM"
	assert_line "clone(a thread, tls 0xffff800000000000): EPERM"
	assert_line "clone(a process, tls 0x7ffffffff000): EPERM"
	assert_line "the program goes on with its own TLS: yes"
}

@test "KM_HC_INIT_TP, musl's thread start in one exit: hostile values change nothing, good ones make all three calls" {
	for mode in on off; do
		run km --fast-calls=$mode "$(prog init_tp)"
		assert_success
		assert_line "an FS base past the user address space: EPERM; FS base kept: yes; slot untouched: yes"
		assert_line "a slot address in km's half: EFAULT; FS base kept: yes"
		assert_line "a slot address never mapped: EFAULT; FS base kept: yes"
		assert_line "good values: the tid: yes; TLS still 7"
		assert_line "the first thread's exit cleared its tid address: yes"
	done
	run km --fast-calls=on "$(prog init_tp)"
	assert_line "the slot: one of the fast-call slots"
	run km --fast-calls=off "$(prog init_tp)"
	assert_line "the slot: none (EOPNOTSUPP)"
}
