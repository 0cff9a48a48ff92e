#!/bin/bash
# Download a Debian binary package with `apt-get download` into
# $KONTAIN_DEBS (default build/debs), check it against its pinned sha256,
# and print its path; nothing is downloaded if it is there and matches.
#   fetch-deb.sh PACKAGE VERSION SHA256
set -euo pipefail

here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
[ $# = 3 ] || { echo "usage: fetch-deb.sh PACKAGE VERSION SHA256" >&2; exit 1; }
package=$1 version=$2 sum=$3
dest=${KONTAIN_DEBS:-$here/../build/debs}
mkdir -p "$dest"

# The file of DEST that has the pinned sum, if any.
found() {
	local f
	for f in "$dest/${package}_"*.deb; do
		[ -e "$f" ] && [ "$(sha256sum <"$f" | cut -d' ' -f1)" = "$sum" ] && { echo "$f"; return 0; }
	done
	return 1
}

found && exit 0
(cd "$dest" && apt-get download -q "$package=$version") >/dev/null 2>&1 ||
	(apt-get update -q >/dev/null && cd "$dest" && apt-get download -q "$package=$version") >/dev/null
found || { echo "fetch-deb.sh: $package $version does not match its pinned sha256 $sum" >&2; exit 1; }
