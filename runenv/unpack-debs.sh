#!/bin/bash
# Unpack the pinned Debian packages a list names into a directory, as
# dpkg would lay them out (no maintainer scripts run).
#   unpack-debs.sh LIST DIR
# LIST: lines "package version sha256-of-the-.deb"; # starts a comment.
set -euo pipefail

here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
[ $# = 2 ] || { echo "usage: unpack-debs.sh LIST DIR" >&2; exit 1; }
mkdir -p "$2"
while read -r package version sum; do
	deb=$("$here/fetch-deb.sh" "$package" "$version" "$sum")
	dpkg-deb -x "$deb" "$2"
done < <(grep -v '^#' "$1" | grep .)
