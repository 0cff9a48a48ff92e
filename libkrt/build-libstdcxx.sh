#!/bin/bash
# Build gcc 12's C++ runtime (libstdc++.a, libsupc++.a and the libstdc++
# headers) for Kontain's musl from Debian's gcc-12 source, with the SDK's
# own kontain-gcc, and install it into the SDK. See docs/toolchain.md.
#   build-libstdcxx.sh WORK_DIR PREFIX
set -euo pipefail

version=12.2.0-14+deb12u1
here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
work=$(mkdir -p "$1" && cd "$1" && pwd)
prefix=$(cd "$2" && pwd)
download=$work/download src=$work/src obj=$work/obj
unset MAKEFLAGS MFLAGS MAKELEVEL

say() { echo "build-libstdcxx: $*"; }

# Quiet on success; on failure show the end of the log.
logged() {
	local log=$1
	shift
	"$@" >"$log" 2>&1 || {
		tail -n 30 "$log" >&2
		echo "build-libstdcxx: failed, see $log" >&2
		exit 1
	}
}

# Debian ships gcc as an inner tarball plus patches applied by its rules;
# take from it what a standalone libstdc++-v3 build needs.
unpack() {
	local debian=$work/debian-src
	rm -rf "$debian" "$src"
	dpkg-source -q -x "$download/gcc-12_$version.dsc" "$debian" 2>/dev/null
	mkdir -p "$src"
	tar -xJf "$debian"/gcc-*-dfsg.tar.xz -C "$src" --strip-components=1 \
		--no-wildcards-match-slash --wildcards \
		'gcc-*/libstdc++-v3' 'gcc-*/libgcc' 'gcc-*/libiberty' 'gcc-*/include' \
		'gcc-*/config' 'gcc-*/*.m4' 'gcc-*/config.*' 'gcc-*/config-ml.in' \
		'gcc-*/install-sh' 'gcc-*/ltmain.sh' 'gcc-*/missing' 'gcc-*/mkinstalldirs' \
		'gcc-*/move-if-change' 'gcc-*/symlink-tree' 'gcc-*/compile' \
		'gcc-*/depcomp' 'gcc-*/gcc/BASE-VER' 'gcc-*/gcc/DATESTAMP'
	# Debian's gcc-12 is 12.2.0 plus the 12 branch updates: take those for
	# the runtime so that it matches Debian's g++ 12 exactly.
	filterdiff -p2 -i 'libstdc++-v3/*' -i 'libgcc/*' -x '*/ChangeLog' \
		-x 'libstdc++-v3/testsuite/*' -x 'libstdc++-v3/doc/*' \
		"$debian/debian/patches/git-updates.diff" >"$work/branch-updates.diff"
	patch -d "$src" -p2 --quiet <"$work/branch-updates.diff"
	rm -rf "$debian"
}

# The C driver compiles the runtime, as gcc's own build does, because g++
# would link the libstdc++ that does not exist yet. --host names musl so
# that libstdc++ picks its generic OS and locale code, not glibc's.
# gthr-default.h is what libgcc's build would have made beside us: POSIX
# threads, the model the host gcc reports. File names in assert() messages are
# made relative to the build directory, so the SDK names no build path.
configure() {
	rm -rf "$obj" "$work/libgcc"
	mkdir -p "$obj" "$work/libgcc"
	cp "$src/libgcc/gthr-posix.h" "$work/libgcc/gthr-default.h"
	cd "$obj"
	logged "$work/configure.log" env CC="$prefix/bin/kontain-gcc" \
		CXX="$prefix/bin/kontain-gcc" AR=ar RANLIB=ranlib \
		CFLAGS="-O2 -ffile-prefix-map=$work=." CXXFLAGS="-O2 -ffile-prefix-map=$work=." \
		"$src/libstdc++-v3/configure" --build=x86_64-linux-gnu \
		--host=x86_64-linux-musl --prefix="$prefix" \
		--with-gxx-include-dir="$prefix/include/c++/12" \
		--disable-multilib --disable-shared --enable-static \
		--disable-nls --disable-libstdcxx-pch
	cd - >/dev/null
}

# A runtime configured without threads still builds; refuse it.
check_threads() {
	grep -q '^#define _GLIBCXX_HAS_GTHREADS 1' "$obj/config.h" || {
		echo "build-libstdcxx: configure found no POSIX threads, see $work/configure.log" >&2
		exit 1
	}
}

"$here/../musl-patches/fetch-debian-source.sh" gcc-12 "$version" "$here/gcc-12.sha256" "$download"
say "unpacking the libstdc++-v3 part of gcc-12 $version"
unpack
say "configuring (log: $work/configure.log)"
configure
check_threads
say "building (log: $work/build.log)"
logged "$work/build.log" make -C "$obj" -j"$(nproc)"
logged "$work/install.log" make -C "$obj" install
rm -f "$prefix"/lib/libstdc++*.la "$prefix"/lib/libsupc++.la
say "installed into $prefix (${SECONDS}s)"
