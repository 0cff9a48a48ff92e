#!/usr/bin/env bats
# Programs nobody built for km, started as a shell would start them: km finds
# them in PATH and runs "#!" scripts through their interpreter, each compared
# with the same command run natively (issue 13).

setup() {
	load helpers
	need_kvm
	[ -x /bin/busybox ] || fail "busybox-static is not installed"
	bin=$BATS_TEST_TMPDIR/bin
	mkdir -p "$bin"
}

# Runs CMD... natively, then under km, both with PATH=$bin:$PATH: the same
# stdout and exit status.
same_as_native_cmd() {
	run --separate-stderr env PATH="$bin:$PATH" "$@"
	native_status=$status native_output=$output
	run --separate-stderr env PATH="$bin:$PATH" km "$@"
	assert_as_native
}

@test "km PROGRAM finds a program in PATH as execvp does" {
	cp /bin/busybox "$bin/busybox-in-path"
	same_as_native_cmd busybox-in-path echo found in PATH
	assert_output "found in PATH"
}

@test "a name in the current directory runs as before, ahead of PATH (km app.km)" {
	cp "$(prog hello)" "$BATS_TEST_TMPDIR/app.km"
	printf '#!/bin/busybox sh\necho the one in PATH\n' >"$bin/app.km"
	chmod +x "$bin/app.km"
	cd "$BATS_TEST_TMPDIR"
	run --separate-stderr env PATH="$bin:$PATH" "$KONTAIN/bin/km" app.km
	assert_success
	assert_output "Hello, world!"
}

@test "a name found nowhere, or only as a file that cannot run, is one line and status 2" {
	cd "$BATS_TEST_TMPDIR"
	run --separate-stderr env PATH="$bin" "$KONTAIN/bin/km" no-such-program
	assert_failure 2
	assert_equal "$stderr" "km: cannot run 'no-such-program': no such file, here or in PATH"
	echo 'echo hi' >"$bin/not-executable"
	run --separate-stderr env PATH="$bin" "$KONTAIN/bin/km" not-executable
	assert_failure 2
	assert_equal "$stderr" "km: cannot run 'not-executable': Permission denied"
}

@test "a #! script runs as the top-level program with Linux's arguments" {
	printf '#!/bin/busybox sh\necho "$0" "$#" "$1" "$2"\nexit 3\n' >"$bin/script"
	chmod +x "$bin/script"
	same_as_native_cmd "$bin/script" "one arg" two
	assert_failure 3
	assert_output "$bin/script 2 one arg two"
	same_as_native_cmd script again
	assert_output "$bin/script 1 again "
}

@test "a #! line's argument is one word for the interpreter, its ends trimmed, as on Linux" {
	printf '#!%s  one  two  \n' "$(prog args_env)" >"$bin/args-script"
	chmod +x "$bin/args-script"
	run --separate-stderr km "$bin/args-script" three
	assert_success
	assert_line --index 0 "argc=4"
	assert_line --index 1 "argv[0]=$(prog args_env)"
	assert_line --index 2 "argv[1]=one  two"
	assert_line --index 3 "argv[2]=$bin/args-script"
	assert_line --index 4 "argv[3]=three"
}

@test "a script whose interpreter is missing is one line and status 2" {
	printf '#!/no/such/interpreter\n' >"$bin/bad"
	chmod +x "$bin/bad"
	run --separate-stderr km "$bin/bad"
	assert_failure 2
	assert_equal "$stderr" "km: cannot run '$bin/bad': bad interpreter '/no/such/interpreter': No such file or directory"
}

# Runs the natively built program NAME (musl-gcc -static: it makes its calls
# with the `syscall` instruction) with ARGS natively and under km: the same
# stdout and exit status.
native_and_km() {
	local name=$1
	shift
	same_as_native_cmd "$(native "$name")" "$@"
}

