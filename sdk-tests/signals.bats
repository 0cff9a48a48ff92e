#!/usr/bin/env bats
# Signals with Linux semantics: each case behaves under km as it does natively.

setup() {
	load helpers
	need_kvm
}

@test "raise and kill run the handler with the sender's siginfo" {
	same_as_native signals raise
	assert_success
	assert_output "raise: handler ran 1 time, signal 10, SI_TKILL, sender is us: 1
kill: handler ran 2 times, SI_USER"
}

@test "a blocked signal stays pending and runs once unblocked" {
	same_as_native signals mask
	assert_success
	assert_output "blocked: 0 runs, pending: 1
unblocked: 1 run (standard signals merge)"
}

@test "SIGSEGV handlers get si_code and si_addr and can siglongjmp out" {
	same_as_native signals segv
	assert_success
	assert_output "NULL write: caught SIGSEGV, code SEGV_MAPERR, address 0
read-only write: code SEGV_ACCERR, address is the byte: 1
caught again after siglongjmp: 3 catches"
}

@test "a handler that moves the saved RIP resumes there" {
	same_as_native signals rip
	assert_success
	assert_output "resumed after ud2: code ILL_ILLOPN, si_addr is the instruction: 1"
}

@test "an integer divide by zero reaches a SIGFPE handler as FPE_INTDIV" {
	same_as_native signals fpe
	assert_success
	assert_output "divide by zero: SIGFPE FPE_INTDIV"
}

@test "a stack overflow is caught on the alternate stack" {
	same_as_native signals altstack
	assert_success
	assert_output "stack overflow caught on the alternate stack: 1
alternate stack still set: 1"
}

@test "SA_RESETHAND: the second signal takes the default action" {
	same_as_native signals resethand
	assert_failure 140
	assert_output "first SIGUSR2 handled; the second kills"
}

@test "sigsuspend waits for a signal from another thread and restores the mask" {
	same_as_native signals suspend
	assert_success
	assert_output "sigsuspend returned -1 (EINTR) after 1 handler run, mask restored: 1"
}

@test "sigqueue queues real-time signals with values; sigtimedwait times out" {
	same_as_native signals timedwait
	assert_success
	assert_output "100 queued real-time signals, values summing to 5050
sigtimedwait with nothing pending: -1 EAGAIN"
}

@test "a blocking read is interrupted (EINTR) or restarted (SA_RESTART)" {
	same_as_native signals eintr
	assert_success
	assert_output "no SA_RESTART: read failed with EINTR
SA_RESTART: read restarted and got the byte"
}

@test "a signal from another process goes to the main thread, not to the busy threads that return from calls first" {
	same_as_native signals process-directed
	assert_success
	assert_output "SIGUSR2 from another process, four threads busy: handled on the main thread: yes; main's read: EINTR"
}

@test "a write to a pipe without readers raises SIGPIPE, or EPIPE when ignored" {
	same_as_native signals sigpipe
	assert_failure 141
	assert_output "writing to a pipe with no reader"
	same_as_native signals sigpipe-ignored
	assert_success
	assert_output "writing to a pipe with no reader
write returned -1, EPIPE"
}

@test "setitimer's SIGALRM interrupts pause" {
	same_as_native signals alarm
	assert_success
	assert_output "pause returned -1 EINTR after SIGALRM: 1"
}

@test "handlers using the FPU do not disturb the code they interrupt" {
	same_as_native signals fpu
	assert_success
	assert_output "floating-point loop interrupted by FPU-using handlers: results equal: 1"
}

@test "SIGTERM sent to km reaches the program's handler" {
	start_waiting km "$(prog signals)" external
	kill -TERM "$pid"
	finish
	assert_equal "$status" 0
	run cat "$out"
	assert_output "ready
got SIGTERM, exiting cleanly"
}

@test "fault signals sent by another process reach the program's handlers; they are not km's faults" {
	same_as_native signals sent-faults
	assert_success
	assert_output "ok: SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP and SIGSYS from another process reach the handlers (SI_USER); without one, SIGSEGV and SIGSYS end the child"
	refute [ "${stderr#*internal error}" != "$stderr" ]
}

