#!/bin/bash
# Lint both packages: lintian on the .deb, rpmlint on the .rpm (with the
# reasons for what it flags by design in rpm/rpmlint.toml), and the rpm's
# dependencies. Prints their findings; exits 1 if either reports an error.
#   check-packages.sh DEB RPM
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
deb=$1 rpm=$2
status=0

fail() {
	echo "check-packages: $*" >&2
	status=1
}

# lintian warns when run as root; the packages need no privilege to read.
as_user() {
	if [ "$(id -u)" = 0 ]; then
		setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/tmp "$@"
	else
		"$@"
	fi
}

echo "== lintian $(basename "$deb")"
as_user lintian --fail-on error --display-info "$deb" || fail "lintian reports errors in $deb"

echo "== rpmlint $(basename "$rpm")"
rpmlint -c "$here/rpm/rpmlint.toml" "$rpm" || fail "rpmlint reports errors in $rpm"

# What a user's rpm must pull in; the rest (libc, libelf) rpmbuild finds in km.
requires=$(rpm -qpR "$rpm")
for need in gcc gcc-c++ binutils 'libelf.so.1()(64bit)'; do
	grep -qxF -e "$need" -e "$need >= 12" <<<"$requires" || fail "$rpm does not require $need"
done
exit $status
