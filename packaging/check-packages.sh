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

# lintian warns when run as root; the package needs no privilege to read,
# but the checkout may sit in a directory only root can enter, so nobody
# reads a copy.
lint_deb() {
	if [ "$(id -u)" != 0 ]; then
		lintian --fail-on error --display-info "$1"
		return
	fi
	local dir rc=0
	dir=$(mktemp -d)
	chmod 755 "$dir"
	install -m 644 "$1" "$dir/"
	(cd / && setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/tmp \
		lintian --fail-on error --display-info "$dir/$(basename "$1")") || rc=$?
	rm -rf "$dir"
	return "$rc"
}

echo "== lintian $(basename "$deb")"
lint_deb "$deb" || fail "lintian reports errors in $deb"

echo "== rpmlint $(basename "$rpm")"
rpmlint -c "$here/rpm/rpmlint.toml" "$rpm" || fail "rpmlint reports errors in $rpm"

# What a user's rpm must pull in; km is static, so no shared library.
requires=$(rpm -qpR "$rpm")
for need in gcc gcc-c++ binutils; do
	grep -qxF -e "$need" -e "$need >= 12" <<<"$requires" || fail "$rpm does not require $need"
done
! grep -F '.so' <<<"$requires" || fail "$rpm requires shared libraries: km must be static"
exit $status
