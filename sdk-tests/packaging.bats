#!/usr/bin/env bats
# The .deb and the .rpm (make packages), checked and installed as a user
# installs them: apt into a fresh Debian root, rpm -i --root into another;
# there a user builds programs with the installed wrappers and runs them with
# the installed km (in the nested test VM when this machine has no /dev/kvm);
# then the package is removed and must leave nothing behind.
# Runs on the host, not in the VM (sdk-tests/run): it needs apt and root.
# The tests run in order: each root is installed, used, then removed.

setup_file() {
	REPO=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
	VERSION=$(cat "$REPO/VERSION")
	export DEB=$REPO/build/packages/kontain_${VERSION}_amd64.deb
	export RPM=$REPO/build/packages/kontain-$VERSION.x86_64.rpm
	[ -f "$DEB" ] && [ -f "$RPM" ] || {
		echo "the packages are missing: run make packages" >&2
		return 1
	}
	if [ "$(id -u)" != 0 ]; then
		echo "# PACKAGING TESTS SKIPPED: they need root (debootstrap, chroot, rpm --root)" >&3
		skip "PACKAGING TESTS SKIPPED: they need root"
	fi
	# Under build/, not /tmp: the nested VM sees the repository, not our /tmp.
	export WORK=$REPO/build/pkgtest
	rm -rf "$WORK"
	mkdir -p "$WORK/deb" "$WORK/rpm"
	dpkg-deb -x "$DEB" "$WORK/deb"
	rpm2cpio "$RPM" | (cd "$WORK/rpm" && cpio -idm --quiet)
	BASE=$("$REPO/sdk-tests/pkgroot" base)
	export BASE
}

setup() {
	load helpers
	PKGROOT=$REPO/sdk-tests/pkgroot
}

in_root() {
	"$PKGROOT" run "$@"
}

# Runs in ROOT with a /dev/kvm of group kvm: here, or in the nested VM (as
# sdk-tests/run does for the other suites).
in_root_with_kvm() {
	if [ -e /dev/kvm ]; then
		"$PKGROOT" run --kvm "$@"
	else
		"$REPO/sdk-tests/vm/run-in-vm" -- "$PKGROOT" run --kvm "$@"
	fi
}

# Every path in ROOT with its type and mode (and size and target unless a
# directory), leaving out the package managers' own records.
snapshot() {
	(cd "$1" && find . -xdev \( -path ./proc -o -path ./tmp -o -path ./var/lib/dpkg \
		-o -path ./var/lib/apt -o -path ./var/cache/apt -o -path ./var/log \
		-o -path ./var/lib/rpm \) -prune -o -type d -printf '%P d %m\n' \
		-o -printf '%P %y %m %s %l\n') | LC_ALL=C sort
}

# Paths, one a line, sorted: those in snapshot $2 that are not in snapshot $1.
added() {
	LC_ALL=C comm -13 "$1" "$2" | cut -d' ' -f1
}

# The files as a package lists them (dpkg -L or rpm -ql), relative and sorted,
# without those that were there before it (directories such as /usr/bin).
package_paths() {
	local before=$1 listing=$2
	sed 's|^/||; /^\.\?$/d' "$listing" | LC_ALL=C sort |
		LC_ALL=C comm -23 - <(cut -d' ' -f1 "$before")
}

# Accounts as a user's machine has them before kontain arrives: alice in the
# kvm group (which Debian's udev made), bob not.
add_users() {
	in_root "$1" useradd -m -G kvm alice
	in_root "$1" useradd -m bob
}

# alice builds a C and a C++ program, bob a C one, with the wrappers on PATH.
build_as_users() {
	local root=$1
	cp "$PROGRAMS/hello.c" "$PROGRAMS/cxx_features.cpp" "$root/home/alice/"
	cp "$PROGRAMS/hello.c" "$root/home/bob/"
	in_root "$root" chown alice: /home/alice/hello.c /home/alice/cxx_features.cpp
	in_root "$root" chown bob: /home/bob/hello.c
	run in_root "$root" runuser -l alice -c \
		'kontain-gcc -O2 -o hello.km hello.c && kontain-g++ -O2 -o cxx.km cxx_features.cpp'
	assert_success
	run in_root "$root" runuser -l bob -c 'kontain-gcc -o hello.km hello.c'
	assert_success
	run in_root "$root" runuser -l alice -c 'kontain-gcc -print-file-name=libc.a'
	assert_output /opt/kontain/lib/libc.a
	run in_root "$root" readelf -lW /home/alice/hello.km /home/alice/cxx.km
	assert_success
	assert_equal "$(grep -c 'Requesting program interpreter: /opt/kontain/lib/kontain-interp]' <<<"$output")" 2
}

