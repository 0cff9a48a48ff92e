#!/bin/bash
# Fetch Debian's musl source, check it against the pinned sums, apply
# Debian's patches and ours, then build and install libc.a, the crt objects
# and the headers.
#   build-musl.sh WORK_DIR PREFIX
set -euo pipefail

version=1.2.3-1
here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
work=$(mkdir -p "$1" && cd "$1" && pwd)
prefix=$2
hcall_include=$here/../libkrt/include
download=$work/download src=$work/src obj=$work/obj
unset MAKEFLAGS MFLAGS MAKELEVEL

say() { echo "build-musl: $*"; }

# Quiet on success; on failure show the end of the log.
logged() {
	local log=$1
	shift
	"$@" >"$log" 2>&1 || {
		tail -n 30 "$log" >&2
		echo "build-musl: failed, see $log" >&2
		exit 1
	}
}

# dpkg-source applies Debian's own patch series while unpacking.
unpack_and_patch() {
	rm -rf "$src"
	dpkg-source -q -x "$download/musl_$version.dsc" "$src"
	local p
	for p in "$here"/[0-9]*.patch; do
		say "applying $(basename "$p")"
		patch -d "$src" -p1 --forward --quiet <"$p"
	done
}

# Unwind tables in every function (musl leaves them out): gdb's backtraces
# and core files of a unikernel pass through libc (abort, raise, a thread
# blocked in a call) as they do through glibc.
configure() {
	rm -rf "$obj"
	mkdir -p "$obj"
	cd "$obj"
	logged "$work/configure.log" "$src/configure" --prefix="$prefix" \
		--disable-shared --disable-wrapper \
		CFLAGS="-fPIE -funwind-tables -fasynchronous-unwind-tables -I$hcall_include"
	cd - >/dev/null
}

# Every way into the kernel must have become a hypercall.
check_no_syscall() {
	local insns
	insns=$(objdump -d --no-show-raw-insn "$obj"/lib/libc.a "$obj"/lib/*.o |
		grep -E '^ +[0-9a-f]+:[[:space:]]+(syscall|sysenter|int +\$0x80)' || true)
	[ -z "$insns" ] || {
		echo "build-musl: system call instructions left in libc:" >&2
		echo "$insns" >&2
		exit 1
	}
}

"$here/fetch-debian-source.sh" musl "$version" "$here/musl.sha256" "$download"
unpack_and_patch
configure
say "building (log: $work/build.log)"
logged "$work/build.log" make -C "$obj" -j"$(nproc)"
check_no_syscall
logged "$work/install.log" make -C "$obj" install
say "installed into $prefix (${SECONDS}s)"
