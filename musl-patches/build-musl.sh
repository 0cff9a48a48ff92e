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

verified() { (cd "$download" && sha256sum --quiet -c "$here/musl.sha256") 2>/dev/null; }

fetch() {
	verified && return
	"$here/enable-deb-src.sh"
	mkdir -p "$download"
	say "downloading musl $version with apt-get source"
	(cd "$download" && apt-get source -q --download-only "musl=$version")
	(cd "$download" && sha256sum -c "$here/musl.sha256") || {
		echo "build-musl: the downloaded musl source does not match musl-patches/musl.sha256" >&2
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

configure() {
	rm -rf "$obj"
	mkdir -p "$obj"
	(cd "$obj" && "$src/configure" --prefix="$prefix" --disable-shared \
		--disable-wrapper CFLAGS="-g -fPIE -I$hcall_include") >"$work/configure.log"
}

build_and_install() {
	make -C "$obj" -j"$(nproc)" >"$work/build.log"
	make -C "$obj" install >"$work/install.log"
}

fetch
unpack_and_patch
configure
say "building (log: $work/build.log)"
build_and_install
say "installed into $prefix"
