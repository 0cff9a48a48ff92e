#!/usr/bin/env bats
# km --allow-path=PATH[:ro]: the program opens host files only under the paths
# given (Landlock, on km itself), through fork and exec; bad options are one
# line and status 2. Each case checks the files on disk too.

setup() {
	load helpers
	need_kvm
	need_landlock
	d=$BATS_TEST_TMPDIR/allowed
	out=$BATS_TEST_TMPDIR/outside
	mkdir -p "$d" "$out"
	echo "inside" >"$d/in"
	echo "outside" >"$out/in"
}

# Whether km finds Landlock here: without it, --allow-path is one line and status 2.
need_landlock() {
	run --separate-stderr km --allow-path=/ "$(prog hello)"
	if [[ $stderr == *"needs Landlock"* ]]; then
		echo "# LANDLOCK TESTS SKIPPED: $stderr" >&3
		[ "$status" = 2 ] && [ "$(wc -l <<<"$stderr")" = 1 ] ||
			fail "without Landlock, km should say so in one line with status 2"
		skip "this kernel has no Landlock"
	fi
}

@test "with --allow-path=DIR the program reads, writes, makes and removes files there, and opens nothing outside" {
	run --separate-stderr km --allow-path="$d" "$(prog file_ops)" \
		read:"$d/in" write:"$d/new" mkdir:"$d/sub" unlink:"$d/in" list:"$d" \
		read:"$out/in" write:"$out/new" append:"$out/in" list:"$out" read:/etc/passwd list:/
	assert_success
	assert_output "read $d/in: inside
write $d/new: written
mkdir $d/sub: made
unlink $d/in: removed
list $d: 4 entries
read $out/in: EACCES
write $out/new: EACCES
append $out/in: EACCES
list $out: EACCES
read /etc/passwd: EACCES
list /: EACCES"
	[ "$(cat "$d/new")" = written ]
	[ -d "$d/sub" ] && [ ! -e "$d/in" ]
	[ ! -e "$out/new" ] && [ "$(cat "$out/in")" = outside ]
}

@test "with :ro the program reads under the path and changes nothing there" {
	run --separate-stderr km --allow-path="$d:ro" "$(prog file_ops)" \
		read:"$d/in" list:"$d" write:"$d/new" append:"$d/in" mkdir:"$d/sub" unlink:"$d/in"
	assert_success
	assert_output "read $d/in: inside
list $d: 3 entries
write $d/new: EACCES
append $d/in: EACCES
mkdir $d/sub: EACCES
unlink $d/in: EACCES"
	[ "$(cat "$d/in")" = inside ] && [ ! -e "$d/new" ] && [ ! -e "$d/sub" ]
}

@test "several paths each keep their own rights; a file may be allowed alone" {
	echo "alone" >"$out/alone"
	run --separate-stderr km --allow-path="$d:ro" --allow-path="$out/alone" "$(prog file_ops)" \
		append:"$out/alone" read:"$out/alone" read:"$out/in" write:"$d/new" read:"$d/in"
	assert_success
	assert_output "append $out/alone: written
read $out/alone: alone
read $out/in: EACCES
write $d/new: EACCES
read $d/in: inside"
	[ "$(cat "$out/alone")" = "alone
written" ]
}

@test "the confinement holds in a forked child and in a program the guest execs" {
	cp "$(prog file_ops)" "$d/file_ops.km"
	run --separate-stderr km --allow-path="$d" --log-to="$BATS_TEST_TMPDIR/km.log" \
		"$(prog file_ops)" fork read:"$out/in" write:"$d/from-child" \
		exec:"$d/file_ops.km" read:"$d/in" read:"$out/in" write:"$d/from-exec"
	assert_success
	assert_output "read $out/in: EACCES
write $d/from-child: written
read $d/in: inside
read $out/in: EACCES
write $d/from-exec: written
the child ended: 0"
	[ -s "$BATS_TEST_TMPDIR/km.log" ] # the exec'd km wrote its log too
}

@test "a program outside the allowed paths cannot be exec'd: EACCES, and the program goes on" {
	run --separate-stderr km --allow-path="$d" "$(prog file_ops)" \
		exec:"$(prog file_ops)" read:"$d/in"
	assert_success
	assert_output "exec $(prog file_ops): EACCES
read $d/in: inside"
}

@test "a bad --allow-path is refused with one line and status 2" {
	local arg
	for arg in "$BATS_TEST_TMPDIR/missing" "" ":ro" "$BATS_TEST_TMPDIR/missing:ro"; do
		run --separate-stderr km --allow-path="$arg" "$(prog hello)"
		[ "$status" = 2 ] || fail "--allow-path='$arg': status $status"
		[ -z "$output" ] || fail "--allow-path='$arg' ran the program: $output"
		[ "$(wc -l <<<"$stderr")" = 1 ] && [[ $stderr == km:*allow-path* ]] ||
			fail "--allow-path='$arg': $stderr"
	done
}
