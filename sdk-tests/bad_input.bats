#!/usr/bin/env bats
# km refuses what it cannot run: one clear line, exit status 2.

setup() {
	load helpers
}

one_line_status_2() {
	assert_failure 2
	assert_equal "${#lines[@]}" 1
	assert_output --regexp "^km: "
}

@test "km --help and --version" {
	run km --help
	assert_success
	assert_line --partial "Usage: km [options] program [args...]"
	run km --version
	assert_success
	assert_output --regexp "^km [0-9]+\.[0-9]+\.[0-9]+$"
}

@test "no program" {
	run km
	one_line_status_2
	assert_output --partial "no program given"
}

@test "an unknown option" {
	run km --frobnicate hello.km
	one_line_status_2
	assert_output "km: unknown option '--frobnicate'; see km --help"
}

@test "a bad memory limit" {
	run km --mem-limit=lots hello.km
	one_line_status_2
	assert_output --partial "bad memory limit 'lots'"
}

@test "a --kvm-fd that is not an open /dev/kvm (exec passes km's own)" {
	run km --kvm-fd=0 hello.km
	one_line_status_2
	assert_output "km: --kvm-fd=0 is not an open /dev/kvm"
	run km --kvm-fd=99x hello.km
	one_line_status_2
	assert_output "km: --kvm-fd=99x is not an open /dev/kvm"
}

@test "a missing program" {
	run km "$BATS_TEST_TMPDIR/nope.km"
	one_line_status_2
	assert_output "km: cannot open program '$BATS_TEST_TMPDIR/nope.km': No such file or directory"
}

@test "a directory" {
	run km "$BATS_TEST_TMPDIR"
	one_line_status_2
	assert_output --partial "is not a regular file"
}

@test "a file that is not ELF" {
	echo "just text" >"$BATS_TEST_TMPDIR/text.km"
	run km "$BATS_TEST_TMPDIR/text.km"
	one_line_status_2
	assert_output --partial "is not an ELF executable"
}

@test "a truncated ELF" {
	kontain-gcc -o "$BATS_TEST_TMPDIR/full.km" "$PROGRAMS/hello.c"
	head -c 3000 "$BATS_TEST_TMPDIR/full.km" >"$BATS_TEST_TMPDIR/cut.km"
	run km "$BATS_TEST_TMPDIR/cut.km"
	one_line_status_2
	assert_output --partial "is truncated"
}

@test "an ELF header cut short" {
	head -c 40 /bin/true >"$BATS_TEST_TMPDIR/stub.km"
	run km "$BATS_TEST_TMPDIR/stub.km"
	one_line_status_2
}

@test "an ELF for another machine" {
	# an x86-64 ELF with e_machine patched to AArch64 (183 = 0xb7)
	kontain-gcc -o "$BATS_TEST_TMPDIR/arm.km" "$PROGRAMS/hello.c"
	printf '\xb7\x00' | dd of="$BATS_TEST_TMPDIR/arm.km" bs=1 seek=18 conv=notrunc status=none
	run km "$BATS_TEST_TMPDIR/arm.km"
	one_line_status_2
	assert_output --partial "built for another machine (ELF e_machine 183)"
}

@test "a 32-bit ELF" {
	kontain-gcc -o "$BATS_TEST_TMPDIR/elf32.km" "$PROGRAMS/hello.c"
	printf '\x01' | dd of="$BATS_TEST_TMPDIR/elf32.km" bs=1 seek=4 conv=notrunc status=none
	run km "$BATS_TEST_TMPDIR/elf32.km"
	one_line_status_2
	assert_output --partial "is a 32-bit ELF"
}

@test "an object file, not an executable" {
	kontain-gcc -c -o "$BATS_TEST_TMPDIR/hello.o" "$PROGRAMS/hello.c"
	run km "$BATS_TEST_TMPDIR/hello.o"
	one_line_status_2
	assert_output --partial "is not an executable"
}

@test "a dynamically linked program whose ELF interpreter is missing" {
	local p
	p=$(no_interp_program)
	run km "$p"
	one_line_status_2
	assert_output "km: cannot run '$p': its ELF interpreter '/nonexistent/ld-x86-64.so.2': No such file or directory"
}

@test "a dynamically linked program that names kontain-interp is loaded as static, and only the guest faults" {
	need_kvm
	local p
	p=$(no_interp_program /nonexistent/kontain-interp)
	run km "$p"
	# No loader relocates it: glibc's start code faults in the guest.
	[ "$status" -gt 128 ] || fail "status $status: the guest should have died of a signal"
	refute_output --partial "internal error"
	run km true
	assert_success
}

