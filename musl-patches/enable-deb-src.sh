#!/bin/bash
# Make `apt-get source` work: when no deb-src entry exists, add one that
# mirrors the `deb` entries of Debian's own sources (debian.sources or the
# legacy sources.list), then refresh the package lists.
set -euo pipefail

apt_dir=/etc/apt
added=$apt_dir/sources.list.d/kontain-deb-src.sources
legacy_added=$apt_dir/sources.list.d/kontain-deb-src.list

sources_files() {
	ls "$apt_dir"/sources.list "$apt_dir"/sources.list.d/*.list \
		"$apt_dir"/sources.list.d/*.sources 2>/dev/null || true
}

has_deb_src() {
	sources_files | xargs -r grep -qsE '^[[:space:]]*(deb-src[[:space:]]|Types:.*deb-src)'
}

as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# deb822 files: copy each stanza whose Types is exactly "deb".
deb822_to_src() {
	awk 'BEGIN { RS = ""; ORS = "\n\n" }
	     /(^|\n)Types:[ \t]*deb[ \t]*(\n|$)/ {
		sub(/Types:[ \t]*deb[ \t]*(\n|$)/, "Types: deb-src\n"); print }' "$@"
}

if ! has_deb_src; then
	deb822=$(ls "$apt_dir"/sources.list.d/debian.sources 2>/dev/null || true)
	oneline=$(ls "$apt_dir"/sources.list 2>/dev/null || true)
	if [ -n "$deb822" ]; then
		deb822_to_src $deb822 | as_root tee "$added" >/dev/null
	fi
	if [ -n "$oneline" ]; then
		sed -n 's/^[[:space:]]*deb[[:space:]]/deb-src /p' $oneline |
			as_root tee "$legacy_added" >/dev/null
	fi
	has_deb_src || { echo "enable-deb-src: no Debian 'deb' entry found in $apt_dir to mirror" >&2; exit 1; }
	echo "enable-deb-src: added deb-src entries; updating package lists"
	as_root apt-get update -q
elif ! apt-cache showsrc musl 2>/dev/null | grep -q '^Package:'; then
	as_root apt-get update -q
fi
