#!/usr/bin/env bats
# Debugging a unikernel as any Linux program: core files that Debian's gdb
# reads with the program (docs/debugging.md).

setup() {
	load helpers
	need_kvm
	cd "$BATS_TEST_TMPDIR"
}

# CMD's wait status, as a shell's parent sees it: "signal N core 0|1" or "exit N".
wait_status() { # CMD...
	perl -e 'open(my $out, ">&", STDOUT); open(STDOUT, ">", "/dev/null"); open(STDERR, ">", "/dev/null");
		system(@ARGV); my $s = $?;
		if ($s & 127) { printf $out "signal %d core %d\n", $s & 127, ($s & 128) ? 1 : 0 }
		else { printf $out "exit %d\n", $s >> 8 }' "$@"
}

# gdb in batch mode on PROGRAM and CORE, running each COMMAND.
gdb_core() { # PROGRAM CORE COMMAND...
	local program=$1 core=$2 args=()
	shift 2
	for c in "$@"; do
		args+=(-ex "$c")
	done
	gdb -nx -batch "${args[@]}" "$program" "$core" 2>&1
}

# The line of crash.c that holds TEXT.
crash_line() { # TEXT
	grep -nF -- "$1" "$BATS_TEST_DIRNAME/programs/crash.c" | head -1 | cut -d: -f1
}

# The functions of the last backtrace in gdb's output, innermost first, one
# line: "f g main" (gdb shows frame #0 once more when it opens the core).
frames() {
	sed -nE 's/^#([0-9]+) +(0x[0-9a-f]+ in )?([^ (]+).*/\1 \3/p' |
		awk '$1 == 0 { line = "" } { line = line (line == "" ? "" : " ") $2 } END { print line }'
}

@test "a C program's crash leaves a core: gdb shows the faulting line, the calls, a global and the siginfo" {
	run wait_status bash -c "ulimit -c unlimited; exec km --core=$PWD/crash.core $(prog crash) segv"
	assert_output "signal 11 core 1"
	run gdb_core "$(prog crash)" crash.core bt 'print crash_marker' 'print $_siginfo.si_signo' \
		'print $_siginfo._sifields._sigfault.si_addr'
	assert_output --partial "Program terminated with signal SIGSEGV, Segmentation fault."
	assert_output --regexp "#0 +write_through \(.*p=0x10\) at .*crash\.c:$(crash_line '*p = value;')"
	assert_equal "$(echo "$output" | frames)" "write_through descend descend descend descend main"
	assert_line '$1 = 1234'
	assert_line '$2 = 11'
	assert_line '$3 = (void *) 0x10'
}

