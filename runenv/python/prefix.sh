#!/bin/bash
# Build runenv-python's parts (sources/versions, in its order: each builds
# against those before it) with build.sh, once per content: the prefix, the
# parts' build trees (for their own tests) and logs go to a directory of the
# cache named by a hash of the recipes (build.sh, fetch.sh, PART.sh), the
# pinned sources and the SDK's toolchain (km, kontain-interp and krun, which
# only run what is built, are left out), which is printed. With PARTs, the
# parts up to the last one named; else all.
#   prefix.sh [PART...]
# Environment: KONTAIN (the SDK, default build/opt/kontain), KONTAIN_CACHE
# (default ~/.cache/kontain).
set -euo pipefail

here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
top=$(cd "$here/../.." && pwd)
KONTAIN=${KONTAIN:-$top/build/opt/kontain}
cache=${KONTAIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kontain}

fail() {
	echo "prefix.sh: $*" >&2
	exit 1
}

[ -x "$KONTAIN/bin/kontain-gcc" ] || fail "no SDK at $KONTAIN: run make sdk"
export PATH=$KONTAIN/bin:$PATH

mapfile -t parts < <(awk '!/^#/ && NF { print $1 }' "$here/sources/versions")
last=${parts[-1]}
for p in "$@"; do
	printf '%s\n' "${parts[@]}" | grep -qx -- "$p" || fail "no part named '$p' in sources/versions"
	last=$p
done

key() {
	{
		(cd "$here" && sha256sum build.sh fetch.sh "${parts[@]/%/.sh}" sources/*)
		(cd "$KONTAIN" && find lib include bin share/kontain -type f ! -name km ! -name krun ! -name kontain-interp -print0 |
			sort -z | xargs -0 sha256sum)
	} | sha256sum | cut -c1-16
}

dir=$cache/runenv-python-$(key)
mkdir -p "$dir"
exec 9>"$dir/lock"
flock 9
for p in "${parts[@]}"; do
	if [ ! -e "$dir/$p.built" ]; then
		echo "prefix.sh: building $p (log: $dir/$p.log)" >&2
		start=$SECONDS
		"$here/build.sh" "$p" "$dir/prefix" "$dir/work" >"$dir/$p.log" 2>&1 ||
			{ tail -n 40 "$dir/$p.log" >&2; fail "$p failed to build, see $dir/$p.log"; }
		echo "$((SECONDS - start))" >"$dir/$p.built"
	fi
	[ "$p" != "$last" ] || break
done
echo "$dir"
