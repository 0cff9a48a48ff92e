#!/usr/bin/env bats
# Processes: km forks and execs itself for the guest; each case is checked against the same
# source built natively with musl-gcc.

setup() {
	load helpers
	need_kvm
}

@test "fork gives the child its own copy of memory and the parent the child's status" {
	same_as_native process fork
	assert_success
	assert_output "ok: child saw 'ba 2', exited 7; parent still has a 1"
}

@test "fork from a process with busy threads, 20 times; each child runs a thread" {
	same_as_native process fork-threads
	assert_success
	assert_output "ok: 20 forks from a process with 3 busy threads, each child ran a thread"
}

@test "exit, SIGTERM and SIGSEGV statuses through waitid, waitpid and SIGCHLD" {
	same_as_native process statuses
	assert_success
	assert_output "ok: exit 3 by waitid after SIGCHLD, SIGTERM and SIGSEGV deaths by waitpid, then ECHILD"
}

@test "fork with no room left under RLIMIT_NPROC fails with EAGAIN, and the program goes on" {
	same_as_native process no-room
	assert_success
	assert_output "ok: as user 65534 with RLIMIT_NPROC 4, fork fails with EAGAIN after 1 to 3 children"
}

@test "vfork waits for the child's exit or exec" {
	same_as_native process vfork
	assert_success
	assert_output "vfork child exited 5; exec'd child printed: from vfork"
}

@test "posix_spawn with file actions, and ENOENT for a missing program" {
	same_as_native process spawn
	assert_success
	assert_output "spawned child printed: spawned child
a missing program: ENOENT"
}

@test "exec keeps the pid, plain fds, ignored signals, the mask and pending signals; argv[0] is the caller's" {
	same_as_native process exec
	assert_success
	assert_output "ok: same pid, argv[0] another-name, fd 5 open, fd 6 closed, SIGUSR1 blocked, SIGUSR2 ignored, SIGHUP default, SIGUSR1 and SIGRTMIN+1 (7, 8) still pending"
}

@test "a #! script runs its interpreter; bad programs fail execve with Linux's errors" {
	same_as_native process scripts
	assert_success
	assert_output "the interpreter got its argument, the script's path and the script's args; execve errors ENOEXEC, EACCES, ENOENT, EACCES"
}

@test "process groups and sessions" {
	same_as_native process groups
	assert_success
	assert_output "ok: setpgid and setsid in children; getpgrp and getsid agree"
}

@test "exec of a dynamically linked program runs it; with its interpreter missing, execve fails with ENOENT, as Linux" {
	run --separate-stderr km "$(prog process)" exec-dynamic /bin/true
	assert_success
	assert_output ""
	same_as_native process exec-dynamic "$(no_interp_program)"
	assert_output "execve $BATS_TEST_TMPDIR/no-interp: No such file or directory"
}

@test "exec of a program km cannot load fails with ENOEXEC before the exec, not after it" {
	kontain-gcc -o "$BATS_TEST_TMPDIR/full.km" "$PROGRAMS/hello.c"
	head -c 3000 "$BATS_TEST_TMPDIR/full.km" >"$BATS_TEST_TMPDIR/cut.km"
	chmod +x "$BATS_TEST_TMPDIR/cut.km"
	run --separate-stderr km "$(prog process)" exec-dynamic "$BATS_TEST_TMPDIR/cut.km"
	assert_success
	assert_output "execve $BATS_TEST_TMPDIR/cut.km: ENOEXEC"
	[ -z "$stderr" ]
}

@test "exec of /proc/self/exe runs the program again, not km" {
	same_as_native process exec-self
	assert_success
	assert_output "ok: exec of /proc/self/exe, and of a symlink to it, runs this program again"
}

@test "signal 64 from another process while the program forks ends a child or nothing" {
	same_as_native process signal-while-forking
	assert_success
	assert_output "ok: 50 children sent signal 64 while they forked: each exited or died of it"
	refute [ "${stderr#*internal error}" != "$stderr" ]
}

# system() and popen() run /bin/sh. km runs static programs, so here /bin/sh is Debian's
# static busybox, bound over it in a mount namespace, as a runenv image would ship one.
@test "system and popen through a static /bin/sh" {
	[ -x /bin/busybox ] || fail "busybox-static is not installed"
	with_static_sh() { unshare -m sh -c 'mount --bind /bin/busybox /bin/sh && exec "$@"' sh "$@"; }
	run --separate-stderr with_static_sh "$(native process)" shell
	native_status=$status native_output=$output
	run --separate-stderr with_static_sh km "$(prog process)" shell
	[ "$status" = "$native_status" ] && [ "$output" = "$native_output" ] ||
		fail "native ($native_status): $native_output; km ($status): $output; stderr: $stderr"
	assert_success
	assert_output "from system
system exited 4; popen read: from popen"
}

@test "/proc/self exe, cmdline, environ, auxv and maps describe the program, not km" {
	same_as_native process proc-self an argument "and another"
	assert_success
	assert_output "ok: /proc/self: exe, cmdline, environ, auxv and maps describe this program"
}

@test "SIGCHLD ignored or SA_NOCLDWAIT leaves no child to wait for" {
	same_as_native process no-zombies
	assert_success
	assert_output "ok: no zombies with SIGCHLD ignored or SA_NOCLDWAIT (whose handler still runs); waitpid again once SIGCHLD is default"
}

@test "getpid does not exit, in the parent or in a forked child" {
	run km --log-to="$BATS_TEST_TMPDIR/log" "$(prog process)" fork
	assert_success
	assert_output "ok: child saw 'ba 2', exited 7; parent still has a 1"
	run grep -c '^km: getpid(' "$BATS_TEST_TMPDIR/log"
	assert_output 0
	# The child's km logs to the same file: its fork returned 0.
	run grep -c '^km: fork(.*) = 0$' "$BATS_TEST_TMPDIR/log"
	assert_output 1
}

@test "km -v logs to the same file across an exec from another directory" {
	cd "$BATS_TEST_TMPDIR"
	run km --log-to=trace.log "$(prog process)" chdir-exec
	assert_success
	assert_output "after chdir"
	run grep -c '^km: chdir(' trace.log
	assert_output 1
	run grep -c '^km: exit_group(' trace.log
	assert_output 1
	[ ! -e /trace.log ]
}

@test "a km that an execve started and that cannot load the program kills it with SIGSEGV, as Linux past execve's point of no return" {
	# The km a guest's execve starts gets --kvm-fd; the program it was to run
	# changed after the old km checked it (here: never was).
	run km --kvm-fd=3 "$BATS_TEST_TMPDIR/gone" 3</dev/kvm
	assert_failure 139
	assert_line --partial "km: cannot open program '$BATS_TEST_TMPDIR/gone'"
	# Started by hand, the same bad input is status 2.
	run km "$BATS_TEST_TMPDIR/gone"
	assert_failure 2
}
