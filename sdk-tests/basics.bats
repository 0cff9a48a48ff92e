#!/usr/bin/env bats
# Running programs: output, arguments, environment, exit status, standard streams.

setup() {
	load helpers
	need_kvm
}

@test "hello prints its greeting and exits 0" {
	run km "$(prog hello)"
	assert_success
	assert_output "Hello, world!"
}

@test "a program built by kontain-gcc runs when executed: its ELF interpreter hands it to km" {
	run "$(prog hello)" direct
	assert_success
	assert_output "Hello, direct!"
	KM_TEST_ONE=1 run "$(prog args_env)" 3 "two words"
	assert_failure 3
	assert_line "argv[0]=$(prog args_env)"
	assert_line "argv[2]=two words"
	assert_line "env KM_TEST_ONE=1"
	# The process is km's, with the program in a VM.
	mkfifo "$BATS_TEST_TMPDIR/in"
	"$(prog stdio_echo)" <"$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/out" 2>&1 &
	local pid=$!
	local writer
	exec {writer}>"$BATS_TEST_TMPDIR/in"
	# The child may still be the shell, or the program before its interpreter
	# execs km: wait (10 s at most) for the exe to settle.
	local km i exe
	km=$(readlink -f "$(command -v km)")
	for ((i = 0; i < 100; i++)); do
		exe=$(readlink /proc/$pid/exe)
		[ "$exe" != "$km" ] || break
		sleep 0.1
	done
	assert_equal "$exe" "$km"
	echo "in a vm" >&$writer
	exec {writer}>&-
	wait $pid
	assert_equal "$(cat "$BATS_TEST_TMPDIR/out")" "$(printf 'IN A VM\nlines=1')"
}

@test "km needs no library: it runs hello in a root holding only km, hello and /dev/kvm" {
	[ "$(id -u)" = 0 ] || skip "needs root for chroot"
	local root=$BATS_TEST_TMPDIR/root
	mkdir -p "$root/dev"
	cp "$(command -v km)" "$(prog hello)" "$root/"
	mknod -m 666 "$root/dev/kvm" c $((0x$(stat -c %t /dev/kvm))) $((0x$(stat -c %T /dev/kvm)))
	run readelf -dW "$root/km"
	refute_output --partial "(NEEDED)"
	run chroot "$root" /km /hello.km
	assert_success
	assert_output "Hello, world!"
}

@test "arguments reach the program" {
	run km "$(prog hello)" kontain
	assert_success
	assert_output "Hello, kontain!"
}

@test "argv and the environment arrive intact" {
	KM_TEST_ONE=1 KM_TEST_SPACES="a b  c" run km "$(prog args_env)" 0 "two words" ''
	assert_success
	assert_line "argc=4"
	assert_line "argv[2]=two words"
	assert_line "argv[3]="
	assert_line "env KM_TEST_ONE=1"
	assert_line "env KM_TEST_SPACES=a b  c"
}

@test "km exits with the program's exit status" {
	for want in 0 1 7 255; do
		run km "$(prog args_env)" "$want"
		assert_equal "$status" "$want"
	done
}

@test "stdin, stdout and stderr are the program's" {
	run bash -c "printf 'one\ntwo\nthree\n' | km '$(prog stdio_echo)' 2>'$BATS_TEST_TMPDIR/err'"
	assert_success
	assert_output $'ONE\nTWO\nTHREE'
	assert_equal "$(cat "$BATS_TEST_TMPDIR/err")" "lines=3"
}

@test "system calls: uname, ids, getrandom, rlimits, /proc/self/exe, EFAULT, km's fds hidden" {
	run km "$(prog sys_misc)"
	assert_success
	assert_line "ok: km's descriptors are out of reach"
	assert_line "ok: bad guest pointers give EFAULT"
	assert_line "ok: /proc/self/exe"
}

# AT_HWCAP as glibc's loader shows it (LD_SHOW_AUXV) for /bin/true, run by
# env in the guest of COMMAND... (km, after any wrapper of its own).
hwcap() {
	run "$@" /usr/bin/env LD_SHOW_AUXV=1 /bin/true
	assert_success
	awk '$1 == "AT_HWCAP:" { v = $2 } END { print v }' <<<"$output"
}

