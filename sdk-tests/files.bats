#!/usr/bin/env bats
# Files, directories, pipes and descriptors, passed through to the host.

setup() {
	load helpers
	need_kvm
}

@test "file create, read, write, seek, stat, rename, unlink, readdir" {
	run km "$(prog files)" "$BATS_TEST_TMPDIR"
	assert_success
	assert_line "ok: create write seek read pread pwrite fstat"
	assert_line "ok: rename mkdir symlink readlink lstat"
	assert_line "ok: readdir"
	assert_line "ok: unlink rmdir getcwd"
	assert_line "ok: pipe dup fcntl EBADF"
}

@test "files the program writes are there for the host afterwards" {
	run km "$(prog files)" "$BATS_TEST_TMPDIR"
	assert_success
	# files.c removes what it made; the directory must be empty again
	run ls -A "$BATS_TEST_TMPDIR"
	assert_output ""
}

@test "output redirected to a file lands there" {
	km "$(prog hello)" redirected >"$BATS_TEST_TMPDIR/out"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/out")" "Hello, redirected!"
}