@test "a natively built static program takes its signals under km as natively, through the syscall instruction" {
	local c
	for c in raise mask segv rip fpe altstack resethand suspend timedwait eintr alarm fpu \
		sigpipe sigpipe-ignored sent-faults; do
		native_and_km signals "$c"
	done
}

@test "natively built threads that exit off their own unmapped stack, wait on futexes, and hold robust mutexes" {
	local c i
	for c in detached exit main-exits robust futex timeout condvar; do
		native_and_km threads "$c"
	done
	# SIGEV_THREAD timers end their threads through musl's unmapped-stack exit: it raced.
	for i in $(seq 10); do
		native_and_km signals timers
	done
}

@test "busybox sh: background jobs and wait, traps on TERM and CHLD, \$(...), pipelines, exit statuses" {
	local c
	for c in 'sleep 0.2 & wait; echo waited $?' \
		'trap "echo got TERM" TERM; kill -TERM $$; echo after' \
		'trap "echo got CHLD" CHLD; /bin/busybox true; sleep 0.1; echo end' \
		'sleep 5 & kill $!; wait $!; echo status $?' \
		'x=$(echo sub); echo "$x" $(echo two)' \
		'echo a b c | (read x y z; echo "$z$y$x")' \
		'(exit 3); echo $?; false | true; echo $?' \
		'for i in 1 2 3; do sleep 0.05 & done; wait; echo all done'; do
		same_as_native_cmd /bin/busybox sh -c "$c"
	done
}

@test "getpriority and setpriority work on the calling thread and answer as Linux" {
	same_as_native more_calls priority
	assert_success
	assert_line "the thread's nice went up by one: yes"
	assert_line "getpriority(PRIO_PROCESS, no such pid): ESRCH"
}

@test "sendfile moves bytes with and without an offset, which it reads and updates once" {
	same_as_native more_calls sendfile
	assert_success
	assert_line "sendfile(offset 4, 6 bytes): 456789, offset now 10, file position 0"
	assert_line "sendfile(offset at an unmapped address): EFAULT"
}

@test "memfd_create gives a file that maps shared, with Linux's name limit and errors" {
	same_as_native more_calls memfd
	assert_success
	assert_line 'memfd_create: mapped it reads "in memory", close-on-exec set'
	assert_line "memfd_create(a 299-byte name): EINVAL"
}

@test "a child drops root for nobody with setgroups, setresgid and setreuid, as natively; capget answers" {
	[ "$(id -u)" = 0 ] || skip "needs root, to drop it"
	same_as_native more_calls identity
	assert_success
	assert_line "now uid 65534 euid 65534 suid 65534 gid 65534"
	assert_line "open /etc/shadow: EACCES"
	assert_line "setuid(0): EPERM"
	assert_line "the parent is still root: yes"
	assert_line "capget(version 0): EINVAL, version written back: v3"
}

@test "a child that dropped root for a user who may not open /dev/kvm still execs (subprocess's user=)" {
	[ "$(id -u)" = 0 ] || skip "needs root, to drop it"
	same_as_native_cmd /usr/bin/python3 -c 'import subprocess
print(subprocess.check_output(["/usr/bin/id", "-u"], user=65534).decode().strip())'
	assert_success
	assert_output 65534
}

@test "sethostname and clock_settime are the kernel's answers, not ENOSYS" {
	same_as_native more_calls uts
	assert_success
	assert_line "sethostname(65 bytes): EINVAL"
	assert_line "clock_settime(CLOCK_MONOTONIC): EINVAL"
	assert_line "clock_settime(CLOCK_REALTIME, unmapped): EFAULT"
}

@test "clone3 makes a process as fork does, and checks its size and arguments as Linux" {
	same_as_native more_calls clone3
	assert_success
	assert_line "clone3 as fork: the child exited 7"
	assert_line "clone3(size 8192): E2BIG"
	assert_line "clone3(a larger struct, its tail not 0): E2BIG"
	assert_line "clone3(a stack size, no stack): EINVAL"
}

