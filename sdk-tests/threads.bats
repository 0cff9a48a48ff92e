#!/usr/bin/env bats
# Threads are vCPUs: pthreads and C++ threads behave under km as they do natively.

setup() {
	load helpers
	need_kvm
}

@test "a mutex shared by 8 threads counts every increment" {
	same_as_native threads mutex
	assert_success
	assert_output "counter 40000"
}

@test "producers and consumers meet on condition variables" {
	same_as_native threads condvar
	assert_success
	assert_output "consumed sum 800040000"
}

@test "rwlock, barrier and __thread values across 8 threads" {
	same_as_native threads sync
	assert_success
	assert_output "50 rounds of rwlock and barrier, thread-local values intact, main's is -1"
}

@test "2000 short-lived threads reuse vCPUs" {
	same_as_native threads many
	assert_success
	assert_output "2000 threads created and joined"
}

@test "detached threads unmap their own stacks and exit" {
	same_as_native threads detached
	assert_success
	assert_output "300 detached threads posted"
}

@test "timed waits time out on both clocks" {
	same_as_native threads timeout
	assert_success
	assert_line "realtime timed wait: ETIMEDOUT after 100 ms"
	assert_line "monotonic timed wait: ETIMEDOUT after 100 ms"
	assert_line "sem_timedwait: ETIMEDOUT"
}

@test "exit() in a thread ends the process with its status" {
	same_as_native threads exit
	assert_failure 5
	assert_output "a thread calls exit(5)"
}

@test "the process outlives a main thread that calls pthread_exit" {
	same_as_native threads main-exits
	assert_success
	assert_output "main calls pthread_exit
worker outlived main"
}

@test "a robust mutex whose owner died says EOWNERDEAD" {
	same_as_native threads robust
	assert_success
	assert_line "lock after the owner died: EOWNERDEAD"
}

@test "priority-inheritance mutexes under contention" {
	same_as_native threads pi
	assert_success
	assert_output "pi counter 8000"
}

@test "futex requeue, wake_op, bitset waits and their errors" {
	same_as_native threads futex
	assert_success
	assert_line "cmp_requeue woke one waiter and moved the others to a second word"
	assert_line "cmp_requeue with a stale value: EAGAIN"
	assert_line "wake_op: 0 woken, second word now 42"
	assert_line "timeouts on both clocks, EAGAIN and EFAULT as expected"
}

@test "a page unmapped by one thread faults in another that had read it" {
	same_as_native threads tlb
	assert_failure 139
	assert_output "reader saw 42"
	run km "$(prog threads)" tlb
	assert_output --partial "killed by SIGSEGV: read of address"
}

@test "C++: std::thread, mutex, condition_variable, async, thread_local" {
	same_as_native cxx_threads
	assert_success
	assert_output "total 12000, main's thread_local -1
pool sum 500500
async 500500
caught from a thread
slept at least 30 ms: true"
}
