#!/usr/bin/env bats
# Guest memory: malloc, mmap, mprotect, brk, and what a bad access does.

setup() {
	load helpers
	need_kvm
}

@test "malloc small and large, mmap, munmap, mprotect, mremap, brk" {
	run km "$(prog memory)"
	assert_success
	assert_line "ok: small mallocs"
	assert_line "ok: malloc of 1.5 GiB, sparsely touched"
	assert_line "ok: mmap munmap mprotect MAP_FIXED"
	assert_line "ok: reservations and ranges across page-table boundaries"
	assert_line "ok: mremap"
	assert_line "ok: brk"
	assert_line "ok: ENOMEM beyond the limit"
}

@test "realloc grows a buffer to 64 MiB, in place then moved, beside new mappings, as natively" {
	same_as_native realloc_grow
	assert_output "grew to 64 MiB, intact, with 16 other mappings intact"
}

@test "rights changed in pieces of 2 MiB pages, a move, System V segments up to 4 GiB: as natively" {
	same_as_native large_pages
	assert_line --regexp "^then a page at 7 MiB read-write: +\|w ww wr ww -w ww w- -w $"
	assert_line "4096 MiB segment: written through one attach, read through another: 12345; the read-only one at its middle: r"
}

@test "a page's execute right taken and given back while other threads read it: every read works, as natively" {
	# Taking execute away makes km's mapping go through PROT_NONE, which a
	# reader on another vCPU could hit: km once killed the program with SIGBUS.
	same_as_native exec_flips
	assert_output "execute taken away and given back while 3 threads read: wrong reads: 0"
}

@test "the program's code is mapped from its file, as Linux maps a program, not copied" {
	local p
	p=$(realpath "$(prog image_pages)") # as the kernel names it in maps
	start_waiting km "$p"
	grep -q " $p\$" "/proc/$pid/maps" || fail "no mapping of $p in km's maps: $(cat "/proc/$pid/maps")"
	kill -USR1 "$pid"
	finish
	assert_equal "$status" 0
	run cat "$out"
	assert_output "ready
far away: 46"
}

@test "a program whose file is cut short while it runs dies of SIGBUS at its next touch of the lost code" {
	# Linux refuses to truncate a running program (ETXTBSY); km's program is
	# a file km opened, which its owner can still cut.
	cp "$(prog image_pages)" "$BATS_TEST_TMPDIR/cut.km"
	start_waiting km "$BATS_TEST_TMPDIR/cut.km"
	truncate -s 4096 "$BATS_TEST_TMPDIR/cut.km"
	kill -USR1 "$pid"
	finish
	assert_equal "$status" 135
	run cat "$out"
	assert_line "ready"
	assert_line --regexp "^km: $BATS_TEST_TMPDIR/cut.km: killed by SIGBUS: memory access km could not back, near rip 0x[0-9a-f]+\$"
}

@test "a 1.5 GiB malloc fails cleanly under a 1 GiB memory limit" {
	run km --mem-limit=1G "$(prog memory)"
	assert_failure 1
	assert_output --partial "malloc of 1536 MiB"
}

@test "the memory limit binds what the program commits, not what it reserves, as a JVM needs" {
	run km --mem-limit=1G "$(prog memory)" reserve
	assert_success
	assert_output "ok: 8 GiB reserved and 2 GiB read-only under a 1 GiB limit
ok: 512 MiB of it committed and written
ok: ENOMEM past the limit, and what was committed is kept
ok: uncommitted memory can be committed again"
}

@test "a write to a PROT_READ page ends the program with SIGSEGV (139)" {
	run km "$(prog fault)" readonly
	assert_failure 139
	assert_line "wrote before mprotect: 1"
	assert_line --regexp "^km: .*fault.km: killed by SIGSEGV: write of address 0x[0-9a-f]+ \(not permitted\) at rip 0x[0-9a-f]+$"
}

@test "PROT_NONE across a 2 MiB boundary takes every page away, and only those" {
	run km "$(prog fault)" none-across
	assert_failure 139
	assert_line "before the range: 0, after it: 1"
	assert_line --regexp "^km: .*fault.km: killed by SIGSEGV: read of address 0x[0-9a-f]+fff \(not permitted\) at rip 0x[0-9a-f]+$"
}

@test "a NULL dereference is SIGSEGV naming address 0x0" {
	run km "$(prog fault)" null
	assert_failure 139
	assert_output --regexp "killed by SIGSEGV: write of address 0x0 \(not mapped\) at rip 0x[0-9a-f]+"
}

@test "an invalid instruction is SIGILL (132)" {
	run km "$(prog fault)" ud2
	assert_failure 132
	assert_output --partial "killed by SIGILL: invalid opcode at rip 0x"
}

@test "an integer divide by zero is SIGFPE (136)" {
	run km "$(prog fault)" divide
	assert_failure 136
	assert_output --partial "killed by SIGFPE: divide error at rip 0x"
}

@test "abort() is SIGABRT (134)" {
	run km "$(prog fault)" abort
	assert_failure 134
	assert_output --partial "killed by SIGABRT"
}

@test "raising an ignored signal does nothing" {
	run km "$(prog fault)" raise-ignored
	assert_success
	assert_output "still here"
}