@test "pidfds of the program and of a child: signals, sigqueue, poll and waitid(P_PIDFD), as natively" {
	same_as_native more_calls pidfd
	assert_success
	assert_line "to itself: the handler ran before the call returned: yes"
	assert_line "sigqueue to the child: value 7"
	assert_line "waitid(P_PIDFD): exited 0, readable after: yes"
	assert_line "pidfd_send_signal SIGTERM to a child: killed by it"
}

@test "Linux AIO: reads, writes, fsync, POLL, an eventfd told, cancel, and Linux's errors, as natively" {
	same_as_native more_calls aio
	assert_success
	assert_line "read back: 'hello aio', at 100: 'vector'"
	assert_line "after a write: 1 event, data 9, POLLIN: yes"
	assert_line "io_cancel of a waiting POLL: EINPROGRESS"
	assert_line "the eventfd counted 1"
	assert_line "IOCB_FLAG_RESFD on a full eventfd: success"
	assert_line "io_submit in a forked child: EINVAL"
	assert_line "a waiting thread got another's event: 1"
	assert_line "io_getevents ended by SIGALRM (SA_RESTART): EINTR"
}

@test "glibc's threads start through clone3 under km, not its fallback" {
	run km -v --log-to="$BATS_TEST_TMPDIR/log" /usr/bin/python3 -c '
import threading
t = threading.Thread(target=print, args=("in a thread",)); t.start(); t.join()'
	assert_success
	assert_output "in a thread"
	run grep -E '^km: clone3\(' "$BATS_TEST_TMPDIR/log"
	assert_success
	refute_output --regexp '= -[0-9]+$'
}

@test "a pseudo-terminal as openpty makes one: grantpt, unlockpt, ptsname, TIOCGPTPEER" {
	same_as_native more_calls pty
	assert_success
	assert_output "unlocked: yes
the slave read: hello
the master read: back
TIOCOUTQ: 0
TIOCGPTN(at an unmapped address): EFAULT"
}

@test "the FP environment is the program's own across calls, signals, threads, fork and exec" {
	local no_avx="ymm registers: no AVX here"
	local native_status native_output
	run --separate-stderr "$(native fpenv)"
	native_status=$status native_output=$output
	run --separate-stderr km "$(prog fpenv)"
	# Where KVM's CPUID has no XSAVE (PVM with CPUID faulting) the guest's
	# OSXSAVE is clear, so it does not use AVX: the one line that may differ.
	if [[ $output == *"$no_avx"* && $native_output != *"$no_avx"* ]]; then
		echo "# the VM's CPUID shows no OSXSAVE (KVM's supported CPUID has no XSAVE): the ymm case runs natively only" >&3
		native_output=$(echo "$native_output" | sed "s/^ymm registers survive signals that change them: yes$/$no_avx/")
	fi
	assert_as_native
	assert_success
	assert_line "set: mxcsr 0x7ba0 fcw 0x027f fsw-flags 0x20"
	assert_line "after 100 calls: mxcsr 0x7ba0 fcw 0x027f fsw-flags 0x20"
	assert_line "in a handler: mxcsr 0x1f80 fcw 0x037f fsw-flags 0x00"
	assert_line "after the handler: mxcsr 0x7ba0 fcw 0x027f fsw-flags 0x20"
	assert_line "in a new thread: mxcsr 0x7ba0 fcw 0x027f fsw-flags 0x20"
	assert_line "in the forked child: mxcsr 0x7ba0 fcw 0x027f fsw-flags 0x20"
	assert_line "after exec: mxcsr 0x1f80 fcw 0x037f fsw-flags 0x00"
	assert_line --regexp '^ymm registers(: no AVX here| survive signals that change them: yes)$'
	local native_out=$output
	run --separate-stderr km "$(native fpenv)"
	assert_success
	assert_output "$native_out"
}