# alice runs both programs with km from /usr/bin; bob, not in the kvm group, is
# told what to do. One boot of the VM for all three.
run_as_users() {
	[ -e /dev/kvm ] || [ "${KM_TESTS_IN_VM:-yes}" != no ] || need_kvm
	run in_root_with_kvm "$1" bash -c '
		runuser -l alice -c "km hello.km world"; echo "alice hello: $?"
		runuser -l alice -c "km cxx.km"; echo "alice cxx: $?"
		runuser -l alice -c "./hello.km directly"; echo "alice ./hello.km: $?"
		runuser -l bob -c "km hello.km"; echo "bob hello: $?"'
	assert_success
	assert_line "Hello, world!"
	assert_line "alice hello: 0"
	assert_line "ok: exceptions across frames"
	assert_line "ok: sstream"
	assert_line "static dtor first"
	assert_line "alice cxx: 0"
	assert_line "Hello, directly!"
	assert_line "alice ./hello.km: 0"
	assert_line 'km: no permission to open /dev/kvm: add yourself to the kvm group (sudo usermod -aG kvm $USER) and log in again'
	assert_line "bob hello: 1"
}

@test "the .deb installs /opt/kontain, the command links, man pages and docs, nothing else" {
	cd "$WORK/deb"
	run find . -mindepth 1 -maxdepth 2
	assert_equal "$(echo "$output" | LC_ALL=C sort | tr '\n' ' ')" "./opt ./opt/kontain ./usr ./usr/bin ./usr/share "
	run ls opt/kontain opt/kontain/bin opt/kontain/share/doc usr/bin usr/share \
		usr/share/doc/kontain usr/share/man/man1
	assert_output "opt/kontain:
bin
include
lib
share

opt/kontain/bin:
km
kontain-g++
kontain-gcc
kontain-pkg-config
krun
x86_64-kontain-linux-musl-addr2line
x86_64-kontain-linux-musl-ar
x86_64-kontain-linux-musl-as
x86_64-kontain-linux-musl-c++
x86_64-kontain-linux-musl-cc
x86_64-kontain-linux-musl-g++
x86_64-kontain-linux-musl-gcc
x86_64-kontain-linux-musl-ld
x86_64-kontain-linux-musl-nm
x86_64-kontain-linux-musl-objcopy
x86_64-kontain-linux-musl-objdump
x86_64-kontain-linux-musl-pkg-config
x86_64-kontain-linux-musl-ranlib
x86_64-kontain-linux-musl-readelf
x86_64-kontain-linux-musl-size
x86_64-kontain-linux-musl-strings
x86_64-kontain-linux-musl-strip

opt/kontain/share/doc:
README

usr/bin:
km
kontain-g++
kontain-gcc
kontain-pkg-config
krun
x86_64-kontain-linux-musl-c++
x86_64-kontain-linux-musl-cc
x86_64-kontain-linux-musl-g++
x86_64-kontain-linux-musl-gcc
x86_64-kontain-linux-musl-pkg-config

usr/share:
doc
lintian
man

usr/share/doc/kontain:
changelog.gz
copyright
musl-COPYRIGHT

usr/share/man/man1:
km.1.gz
kontain-g++.1.gz
kontain-gcc.1.gz
kontain-pkg-config.1.gz
krun.1.gz
x86_64-kontain-linux-musl-c++.1.gz
x86_64-kontain-linux-musl-cc.1.gz
x86_64-kontain-linux-musl-g++.1.gz
x86_64-kontain-linux-musl-gcc.1.gz
x86_64-kontain-linux-musl-pkg-config.1.gz"
	assert_equal "$(readlink usr/bin/km)" /opt/kontain/bin/km
	assert_equal "$(readlink usr/bin/krun)" /opt/kontain/bin/krun
	assert_equal "$(readlink usr/bin/kontain-gcc)" /opt/kontain/bin/kontain-gcc
	assert_equal "$(readlink usr/bin/kontain-g++)" /opt/kontain/bin/kontain-g++
	for f in libc.a libkrt.a libstdc++.a libsupc++.a crt1.o kontain.specs km.ld kontain-interp; do
		[ -f "opt/kontain/lib/$f" ] || fail "opt/kontain/lib/$f is missing"
	done
	for f in kontain.cmake kontain-project.cmake meson-cross.ini containerd-krun.toml runtimeclass-krun.yaml; do
		[ -f "opt/kontain/share/kontain/$f" ] || fail "opt/kontain/share/kontain/$f is missing"
	done
	grep -q "^c = '/opt/kontain/bin/kontain-gcc'$" opt/kontain/share/kontain/meson-cross.ini
	assert_equal "$(readlink opt/kontain/bin/x86_64-kontain-linux-musl-ar)" /usr/bin/ar
	[ -f opt/kontain/include/stdio.h ] && [ -f opt/kontain/include/c++/12/iostream ] &&
		[ -f opt/kontain/include/kontain/hcall_abi.h ] && [ -f opt/kontain/include/linux/kvm.h ]
	run dpkg-deb -f "$DEB" Version Architecture
	assert_output "Version: $(cat "$REPO/VERSION")
Architecture: amd64"
}

