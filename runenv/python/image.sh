#!/bin/bash
# Make the image kontainapp/runenv-python from a prefix that prefix.sh built:
#   image.sh PREFIX OUT
# OUT gets oci/ (an OCI image layout, its one image named
# docker.io/kontainapp/runenv-python:latest), runenv-python.oci.tar (that
# layout, as a tar: podman load) and runenv-python.docker.tar (for docker
# load, tagged 3.11, 3.11.2 and latest). The same inputs give the same bytes: every file's time
# is SOURCE_DATE_EPOCH, by default the last commit of runenv/python.
#
# The root: /usr/local/bin/python3.11 (with python3 and python), its
# standard library compiled into /usr/local/lib/python311.zip less what a
# service does not run (tests, IDLE, Tk, ensurepip, lib2to3), os.py and an
# empty lib-dynload beside it for CPython's search of its prefix,
# dist-packages for what users install, pip (Debian's wheel), CA
# certificates, passwd and group.
# The python names kontain-interp at /opt/kontain/lib, where the image has it,
# so that run by another runtime than krun it says what to do.
set -euo pipefail

here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
top=$(cd "$here/../.." && pwd)
KONTAIN=${KONTAIN:-$top/build/opt/kontain}

fail() {
	echo "image.sh: $*" >&2
	exit 1
}

[ $# = 2 ] || fail "usage: image.sh PREFIX OUT"
prefix=$(cd "$1" && pwd)
out=$2
py_version=$(awk '$1 == "python3.11" { sub(/-.*/, "", $2); print $2 }' "$here/sources/versions")
host_python=/usr/bin/python3.11
[ -x "$prefix/bin/python3.11" ] || fail "no python3.11 in $prefix: run prefix.sh"
# The bytecode is compiled by Debian's python3.11, the same release as ours.
[ "$("$host_python" -c 'import platform; print(platform.python_version())')" = "$py_version" ] ||
	fail "$host_python is not CPython $py_version, which compiles the image's bytecode"
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$here" log -1 --format=%ct -- . 2>/dev/null || echo 0)}

stage=$(mktemp -d "${TMPDIR:-/tmp}/runenv-python.XXXXXX")
trap 'rm -rf "$stage"' EXIT
root=$stage/rootfs
lib=$root/usr/local/lib
mkdir -p "$root/usr/local/bin" "$lib/python3.11/lib-dynload" "$lib/python3.11/dist-packages" \
	"$root/opt/kontain/lib" "$root/etc/ssl/certs" "$root/tmp"

strip --strip-all -o "$root/usr/local/bin/python3.11" "$prefix/bin/python3.11"
"$top/runenv/set-interp.py" "$root/usr/local/bin/python3.11" /opt/kontain/lib/kontain-interp
ln -s python3.11 "$root/usr/local/bin/python3"
ln -s python3.11 "$root/usr/local/bin/python"
install -m 755 "$KONTAIN/lib/kontain-interp" "$root/opt/kontain/lib/kontain-interp"

# The standard library, compiled where its files are (-b), then zipped.
stdlib=$stage/stdlib
mkdir "$stdlib"
tar -C "$prefix/lib/python3.11" \
	--exclude=./test --exclude=./idlelib --exclude=./tkinter --exclude=./turtledemo \
	--exclude=./ensurepip --exclude=./lib2to3 --exclude='./config-3.11*' --exclude=./site-packages \
	--exclude=./lib-dynload --exclude='*/tests' --exclude='*/test' --exclude=__pycache__ \
	--exclude='*.exe' -c . | tar -C "$stdlib" -x
"$host_python" -m compileall -q -b -j0 --invalidation-mode unchecked-hash \
	-d /usr/local/lib/python3.11 "$stdlib" >/dev/null
cp "$stdlib/os.py" "$lib/python3.11/os.py"
"$here/zip-stdlib.py" "$stdlib" "$lib/python311.zip"

# pip, as Debian's python3-pip-whl ships it: the wheel itself, on sys.path
# through a .pth file (pip runs from a wheel), and pip and pip3 scripts.
while read -r package version sum; do
	deb=$("$top/runenv/fetch-deb.sh" "$package" "$version" "$sum")
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$stage" --wildcards './usr/share/python-wheels/*.whl'
done < <(grep -v '^#' "$here/debs")
wheel=$(cd "$stage/usr/share/python-wheels" && ls pip-*.whl)
cp "$stage/usr/share/python-wheels/$wheel" "$lib/python3.11/$wheel"
echo "/usr/local/lib/python3.11/$wheel" >"$lib/python3.11/dist-packages/pip.pth"
for name in pip pip3; do
	printf '#!/usr/local/bin/python3\nimport sys\nfrom pip._internal.cli.main import main\nsys.exit(main())\n' \
		>"$root/usr/local/bin/$name"
	chmod 755 "$root/usr/local/bin/$name"
done

cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
ln -s certs/ca-certificates.crt "$root/etc/ssl/cert.pem"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' \
	>"$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
chmod 1777 "$root/tmp"
find "$root" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

sources=$(awk '!/^#/ && NF { printf "%s%s=%s", sep, $1, $2; sep = " " }' "$here/sources/versions")
rm -rf "$out/oci"
mkdir -p "$out"
# One ref, a full name, so that podman load names the image (it loads one image only).
"$top/runenv/oci-image.py" "$root" "$out/oci" --ref docker.io/kontainapp/runenv-python:latest \
	--entrypoint /usr/local/bin/python3 \
	--env PATH=/usr/local/bin:/usr/bin:/bin --env LANG=C.UTF-8 \
	--label "org.opencontainers.image.title=kontainapp/runenv-python" \
	--label "org.opencontainers.image.version=$py_version" \
	--label "org.opencontainers.image.description=CPython $py_version built by kontain-gcc, run by km under krun" \
	--label "com.kontain.sdk.version=$(cat "$top/VERSION")" \
	--label "com.kontain.sources=$sources"
tar -C "$out/oci" --sort=name --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner \
	-cf "$out/runenv-python.oci.tar" .
rm -f "$out/runenv-python.docker.tar"
skopeo copy -q "oci:$out/oci" "docker-archive:$out/runenv-python.docker.tar:kontainapp/runenv-python:3.11" \
	--additional-tag "kontainapp/runenv-python:$py_version" --additional-tag kontainapp/runenv-python:latest
