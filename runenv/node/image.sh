#!/bin/bash
# Make the image kontainapp/runenv-node from Debian's nodejs, unmodified:
#   image.sh OUT
# OUT gets oci/, runenv-node.oci.tar and runenv-node.docker.tar (tagged 18,
# the full version and latest), as runenv/python/image.sh writes them.
#
# The root: the pinned packages of runenv/node/debs unpacked, of which the
# image takes node, the JavaScript modules it loads from /usr/share/nodejs
# (less @types, for compilers), the C.UTF-8 locale and the packages'
# copyright files, with every shared library they need (closure.py); ICU's
# data is English-only (small-icu.py).
# The entrypoint /usr/local/bin/node is runenv/launcher.c, which execs
# /usr/bin/node: under krun inside km's VM, under another runtime not at all.
set -euo pipefail

here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
top=$(cd "$here/../.." && pwd)
KONTAIN=${KONTAIN:-$top/build/opt/kontain}
. "$top/runenv/image-lib.sh"

[ $# = 1 ] || { echo "usage: image.sh OUT" >&2; exit 1; }
out=$1
version=$(upstream_version nodejs "$here/debs")

begin_image runenv-node
take_from_debs /usr/bin/node /usr/share/nodejs /usr/lib/locale/C.utf8
rm -rf "$root/usr/share/nodejs/@types"
icudata=$(cd "$root/usr/lib/x86_64-linux-gnu" && ls libicudata.so.*.*)
"$here/small-icu.py" "$stage/debs/usr/lib/x86_64-linux-gnu/$icudata" "$root/usr/lib/x86_64-linux-gnu/$icudata"

base_files "$root"
mkdir -p "$root/usr/local/bin"
install_launcher /usr/bin/node "$root/usr/local/bin/node"

pack_image "$root" "$out" runenv-node "${version%%.*} $version" \
	--entrypoint /usr/local/bin/node \
	--env PATH=/usr/local/bin:/usr/bin:/bin --env LANG=C.UTF-8 \
	--label "org.opencontainers.image.version=$version" \
	--label "org.opencontainers.image.description=Debian's Node.js $version, unmodified, run by km under krun" \
	--label "com.kontain.sources=$(package_versions "$here/debs")"
