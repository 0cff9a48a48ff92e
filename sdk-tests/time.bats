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

@test "the vDSO gives every clock, never backwards" {
	same_as_native vdso clocks
	assert_success
	assert_output "ok: 5 clocks, gettimeofday and time, 2000 calls each, never backwards"
}

@test "monotonic readings from 4 threads on 4 vCPUs only go forward" {
	same_as_native vdso threads
	assert_success
	assert_output "ok: 80000 monotonic readings in turn from 4 threads, never backwards"
}

@test "the vDSO's clock stays in step with the host's" {
	run km "$(prog vdso)" in-step
	assert_success
	assert_output "ok: the vDSO's monotonic clock and the kernel's agree for 3 s"
}

@test "time calls do not exit when the host's clocksource is the TSC" {
	if ! grep -qx tsc /sys/devices/system/clocksource/clocksource0/current_clocksource; then
		skip "LOUD SKIP: this host's clocksource is not the TSC, so time calls exit by design"
	fi
	run km --log-to="$BATS_TEST_TMPDIR/log" "$(prog vdso)" clocks
	assert_success
	run grep -cE '^km: (clock_gettime|gettimeofday|time)\(' "$BATS_TEST_TMPDIR/log"
	assert_output 0
	run grep -c '^km: exit_group(' "$BATS_TEST_TMPDIR/log"
	assert_output 1
}
