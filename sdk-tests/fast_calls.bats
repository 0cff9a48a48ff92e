#!/usr/bin/env bats
# Fast calls (km/fastcall.c): a Kontain program's calls posted in guest
# memory for a polling km thread instead of exits. Forced on with
# --fast-calls=on, so that every kind of KVM runs the same protocol; each
# case must behave as the same program natively, and the counts in --stats
# show the calls really went that way.

setup() {
	load helpers
	need_kvm
	stats=$BATS_TEST_TMPDIR/stats
}

# Runs NAME natively, then under km with fast calls on: the same status and output.
fast_as_native() {
	local name=$1
	shift
	run --separate-stderr "$(native "$name")" "$@"
	native_status=$status native_output=$output
	run --separate-stderr km --fast-calls=on --stats="$stats" "$(prog "$name")" "$@"
	assert_as_native
}

# The fast calls of the Nth process block of the stats file (1 the first).
fast_calls() {
	awk -v want="${1:-1}" '/^km stats: / { n++ } n == want && $1 == "fast" && $2 == "calls" { print $3 }' \
		"$stats"
}

# Where fast calls pay (PVM, two CPUs): what auto chooses, and where the
# poller's answers come in time, so the counts can be asserted.
fast_calls_pay() {
	[ "$("$REPO/sdk-tests/kvm-module")" = kvm_pvm ] && [ "$(nproc)" -ge 2 ]
}

# Some fast calls in block N (default 1), else the test fails showing the
# stats: the calls did go through the slots. How many depends on the host's
# load (a caller waits 1 ms for the poller under --fast-calls=on, then
# exits), so only that. Off PVM (the nested VM runs both its vCPUs on one
# QEMU thread, and its poller often misses a caller's wait) the count is only
# reported.
assert_fast_calls() {
	local n
	n=$(fast_calls "${1:-1}")
	if ! fast_calls_pay; then
		echo "# fast calls: ${n:-none} (counted on PVM only)" >&3
		return 0
	fi
	[ "${n:-0}" -gt 0 ] || fail "expected fast calls, got '${n}': $(cat "$stats")"
}

# Only reported: where every call may rightly exit. The reads of a pipe or
# socket the other side fills slowly would mostly wait: each is declined,
# and after seven declines in eight the number exits directly for a while.
report_fast_calls() {
	echo "# fast calls: $(fast_calls 1 | grep . || echo none)" >&3
}

@test "one write to a pipe far bigger than it holds arrives whole, in order, its result the full length" {
	fast_as_native fast_calls big-pipe
	assert_success
	assert_output "pipe: one write of 4194304 bytes returned 4194304; read back 4194304 bytes, every one in place"
	report_fast_calls
}

@test "one send on a stream socket far bigger than it holds arrives whole, in order" {
	fast_as_native fast_calls big-socket
	assert_success
	assert_output "socket: one send of 4194304 bytes returned 4194304; read back 4194304 bytes, every one in place"
	report_fast_calls
}

@test "reads that must wait still wait; non-blocking ones, MSG_WAITALL, EPIPE and ENOSYS as Linux" {
	fast_as_native fast_calls would-wait
	assert_success
	assert_output 'blocking read waited for the writer: 4 bytes, "late"
blocking recv waited for the sender: 4 bytes, "late"
recv MSG_DONTWAIT on nothing: -1 EAGAIN
read O_NONBLOCK on nothing: -1 EAGAIN
recv MSG_WAITALL waited for all 6: 6 "ablate"
write to a pipe without readers: -1 EPIPE
an unknown call: -1 ENOSYS'
	assert_fast_calls
}

@test "signals arriving while calls are posted: every answer right, every handler's call made" {
	fast_as_native fast_calls signals
	assert_success
	assert_output "300 or more signals interrupted the calls; every call's answer was right; each handler's write arrived: 1"
	assert_fast_calls
}

@test "eight threads calling at once each get their own answers (gettid)" {
	fast_as_native fast_calls threads
	assert_success
	assert_output "8 threads, 10000 calls each: every thread saw its own tid, all distinct: 1"
	assert_fast_calls
	# On every KVM, some of the 80000 calls at least went through the slots.
	[ "$(fast_calls)" -gt 0 ] || fail "no fast calls at all: $(cat "$stats")"
}

@test "a caller that reuses its request the moment it is answered never sees an old answer" {
	# km's answer once came as two stores of `done` (memcpy's 8 bytes): the
	# second could land on the caller's next request, answered before it was made.
	run --separate-stderr km --fast-calls=on --stats="$stats" "$(prog fast_calls_reuse)"
	echo "# $stderr" >&3
	assert_success
	assert_output "calls reusing one request at once: wrong answers: 0"
	assert_fast_calls
}

@test "root becomes nobody while the poller answers: every id getter says nobody, as natively" {
	[ "$(id -u)" = 0 ] || skip "needs root to drop it"
	fast_as_native fast_calls identity
	assert_success
	assert_output "after root became nobody, 500 rounds of every id getter said nobody: 1"
	assert_fast_calls
}

@test "a forked child's calls are taken by a poller of its own" {
	fast_as_native fast_calls fork
	assert_success
	assert_output 'the forked child'"'"'s calls: "child ok", status 0'
	run grep -c "^km stats: " "$stats"
	assert_output 2
	# The child's block is written first: it ends before the parent.
	assert_fast_calls 1
}

@test "garbage written over the fast-call area leaves km unharmed and later calls answered" {
	fast_as_native fast_calls scribble
	assert_success
	assert_output "after garbage over the fast-call area, two threads' 10000 calls were answered rightly"
}

@test "--fast-calls=off takes none; an exec keeps the choice; auto takes them on PVM with two CPUs" {
	# fork mode: the child's block comes first, its 1000 calls in it.
	run km --fast-calls=off --stats="$stats" "$(prog fast_calls)" fork
	assert_success
	run grep -c "^fast calls 0 (off)$" "$stats"
	assert_output 2

	rm -f "$stats"
	run km --fast-calls=on --stats="$stats" /bin/busybox sh -c "exec $(prog fast_calls) fork"
	assert_success
	assert_output 'the forked child'"'"'s calls: "child ok", status 0'
	assert_fast_calls 2
	rm -f "$stats"
	run km --fast-calls=off --stats="$stats" /bin/busybox sh -c "exec $(prog fast_calls) fork"
	assert_success
	run grep -c "^fast calls 0 (off)$" "$stats"
	assert_output 3

	# How many auto takes depends on the host's load (it rests while the CPUs are all wanted).
	rm -f "$stats"
	run km --stats="$stats" "$(prog fast_calls)" fork
	assert_success
	if fast_calls_pay; then
		run grep -c "^fast calls [0-9]*$" "$stats"
	else
		run grep -c "^fast calls 0 (off)$" "$stats"
	fi
	assert_output 2
}

@test "a bad --fast-calls value: one line, status 2" {
	run km --fast-calls=sometimes "$(prog hello)"
	assert_failure 2
	assert_output "km: bad --fast-calls 'sometimes': use auto, on or off"
}
