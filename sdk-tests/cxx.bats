#!/usr/bin/env bats
# C++: the runtime kontain-g++ links works for real programs.

setup() {
	load helpers
	need_kvm
}

@test "exceptions, static ctors/dtors, iostream, STL, sstream, locale" {
	run km "$(prog cxx_features)"
	assert_success
	assert_line "ok: static ctors"
	assert_line "ok: exceptions across frames"
	assert_line "ok: map vector sort unique_ptr"
	assert_line "ok: sstream"
	assert_line "ok: locale"
	# static destructors run at exit, in reverse order of construction
	assert_equal "${lines[-2]}" "static dtor second"
	assert_equal "${lines[-1]}" "static dtor first"
}

@test "an uncaught exception terminates with SIGABRT and says why" {
	run km "$(prog cxx_uncaught)"
	assert_failure 134
	assert_output --partial "terminate called after throwing an instance of 'std::logic_error'"
	assert_output --partial "nobody catches this"
}