@test "AT_HWCAP names the vCPU's base x86-64 features, whether km starts on one CPU or more" {
	local many one
	many=$(hwcap km)
	one=$(hwcap taskset -c 0 km)
	# FPU, TSC, CX8, CMOV, MMX, FXSR, SSE, SSE2: every x86-64 processor has them
	[ $((0x$many & 0x7808111)) = $((0x7808111)) ] || fail "AT_HWCAP $many lacks base features"
	assert_equal "$one" "$many"
}

@test "a program using the syscall instruction directly runs (LSTAR entry)" {
	run km "$REPO/build/tests/raw_syscall"
	assert_failure 42
	assert_output "raw syscall ok"
}

@test "km -v names each hypercall" {
	run km -v "$(prog hello)"
	assert_success
	assert_line --partial "km: writev(0x1"
	assert_line --partial "km: exit_group(0x0"
	assert_line "Hello, world!"
}

@test "an unimplemented syscall returns ENOSYS, and km -v names it" {
	run km "$(prog enosys)"
	assert_success
	assert_output "acct: ENOSYS"
	run km -v "$(prog enosys)"
	assert_success
	assert_line "km: unimplemented syscall acct (163): returning ENOSYS"
}

@test "km --log-to writes the trace to a file, not the terminal" {
	run km --log-to="$BATS_TEST_TMPDIR/trace" "$(prog hello)"
	assert_success
	assert_output "Hello, world!"
	run grep -c "km: writev(0x1" "$BATS_TEST_TMPDIR/trace"
	assert_output "1"
}

@test "km --stats appends each process's exits to a file: the hypercalls by name, how it ended" {
	local f=$BATS_TEST_TMPDIR/stats
	run km --stats="$f" "$(prog hello)"
	assert_success
	run cat "$f"
	assert_line --regexp "^km stats: pid [0-9]+, .*/hello.km, exit status 0$"
	assert_line "hypercall writev 1"
	assert_line "hypercall exit_group 1"
	assert_line "faults 0"
	# musl's thread start is one call (KM_HC_INIT_TP), not arch_prctl, set_tid_address and a slot's.
	assert_line "hypercall km_init_tp 1"
	refute_line --partial "arch_prctl"
	refute_line --partial "set_tid_address"
	# Every exit is counted once: hypercalls, faults and interruptions are among them.
	local exits hypercalls
	exits=$(awk '$1 == "exits" { print $2 }' "$f")
	hypercalls=$(awk '$1 == "hypercalls" { print $2 }' "$f")
	[ "$exits" -ge "$hypercalls" ] && [ "$hypercalls" -ge 2 ] || fail "exits $exits, hypercalls $hypercalls"
	# The start's steps, in µs since km's main: the VM made, the program loaded, the guest's first
	# instruction next, the end; each after the one before.
	run awk '$1 == "time" { printf "%s ", $2 } END { print "" }' "$f"
	assert_output "vm program guest end "
	awk '$1 == "time" { if ($3 !~ /^[0-9]+$/ || $3 < last) bad = 1; last = $3 } END { exit bad }' "$f" ||
		fail "the time lines are not ascending µs: $(grep '^time' "$f")"

	run km --stats="$f" "$(prog fault)" null
	assert_failure 139
	run tail -n +2 "$f"
	assert_line --regexp "^km stats: pid [0-9]+, .*/fault.km, killed by SIGSEGV$"
	assert_line "faults 1"
}

@test "km --stats follows forks and execs: a block per process and per program, in a relative path's file" {
	[ -x /bin/busybox ] || fail "busybox-static is not installed"
	cd "$BATS_TEST_TMPDIR"
	run km --stats=stats /bin/busybox sh -c 'cd /; /bin/busybox true; exec /bin/busybox echo done'
	assert_success
	assert_output "done"
	run grep -c "^km stats: " stats
	assert_output 4
	run grep -c "^km stats: pid [0-9]*, /.*/busybox, exec$" stats
	assert_output 2
	run grep -c "^km stats: pid [0-9]*, /.*/busybox, exit status 0$" stats
	assert_output 2
	run grep -c "^hypercall clone 1$\|^hypercall fork 1$\|^hypercall vfork 1$" stats
	assert_output 1
}

@test "km --stats into a directory that does not exist: one line, status 2" {
	run km --stats=/nonexistent/dir/stats "$(prog hello)"
	assert_failure 2
	assert_output "km: --stats=/nonexistent/dir/stats: no such directory"
}
