#!/bin/bash
# Build one of runenv-python's parts (its libraries, then CPython) from
# Debian's source, with its own build system and the kontain-gcc on PATH,
# and install it into PREFIX (where the parts it needs are already):
#   build.sh NAME PREFIX WORKDIR
# The source (fetch.sh) is unpacked with Debian's patches into
# WORKDIR/NAME and built there by NAME.sh; the tree stays, for its own
# tests.
set -euo pipefail

here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)

fail() {
	echo "build.sh: $*" >&2
	exit 1
}

[ $# = 3 ] || fail "usage: build.sh NAME PREFIX WORKDIR"
name=$1 prefix=$2 work=$3
[ -r "$here/$name.sh" ] || fail "no recipe named '$name'"
command -v kontain-gcc >/dev/null || fail "kontain-gcc is not on PATH"

dsc=$("$here/fetch.sh" "$name")
mkdir -p "$work" "$prefix"
rm -rf "${work:?}/$name"
dpkg-source --no-copy -x "$dsc" "$work/$name" >"$work/$name-unpack.log" 2>&1 ||
	{ cat "$work/$name-unpack.log" >&2; fail "cannot unpack $dsc"; }

cd "$work/$name"
jobs=$(nproc)
# shellcheck source=/dev/null
. "$here/$name.sh"
