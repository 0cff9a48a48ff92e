#!/usr/bin/env bats
# make bench BENCH_QUICK=1 prints the whole table: every row, each with its
# figure, ratio and target. The figures themselves are not judged here (they
# belong to the bench, docs/performance.md); a peer that cannot run must still
# have its row, saying why.
# Runs on the host (sdk-tests/run): the bench starts the nested VM itself.

setup_file() {
	REPO=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
	if [ "$(id -u)" != 0 ]; then
		echo "# BENCH TEST SKIPPED: the bench needs root (its peers: crun, runsc)" >&3
		skip "BENCH TEST SKIPPED: needs root"
	fi
	export TABLE=$REPO/build/bench/table.md
	mkdir -p "$(dirname "$TABLE")"
	make -s -C "$REPO" bench BENCH_QUICK=1 >"$TABLE.out" 2>"$TABLE.err"
	echo $? >"$TABLE.status"
	grep '^|' "$TABLE.out" >"$TABLE" || true
}

setup() {
	load helpers
}

# One row of the table: "| measure | subject | figure | ratio name | ratio | target | met |".
assert_row() { # REGEX
	run grep -cE "$1" "$TABLE"
	[ "$output" = 1 ] || fail "expected one row matching: $1
table:
$(cat "$TABLE")
stderr:
$(tail -n 20 "$TABLE.err")"
}

num='[0-9]+(\.[0-9]+)?'
nz='([1-9][0-9]*(\.[0-9]+)?|0\.[0-9]*[1-9][0-9]*)' # a failed run shows as 0
# A time as bench/table's dur prints it: three significant digits in whichever
# unit its size calls for (0.0400 ns, 207 ns, 1.23 µs, 12.3 ms, 1234 s); a
# failed run's 0 ns does not match.
dur="$nz (ns|µs|ms|s)"
met='(yes|\*\*no\*\*)'

@test "make bench BENCH_QUICK=1 succeeds and says where and how it ran" {
	[ "$(cat "$TABLE.status")" = 0 ] || fail "make bench failed: $(tail -n 20 "$TABLE.err")"
	assert_row '^\| measure \| subject \| median \| ratio \| value \| target \| met \|$'
	assert_row "^\| where \| .+ \| quick \(BENCH_QUICK=1\), [0-9]+ s \|"
}

@test "start-to-exit: km, native and the floor have figures; every peer has a row" {
	assert_row "^\| start-to-exit, hello world \| \*\*km hello\.km\*\* \| $dur \|"
	assert_row "^\|  \| native static hello \(musl\) \| $dur \| km / this \| $nz \|"
	assert_row "^\|  \| floor: .+ \| $dur \| km / this \| $nz \| ≤ 1\.3 \| $met \|$"
	for peer in 'qemu -accel kvm' 'qemu -accel tcg' 'crun run' 'gVisor runsc do, --platform=ptrace' \
		'gVisor runsc do, --platform=kvm'; do
		assert_row "^\|  \| $peer.* \| ($dur( \(.+ hung past [0-9]+ s\)| in its one checked run; .+)? \| this / km \| $nz|not run here: .+ \| this / km \| ) \| ≥ 10 \| ($met|n/a) \|$"
	done
}

@test "exits: the hypercall against the bare PIO exit; clock_gettime and getpid against native" {
	assert_row "^\| exit round trip \| \*\*km no-op hypercall\*\* .+ \| $dur \|"
	assert_row "^\|  \| floor: bare PIO exit, CPL 3 .+ \| $dur \| km / this \| $nz \| ≤ 1\.1 \| $met \|$"
	assert_row "^\|  \| floor: bare PIO exit, real mode .+ \| $dur \| km / this \| $nz \|"
	assert_row "^\|  \| floor: polled request slot, no exit .+ \| ($dur \| km / this \| $nz|not run here: .+ \| km / this \| ) \|"
	assert_row "^\|  \| native syscall, same number .+ \| $dur \| km / this \| $nz \|"
	assert_row "^\|  \| (\*\*km no-op call, posted\*\* .+ \| $dur \| this / exit \| $nz \| ≤ 10 µs \| $met|km no-op call, posted \(fast calls are off here: an exit\) \| $dur \| this / exit \| $nz) \|"
	assert_row "^\| calls that need not exit \| km clock_gettime\(MONOTONIC\) \| $dur \| km / native \| $nz \| ≤ 2 \| $met \|$"
	assert_row "^\|  \| native clock_gettime \(vDSO\) \| $dur \|"
	assert_row "^\|  \| km getpid \| $dur \| km / native \| $nz \|"
	assert_row "^\|  \| native getpid \| $dur \|"
}

@test "footprint and throughput rows have their figures and ratios" {
	assert_row "^\| footprint \| km peak RSS running hello \| $nz KiB \| km − native \([0-9]+ KiB\) \| -?[0-9]+ KiB \| < 2 MiB \| $met \|$"
	assert_row "^\|  \| km peak RSS touching 256 MiB \| $nz MiB \| km − native \($num MiB\) \| -?[0-9]+ KiB \| < 2 MiB \| $met \|$"
	assert_row "^\|  \| hello\.km / native static hello \| [0-9]+ KiB / [0-9]+ KiB \|"
	assert_row "^\|  \| C\+\+ hello\.km \(iostream\) \| [0-9]+ KiB \|"
	assert_row "^\|  \| installed SDK .+ \| [0-9]+ MiB \|"
	assert_row "^\| throughput \| CPU-bound: .+, km \| $dur \| km / native \| $nz \| ≤ 1\.03 \| $met \|$"
	assert_row "^\|  \| CPU-bound, native \| $dur \|"
	assert_row "^\|  \| syscall-heavy: .+, km \| $dur \| km / native \| $nz \|"
	assert_row "^\|  \| syscall-heavy, native \| $dur \|"
}

@test "a server under load: requests/s under km and natively in one run, and km's exits per request" {
	assert_row "^\| server under load \| HTTP server requests/s, km .+ \| $nz/s \| native / km \| $nz \|"
	assert_row "^\|  \| HTTP server requests/s, native \| $nz/s \|"
	assert_row "^\|  \| km exits per request served \(km --stats\) \| $nz \|"
	assert_row "^\|  \| km fast calls per request served, no exit \(km --stats\) \| [0-9]+(\.[0-9]+)? \|"
}

@test "runtimes: python3, node and java start-to-exit under km against native, or why not" {
	local label
	for label in 'python3 -c pass' 'node -e 0' 'java -version'; do
		assert_row "^\| (start-to-exit, runtimes)? \| km $label \| ($dur \| km / native \| $nz|not run.*) \|"
	done
	assert_row "^\|  \| native python3 -c pass \| $dur \|"
}

@test "containers: docker run and ctr run of hello with krun against runc, or why not" {
	local engine
	for engine in 'docker run --rm' 'ctr run --rm'; do
		assert_row "^\| (start-to-exit, containers)? \| $engine, krun: hello\.km \| ($dur \| krun / runc \| $nz|not run here: .+) \|"
		grep -qE "\| $engine, krun: hello\.km \| not run" "$TABLE" ||
			assert_row "^\|  \| $engine, runc: native static hello \| $dur \|"
	done
}
