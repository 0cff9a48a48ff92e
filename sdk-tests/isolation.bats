#!/usr/bin/env bats
# A hostile guest against km's own reads and writes of its memory: km turns
# every fault there into EFAULT, reads each structure once, and keeps its
# own fds out of reach, so the program gets what Linux would give it and
# km goes on (sdk-tests/programs/isolation.c; docs/architecture.md).

setup() {
	load helpers
	need_kvm
}

@test "buffers another thread keeps unmapping: each call succeeds or fails with EFAULT, km lives" {
	same_as_native isolation unmap-race
	assert_success
	assert_output "unmap race: 3000 rounds of 10 calls, each succeeded or failed as Linux does"
}

@test "structures in a shared file mapping past the file's end: EFAULT, not a SIGBUS in km" {
	same_as_native isolation shared-past-end
	assert_success
	assert_output "writev with its iovec there: EFAULT
poll with its pollfd there: EFAULT
open of a path there: EFAULT
sigaltstack from there: EFAULT
rt_sigaction into there: EFAULT
nanosleep from there: EFAULT"
}

@test "a signal frame that cannot be written past a file's end kills the program with SIGSEGV, as Linux" {
	same_as_native isolation altstack-past-end
	assert_failure 139
	assert_output "raising SIGUSR1 onto an alternate stack past the end of a file"
}

@test "recvmsg while another thread rewrites the msghdr's lengths: km reads it once" {
	same_as_native isolation msghdr-race
	assert_success
	assert_output "msghdr race: 30000 recvmsg calls against changing lengths, each as Linux answers"
}

@test "SCM_RIGHTS with the fd swapped for one of km's under the check: only the program's fd arrives" {
	same_as_native isolation rights-race
	assert_success
	assert_output "rights race: every fd that arrived was the pipe (some arrived)"
}

@test "a program that sends its stderr to /dev/null does not silence km's message about its death" {
	run --separate-stderr km "$(prog isolation)" stderr-gone
	assert_failure 139
	assert_output "stderr now goes to /dev/null; dying of SIGSEGV"
	[[ $stderr == *"killed by SIGSEGV: write of address 0x8"* ]] || fail "km's message is missing: '$stderr'"
}
