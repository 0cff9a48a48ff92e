#!/usr/bin/env bats
# Debugging a unikernel as any Linux program: Debian's gdb on a running
# program through km's gdb stub, and core files that gdb reads with the
# program (docs/debugging.md).

setup() {
	load helpers
	need_kvm
	cd "$BATS_TEST_TMPDIR"
	kp=""
}

teardown() {
	if [ -n "$kp" ]; then
		kill -9 "$kp" 2>/dev/null || true
	fi
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

# ---- gdb on a running program (km --gdb) -------------------------------------

# The port of km.err's line "WHO on 127.0.0.1:PORT (...)" (default: the first such line), once
# km has printed it (30 s at most); fails the test if it never does.
gdb_port() { # [WHO]
	local who=${1:-} port=""
	for _ in $(seq 600); do
		port=$(sed -n "s/.*$who on 127\\.0\\.0\\.1:\\([0-9]*\\) .*/\\1/p" km.err | head -1)
		[ -n "$port" ] && break
		sleep 0.05
	done
	[ -n "$port" ] || fail "km did not say ${who:-where} it waits for gdb: $(cat km.err)"
	echo "$port"
}

# Waits (20 s at most) for FILE to hold a line matching TEXT.
wait_for_line() { # FILE TEXT
	for _ in $(seq 400); do
		grep -q "$2" "$1" && return
		sleep 0.05
	done
}

# km runs PROGRAM ARGS... stopped for gdb on a free port; Debian's gdb (batch)
# connects and runs each COMMAND: gdb's output in $output, km's exit status
# in $km_status, its output in km.out and km.err.
gdb_km() { # PROGRAM [ARGS...] -- COMMAND...
	local args=() cmds=() port
	while [ "$1" != -- ]; do
		args+=("$1")
		shift
	done
	shift
	for c in "$@"; do
		cmds+=(-ex "$c")
	done
	: >km.out
	: >km.err # before km starts: the loops below read them at once
	km --gdb=0 "${args[@]}" >km.out 2>km.err &
	kp=$! # global: teardown ends it if a test fails first
	port=$(gdb_port)
	output=$(timeout 300 gdb -nx -batch -ex "target remote 127.0.0.1:$port" "${cmds[@]}" \
		"${args[0]}" 2>&1)
	km_status=0
	wait "$kp" || km_status=$?
	lines=()
	mapfile -t lines <<<"$output"
}

@test "gdb: a breakpoint, the calls to it, an argument, a call from gdb, a memory write, finish, the program's own exit" {
	gdb_km "$(prog debuggee)" -- 'break square' continue bt 'print x' 'print scale(1.5, 2)' \
		'set var counter = 42' 'x/4xb &counter' finish delete continue
	assert_output --regexp "Breakpoint 1, square \(x=(x@entry=)?1\) at .*debuggee\.c:[0-9]+"
	assert_equal "$(echo "$output" | frames)" "square accumulate main"
	assert_line '$1 = 1'
	assert_line '$2 = 3'
	assert_output --regexp "0x[0-9a-f]+ <counter>:"$'\t'"0x2a"$'\t'"0x00"$'\t'"0x00"$'\t'"0x00"
	assert_output --partial "Value returned is \$3 = 1"
	assert_output --partial "exited normally"
	assert_equal "$km_status" 0
	assert_equal "$(cat km.out)" "total 55"
	assert_equal "$(cat km.err)" "km: waiting for gdb on 127.0.0.1:$(sed -n 's/.*:\([0-9]*\) (.*/\1/p' km.err) (target remote 127.0.0.1:$(sed -n 's/.*:\([0-9]*\) (.*/\1/p' km.err))"
}

@test "gdb: next, step into a call and out of it, stepi to the next instruction" {
	gdb_km "$(prog debuggee)" -- 'break accumulate' continue next next step step 'x/2i $pc' stepi 'print $pc'
	assert_output --regexp "square \(x=(x@entry=)?1\) at .*debuggee\.c:$(grep -n 'return x \* x' "$BATS_TEST_DIRNAME/programs/debuggee.c" | cut -d: -f1)"
	local next_insn
	next_insn=$(echo "$output" | sed -n 's/^   \(0x[0-9a-f]*\) <accumulate+[0-9]*>:.*/\1/p' | head -1)
	[ -n "$next_insn" ] || fail "no next instruction in: $output"
	assert_output --regexp "\\\$1 = \(void \(\*\)\(\)\) $next_insn <accumulate\+[0-9]+>"
}

@test "gdb: a watchpoint shows each write's old and new value; a hardware breakpoint stops" {
	gdb_km "$(prog debuggee)" -- 'watch counter' continue continue delete 'hbreak square' continue 'print x' delete continue
	assert_output --partial "Hardware watchpoint 1: counter"
	assert_output --regexp "Old value = 0"$'\n'"New value = 1"
	assert_output --regexp "Old value = 1"$'\n'"New value = 2"
	assert_output --regexp "Breakpoint 2, square \(x=(x@entry=)?2\)"
	assert_line '$1 = 2'
	assert_equal "$(cat km.out)" "total 55"
}

@test "gdb: SSE registers hold the arguments, AVX's upper halves show, a written register changes the result" {
	gdb_km "$(prog debuggee)" float -- 'break scale' continue 'print $xmm0.v2_double[0]' \
		'print $xmm1.v2_double[0]' 'info registers mxcsr' 'info registers eflags' 'print $fs_base != 0' \
		'set var $xmm1.v2_double[0] = 10' continue
	assert_line '$1 = 2.5'
	assert_line '$2 = 4'
	assert_output --regexp "mxcsr +0x1f80 +\[ IM DM ZM OM UM PM \]"
	assert_output --regexp "eflags +0x[0-9a-f]+ +\[ .*IF .*\]"
	assert_line '$3 = 1'
	assert_equal "$(cat km.out)" "scaled 25"
	# AVX where the guest has it: ymm0 holds xmm0 in its low half.
	gdb_km "$(prog debuggee)" float -- 'break scale' continue 'info registers ymm0' 'print $ymm0.v4_double[0]'
	if [[ $output == *"Invalid register"* ]]; then
		echo "# no AVX in this guest: ymm registers not checked" >&3
	else
		assert_line '$1 = 2.5'
	fi
}

@test "gdb: nine threads stopped together, each in its own function, each with its own thread-local value" {
	gdb_km "$(prog debuggee)" threads -- 'break checkpoint' continue 'info threads' 'print tls_value - 100 == id' \
		'thread apply all bt' 'thread apply all print tls_value' delete continue
	assert_output --regexp "hit Breakpoint 1, checkpoint \(id=(id@entry=)?[0-7]\)"
	assert_equal "$(echo "$output" | grep -c '^[* ] *[0-9]\+ \+Thread [0-9]\+ "debuggee.km"')" 9
	assert_line '$1 = 1'
	for n in 0 1 2 3 4 5 6 7; do
		assert_output --regexp "in work_$n \(\) at .*debuggee\.c"
		assert_output --regexp "= 10$n"
	done
	assert_equal "$(cat km.out)" "threads done"
}

@test "gdb: a thread named with XML's special characters and a control byte is listed, not refused" {
	gdb_km "$(prog debuggee)" name -- 'break square' continue 'info threads' delete continue
	assert_line --regexp "^\* 1 +Thread [0-9]+ \"a<b>&\"c'\?\" square \("
	assert_equal "$(cat km.out)" "total 5"
}

@test "gdb: a signal stops the program first; passed on, its handler's frame sits on the interrupted calls" {
	gdb_km "$(prog debuggee)" signal -- 'break on_usr1' continue continue bt continue
	assert_output --partial "Program received signal SIGUSR1, User defined signal 1."
	assert_output --regexp "Breakpoint 1, on_usr1 \(sig=10\)"
	assert_output --regexp "#1  <signal handler called>"$'\n'"#2 .* in [_a-z]+ \(\)"
	assert_output --regexp "in raise \(\)"
	assert_equal "$(cat km.out)" "handled 10"
	# gdb's "handle ... nostop pass": straight to the handler.
	gdb_km "$(prog debuggee)" signal -- 'handle SIGUSR1 nostop noprint pass' 'break on_usr1' continue continue
	refute_output --partial "Program received signal SIGUSR1"
	assert_output --regexp "Breakpoint 1, on_usr1 \(sig=10\)"
	assert_equal "$(cat km.out)" "handled 10"
}

@test "gdb: a fault stops at its line; passed on, the program dies of it as without gdb (kontain-gcc and unmodified static)" {
	for program in "$(prog crash)" "$(native crash)"; do
		gdb_km "$program" segv -- continue bt continue
		assert_output --partial "Program received signal SIGSEGV, Segmentation fault."
		assert_output --regexp "write_through \(.*p=0x10\) at .*crash\.c:$(crash_line '*p = value;')"
		assert_output --partial "Program terminated with signal SIGSEGV, Segmentation fault."
		assert_equal "$km_status" 139
	done
}

@test "gdb: a C++ program's frames and arguments, and the abort of an exception nobody catches" {
	gdb_km "$(prog crash_throw)" -- 'break parse_config' continue bt 'info args' continue
	assert_output --regexp "Breakpoint 1, parse_config \(text=\"\"\)|Breakpoint 1, parse_config \(text=\.\.\.\)"
	assert_equal "$(echo "$output" | frames | cut -d' ' -f1-3)" "parse_config load main"
	assert_output --partial "_M_string_length = 0"
	assert_output --partial "Program received signal SIGABRT, Aborted."
}

@test "gdb: an unmodified dynamic glibc program: its shared libraries, a breakpoint in libc" {
	gdb_km "$(native debuggee_glibc)" -- 'break accumulate' continue 'info sharedlibrary' 'break printf' \
		continue bt delete continue
	assert_output --regexp "0x[0-9a-f]+ +0x[0-9a-f]+ +Yes +/lib64/ld-linux-x86-64\.so\.2"
	assert_output --regexp "0x[0-9a-f]+ +0x[0-9a-f]+ +Yes +/lib/x86_64-linux-gnu/libc\.so\.6"
	refute_output --partial "Can't read pathname"
	assert_output --regexp "Breakpoint 2, __printf \(format=.*\"total %d\\\\n\"\)"
	assert_output --regexp "#1 +0x[0-9a-f]+ in main \("
	assert_equal "$(cat km.out)" "total 55"
}

@test "gdb: a forked child runs free of gdb's breakpoints while the parent stops at them" {
	gdb_km "$(prog debuggee)" fork -- 'break square' continue 'print x' delete continue
	assert_output --regexp "Breakpoint 1, square \(x=(x@entry=)?1\)"
	assert_output --partial "exited normally"
	assert_equal "$(cat km.out | sort)" "$(printf 'child total 14\nparent total 14, child status 0')"
}

@test "gdb: with --gdb-fork=wait a forked child waits for a gdb of its own, on a port km prints" {
	: >km.out
	: >km.err # before km starts: the loops below read them at once
	km --gdb=0 --gdb-fork=wait "$(prog debuggee)" fork >km.out 2>km.err &
	kp=$!
	local port child_port
	port=$(gdb_port "waiting for gdb")
	timeout 300 gdb -nx -batch -ex "target remote 127.0.0.1:$port" -ex 'break square' -ex continue \
		-ex delete -ex continue "$(prog debuggee)" >parent.gdb 2>&1 &
	local gp=$!
	child_port=$(gdb_port "child [0-9]* waits for gdb")
	run timeout 300 gdb -nx -batch -ex "target remote 127.0.0.1:$child_port" -ex bt -ex 'break square' \
		-ex continue -ex 'print x' -ex delete -ex continue "$(prog debuggee)"
	assert_output --regexp "in fork \(\)"
	assert_output --regexp "Breakpoint 1, square \(x=(x@entry=)?1\)"
	assert_output --partial "exited normally"
	wait "$gp"
	run cat parent.gdb
	assert_output --regexp "Breakpoint 1, square \(x=(x@entry=)?1\)"
	assert_output --partial "exited normally"
	wait "$kp"
	assert_equal "$(sort km.out)" "$(printf 'child total 14\nparent total 14, child status 0')"
	assert_equal "$(sed 's/:[0-9]\+/:PORT/g; s/child [0-9]*/child PID/' km.err)" \
		"$(printf 'km: waiting for gdb on 127.0.0.1:PORT (target remote 127.0.0.1:PORT)\nkm: child PID waits for gdb on 127.0.0.1:PORT (target remote 127.0.0.1:PORT)')"
}

@test "gdb follows an exec: the new program stops at a breakpoint of its own, then exits" {
	gdb_km "$(prog debuggee)" exec -- 'break accumulate' continue bt continue
	assert_output --partial "is executing new program: $(prog debuggee)"
	assert_output --regexp "Breakpoint 1, accumulate \(n=(n@entry=)?5\)"
	assert_equal "$(echo "$output" | frames)" "accumulate main"
	assert_output --partial "exited normally"
	assert_equal "$(cat km.out)" "$(printf 'exec %s\ntotal 55' "$(prog debuggee)")"
}

@test "gdb: interrupted (Ctrl-C) while the program runs, it stops where it spins; gdb releases it" {
	: >km.out
	: >km.err # before km starts: the loops below read them at once
	km --gdb=0 "$(prog debuggee)" wait >km.out 2>km.err &
	kp=$!
	local port
	port=$(gdb_port)
	gdb -nx -batch -ex "target remote 127.0.0.1:$port" -ex continue -ex 'bt 1' \
		-ex 'set var released = 1' -ex continue "$(prog debuggee)" >gdb.out 2>&1 &
	local gp=$!
	wait_for_line km.out ready
	sleep 0.5
	kill -INT "$gp"
	wait "$gp"
	wait "$kp"
	run cat gdb.out
	assert_output --partial "Program received signal SIGINT, Interrupt."
	assert_output --regexp "#0 .*main \(.*debuggee\.c:$(grep -n 'while (!released)' "$BATS_TEST_DIRNAME/programs/debuggee.c" | cut -d: -f1)"
	assert_output --partial "exited normally"
	assert_equal "$(cat km.out)" "$(printf 'ready\nreleased')"
}

@test "gdb attaches to a running program (--gdb-attach), changes a variable, detaches; the program goes on" {
	: >km.out
	: >km.err # before km starts: the loops below read them at once
	km --gdb-attach=0 "$(prog debuggee)" wait >km.out 2>km.err &
	kp=$!
	local port
	port=$(gdb_port)
	wait_for_line km.out ready
	assert_equal "$(sed 's/:[0-9]\+/:PORT/g' km.err)" "km: ready for gdb on 127.0.0.1:PORT (target remote 127.0.0.1:PORT)"
	run timeout 120 gdb -nx -batch -ex "target remote 127.0.0.1:$port" -ex 'bt 1' -ex 'set var released = 1' \
		-ex detach "$(prog debuggee)"
	assert_output --regexp "#0 .*main \("
	assert_output --partial "detached"
	wait "$kp"
	assert_equal "$(cat km.out)" "$(printf 'ready\nreleased')"
}

@test "bad gdb options and a port in use: one line each, and no program run" {
	run km --gdb=abc "$(prog hello)"
	assert_failure 2
	assert_output "km: bad --gdb port 'abc': use a number from 0 to 65535"
	run km --gdb=70000 "$(prog hello)"
	assert_failure 2
	assert_output "km: bad --gdb port '70000': use a number from 0 to 65535"
	run km --gdb-listen=1.2.3:5 "$(prog hello)"
	assert_failure 2
	assert_output "km: bad --gdb-listen address '1.2.3': use an IPv4 address such as 127.0.0.1"
	run km --gdb-attach=:5 "$(prog hello)"
	assert_failure 2
	assert_output "km: bad --gdb-attach address ':5': use PORT or ADDR:PORT"
	run km --gdb=0 --gdb-fork=maybe "$(prog hello)"
	assert_failure 2
	assert_output "km: bad --gdb-fork 'maybe': use wait or free"
	python3 -c 'import socket,time,sys; s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(); print(s.getsockname()[1], flush=True); time.sleep(30)' >port.txt &
	local holder=$!
	for _ in $(seq 100); do
		[ -s port.txt ] && break
		sleep 0.05
	done
	run km --gdb="$(cat port.txt)" "$(prog hello)"
	kill "$holder"
	assert_failure 1
	assert_output "km: cannot listen for gdb on 127.0.0.1:$(cat port.txt): Address already in use"
}
