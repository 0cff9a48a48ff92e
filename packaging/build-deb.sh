#!/bin/bash
# Build the .deb from the staged tree with dpkg's own tools: dpkg-gencontrol
# writes the control file (version from VERSION, Installed-Size, Built-Using
# for the libraries linked into km), dpkg-deb packs it as root:root.
#   build-deb.sh STAGE VERSION OUT.deb LIB-PACKAGE...   (the -dev packages of km's libraries)
set -euo pipefail
umask 022

here=$(cd "$(dirname "$0")" && pwd)
[ -d "$1/opt/kontain" ] || { echo "build-deb.sh: $1 is not a staged tree: run make packages" >&2; exit 2; }
stage=$(realpath "$1")
version=$2 out=$(realpath -m "$3")
shift 3
lib_packages=("$@")
((${#lib_packages[@]})) || { echo "build-deb.sh: name the -dev packages of km's libraries" >&2; exit 2; }
work=$(dirname "$out")/deb
# dpkg's tools expect the package's tree in debian/PACKAGE.
root=$work/debian/kontain

changed=$(dpkg-parsechangelog -l "$here/changelog" -SVersion)
if [ "$changed" != "$version" ]; then
	echo "build-deb.sh: packaging/changelog ends at $changed but VERSION is $version: add an entry for $version" >&2
	exit 1
fi

rm -rf "$work"
mkdir -p "$root/DEBIAN" "$root/usr/share/lintian/overrides"
cp "$here/deb/control" "$here/changelog" "$work/debian/"
# Hard links: the staged files are shared with the .rpm, never modified here.
cp -al "$stage/." "$root/"
# A native package (no Debian revision) keeps its changelog as changelog.gz.
gzip -9n -c "$here/changelog" >"$root/usr/share/doc/kontain/changelog.gz"
install -m 644 "$here/deb/lintian-overrides" "$root/usr/share/lintian/overrides/kontain"

cd "$work"
# km is static: it needs no library at run time, and carries these sources' code.
if readelf -dW debian/kontain/opt/kontain/bin/km | grep -q '(NEEDED)'; then
	echo "build-deb.sh: km needs shared libraries; it must be linked static" >&2
	exit 1
fi
echo "km:Built-Using=$(dpkg-query -W -f='${source:Package} (= ${source:Version}), ' \
	"${lib_packages[@]}" | sed 's/, $//')" >debian/substvars
dpkg-gencontrol -pkontain -v"$version" -Pdebian/kontain -Tdebian/substvars
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z |
	xargs -0 md5sum) >"$root/DEBIAN/md5sums"
chmod 644 "$root/DEBIAN/control" "$root/DEBIAN/md5sums"

# Reproducible: file dates clamped to the changelog's date.
SOURCE_DATE_EPOCH=$(dpkg-parsechangelog -l "$here/changelog" -STimestamp) \
	dpkg-deb --root-owner-group -Zxz --build "$root" "$out"
