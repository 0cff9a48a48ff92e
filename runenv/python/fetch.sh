#!/bin/bash
# Fetch the Debian source of one of runenv-python's parts (sums pinned in
# sources/NAME.sha256) into $KONTAIN_SOURCES/NAME, by default
# build/sources/NAME, and print its .dsc's path; nothing is downloaded if
# it is there already.
#   fetch.sh NAME
set -euo pipefail

here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
top=$here/../..
name=${1:?usage: fetch.sh NAME}
version=$(awk -v n="$name" '$1 == n { print $2 }' "$here/sources/versions")
[ -n "$version" ] || { echo "fetch.sh: no part named '$name' in sources/versions" >&2; exit 1; }
dest=${KONTAIN_SOURCES:-$top/build/sources}/$name
"$top/musl-patches/fetch-debian-source.sh" "$name" "$version" "$here/sources/$name.sha256" "$dest" >&2
echo "$dest/${name}_${version#*:}.dsc"