@test "System V message queues and semaphores between a process and its child, as natively" {
	same_as_native more_calls sysv
	assert_success
	assert_line 'msgrcv from the child: type 2, "hello"'
	assert_line "msgrcv(empty, IPC_NOWAIT): ENOMSG"
	assert_line "after one down: 2 0, GETVAL 2"
	assert_line "semtimedop on a zero semaphore, 10 ms: EAGAIN"
	assert_line "semop(at an unmapped address): EFAULT"
}

@test "System V shared memory attached twice and in a forked child, detached, as natively" {
	same_as_native more_calls shm
	assert_success
	assert_line "the second attachment reads: shared"
	assert_line "the child wrote: from the child"
	assert_line "shmat(over a, SHM_RND | SHM_REMAP): success, same place: yes"
	assert_line "attached 0 times after shmdt"
	assert_line "shmdt again: EINVAL"
}

@test "extended attributes: set, get, list and remove as natively, with Linux's limits" {
	cd "$BATS_TEST_TMPDIR"
	same_as_native more_calls xattr
	assert_success
	assert_line "setxattr(a 299-byte name): ERANGE"
	assert_line "setxattr(a 70000-byte value): E2BIG"
}

@test "copy_file_range, splice and tee move bytes and update their offsets as natively" {
	cd "$BATS_TEST_TMPDIR"
	same_as_native more_calls copy
	assert_success
	assert_output 'copy_file_range: 5 bytes, "23456", offsets now 7 and 5
splice file to pipe: 3 bytes, offset now 9
tee: 3 bytes, "678", still in the first pipe: "678"
copy_file_range(offset at an unmapped address): EFAULT
splice(a closed fd): EBADF'
}

@test "network interfaces by name and index (if_nametoindex, if_indextoname), as natively" {
	same_as_native more_calls ifname
	assert_success
	assert_output "lo has an index: yes
and back: lo
no such interface: ENODEV"
}

@test "Debian's dynamically linked coreutils run with glibc's ld.so as natively: ls, sort, wc, cat, find" {
	printf 'pear\napple\nfig\n' >"$BATS_TEST_TMPDIR/fruit"
	same_as_native_cmd /bin/ls -la /usr/share/doc/bash
	same_as_native_cmd /usr/bin/sort "$BATS_TEST_TMPDIR/fruit"
	assert_output "apple
fig
pear"
	same_as_native_cmd /usr/bin/wc -l /etc/passwd
	same_as_native_cmd /bin/cat "$BATS_TEST_TMPDIR/fruit" /etc/hostname
	same_as_native_cmd /usr/bin/find /usr/share/doc/bash -name '*.gz' -newer /etc/hostname
}

@test "findutils, tar and gzip: find | xargs, and tar czf and xzf (gzip as tar's child), as natively" {
	local t=$BATS_TEST_TMPDIR
	mkdir -p "$t/tree/a/b" "$t/from_km" "$t/from_native"
	printf 'one\n' >"$t/tree/a/x.txt"
	printf 'two two\n' >"$t/tree/a/b/y.txt"
	printf 'skip\n' >"$t/tree/a/z.log"
	same_as_native_cmd /bin/bash -c 'cd "$1" && find tree -name "*.txt" | sort | xargs wc -c' _ "$t"
	assert_line --regexp '^ *4 tree/a/x.txt$'
	assert_line --regexp '^ *12 total$'
	run km /bin/tar -C "$t" -czf "$t/km.tgz" tree
	assert_success
	/bin/tar -C "$t" -czf "$t/native.tgz" tree
	run /bin/tar -tzf "$t/km.tgz"
	assert_success
	[ "$(sort <<<"$output")" = "$(/bin/tar -tzf "$t/native.tgz" | sort)" ] ||
		fail "km's archive lists otherwise: $output"
	run km /bin/tar -C "$t/from_native" -xzf "$t/native.tgz"
	assert_success
	/bin/tar -C "$t/from_km" -xzf "$t/km.tgz"
	diff -r "$t/tree" "$t/from_native/tree" && diff -r "$t/tree" "$t/from_km/tree"
}

