#!/usr/bin/env bats
# Resource limits are the program's own: what it sets binds its own memory,
# follows Linux's rules, passes on at exec, and never stops km; when the host
# runs out of maps, the program's calls fail with ENOMEM and it goes on.
# Linux is the reference: each case runs natively and under km.

setup() {
	load helpers
	need_kvm
}

# A km that cannot hang the suite.
km() {
	timeout 60 "$KONTAIN/bin/km" "$@"
}

# Whether this shell may raise a hard limit (root in a container often may not).
may_raise_hard_limits() {
	local caps
	caps=$(awk '/^CapEff:/ { print $2 }' /proc/self/status)
	(((0x$caps >> 24) & 1))
}

@test "a data limit of 0 refuses private writable memory, and the program goes on" {
	same_as_native limits data-zero
	assert_success
	assert_line "data: soft 0 MiB, hard 0 MiB"
	assert_line "mmap(private, writable): ENOMEM"
	assert_line "mmap(private, read-only): success"
	assert_line "mprotect(it, writable): ENOMEM"
	assert_line "mmap(shared, writable): success"
	assert_line "the break grows: no"
	assert_line "the break shrinks: no"
	assert_line "the program goes on: x"
}

@test "a soft data limit of 0 under a higher hard one lets data through, as Linux does for Valgrind" {
	[ "$(ulimit -H -d)" != 0 ] || skip "the hard data limit here is 0"
	same_as_native limits data-soft-zero
	assert_success
	assert_line "mmap(private, writable) under soft 0: success"
}

@test "a data limit binds brk, malloc and private writable mappings, not shared or read-only ones" {
	same_as_native limits data
	assert_success
	assert_line "data: soft 64 MiB, hard 64 MiB"
	assert_line "malloc(16 MiB): success"
	assert_line "malloc(128 MiB): NULL"
	assert_line "the break grows by 128 MiB: no"
	assert_line "mmap(128 MiB private, writable): ENOMEM"
	assert_line "mmap(128 MiB shared, writable): success"
	assert_line "mmap(128 MiB private, read-only): success"
	assert_line "mprotect(it, writable): ENOMEM"
	assert_line "mprotect(1 MiB of it, writable): success"
	assert_line "the memory it has is usable: yes"
}

@test "an address-space limit binds mmap, brk, malloc and mremap; a refused mremap keeps the mapping" {
	same_as_native limits as
	assert_success
	assert_line "address space: soft 256 MiB, hard 256 MiB"
	assert_line "mmap(512 MiB, PROT_NONE): ENOMEM"
	assert_line "mmap(64 MiB): success"
	assert_line "malloc(512 MiB): NULL"
	assert_line "the break grows by 512 MiB: no"
	assert_line "mremap(64 MiB to 512 MiB): ENOMEM"
	assert_line "the mapping is intact: yes"
	assert_line "mremap(64 MiB to 96 MiB): success"
	assert_line "its contents moved with it: yes"
}

@test "setrlimit follows Linux: soft above hard is EINVAL, a raised hard limit needs CAP_SYS_RESOURCE" {
	same_as_native limits rules
	assert_success
	assert_line "soft above hard: EINVAL"
	assert_line "prlimit lowers it: success"
	assert_line "the old limit was soft 4 MiB, hard 16 MiB"
	assert_line "getrlimit(99): EINVAL"
	if may_raise_hard_limits; then
		assert_line "raising the hard limit again: success"
		assert_line "raising it to unlimited: success"
	else
		assert_line "raising the hard limit again: EPERM"
		assert_line "stack: soft 4 MiB, hard 8 MiB"
		assert_line "raising it to unlimited: EPERM"
	fi
}

@test "limits set before exec are the new program's, which starts and is bound by them" {
	same_as_native limits exec
	assert_success
	assert_line "data: soft 64 MiB, hard 64 MiB"
	assert_line "address space: soft 1024 MiB, hard 1024 MiB"
	assert_line "stack: soft 4 MiB, hard 32 MiB"
	assert_line "malloc(128 MiB): NULL"
	assert_line "malloc(16 MiB): success"
}

@test "at the host's map count, mprotect fails with ENOMEM, changes nothing, and the program goes on" {
	same_as_native limits map-count
	assert_success
	assert_line "alternate pages made read-only until: ENOMEM"
	assert_line "the page it failed on keeps its rights: writable"
	assert_line "all of them writable again: success"
	assert_line "the program goes on: aq3"
}

@test "at or near the map count, every memory call works or fails with ENOMEM, changing nothing" {
	same_as_native limits map-count-calls
	assert_success
	assert_line "every call succeeded or failed with ENOMEM, and a failed one changed nothing: yes"
	assert_line "some were refused: yes"
	assert_line "the program goes on: yes"
}

@test "a shared mapping of a file opened read-only cannot become writable: EACCES, and the program goes on" {
	same_as_native limits file-rights
	assert_success
	assert_line "mprotect(shared read-only file, writable): EACCES"
	assert_line "still readable: contents"
}

@test "the file-size limit passes through: a write stops at it, then fails with EFBIG" {
	same_as_native limits file-size
	assert_success
	assert_line "write(3000) under a 1000-byte file limit: 1000"
	assert_line "write past the limit: EFBIG"
}

@test "under a process limit a fork works or fails with EAGAIN, never hangs, as natively" {
	[ "$(id -u)" = 0 ] || skip "needs root, to become an unprivileged user"
	same_as_native limits process-limit
	assert_success
	assert_line "every fork made a child that exited 3 or failed with EAGAIN: yes"
	assert_line "some were refused: yes"
	assert_line "some children ran: yes"
}

@test "km --rlimit gives the program its own limits; km itself starts under any of them" {
	run km --rlimit=data=67108864:67108864 --rlimit=as=unlimited:unlimited \
		--rlimit=stack=4194304:8388608 "$(prog limits)" after-exec
	assert_success
	assert_line "data: soft 64 MiB, hard 64 MiB"
	assert_line "address space: soft unlimited, hard unlimited"
	assert_line "stack: soft 4 MiB, hard 8 MiB"
	assert_line "malloc(128 MiB): NULL"
	run km --rlimit=as=1048576:1048576 "$(prog hello)"
	assert_success
	assert_output --partial "Hello"
}

@test "a bad --rlimit is refused with one line and status 2" {
	run --separate-stderr km --rlimit=data=5:3 "$(prog hello)"
	assert_failure 2
	assert_equal "$stderr" "km: bad --rlimit 'data=5:3': use as, data or stack =SOFT:HARD in bytes or 'unlimited', soft at most hard"
	run --separate-stderr km --rlimit=nofile=1:1 "$(prog hello)"
	assert_failure 2
	assert_equal "${#stderr_lines[@]}" 1
}
