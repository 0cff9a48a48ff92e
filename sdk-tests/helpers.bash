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

# Builds sdk-tests/programs/SRC with the SDK into the suite's temp dir as NAME.km.
build_c() {
	local src=$1 name=${2:-${1%.*}}
	kontain-gcc -O2 -g -I"$PROGRAMS" -o "$BATS_FILE_TMPDIR/$name.km" "$PROGRAMS/$src"
}

build_cxx() {
	local src=$1 name=${2:-${1%.*}}
	kontain-g++ -O2 -g -o "$BATS_FILE_TMPDIR/$name.km" "$PROGRAMS/$src"
}

prog() {
	echo "$BATS_FILE_TMPDIR/$1.km"
}