@test "the .rpm holds the same files as the .deb, byte for byte, and requires gcc, g++, binutils" {
	# Only the .deb has Debian's changelog and lintian overrides.
	diff <(cd "$WORK/deb" && find . ! -path ./usr/share/lintian\* ! -name changelog.gz \
		-printf '%p %y %m %l\n' | LC_ALL=C sort) \
		<(cd "$WORK/rpm" && find . -printf '%p %y %m %l\n' | LC_ALL=C sort)
	diff <(cd "$WORK/deb" && find . -type f ! -path ./usr/share/lintian\* ! -name changelog.gz \
		-exec sha256sum {} + | sort) <(cd "$WORK/rpm" && find . -type f -exec sha256sum {} + | sort)
	run rpm -qp --qf '%{NAME} %{VERSION} %{ARCH}\n' "$RPM"
	assert_output "kontain $(cat "$REPO/VERSION") x86_64"
	run rpm -qpR "$RPM"
	assert_line "gcc >= 12"
	assert_line "gcc-c++ >= 12"
	assert_line "binutils"
	# km and krun are static: no shared library, and the libraries they carry are named.
	refute_line --partial ".so"
	run rpm -qp --provides "$RPM"
	assert_line --regexp '^bundled\(glibc\) = [0-9.]+$'
	assert_line --regexp '^bundled\(libelf\) = [0-9.]+$'
	assert_line --regexp '^bundled\(zlib\) = [0-9.]+'
	assert_line --regexp '^bundled\(json-c\) = [0-9.]+$'
	run dpkg-deb -f "$DEB" Depends
	assert_output "binutils, gcc (>= 4:12), gcc (<< 4:13), g++ (>= 4:12), g++ (<< 4:13)"
	# krun hands containers to runc (or crun).
	run dpkg-deb -f "$DEB" Recommends
	assert_output "pkgconf | pkg-config, runc | crun"
	run rpm -qp --recommends "$RPM"
	assert_line "runc"
	run dpkg-deb -f "$DEB" Built-Using
	assert_output --regexp '^elfutils \(= [^)]+\), glibc \(= [^)]+\), json-c \(= [^)]+\), zlib \(= [^)]+\)$'
}

