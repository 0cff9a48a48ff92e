#!/usr/bin/env bats
# km confines itself with a seccomp filter and no_new_privs (km/seccomp.c;
# docs/architecture.md, "Confinement"). Every other suite runs under the
# filter, which proves it lets through what km needs; here: that it is in
# force in every thread while a guest runs, that exec neither drops nor
# stacks it, that it allows exactly its lists, and that a call outside it
# ends km with one clear line. The last two run km's own seccomp module in
# sdk-tests/km/seccomp_probe.c, km's code with another main, so that nothing
# in km itself can be made to make such a call.

setup() {
	load helpers
	probe=$REPO/build/tests/seccomp_probe
	[ -x "$probe" ] || fail "$probe is missing: run make test-programs"
}

# One line per distinct state among the threads of process $1.
filter_state() {
	local t
	for t in /proc/"$1"/task/*; do
		awk '/^(NoNewPrivs|Seccomp|Seccomp_filters):/ { printf "%s %s ", $1, $2 } END { print "" }' \
			"$t/status" 2>/dev/null
	done | sort -u
}

# Runs a guest that waits (CMD... ending in "signals external"), reads
# km's state from outside, then ends the guest.
state_while_running() {
	start_waiting "$@"
	run filter_state "$pid"
	kill -TERM "$pid"
	finish
	[ "$status" = 0 ] || fail "the program did not end cleanly ($status): $(cat "$out")"
}

# A guest that execs twice through a shell before it waits: each exec is a new km.
exec_chain() {
	local sh=/bin/busybox
	[ -x $sh ] || fail "busybox-static is not installed"
	chain=("$sh" sh -c "exec $sh sh -c 'exec $(prog signals) external'")
}

@test "every thread of a running km has km's one seccomp filter and no_new_privs" {
	need_kvm
	state_while_running km "$(prog signals)" external
	assert_output "NoNewPrivs: 1 Seccomp: 2 Seccomp_filters: 1 "
}

@test "a guest's exec keeps km's filter and adds no second copy" {
	need_kvm
	exec_chain
	state_while_running km "${chain[@]}"
	assert_output "NoNewPrivs: 1 Seccomp: 2 Seccomp_filters: 1 "
}

@test "on one allowed CPU km installs the filter itself, for every thread, and an exec keeps it" {
	need_kvm
	exec_chain
	state_while_running taskset -c 0 km "${chain[@]}"
	assert_output "NoNewPrivs: 1 Seccomp: 2 Seccomp_filters: 1 "
}

@test "km --no-seccomp runs unconfined, and so does the km a guest's exec starts" {
	need_kvm
	exec_chain
	state_while_running km --no-seccomp "${chain[@]}"
	assert_output "NoNewPrivs: 0 Seccomp: 0 Seccomp_filters: 0 "
}

@test "km told its filter is inherited when it is not installs one anyway" {
	need_kvm
	state_while_running km --seccomp-inherited "$(prog signals)" external
	assert_output "NoNewPrivs: 1 Seccomp: 2 Seccomp_filters: 1 "
}

@test "km started under a filter of someone else's (a container engine's) adds its own" {
	need_kvm
	state_while_running "$probe" foreign "$KONTAIN/bin/km" "$(prog signals)" external
	assert_output "NoNewPrivs: 1 Seccomp: 2 Seccomp_filters: 2 "
}

@test "the filter lets through exactly its lists: every call number, x32, 32-bit, ioctl requests" {
	run "$probe" verdicts
	assert_success
	assert_line --regexp "^[0-9]+ calls pass \(ioctl with 37 terminal requests and KVM's\), [0-9]+ instructions, at most 1[0-4] comparisons$"
	assert_line "the filter is what its lists say"
}

@test "docs/security.md lists exactly the calls in km's table" {
	local table docs
	table=$(awk '/^#define KM_SYSCALLS\(X\)/ { on = 1 } on { print } on && !/\\$/ { exit }' \
		"$REPO/km/syscalls.h" | grep -o 'X([a-z0-9_]*,' | sed 's/X(//; s/,//')
	docs=$(sed -n '/<!-- km-syscalls -->/,/<!-- \/km-syscalls -->/p' "$REPO/docs/security.md" |
		grep -v '^<!--\|^```' | tr ' ' '\n' | grep .)
	[ "$(wc -l <<<"$table")" -gt 150 ] || fail "the table was not read: $table"
	assert_equal "$docs" "$table"
}

@test "calls km makes pass km's filter" {
	need_kvm
	run --separate-stderr "$probe" on allowed
	assert_success
	assert_output "making allowed
getpid: ok, KVM_GET_API_VERSION: 12
allowed returned"
}

@test "a host call outside km's filter ends km with one line naming it, status 159 (SIGSYS)" {
	run --separate-stderr "$probe" on personality
	assert_failure 159
	assert_output "making personality"
	assert_equal "$stderr" "km: internal error: host call personality (135) is not in km's seccomp filter: a km bug; ending km"
	run --separate-stderr "$probe" off personality
	assert_success
}

@test "an ioctl request km does not make (TIOCSTI) ends km, the request named" {
	run --separate-stderr "$probe" on tiocsti
	assert_failure 159
	assert_equal "$stderr" "km: internal error: host call ioctl (16) request 0x5412 is not in km's seccomp filter: a km bug; ending km"
}

@test "x32 and 32-bit calls end km, even where the same number is allowed for x86-64" {
	run --separate-stderr "$probe" on x32
	assert_failure 159
	assert_equal "$stderr" "km: internal error: host call 0x40000027 of the x32 ABI is not in km's seccomp filter: a km bug; ending km"
	run --separate-stderr "$probe" off int80
	if [ "$status" != 0 ]; then
		echo "# 32-BIT PART SKIPPED: this kernel runs no 32-bit calls (status $status)" >&3
		return
	fi
	run --separate-stderr "$probe" on int80
	assert_failure 159
	assert_equal "$stderr" "km: internal error: host call 0x14 of the 32-bit ABI is not in km's seccomp filter: a km bug; ending km"
}

@test "km --help lists --no-seccomp" {
	run km --help
	assert_success
	assert_output --partial "--no-seccomp"
}
