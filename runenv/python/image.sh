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
# dist-packages for what users install, pip (Debian's wheel), a shell and
# the usual commands (Debian's static busybox), CA
# certificates, passwd and group.
# The python names kontain-interp at /opt/kontain/lib, where the image has it,
# so that run by another runtime than krun it says what to do.
set -euo pipefail

here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
top=$(cd "$here/../.." && pwd)
KONTAIN=${KONTAIN:-$top/build/opt/kontain}
. "$top/runenv/image-lib.sh"

[ $# = 2 ] || fail "usage: image.sh PREFIX OUT"
prefix=$(cd "$1" && pwd)
out=$2
py_version=$(upstream_version python3.11 "$here/sources/versions")
host_python=/usr/bin/python3.11
[ -x "$prefix/bin/python3.11" ] || fail "no python3.11 in $prefix: run prefix.sh"
# The bytecode is compiled by Debian's python3.11, the same release as ours.
[ "$("$host_python" -c 'import platform; print(platform.python_version())')" = "$py_version" ] ||
	fail "$host_python is not CPython $py_version, which compiles the image's bytecode"

begin_image runenv-python
lib=$root/usr/local/lib
mkdir -p "$root/usr/local/bin" "$lib/python3.11/lib-dynload" "$lib/python3.11/dist-packages"
base_files "$root"

install_unikernel "$prefix/bin/python3.11" "$root/usr/local/bin/python3.11"
ln -s python3.11 "$root/usr/local/bin/python3"
ln -s python3.11 "$root/usr/local/bin/python"

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
"$top/runenv/unpack-debs.sh" "$here/debs" "$stage/debs"
wheel=$(cd "$stage/debs/usr/share/python-wheels" && ls pip-*.whl)
cp "$stage/debs/usr/share/python-wheels/$wheel" "$lib/python3.11/$wheel"
echo "/usr/local/lib/python3.11/$wheel" >"$lib/python3.11/dist-packages/pip.pth"
for name in pip pip3; do
	printf '#!/usr/local/bin/python3\nimport sys\nfrom pip._internal.cli.main import main\nsys.exit(main())\n' \
		>"$root/usr/local/bin/$name"
	chmod 755 "$root/usr/local/bin/$name"
done

# A shell, for Dockerfiles' shell-form RUN lines, os.system and shell=True.
install_busybox "$stage/debs" "$root"

pack_image "$root" "$out" runenv-python "3.11 $py_version" \
	--entrypoint /usr/local/bin/python3 \
	--env PATH=/usr/local/bin:/usr/bin:/bin --env LANG=C.UTF-8 \
	--label "org.opencontainers.image.version=$py_version" \
	--label "org.opencontainers.image.description=CPython $py_version built by kontain-gcc, run by km under krun" \
	--label "com.kontain.sources=$(package_versions "$here/sources/versions") $(package_versions "$here/debs")"