@test "bash, dynamically linked: pipelines, \$(...), background jobs and wait, traps on TERM and CHLD, statuses" {
	local c
	for c in 'ls /usr/share/doc | sort | head -3 | wc -l' \
		'x=$(echo sub | tr a-z A-Z); echo "$x"' \
		'sleep 0.2 & wait $!; echo waited $?' \
		'trap "echo got TERM" TERM; kill -TERM $$; echo after' \
		'trap "echo got CHLD" CHLD; /bin/true; echo end' \
		'(exit 7); echo $?; false | true; echo ${PIPESTATUS[@]}' \
		'for i in 1 2 3; do /bin/sleep 0.05 & done; wait; echo all done'; do
		same_as_native_cmd /bin/bash -c "$c"
	done
}

@test "python3, dynamically linked: threads, subprocess, a socket pair, a signal handler" {
	same_as_native_cmd /usr/bin/python3 -c '
import os, signal, socket, subprocess, sys, threading
out = []
ts = [threading.Thread(target=out.append, args=(i,)) for i in range(8)]
[t.start() for t in ts]; [t.join() for t in ts]
print("threads", sorted(out))
print("subprocess", subprocess.run(["/bin/echo", "child"], capture_output=True, text=True).stdout.strip())
a, b = socket.socketpair(); a.sendall(b"ping"); print("socketpair", b.recv(4))
got = []
signal.signal(signal.SIGUSR1, lambda s, f: got.append(s))
os.kill(os.getpid(), signal.SIGUSR1)
print("signal", got == [signal.SIGUSR1])
sys.exit(3)'
	assert_failure 3
	assert_line "subprocess child"
	assert_line "signal True"
}

# What CPython's regression test runner says of one module: tests run, and the outcome.
regrtest_summary() {
	grep -E '^(Ran [0-9]+ tests?|OK|FAILED)' | sed 's/ in [0-9.]*s$//' | tr '\n' ' '
}

# The quick part of the selection the closing note of issue 13 compares (the whole of it, with
# test_subprocess, test_socket, test_signal, test_threading and test_selectors, takes minutes).
@test "CPython's own regression tests (os, json, re, math, time, select, fcntl, mmap) pass under km as natively" {
	ran_directly "CPython's regression tests"
	[ -d /usr/lib/python3.11/test ] || fail "libpython3.11-testsuite is not installed"
	local m native under_km
	cd "$BATS_TEST_TMPDIR"
	for m in test_os test_json test_re test_math test_time test_select test_fcntl test_mmap; do
		native=$(/usr/bin/python3 -m test -v "$m" 2>&1 | regrtest_summary)
		under_km=$(km /usr/bin/python3 -m test -v "$m" 2>&1 | regrtest_summary)
		[[ $native == "Ran "*" OK"* ]] || fail "$m natively: '$native'"
		[ "$under_km" = "$native" ] || fail "$m: natively '$native', under km '$under_km'"
		echo "# $m: $under_km" >&3
	done
}

@test "sysinfo and sysconf give the guest's memory limit as the machine's memory, as a JVM sizes its heap by" {
	run --separate-stderr km --mem-limit=512M "$(prog more_calls)" memory
	assert_success
	assert_output "sysinfo totalram: 512 MiB, free at most that: yes
sysconf physical pages: 512 MiB
sysinfo(at an unmapped address): EFAULT"
	run --separate-stderr km --mem-limit=512M "$(native more_calls)" memory
	assert_success
	assert_line "sysconf physical pages: 512 MiB"
}

