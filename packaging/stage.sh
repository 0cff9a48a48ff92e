#!/bin/bash
# Lay out what both packages install, from the SDK as built (build/opt/kontain):
#   /opt/kontain/{bin,lib,include,share}       the SDK, relocatable as built
#   /usr/bin/{km,krun,kontain-gcc,kontain-g++,kontain-pkg-config} and the triplet's
#     compiler and pkg-config names              links onto the default PATH
#   /usr/share/man/man1/                        man pages for those commands
#   /usr/share/doc/kontain/                     copyright (and musl's notice)
#   stage.sh SDK MUSL_SRC STAGE
set -euo pipefail
umask 022

here=$(cd "$(dirname "$0")" && pwd)
sdk=$1 musl_src=$2 stage=$3
opt=$stage/opt/kontain

fail() {
	echo "stage.sh: $*" >&2
	exit 1
}

[ -x "$sdk/bin/km" ] || fail "$sdk/bin/km is missing: run make sdk"
[ -r "$musl_src/COPYRIGHT" ] || fail "$musl_src/COPYRIGHT is missing: run make sdk"

rm -rf "$stage"
mkdir -p "$opt/share/doc" "$stage/usr/bin" "$stage/usr/share/man/man1" \
	"$stage/usr/share/doc/kontain"
cp -a "$sdk/bin" "$sdk/lib" "$sdk/include" "$opt/"
cp -a "$sdk/share/kontain" "$opt/share/"
# Meson's cross file holds the SDK's path: the installed one.
sed 's|@PREFIX@|/opt/kontain|g' "$here/../toolchain/meson-cross.ini" >"$opt/share/kontain/meson-cross.ini"

# libstdc++'s gdb helpers are left out: the loader names the build tree and
# needs the python printers that make install put beside it.
rm -f "$opt"/lib/*-gdb.py

# As dh_strip does: km and krun without symbols, archives without debug info (which
# names the build tree), archive members with zero dates and ids.
for bin in km krun; do
	strip --remove-section=.comment --remove-section=.note --strip-unneeded "$opt/bin/$bin"
done
for a in "$opt"/lib/*.a; do
	strip --strip-debug --remove-section=.comment --remove-section=.note \
		--enable-deterministic-archives "$a"
done

# The SDK's commands on the default PATH: its own, and its wrappers' triplet
# names (binutils' are the host's, under /usr/bin already). Absolute links:
# they cross from /usr to /opt (Debian policy 10.5).
triplet=$("$sdk/bin/kontain-gcc" -dumpmachine)
commands=(km krun kontain-gcc kontain-g++ kontain-pkg-config)
for link in "$sdk/bin/$triplet"-*; do
	[[ $(readlink "$link") == kontain-* ]] && commands+=("$(basename "$link")")
done
for cmd in "${commands[@]}"; do
	ln -s "/opt/kontain/bin/$cmd" "$stage/usr/bin/$cmd"
done

install -m 644 "$here/README" "$opt/share/doc/README"
gzip -9n -c "$here/man/km.1" >"$stage/usr/share/man/man1/km.1.gz"
gzip -9n -c "$here/man/kontain-gcc.1" >"$stage/usr/share/man/man1/kontain-gcc.1.gz"
gzip -9n -c "$here/man/kontain-pkg-config.1" >"$stage/usr/share/man/man1/kontain-pkg-config.1.gz"
gzip -9n -c "$here/man/krun.1" >"$stage/usr/share/man/man1/krun.1.gz"
# A command that is another's name shares its page.
for cmd in "${commands[@]}"; do
	page=$(readlink "$sdk/bin/$cmd") || continue
	ln -s "$page.1.gz" "$stage/usr/share/man/man1/$cmd.1.gz"
done
install -m 644 "$here/copyright" "$stage/usr/share/doc/kontain/copyright"
install -m 644 "$musl_src/COPYRIGHT" "$stage/usr/share/doc/kontain/musl-COPYRIGHT"

# Root-owned on install; the modes a user expects, whatever the umask was.
chmod -R u=rwX,go=rX "$stage"
chmod 755 "$opt/bin/km" "$opt/bin/krun" "$opt/bin/kontain-gcc"