@test "the packages name no build directory and hold no tests" {
	cd "$WORK"
	run grep -rlF -e "$REPO" -e /build/ deb rpm
	assert_output ""
	# Nothing from sdk-tests, no build leftovers, no hidden files.
	local names=() f
	for f in "$REPO"/sdk-tests/programs/*; do names+=(-o -name "$(basename "$f")"); done
	run find deb rpm \( -name '*.km' -o -name '*.bats' -o -name 'sdk-tests' -o -name '*.py' \
		-o -name '*.la' -o -name '.*' "${names[@]}" \)
	assert_output ""
}

@test "lintian and rpmlint find no errors" {
	run "$REPO/packaging/check-packages.sh" "$DEB" "$RPM"
	assert_success
	refute_line --regexp '^E: '
	assert_line --regexp ' 0 errors, [0-9]+ warnings'
}

@test "apt installs the .deb with gcc, g++ and binutils into a fresh Debian root" {
	local r=$WORK/deb-root
	"$PKGROOT" new "$BASE" "$r"
	add_users "$r"
	cp "$DEB" "$r/root/"
	run in_root "$r" apt-get update -q
	assert_success
	run in_root "$r" apt-get install -y -q --no-install-recommends "/root/$(basename "$DEB")"
	assert_success
	run in_root "$r" dpkg-query -W -f '${Package} ${Status}\n' kontain gcc g++ binutils
	assert_output "binutils install ok installed
g++ install ok installed
gcc install ok installed
kontain install ok installed"
	run in_root "$r" km --version
	assert_output "km $(cat "$REPO/VERSION")"
	# The kvm group and its rule come from Debian's udev, not from kontain.
	grep -q '^kvm:' "$r/etc/group"
	grep -q 'KERNEL=="kvm", GROUP="kvm", MODE="0660"' "$r/usr/lib/udev/rules.d/50-udev-default.rules"
}

@test "a user builds C and C++ programs with the wrappers the .deb installed" {
	build_as_users "$WORK/deb-root"
}

@test "km from the .deb runs them for a user in the kvm group and tells others to join it" {
	run_as_users "$WORK/deb-root"
}

@test "dpkg -r removes every file the .deb installed" {
	local r=$WORK/deb-root
	run in_root "$r" dpkg -r kontain
	assert_success
	run in_root "$r" dpkg-query -W -f '${Status}' kontain
	refute_output --partial installed
	for p in opt/kontain usr/bin/km usr/bin/kontain-gcc usr/bin/kontain-g++ \
		usr/share/doc/kontain usr/share/man/man1/km.1.gz usr/share/lintian/overrides/kontain; do
		[ ! -e "$r/$p" ] && [ ! -L "$r/$p" ] || fail "/$p is left behind"
	done
	# Once more, now that the dependencies are in: the paths dpkg -i adds are
	# the package's, and dpkg -r takes the root back to what it was, exactly.
	snapshot "$r" >"$WORK/deb-without"
	in_root "$r" dpkg -i "/root/$(basename "$DEB")"
	snapshot "$r" >"$WORK/deb-with"
	in_root "$r" dpkg-query -L kontain >"$WORK/deb-list"
	diff <(added "$WORK/deb-without" "$WORK/deb-with") <(package_paths "$WORK/deb-without" "$WORK/deb-list")
	in_root "$r" dpkg -r kontain
	snapshot "$r" >"$WORK/deb-removed"
	diff "$WORK/deb-without" "$WORK/deb-removed"
}

@test "rpm -i --root installs the .rpm into a root with gcc, g++ and binutils, without libelf" {
	local r=$WORK/rpm-root
	"$PKGROOT" new "$BASE" "$r"
	run in_root "$r" apt-get update -q
	assert_success
	run in_root "$r" apt-get install -y -q --no-install-recommends gcc g++ binutils
	assert_success
	# The root's rpm database is new and knows nothing of Debian's packages, so
	# rpm cannot see that gcc, g++ and binutils are there: --nodeps.
	# The second test checks what the .rpm requires; dpkg shows they are here.
	run in_root "$r" dpkg-query -W -f '${Status}\n' gcc g++ binutils
	refute_output --partial not-installed
	# km is static: this root has no libelf, and km runs all the same.
	run in_root "$r" dpkg-query -W -f '${Status}\n' libelf1
	refute_output "install ok installed"
	add_users "$r"
	rpm --root "$r" --dbpath /var/lib/rpm --initdb
	snapshot "$r" >"$WORK/rpm-without"
	run rpm --root "$r" --dbpath /var/lib/rpm -i --nodeps "$RPM"
	assert_success
	snapshot "$r" >"$WORK/rpm-with"
	rpm --root "$r" --dbpath /var/lib/rpm -ql kontain >"$WORK/rpm-list"
	diff <(added "$WORK/rpm-without" "$WORK/rpm-with") <(package_paths "$WORK/rpm-without" "$WORK/rpm-list")
	run in_root "$r" km --version
	assert_output "km $(cat "$REPO/VERSION")"
}

@test "a user builds C and C++ programs with the wrappers the .rpm installed" {
	build_as_users "$WORK/rpm-root"
}

@test "km from the .rpm runs them for a user in the kvm group and tells others to join it" {
	run_as_users "$WORK/rpm-root"
}

@test "rpm -e removes every file the .rpm installed" {
	local r=$WORK/rpm-root
	run rpm --root "$r" --dbpath /var/lib/rpm -e kontain
	assert_success
	run rpm --root "$r" --dbpath /var/lib/rpm -q kontain
	assert_failure
	# The root as it was before rpm -i, but for what the users made at home.
	snapshot "$r" >"$WORK/rpm-removed"
	diff <(grep -v '^home/' "$WORK/rpm-without") <(grep -v '^home/' "$WORK/rpm-removed")
}
