#!/bin/bash
# Make the image kontainapp/runenv-java from Debian's openjdk-17-jre-headless,
# unmodified:
#   image.sh OUT
# OUT gets oci/, runenv-java.oci.tar and runenv-java.docker.tar (tagged 17,
# the full version and latest), as runenv/python/image.sh writes them.
#
# The root: the pinned packages of runenv/java/debs unpacked, of which the
# image takes the JRE's home (its programs, libraries, modules and the
# configuration it links to under /etc), the C.UTF-8 locale and the
# packages' copyright files, with every shared library they need
# (closure.py, which leaves out the JRE's libraries for sound, fonts,
# smartcards and colour profiles: they need libraries a headless service
# does without). Left out too: ct.sym, which only javac reads, and the
# class data archive for heaps of 32 GB and more (the JVM runs without it).
# Java's CA store is the host's, which ca-certificates-java made.
# The entrypoint /usr/local/bin/java is runenv/launcher.c, which execs the
# JRE's java: under krun inside km's VM, under another runtime not at all.
set -euo pipefail

here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
top=$(cd "$here/../.." && pwd)
KONTAIN=${KONTAIN:-$top/build/opt/kontain}
. "$top/runenv/image-lib.sh"

[ $# = 1 ] || { echo "usage: image.sh OUT" >&2; exit 1; }
out=$1
version=$(upstream_version openjdk-17-jre-headless "$here/debs")
java_home=/usr/lib/jvm/java-17-openjdk-amd64
cacerts=/etc/ssl/certs/java/cacerts
[ -f "$cacerts" ] || { echo "image.sh: no $cacerts: install ca-certificates-java" >&2; exit 1; }

begin_image runenv-java
"$top/runenv/unpack-debs.sh" "$here/debs" "$stage/debs"
rm -rf "$stage/debs$java_home/man" "$stage/debs$java_home/docs" "$stage/debs$java_home/lib/ct.sym" \
	"$stage/debs$java_home/lib/server/classes_nocoops.jsa"
take_from_debs "$java_home" /usr/lib/locale/C.utf8
mkdir -p "$root$(dirname "$cacerts")"
cp "$cacerts" "$root$cacerts"

base_files "$root"
mkdir -p "$root/usr/local/bin" "$root/usr/bin"
ln -s "$java_home/bin/java" "$root/usr/bin/java"
install_launcher "$java_home/bin/java" "$root/usr/local/bin/java"

pack_image "$root" "$out" runenv-java "${version%%.*} $version" \
	--entrypoint /usr/local/bin/java \
	--env PATH=/usr/local/bin:/usr/bin:/bin --env LANG=C.UTF-8 --env JAVA_HOME=$java_home \
	--label "org.opencontainers.image.version=$version" \
	--label "org.opencontainers.image.description=Debian's OpenJDK $version JRE, unmodified, run by km under krun" \
	--label "com.kontain.sources=$(package_versions "$here/debs")"
