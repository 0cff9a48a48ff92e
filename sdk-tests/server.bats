#!/usr/bin/env bats
# A real server under load: wrk against an HTTP server built with kontain-gcc,
# then the same server built natively, side by side in one run.

setup() {
	load helpers
	need_kvm
	command -v wrk >/dev/null || fail "wrk is missing: make test installs it"
}

# Serves wrk for 3 s with 16 connections, stops the server with SIGTERM, and
# sets rps to wrk's requests per second.
load_server() {
	start_waiting -r "listening on" "$@"
	local port
	port=$(awk '/listening on/ { print $3 }' "$out")
	run wrk -t2 -c16 -d3s --timeout 10s "http://127.0.0.1:$port/"
	assert_success
	refute_output --partial "Socket errors"
	refute_output --partial "Non-2xx"
	rps=$(awk '/^Requests\/sec:/ { print int($2) }' <<<"$output")
	[ "${rps:-0}" -gt 0 ] || fail "no requests served: $output"
	kill -TERM "$pid"
	finish
	assert_equal "$status" 0
	run cat "$out"
	assert_line --regexp "^shut down after [1-9][0-9]* requests$"
}

@test "an HTTP server under km serves 16 concurrent wrk connections without errors, then stops on SIGTERM" {
	load_server "$(native http_server)"
	local native_rps=$rps
	load_server km "$(prog http_server)"
	echo "# requests/s: native $native_rps, km $rps (this machine's KVM; see docs)" >&3
}
