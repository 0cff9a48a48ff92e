# shellcheck shell=bash
# What every runenv image's recipe does alike; sourced by runenv/*/image.sh,
# which set top (the checkout) and KONTAIN (the SDK).
# shellcheck disable=SC2154

# The files every image has: CA certificates, services and protocols (the
# host's netbase: getaddrinfo and getservbyname read them), passwd and group, /tmp;
# kontain-interp where the SDK's programs in the image look for it.
base_files() { # ROOT
	local root=$1
	mkdir -p "$root/etc/ssl/certs" "$root/tmp" "$root/opt/kontain/lib"
	cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
	ln -sfn certs/ca-certificates.crt "$root/etc/ssl/cert.pem"
	cp /etc/services /etc/protocols "$root/etc/"
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' \
		>"$root/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
	chmod 1777 "$root/tmp"
	install -m 755 "$KONTAIN/lib/kontain-interp" "$root/opt/kontain/lib/kontain-interp"
}

# One line for what stops a recipe.
fail() {
	echo "image.sh: $*" >&2
	exit 1
}

# A shell and the usual commands: Debian's static busybox (km runs it as it
# is) from the unpacked debs, with a link per applet the root lacks.
install_busybox() { # DEBS ROOT
	local applet
	install -D -m 755 "$1/bin/busybox" "$2/bin/busybox"
	"$2/bin/busybox" --list-full | while read -r applet; do
		mkdir -p "$2/$(dirname "$applet")"
		[ -e "$2/$applet" ] || [ -L "$2/$applet" ] || ln -s /bin/busybox "$2/$applet"
	done
}

# A program built by kontain-gcc, made to name /opt/kontain/lib/kontain-interp.
install_unikernel() { # FILE DEST
	strip --strip-all -o "$2" "$1"
	"$top/runenv/set-interp.py" "$2" /opt/kontain/lib/kontain-interp
}

# The image's entrypoint for an unmodified PROGRAM: runenv/launcher.c.
install_launcher() { # PROGRAM DEST
	local built
	built=$(mktemp "${TMPDIR:-/tmp}/launcher.XXXXXX")
	"$KONTAIN/bin/kontain-gcc" -O2 -DPROGRAM="\"$1\"" -o "$built" "$top/runenv/launcher.c"
	install_unikernel "$built" "$2"
	rm -f "$built"
}

# ROOT as an image: OUT/oci (one image, docker.io/kontainapp/NAME:latest),
# OUT/NAME.oci.tar and OUT/NAME.docker.tar tagged with each of TAGS; the
# rest of the arguments go to oci-image.py. Every time is SOURCE_DATE_EPOCH.
pack_image() { # ROOT OUT NAME "TAGS" OCI-IMAGE-ARGS...
	local root=$1 out=$2 name=$3 tags=$4 tag
	shift 4
	find "$root" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
	rm -rf "$out/oci"
	mkdir -p "$out"
	# One ref, a full name, so that podman load names the image (it loads one image only).
	"$top/runenv/oci-image.py" "$root" "$out/oci" --ref "docker.io/kontainapp/$name:latest" \
		--label "org.opencontainers.image.title=kontainapp/$name" \
		--label "com.kontain.sdk.version=$(cat "$top/VERSION")" "$@"
	tar -C "$out/oci" --sort=name --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner \
		-cf "$out/$name.oci.tar" .
	local more=()
	for tag in $tags; do
		more+=(--additional-tag "kontainapp/$name:$tag")
	done
	rm -f "$out/$name.docker.tar"
	skopeo copy -q "oci:$out/oci" "docker-archive:$out/$name.docker.tar:kontainapp/$name:latest" "${more[@]}"
}

# A label's value naming the first two columns of LIST: "package=version ...".
package_versions() { # LIST
	awk '!/^#/ && NF { printf "%s%s=%s", sep, $1, $2; sep = " " }' "$1"
}

# A recipe's start: stage (removed at exit) and root, the image's tree in it;
# every file's time SOURCE_DATE_EPOCH if set, else the last commit of the
# recipe's directory, here (0 before its first).
begin_image() { # NAME
	local when
	when=$(git -C "$here" log -1 --format=%ct -- . 2>/dev/null || true)
	export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-${when:-0}}
	stage=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
	trap 'rm -rf "$stage"' EXIT
	root=$stage/rootfs
}

# The upstream version of PACKAGE in a debs LIST: 18.20.4 of 18.20.4+dfsg-1~deb12u3.
upstream_version() { # PACKAGE LIST
	awk -v p="$1" '$1 == p { sub(/^[0-9]+:/, "", $2); sub(/[+~-].*/, "", $2); print $2 }' "$2"
}

# The pinned packages of here/debs unpacked in stage/debs (unless they are:
# a recipe may leave things out first), of which root gets PATHs with every
# library they need (closure.py), and each package's copyright.
take_from_debs() { # PATH...
	[ -d "$stage/debs" ] || "$top/runenv/unpack-debs.sh" "$here/debs" "$stage/debs"
	# shellcheck disable=SC2046 # one path a line, no spaces
	"$top/runenv/closure.py" "$stage/debs" "$root" "$@" $(copyright_files "$here/debs" "$stage/debs")
}

# The copyright files of the packages of LIST unpacked in DEBS, as paths.
copyright_files() { # LIST DEBS
	local package
	while read -r package; do
		[ -f "$2/usr/share/doc/$package/copyright" ] && echo "/usr/share/doc/$package/copyright"
	done < <(awk '!/^#/ && NF { print $1 }' "$1")
	return 0
}
