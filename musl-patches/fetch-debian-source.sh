#!/bin/bash
# Download a Debian source package with `apt-get source` and check every
# file against pinned sha256 sums; does nothing if they already match.
#   fetch-debian-source.sh PACKAGE VERSION SUMS_FILE DEST_DIR
set -euo pipefail

package=$1 version=$2 sums=$(readlink -f "$3") dest=$4
here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)

matches() { (cd "$dest" && sha256sum --quiet -c "$sums") 2>/dev/null; }

matches && exit 0
"$here/enable-deb-src.sh"
mkdir -p "$dest"
echo "fetch-debian-source: downloading $package $version with apt-get source"
(cd "$dest" && apt-get source -q --download-only "$package=$version") >/dev/null
matches || {
	echo "fetch-debian-source: $package $version in $dest does not match $sums" >&2
	exit 1
}
