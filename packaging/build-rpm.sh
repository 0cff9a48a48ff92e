#!/bin/bash
# Build the .rpm from the staged tree with Debian's rpmbuild; its changelog
# is packaging/changelog, rewritten in rpm's form.
#   build-rpm.sh STAGE VERSION OUT.rpm LIB-PACKAGE...   (the -dev packages of km's libraries)
set -euo pipefail
umask 022

here=$(cd "$(dirname "$0")" && pwd)
[ -d "$1/opt/kontain" ] || { echo "build-rpm.sh: $1 is not a staged tree: run make packages" >&2; exit 2; }
stage=$(realpath "$1")
version=$2 out=$(realpath -m "$3")
shift 3
lib_packages=("$@")
((${#lib_packages[@]})) || { echo "build-rpm.sh: name the -dev packages of km's libraries" >&2; exit 2; }
work=$(dirname "$out")/rpmbuild

# "* Mon Nov 23 2026 Name <mail> - VERSION-1" and "- item" lines per entry
# (1 is the spec's Release).
rpm_changelog() {
	awk '
	/^[a-z]/ { match($0, /\([^)]*\)/); version = substr($0, RSTART + 1, RLENGTH - 2); body = "" }
	/^  \* / { body = body "- " substr($0, 5) "\n" }
	/^    [^ ]/ { body = body "  " substr($0, 5) "\n" }
	/^ -- / {
		sub(/^ -- /, ""); split($0, who, "  ")
		cmd = "date -u -d \"" who[2] "\" \"+%a %b %d %Y\""
		cmd | getline day; close(cmd)
		printf "* %s %s - %s-1\n%s\n", day, who[1], version, body
	}' "$here/changelog"
}

# "bundled(glibc) = 2.36, ...": the libraries statically linked into km.
bundled() {
	dpkg-query -W -f='${source:Package} ${source:Upstream-Version}\n' "${lib_packages[@]}" |
		awk '{ sub(/elfutils/, "libelf", $1); printf "%sbundled(%s) = %s", sep, $1, $2; sep = ", " }'
}

rm -rf "$work"
mkdir -p "$work"
{ cat "$here/rpm/kontain.spec"; rpm_changelog; } >"$work/kontain.spec"
SOURCE_DATE_EPOCH=$(dpkg-parsechangelog -l "$here/changelog" -STimestamp) \
	rpmbuild -bb --quiet --target x86_64 \
	--define "_topdir $work" --define "_rpmdir $(dirname "$out")" \
	--define "_build_name_fmt $(basename "$out")" \
	--define "version $version" --define "stage $stage" \
	--define "bundled $(bundled)" "$work/kontain.spec"
