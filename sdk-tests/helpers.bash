# Shared by every suite: the SDK as installed under build/opt/kontain, used as a user would.
REPO=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
KONTAIN=${KONTAIN:-$REPO/build/opt/kontain}
PROGRAMS=$REPO/sdk-tests/programs
export PATH=$KONTAIN/bin:$PATH

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

# The test programs, built by `make test-programs` with the installed SDK.
prog() {
	local p=$REPO/build/tests/$1.km
	[ -x "$p" ] || fail "$p is missing: run make test-programs"
	echo "$p"
}
