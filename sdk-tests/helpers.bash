# Shared by every suite: the SDK as installed under build/opt/kontain, used as a user would.
REPO=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
KONTAIN=${KONTAIN:-$REPO/build/opt/kontain}
PROGRAMS=$REPO/sdk-tests/programs
export PATH=$KONTAIN/bin:$PATH

bats_require_minimum_version 1.5.0
load /usr/lib/bats/bats-support/load.bash
load /usr/lib/bats/bats-assert/load.bash

# Tests that run a guest need KVM; without it they are skipped, loudly.
need_kvm() {
	if [ ! -e /dev/kvm ]; then
		echo "# KVM TEST SKIPPED: /dev/kvm does not exist on this machine" >&3
		skip "KVM TEST SKIPPED: /dev/kvm does not exist"
	fi
	if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
		echo "# KVM TEST SKIPPED: /dev/kvm is not accessible" >&3
		skip "KVM TEST SKIPPED: /dev/kvm is not accessible"
	fi
}

# Tests that are slow under the nested VM's emulation and whose subject does
# not depend on the kind of KVM (another engine, a language's own test suite)
# skip, loudly, in the nested pass that follows a direct one (sdk-tests/run).
ran_directly() {
	if [ "${KM_TESTS_NESTED_SUBSET:-}" = 1 ]; then
		echo "# SKIPPED IN THE NESTED VM: $1 ran in the direct pass; it does not depend on the KVM" >&3
		skip "$1 ran in the direct pass; it does not depend on the KVM"
	fi
}

# The test programs, built by `make test-programs` with the installed SDK.
prog() {
	local p=$REPO/build/tests/$1.km
	[ -x "$p" ] || fail "$p is missing: run make test-programs"
	echo "$p"
}

# The same source built natively (Debian's musl-gcc, or g++ -static for C++).
native() {
	local p=$REPO/build/tests/native/$1
	[ -x "$p" ] || fail "$p is missing: run make test-programs"
	echo "$p"
}

# Runs NAME natively and under km with the same arguments: the same stdout and
# the same exit status, or the test fails showing both. km's own lines (a fault
# report, say) go to stderr and are left out of the comparison.
same_as_native() {
	local name=$1
	shift
	run --separate-stderr "$(native "$name")" "$@"
	native_status=$status native_output=$output
	run --separate-stderr km "$(prog "$name")" "$@"
	assert_as_native
}

# Fails, showing both, unless $status and $output (km's run) are
# $native_status and $native_output.
assert_as_native() {
	if [ "$status" != "$native_status" ] || [ "$output" != "$native_output" ]; then
		printf 'native (status %s):\n%s\nkm (status %s):\n%s\nkm stderr:\n%s\n' \
			"$native_status" "$native_output" "$status" "$output" "$stderr" |
			fail
	fi
}

# Starts a command in the background with its output in $out, and waits for
# it to print a line matching READY (default "ready"): start_waiting [-r READY] CMD...
start_waiting() {
	local ready=ready
	if [ "$1" = -r ]; then
		ready=$2
		shift 2
	fi
	out=$BATS_TEST_TMPDIR/out.$RANDOM
	"$@" >"$out" 2>&1 3>&- &
	pid=$!
	for _ in $(seq 600); do
		grep -q "$ready" "$out" && return 0
		sleep 0.1
	done
	fail "the program never became ready: $(cat "$out")"
}

# The exit status of the background program (`run wait` would wait in a subshell).
finish() {
	status=0
	wait "$pid" || status=$?
}

# Debian's dynamic /bin/true with its ELF interpreter renamed to one that does
# not exist (same length; another path of 27 bytes as $1): its path on stdout.
no_interp_program() {
	local p=$BATS_TEST_TMPDIR/no-interp
	python3 - "$p" "${1:-/nonexistent/ld-x86-64.so.2}" <<'PY'
import sys
data = open("/bin/true", "rb").read()
old = b"/lib64/ld-linux-x86-64.so.2\0"
assert old in data, "no glibc interpreter path in /bin/true"
new = sys.argv[2].encode() + b"\0"
assert len(new) == len(old)
open(sys.argv[1], "wb").write(data.replace(old, new, 1))
PY
	chmod +x "$p"
	echo "$p"
}