@test "/proc/meminfo gives the memory limit as MemTotal, as sysinfo does; node's os.totalmem agrees" {
	run km --mem-limit=512M /bin/cat /proc/meminfo
	assert_success
	assert_line --index 0 "MemTotal:         524288 kB"
	local free avail host_lines
	free=$(awk '/^MemFree:/ { print $2 }' <<<"$output")
	avail=$(awk '/^MemAvailable:/ { print $2 }' <<<"$output")
	[ "$free" -le 524288 ] && [ "$avail" -le 524288 ] || fail "MemFree $free, MemAvailable $avail"
	host_lines=$(wc -l </proc/meminfo)
	[ "$(wc -l <<<"$output")" -eq "$host_lines" ] ||
		fail "$(wc -l <<<"$output") lines, the host's has $host_lines"
	assert_line --regexp '^Buffers: +[0-9]+ kB$'
	[ -x /usr/bin/node ] || fail "nodejs is not installed"
	run km --mem-limit=512M /usr/bin/node -e 'const os = require("os");
		console.log(os.totalmem(), os.freemem() <= os.totalmem())'
	assert_success
	assert_output "536870912 true"
}

@test "java -version with km's default memory limit and a 512M one: reservations are not memory" {
	[ -x /usr/bin/java ] || fail "openjdk-17-jre-headless is not installed"
	run /usr/bin/java -version
	assert_success
	local native=$output
	run km /usr/bin/java -version
	assert_success
	assert_output "$native"
	run km --mem-limit=512M /usr/bin/java -version
	assert_success
	assert_output "$native"
}

@test "java, dynamically linked: 64 threads, an HTTP server answering its own client, a child process" {
	local classes=$REPO/build/tests/java
	[ -f "$classes/Threads.class" ] || fail "$classes/Threads.class is missing: run make test-programs"
	same_as_native_cmd /usr/bin/java -cp "$classes" Threads
	assert_failure 5
	assert_output "64 threads counted 64000
http 200 hello /client
url hello /url
process said 'child sh', exit 3"
}

@test "node, dynamically linked: an HTTP server answering its own client, child_process, worker_threads, a signal" {
	[ -x /usr/bin/node ] || fail "nodejs is not installed"
	same_as_native_cmd /usr/bin/node "$REPO/sdk-tests/programs/runtimes/server.js"
	assert_failure 6
	assert_output "http 200 hello /client
execSync hi
exec 3
spawn out 4
workers 7999998000000
got SIGUSR2"
}

@test "a program that runs km gets km's program in its place, not a VM inside its VM, and no wider limits" {
	run --separate-stderr km /bin/sh -c 'km /bin/echo hi there; echo status $?'
	assert_success
	assert_output "hi there
status 0"
	run --separate-stderr km --mem-limit=1G /bin/sh -c "km --mem-limit=8G $(prog more_calls) memory"
	assert_success
	assert_line "sysinfo totalram: 1024 MiB, free at most that: yes"
	run --separate-stderr km /bin/sh -c 'km --bogus /bin/true'
	assert_failure 2
	assert_equal "$stderr" "km: unknown option '--bogus'; see km --help"
}

@test "/proc/self/maps names the program, its ELF interpreter and its libraries, with Linux's offsets and rights" {
	# Rights, offset and file name: a path and device can differ under an overlay root (the
	# nested test VM's), where Linux names the lower file.
	files() { awk '$6 ~ /libc\.so\.6|ld-linux|\/cat$/ { n = split($6, p, "/"); print $2, $3, p[n] }'; }
	local native
	native=$(/bin/cat /proc/self/maps | files)
	[ "$(grep -c libc.so.6 <<<"$native")" -ge 4 ] || fail "native maps without libc: $native"
	run --separate-stderr km /bin/cat /proc/self/maps
	assert_success
	assert_line --regexp '^[0-9a-f]+-[0-9a-f]+ rw-p 00000000 00:00 0 +\[heap\]$'
	assert_line --regexp '^[0-9a-f]+-[0-9a-f]+ rw-p 00000000 00:00 0 +\[stack\]$'
	assert_equal "$(files <<<"$output")" "$native"
}

