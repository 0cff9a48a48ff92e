#!/usr/bin/env bats
# The libFuzzer harness on km's program loading and exec checks, for a minute
# (FUZZ_TEST_SECONDS). It runs km's code in a host process, without KVM, so
# sdk-tests/run runs it in the first KVM pass only. `make fuzz` runs it for
# ten minutes. A failure prints how to replay what was found.

setup() {
	load helpers
}

@test "km's loader and exec checks survive libFuzzer and agree on every program" {
	run "$REPO/sdk-tests/fuzz/elf-fuzz" -t "${FUZZ_TEST_SECONDS:-60}" 3>&-
	echo "$output"
	assert_success
}
