#!/usr/bin/env bats
# The fuzzers, for a minute each (FUZZ_TEST_SECONDS): the hypercall fuzzer
# (a guest making random calls with hostile arguments; km must neither crash
# nor hang nor exit on its own account) and the libFuzzer harness on km's
# program loading and exec checks. `make fuzz` runs them for ten minutes.
# A failure prints how to replay what was found.

setup() {
	load helpers
}

@test "random calls with hostile arguments neither crash nor hang km, nor make it exit" {
	need_kvm
	run "$REPO/sdk-tests/fuzz/hcall-fuzz" -t "${FUZZ_TEST_SECONDS:-60}" 3>&-
	if [ "$status" = 77 ]; then
		echo "# FUZZ TEST SKIPPED: $output" >&3
		skip "$output"
	fi
	echo "$output"
	assert_success
}

@test "km's loader and exec checks survive libFuzzer and agree on every program" {
	run "$REPO/sdk-tests/fuzz/elf-fuzz" -t "${FUZZ_TEST_SECONDS:-60}" 3>&-
	echo "$output"
	assert_success
}
