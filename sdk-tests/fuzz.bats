#!/usr/bin/env bats
# The hypercall fuzzer, for a minute (FUZZ_TEST_SECONDS): a guest making
# random calls with hostile arguments; km must neither crash nor hang nor
# exit on its own account. The loader's fuzzer, which needs no KVM, is
# loader_fuzz.bats. `make fuzz` runs both for ten minutes. A failure prints
# how to replay what was found.

setup() {
	load helpers
}

@test "random calls with hostile arguments neither crash nor hang km, nor make it exit" {
	need_kvm
	local host_name ipc_objects
	host_name=$(uname -n)
	ipc_objects=$(ipcs | grep -c '^0x' || true)
	run "$REPO/sdk-tests/fuzz/hcall-fuzz" -t "${FUZZ_TEST_SECONDS:-60}" 3>&-
	if [ "$status" = 77 ]; then
		echo "# FUZZ TEST SKIPPED: $output" >&3
		skip "$output"
	fi
	echo "$output"
	assert_success
	# Its sethostname, System V IPC and clock_settime stayed in the sandbox.
	assert_equal "$(uname -n)" "$host_name"
	assert_equal "$(ipcs | grep -c '^0x' || true)" "$ipc_objects"
}