@test "/proc/self/task lists the program's threads, not km's, as natively" {
	same_as_native_cmd /usr/bin/python3 -c 'import os, threading, time
ev = threading.Event()
ts = [threading.Thread(target=ev.wait) for _ in range(3)]
[t.start() for t in ts]
tids = sorted(int(t) for t in os.listdir("/proc/self/task"))
print(len(tids), threading.active_count(), os.getpid() in tids,
      sorted(t.native_id for t in ts) == [t for t in tids if t != os.getpid()])
ev.set()
[t.join() for t in ts]
time.sleep(0.05)
print(os.listdir("/proc/self/task") == [str(os.getpid())])'
	assert_success
	assert_output "4 4 True True
True"
}

@test "thread ids are not handed out again at once: ten threads one after another have ten ids, as natively" {
	same_as_native_cmd /usr/bin/python3 -c '
import threading
ids = []
for i in range(10):
    t = threading.Thread(target=lambda: ids.append(threading.get_native_id())); t.start(); t.join()
print("distinct", len(set(ids) | {threading.get_native_id()}), "of", len(ids) + 1)'
	assert_success
	assert_output "distinct 11 of 11"
}

@test "/proc/self/status and comm show the guest's name, threads and signal masks, as natively" {
	# The lines compared, without signals 32 and 33: glibc's own, which a test runner's
	# process may ignore and km, a glibc program itself, cannot pass on.
	status_lines() {
		local k v
		while IFS=$'\t' read -r k v; do
			case $k in
			Name: | Threads:) echo "$k $v" ;;
			SigPnd: | ShdPnd: | SigBlk: | SigIgn: | SigCgt:) printf '%s %016x\n' "$k" $((0x$v & ~0x180000000)) ;;
			esac
		done
	}
	local script='trap "" USR1; exec cat /proc/self/status'
	run --separate-stderr env --default-signal km /bin/sh -c "$script"
	assert_success
	assert_equal "$(status_lines <<<"$output")" \
		"$(env --default-signal /bin/sh -c "$script" | status_lines)"
	assert_line --regexp '^SigIgn:	0+200$'
	local py='
import signal, threading, time
signal.signal(signal.SIGUSR2, lambda *a: 0)
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGHUP})
t = threading.Thread(target=time.sleep, args=(0.5,)); t.start()
print(open("/proc/self/status").read()); print(open("/proc/self/comm").read()); t.join()'
	run --separate-stderr env --default-signal km /usr/bin/python3 -c "$py"
	assert_success
	assert_equal "$(status_lines <<<"$output")" \
		"$(env --default-signal /usr/bin/python3 -c "$py" | status_lines)"
	assert_line "Threads:	2"
	assert_line "python3"
}

@test "Go: esbuild (static, from npm) bundles a project byte for byte as natively" {
	local esbuild=$REPO/build/tests/esbuild/package/bin/esbuild
	[ -x "$esbuild" ] || fail "$esbuild is missing: run make test-programs"
	cd "$REPO/sdk-tests/programs/runtimes/bundle"
	same_as_native_cmd "$esbuild" main.js --bundle --minify --format=esm --target=es2019
	[ -n "$output" ] || fail "no bundle"
	run bash -c "km $esbuild main.js --bundle --platform=node | node"
	assert_success
	assert_output "hello, km! 3"
	same_as_native_cmd "$esbuild" no-such-file.js --bundle
	assert_failure 1
}

@test "Go: Debian's age, a dynamically linked PIE, encrypts under km what decrypts natively, and back" {
	[ -x /usr/bin/age ] || fail "age is not installed"
	cd "$BATS_TEST_TMPDIR"
	head -c 200000 /dev/urandom >plain
	run km /usr/bin/age-keygen -o key
	assert_success
	local pub
	pub=$(grep -o 'age1[0-9a-z]*' key)
	run km /usr/bin/age -r "$pub" -o by-km plain
	assert_success
	/usr/bin/age -d -i key -o back by-km
	cmp plain back
	/usr/bin/age -a -r "$pub" -o native.age plain
	run km /usr/bin/age -d -i key -o back2 native.age
	assert_success
	cmp plain back2
	run km /usr/bin/age -d -i /dev/null native.age
	assert_failure 1
}
