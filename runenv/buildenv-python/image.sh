#!/bin/bash
# Make the image kontainapp/buildenv-python, the build stage for
# kontainapp/runenv-python apps with native code, from a prefix that
# runenv/python/prefix.sh built:
#   image.sh PREFIX OUT
# OUT gets oci/, buildenv-python.oci.tar and buildenv-python.docker.tar
# (tagged 3.11, the full version and latest), as runenv/python/image.sh
# writes them.
#
# The root: the SDK at /opt/kontain (less km and krun, which run nothing
# here); Debian's gcc, g++, binutils and make, which it drives, with their
# libraries (closure.py), bash and busybox; and in /usr/local what links
# runenv-python's interpreter: its headers, its static libraries (debug
# information stripped), python3.11-config and kontain-python-link, which
# links a python with more modules.
set -euo pipefail

here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
top=$(cd "$here/../.." && pwd)
KONTAIN=${KONTAIN:-$top/build/opt/kontain}
. "$top/runenv/image-lib.sh"

[ $# = 2 ] || fail "usage: image.sh PREFIX OUT"
prefix=$(cd "$1" && pwd)
out=$2
config=lib/python3.11/config-3.11-x86_64-linux-musl
py_version=$(upstream_version python3.11 "$top/runenv/python/sources/versions")
[ -f "$prefix/$config/link-flags" ] || fail "no $config/link-flags in $prefix: run prefix.sh"

begin_image buildenv-python
"$top/runenv/unpack-debs.sh" "$here/debs" "$stage/debs"
binutils=(as ld ld.bfd ar ranlib nm objcopy objdump strip readelf size strings addr2line)
# gcc's own directory, less link-time optimization and plugins.
rm -rf "$stage/debs/usr/lib/gcc/x86_64-linux-gnu/12/"{lto1,plugin}
take_from_debs /usr/bin/gcc-12 /usr/bin/g++-12 /usr/bin/cpp-12 /usr/lib/gcc/x86_64-linux-gnu/12 \
	"${binutils[@]/#//usr/bin/}" "${binutils[@]/#//usr/bin/x86_64-linux-gnu-}" /usr/bin/make /bin/bash
for tool in gcc g++ cpp; do
	ln -s "$tool-12" "$root/usr/bin/$tool"
done
ln -s gcc "$root/usr/bin/cc"
ln -s g++ "$root/usr/bin/c++"
install_busybox "$stage/debs" "$root"

mkdir -p "$root/opt/kontain"
tar -C "$KONTAIN" --exclude=./bin/km --exclude=./bin/krun -c . | tar -C "$root/opt/kontain" -x

local=$root/usr/local
mkdir -p "$local/bin" "$local/lib/kontain-python-link" "$local/$config"
cp -a "$prefix/include" "$local/"
cp "$prefix"/lib/*.a "$local/lib/"
cp -a "$prefix/$config/." "$local/$config/"
rm "$local/lib/libpython3.11.a"
ln -s "python3.11/config-3.11-x86_64-linux-musl/libpython3.11.a" "$local/lib/libpython3.11.a"
strip --strip-debug "$local"/lib/*.a "$local/$config"/*.a "$local/$config/python.o"
cp "$prefix/bin/python3.11-config" "$local/bin/"
install -m 755 "$top/runenv/python/kontain-python-link" "$local/bin/"
cp "$top/runenv/python/kontain_builtin_submodules.py" "$local/lib/kontain-python-link/"

base_files "$root"
pack_image "$root" "$out" buildenv-python "3.11 $py_version" \
	--entrypoint /bin/bash \
	--env PATH=/opt/kontain/bin:/usr/local/bin:/usr/bin:/bin --env LANG=C.UTF-8 \
	--label "org.opencontainers.image.version=$py_version" \
	--label "org.opencontainers.image.description=The build stage of kontainapp/runenv-python $py_version apps with native code: kontain-gcc and kontain-python-link" \
	--label "com.kontain.sources=$(package_versions "$top/runenv/python/sources/versions") $(package_versions "$here/debs")"
