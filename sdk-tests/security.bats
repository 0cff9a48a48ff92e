#!/usr/bin/env bats
# A hostile program against km: what it tries from inside the guest, and the clean outcome.

setup() {
	load helpers
	need_kvm
}

@test "/proc/self/mem cannot be opened to write km's memory, in any spelling" {
	run --separate-stderr km "$(prog proc_guard)" memory
	assert_success
	assert_line "ok: /proc/self/mem cannot be opened for writing: Permission denied"
	assert_line "ok: mem refused in 12 spellings"
	assert_line "ok: the program runs on after every attempt"
}

@test "pagemap, map_files, smaps and syscall are refused like mem" {
	run --separate-stderr km "$(prog proc_guard)" memory
	assert_success
	assert_line "ok: pagemap refused in 12 spellings"
	assert_line "ok: map_files refused in 7 spellings"
	assert_line "ok: smaps refused in 12 spellings"
	assert_line "ok: syscall refused in 12 spellings"
}

@test "a child is another km: its mem, pagemap and maps are refused, its cmdline is not" {
	run --separate-stderr km "$(prog proc_guard)" children
	assert_success
	assert_output "ok: a child's mem, pagemap, maps, smaps, auxv, syscall and map_files are refused; its cmdline opens"
}

@test "km's own descriptors do not open through /proc/self/fd, fdinfo, /dev/fd or a symlink" {
	same_as_native proc_guard high-fds
	assert_success
	assert_output "ok: no descriptor at or above the open-files limit opens or reads through /proc"
}

@test "exe, cmdline, environ, auxv and maps answer for the program in every spelling" {
	same_as_native proc_guard spellings
	assert_success
	assert_line "ok: exe opens and stats as the program in 12 spellings"
	assert_line "ok: maps reads the same in 12 spellings"
	assert_line "ok: maps shows the program's code"
}

@test "the /proc files km leaves to the host work as on Linux" {
	same_as_native proc_guard host-files
	assert_success
	assert_output "ok: status, limits, cgroup, the program's pipes through /proc/self/fd and /dev/fd, fdinfo"
}

@test "a thread racing the opens of mem never reads through an fd that appears meanwhile" {
	run --separate-stderr km "$(prog proc_guard)" race
	assert_success
	assert_output "ok: 3000 opens of mem raced by a thread reading from every new fd: nothing read"
}

@test "opens that may reach /proc keep open(2)'s meaning: create, O_EXCL, symlinks, O_PATH" {
	same_as_native proc_guard open-semantics
	assert_success
	assert_output "ok: create, O_EXCL, append, O_TRUNC, a dangling symlink, readlink, O_NOFOLLOW, O_PATH, O_DIRECTORY, another mount"
}

@test "a program that swaps its own file for a link to mem does not get mem from /proc/self/exe" {
	run --separate-stderr km "$(prog proc_guard)" exe-swap
	assert_success
	assert_output "ok: /proc/self/exe of a program swapped for a link to mem: ETXTBSY to write, EACCES to read"
}

@test "a signal with a fault's si_code, queued to its own tid or pidfd, reaches the program's handler, not km's" {
	same_as_native more_calls forged
	assert_success
	assert_line "signal 11 with a fault's si_code to its own tid: success, the handler saw code 1"
	assert_line "signal 31 with a fault's si_code to its own tid: success, the handler saw code 1"
	assert_line "SIGSEGV with a fault's si_code through its own pidfd: success, the handler saw code 1"
	run km "$(prog more_calls)" forged-flags
	assert_success
	assert_output "pidfd_send_signal with PIDFD_SIGNAL_THREAD_GROUP: EINVAL
pidfd_open with PIDFD_THREAD: EINVAL"
}
