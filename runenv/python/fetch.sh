#!/bin/bash
# Fetch the Debian source of one library that runenv-python needs (sums
# pinned in sources/NAME.sha256) into $KONTAIN_SOURCES/NAME, by default
# build/sources/NAME; nothing is downloaded if it is there already.
#   fetch.sh NAME
set -euo pipefail

here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
top=$here/../..
name=${1:?usage: fetch.sh NAME}
version=$(awk -v n="$name" '$1 == n { print $2 }' "$here/sources/versions")
[ -n "$version" ] || { echo "fetch.sh: no library named '$name' in sources/versions" >&2; exit 1; }
"$top/musl-patches/fetch-debian-source.sh" "$name" "$version" "$here/sources/$name.sha256" \
	"${KONTAIN_SOURCES:-$top/build/sources}/$name"