@test "the same crash natively and under km: the same wait status and the same backtrace" {
	local pattern
	pattern=$(cat /proc/sys/kernel/core_pattern)
	if [[ $pattern == \|* || $pattern == /* ]]; then
		echo "# CORE PATTERN TEST SKIPPED: the host's core_pattern is '$pattern', not a plain file name" >&3
		skip "the host's core_pattern is '$pattern', not a plain file name"
	fi
	mkdir native km
	run wait_status bash -c "cd native && ulimit -c unlimited && exec $(native crash) segv"
	assert_output "signal 11 core 1"
	run wait_status bash -c "cd km && ulimit -c unlimited && exec km $(prog crash) segv"
	assert_output "signal 11 core 1"
	# The host's pattern names both files alike (a pid where it says %p).
	local native_core km_core
	native_core=$(ls native)
	km_core=$(ls km)
	[ "$(echo "$native_core" | wc -l)" = 1 ] || fail "native left: $native_core"
	assert_equal "$(echo "$km_core" | sed 's/[0-9]\+/N/g')" "$(echo "$native_core" | sed 's/[0-9]\+/N/g')"
	assert_equal "$(gdb_core "$(prog crash)" "km/$km_core" bt | frames)" \
		"$(gdb_core "$(native crash)" "native/$native_core" bt | frames)"
	# No limit, no core, as natively.
	rm -f native/* km/*
	run wait_status bash -c "cd km && ulimit -c 0 && exec km $(prog crash) segv"
	assert_output "signal 11 core 0"
	run wait_status bash -c "cd native && ulimit -c 0 && exec $(native crash) segv"
	assert_output "signal 11 core 0"
	assert_equal "$(ls km native)" "$(printf 'km:\n\nnative:')"
}

@test "no core after a change of credentials or PR_SET_DUMPABLE 0, natively and under km" {
	[ "$(id -u)" = 0 ] || skip "needs root, to change user"
	mkdir native km
	chmod 777 native km
	for mode in setuid undumpable; do
		run wait_status bash -c "cd km && ulimit -c unlimited && exec km $(prog crash) $mode"
		assert_output "signal 11 core 0"
		run wait_status bash -c "cd native && ulimit -c unlimited && exec $(native crash) $mode"
		assert_output "signal 11 core 0"
		assert_equal "$(ls km native)" "$(printf 'km:\n\nnative:')"
	done
	# --core asks for one: km says why there is none.
	run km --core="$PWD/km/core" "$(prog crash)" setuid
	assert_failure 139
	assert_line --regexp "^km: .*crash\.km: no core file: the program changed its credentials or is not dumpable$"
	assert_equal "${#lines[@]}" 2
	[ ! -e km/core ]
}

@test "a multi-threaded crash: every thread in the core, each in its own function, the faulting one first" {
	run wait_status km --core="$PWD/threads.core" "$(prog crash)" threads
	assert_output --regexp "^signal 11 core [01]$"
	run gdb_core "$(prog crash)" threads.core 'info threads' 'thread apply all bt'
	assert_success
	assert_equal "$(echo "$output" | grep -cE '^\*? +[0-9]+ +LWP [0-9]+')" 9
	assert_line --regexp '^\* 1 +LWP [0-9]+ +write_through \('
	for n in 0 1 2 3 4 5 6 7; do
		assert_equal "$(echo "$output" | grep -cE "^#0 .*spin_in_$n \(")" 1
	done
	assert_equal "$(echo "$output" | grep -cE '^#1 .* in spinner \(')" 8
	# Each thread's backtrace ends at __clone, the outermost frame, as glibc's end at clone3.
	assert_equal "$(echo "$output" | grep -cE '^#3 .* in __clone \(\)$')" 8
	refute_output --partial "error reading variable"
}

@test "a C++ exception nobody catches: SIGABRT's core shows terminate, the throw and the calls to it" {
	run wait_status bash -c "ulimit -c unlimited; exec km --core=$PWD/throw.core $(prog crash_throw)"
	assert_output "signal 6 core 1"
	run gdb_core "$(prog crash_throw)" throw.core bt
	assert_output --partial "Program terminated with signal SIGABRT, Aborted."
	assert_regex "$(echo "$output" | frames)" \
		'raise abort .* std::terminate __cxa_throw parse_config load main$'
}

@test "an unmodified dynamic glibc program's core: its shared libraries, threads through libthread_db, the calls" {
	local program
	program=$(native crash_glibc)
	run wait_status km --core="$PWD/glibc.core" "$program" threads
	assert_output --regexp "^signal 11 core [01]$"
	run gdb_core "$program" glibc.core 'info sharedlibrary' 'info threads' 'bt'
	assert_success
	assert_line --regexp '^0x[0-9a-f]+ +0x[0-9a-f]+ +Yes +/lib/x86_64-linux-gnu/libc\.so\.6$'
	assert_line --regexp '^0x[0-9a-f]+ +0x[0-9a-f]+ +Yes +/lib64/ld-linux-x86-64\.so\.2$'
	assert_equal "$(echo "$output" | grep -cE '^\*? +[0-9]+ +Thread 0x[0-9a-f]+ \(LWP [0-9]+\)')" 9
	assert_equal "$(echo "$output" | frames)" "write_through descend descend descend descend main"
}

@test "SIGQUIT from outside and a division by zero: cores of a program stopped in a call and of SIGFPE" {
	env --default-signal=QUIT km --core="$PWD/quit.core" "$(prog crash)" quit >quit.out 2>&1 &
	local pid=$!
	for _ in $(seq 100); do
		grep -q ready quit.out && break
		sleep 0.1
	done
	kill -QUIT "$pid"
	wait "$pid" || true
	run gdb_core "$(prog crash)" quit.core bt
	assert_output --partial "Program terminated with signal SIGQUIT, Quit."
	assert_output --regexp "#[0-9]+ .* main \("
	run wait_status km --core="$PWD/fpe.core" "$(prog crash)" fpe
	assert_output --regexp "^signal 8 core [01]$"
	run gdb_core "$(prog crash)" fpe.core bt
	assert_output --partial "Program terminated with signal SIGFPE, Arithmetic exception."
	assert_output --regexp "#0 .*main \(.*crash\.c:$(crash_line 'crash_marker / divisor')"
}

@test "--core reaches the program an exec starts: a shell that execs the crashing program" {
	run wait_status km --core="$PWD/exec.core" /bin/sh -c "exec $(prog crash) segv"
	assert_output --regexp "^signal 11 core [01]$"
	run gdb_core "$(prog crash)" exec.core bt
	assert_equal "$(echo "$output" | frames)" "write_through descend descend descend descend main"
}

@test "bad --core: an empty name is km's usage error; a path it cannot write is one line, the signal as ever" {
	run km --core= "$(prog crash)" segv
	assert_failure 2
	assert_output "km: --core needs a file name"
	run wait_status km --core=/nonexistent/dir/core "$(prog crash)" segv
	assert_output "signal 11 core 0"
	run km --core=/nonexistent/dir/core "$(prog crash)" segv
	assert_failure 139
	assert_line --regexp "^km: .*crash\.km: could not write the core file /nonexistent/dir/core: No such file or directory$"
	assert_equal "${#lines[@]}" 2
}
