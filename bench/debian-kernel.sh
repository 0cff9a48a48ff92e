#!/bin/bash
# debian-kernel.sh BUILD OUT: Debian's kernel (the bzImage of the package that
# linux-image-amd64 points to) at OUT, for the qemu peer. Reuses the .deb the
# nested test VM keeps in BUILD/vm, else downloads it next to OUT.
set -euo pipefail
build=$1 out=$2

pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
	awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }')
[[ -n $pkg ]] || { apt-get update -q >/dev/null; pkg=$(apt-cache depends linux-image-amd64 |
	awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }'); }
[[ -n $pkg ]] || { echo "debian-kernel: no linux-image-amd64 in the apt lists" >&2; exit 1; }

mkdir -p "$(dirname "$out")"
debs=("$build/vm/$pkg"_*.deb "$(dirname "$out")/$pkg"_*.deb)
deb=
for d in "${debs[@]}"; do [[ -e $d ]] && deb=$d; done
if [[ -z $deb ]]; then
	(cd "$(dirname "$out")" && apt-get download -q "$pkg")
	debs=("$(dirname "$out")/$pkg"_*.deb)
	deb=${debs[-1]}
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" --wildcards './boot/vmlinuz-*'
cp "$tmp"/boot/vmlinuz-* "$out"
