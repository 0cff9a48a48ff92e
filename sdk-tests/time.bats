#!/usr/bin/env bats
# Clocks and sleeping.

setup() {
	load helpers
	need_kvm
}

@test "clock_gettime, gettimeofday, time, clock and nanosleep" {
	run km "$(prog clock)"
	assert_success
	assert_line "ok: nanosleep 10 ms"
	assert_line "ok: realtime clocks agree"
	assert_line "ok: clock() measures cpu time"
}