@test "a child's SIGCHLD has run its handler by the time waitpid returns the child, as on Linux" {
	same_as_native signals chld-wait
	assert_success
	assert_output "the SIGCHLD handler had run when waitpid returned: 200 of 200"
}

@test "SIGHUP sent to km without a handler ends it as it ends the native program" {
	start_waiting "$(native signals)" external-default
	kill -HUP "$pid"
	finish
	native_status=$status
	start_waiting km "$(prog signals)" external-default
	kill -HUP "$pid"
	finish
	assert_equal "$status" "$native_status"
	assert_equal "$status" 129
	run cat "$out"
	assert_output "ready"
}

@test "a signal ignored when km starts stays ignored in the program, as across exec" {
	start_waiting bash -c "trap '' INT; exec km $(prog signals) external-default"
	kill -INT "$pid"
	sleep 1
	kill -0 "$pid"
	kill -HUP "$pid"
	finish
	assert_equal "$status" 129
}

@test "without /proc (km reads SigIgn there), a signal ignored when km starts stays ignored too" {
	command -v unshare >/dev/null || skip "no unshare"
	start_waiting unshare --mount --propagation private bash -c \
		"mount -t tmpfs none /proc && trap '' INT && exec km $(prog signals) external-default"
	kill -INT "$pid"
	sleep 1
	kill -0 "$pid"
	kill -HUP "$pid"
	finish
	assert_equal "$status" 129
}

@test "a signal ignored when km starts stays ignored though it comes again and again from km's first instant" {
	# A race with km's start-up threads: a few rounds to meet it.
	for round in 1 2 3 4 5; do
		out=$BATS_TEST_TMPDIR/out.$round
		trap '' INT # here, so that km is ignoring it from its fork on
		km "$(prog signals)" external-default >"$out" 2>&1 3>&- &
		pid=$!
		trap - INT
		local sent=0
		while [ ! -s "$out" ] && kill -INT "$pid" 2>/dev/null; do
			sent=$((sent + 1))
		done
		sleep 0.2
		kill -0 "$pid" || fail "round $round: km ended after $sent SIGINTs: $(cat "$out")"
		kill -HUP "$pid"
		finish
		assert_equal "$status" 129
		run cat "$out"
		assert_output "ready"
	done
}

@test "SIGTERM sent again and again from km's first instant ends it as it ends the native program" {
	# From the exec on (the process's name changes), whichever step of km's
	# start it meets: before the routing thread runs, while the guest is
	# prepared, in the guest. Shell builtins only, to send them fast.
	local name c state sent
	for prog in "$(native signals)" "km $(prog signals)"; do
		name=${prog%% *}
		name=${name##*/}
		for round in 1 2 3 4 5; do
			out=$BATS_TEST_TMPDIR/out.$round
			$prog external-default >"$out" 2>&1 3>&- &
			pid=$!
			c= state=R sent=0
			while [ "$c" != "$name" ] && read -r c <"/proc/$pid/comm"; do :; done 2>/dev/null
			while [ "$state" != Z ] && [ "$sent" -lt 100000 ] && kill -TERM "$pid" 2>/dev/null; do
				sent=$((sent + 1))
				read -r _ _ state _ <"/proc/$pid/stat" 2>/dev/null || break
			done
			if [ "$state" != Z ] && kill -0 "$pid" 2>/dev/null; then
				kill -KILL "$pid"
				finish
				fail "$prog, round $round: still running after $sent SIGTERMs: $(cat "$out")"
			fi
			finish
			[ "$status" = 143 ] || fail "$prog, round $round: status $status after $sent SIGTERMs: $(cat "$out")"
			run cat "$out"
			[ "$output" = "" ] || [ "$output" = ready ] || fail "$prog, round $round: $output"
		done
	done
}

@test "POSIX timers signal with SI_TIMER or run SIGEV_THREAD callbacks" {
	same_as_native signals timers
	assert_success
	assert_output "SIGEV_SIGNAL timer: 3 expiries, si_code SI_TIMER, value passed: 1
SIGEV_THREAD timer: 3 callbacks"
}
