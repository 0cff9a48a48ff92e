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

@test "30, 100, 500 and 1000 threads alive at once, short-lived ones around them" {
	for n in 30 100 500 1000; do
		same_as_native threads concurrent $n
		assert_success
		assert_output "$n threads alive at once with $((n / 10 + 100)) short-lived ones around them, $n distinct thread ids"
	done
}

@test "1000 threads under a low soft open-files limit; the program still sees its own limit" {
	run prlimit --nofile=256:8192 km "$(prog threads)" concurrent 1000
	assert_success
	assert_output "1000 threads alive at once with 200 short-lived ones around them, 1000 distinct thread ids"
	[ -x /bin/busybox ] || fail "busybox-static is not installed"
	run prlimit --nofile=256:8192 km /bin/busybox sh -c 'ulimit -n; exec /bin/busybox sh -c "ulimit -n"'
	assert_success
	assert_output "256
256"
}

# Natively the same program makes all 2000; under km the VM's vCPUs run out.
@test "more threads than KVM has vCPUs: pthread_create says EAGAIN, km lives on" {
	run km "$(prog threads)" limit 2000
	assert_success
	assert_line --regexp '^pthread_create failed with EAGAIN after (10[0-9][0-9]|1[1-9][0-9][0-9]) threads$'
	assert_line "all joined; threads work as before"
}

@test "an open-files limit that leaves km no room for more vCPUs: EAGAIN, km lives on" {
	run prlimit --nofile=200:200 km "$(prog threads)" limit 2000
	assert_success
	assert_line --regexp '^pthread_create failed with EAGAIN after [2-9][0-9] threads$'
	assert_line "all joined; threads work as before"
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