@test "a program too large for the memory limit" {
	kontain-gcc -o "$BATS_TEST_TMPDIR/hello.km" "$PROGRAMS/hello.c"
	run km --mem-limit=32M "$BATS_TEST_TMPDIR/hello.km"
	# fits: the limit is only too small for very large images
	if [ -e /dev/kvm ]; then assert_success; fi
	printf 'static char big[64 << 20] = {1};\nint main(void) { return big[0] - 1; }\n' >"$BATS_TEST_TMPDIR/big.c"
	kontain-gcc -o "$BATS_TEST_TMPDIR/big.km" "$BATS_TEST_TMPDIR/big.c"
	run km --mem-limit=64M "$BATS_TEST_TMPDIR/big.km"
	one_line_status_2
	assert_output --partial "raise it with --mem-limit"
}

# n bytes of the number v, little-endian (bash arithmetic is 64-bit, so 2^64-ish numbers pack too).
le() {
	local v=$1 n=$2 i
	for ((i = 0; i < n; i++)); do
		printf "\\x$(printf %02x $(((v >> (8 * i)) & 255)))"
	done
}

# A minimal x86-64 ELF of TYPE (2 exec, 3 PIE) with one empty PT_LOAD per VADDR MEMSZ pair:
# craft_elf FILE TYPE VADDR MEMSZ [VADDR MEMSZ]...
craft_elf() {
	local file=$1 type=$2
	shift 2
	{
		printf '\x7fELF\x02\x01\x01'; le 0 9
		le "$type" 2; le 62 2; le 1 4; le "$1" 8   # e_type, EM_X86_64, e_version, e_entry
		le 64 8; le 0 8; le 0 4                    # e_phoff, e_shoff, e_flags
		le 64 2; le 56 2; le $(($# / 2)) 2; le 0 6 # e_ehsize, e_phentsize, e_phnum, no sections
		while [ $# -gt 0 ]; do                     # PT_LOAD, R+X, offset 0, filesz 0, align 4 KiB
			le 1 4; le 5 4; le 0 8; le "$1" 8; le "$1" 8; le 0 8; le "$2" 8; le 4096 8
			shift 2
		done
	} >"$file"
}

@test "an ELF segment that ends near 2^64" {
	craft_elf "$BATS_TEST_TMPDIR/top.km" 2 0xfffffffffffff800 0x100
	run km "$BATS_TEST_TMPDIR/top.km"
	one_line_status_2
	assert_output "km: '$BATS_TEST_TMPDIR/top.km' is not a valid program: its segment at 0xfffffffffffff800-0xfffffffffffff900 lies outside the user address space (below 0x7ffffffff000)"
}

@test "an ELF segment that wraps past 2^64" {
	craft_elf "$BATS_TEST_TMPDIR/wrap.km" 2 0xffffffffffff0000 0x10001
	run km "$BATS_TEST_TMPDIR/wrap.km"
	one_line_status_2
	assert_output --partial "is corrupt: a segment has impossible sizes"
}

@test "an ELF segment just past the user address space" {
	craft_elf "$BATS_TEST_TMPDIR/high.km" 2 0x7ffffffff000 0x1000
	run km "$BATS_TEST_TMPDIR/high.km"
	one_line_status_2
	assert_output --partial "its segment at 0x7ffffffff000-0x800000000000 lies outside the user address space"
}

@test "a static PIE whose segments span more than the address space" {
	craft_elf "$BATS_TEST_TMPDIR/span.km" 3 0x1000 0x1000 0xffffffffffc00000 0x1000
	run km "$BATS_TEST_TMPDIR/span.km"
	one_line_status_2
	assert_output --partial "its segment at 0xffffffffffc00000-0xffffffffffc01000 lies outside the user address space"
}

# Runs km on hello.km as the user nobody, in a mount namespace whose /dev is
# an empty tmpfs that the shell command $1 fills: the host's own /dev/kvm,
# whatever its mode, is never touched. Both are copied where nobody can
# reach them: the checkout may be in a directory only root may enter.
km_with_private_dev() {
	[ "$(id -u)" = 0 ] || skip "needs root to give km a private /dev"
	local dir
	dir=$(mktemp -d)
	chmod 755 "$dir"
	install -m 755 "$(command -v km)" "$(prog hello)" "$dir/"
	run unshare -m sh -c 'mount -t tmpfs -o mode=755 tmpfs /dev && eval "$1" && shift &&
		exec setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"' \
		sh "$1" "$dir/km" "$dir/hello.km"
	rm -rf "$dir"
}

@test "without /dev/kvm km says so" {
	km_with_private_dev true
	assert_failure 1
	assert_equal "${#lines[@]}" 1
	assert_output --partial "km: /dev/kvm does not exist: enable virtualization"
}

@test "without permission on /dev/kvm km says how to get it" {
	km_with_private_dev 'mknod -m 600 /dev/kvm c 10 232'
	assert_failure 1
	assert_output "km: no permission to open /dev/kvm: add yourself to the kvm group (sudo usermod -aG kvm \$USER) and log in again"
}
