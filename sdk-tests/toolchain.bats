#!/usr/bin/env bats
# kontain-gcc and kontain-g++ behave like gcc and g++ for the usual flags.

setup() {
	load helpers
	cd "$BATS_TEST_TMPDIR"
}

# A program for km: no library to load, no syscall instruction, and the
# SDK's kontain-interp as ELF interpreter, so that executing it runs km.
is_static_km() {
	local sdk=${2:-$KONTAIN}
	run file "$1"
	assert_output --partial "ELF 64-bit LSB"
	assert_output --partial "x86-64"
	assert_output --partial "interpreter $sdk/lib/kontain-interp,"
	run readelf -d "$1"
	refute_output --partial "(NEEDED)"
	run objdump -d "$1"
	refute_output --regexp $'\tsyscall'
}

# Building a project from source with its configure (hundreds of compiles,
# each check's program started under km) takes from half an hour to hours
# in the nested VM's single-threaded emulation (TCG); such tests run in the
# direct pass, on a host with /dev/kvm.
need_native_speed() {
	if [[ ${KM_TESTS_VM_ACCEL:-} == tcg* ]]; then
		echo "# SKIPPED IN THE NESTED VM: building $1 from source is too slow under its emulated CPU" >&3
		skip "building $1 from source is too slow under the nested VM's emulated CPU"
	fi
}


@test "-o builds a static ELF with no syscall instruction in it" {
	kontain-gcc -o hello.km "$PROGRAMS/hello.c"
	is_static_km hello.km
}

@test "-O2 -g keep debug info" {
	kontain-gcc -O2 -g -o hello.km "$PROGRAMS/hello.c"
	run readelf -S hello.km
	assert_output --partial ".debug_info"
}

@test "-c makes an object, linked in a second step" {
	kontain-gcc -c "$PROGRAMS/hello.c"
	[ -f hello.o ]
	kontain-gcc -o hello.km hello.o
	is_static_km hello.km
}

@test "-S makes assembly and -E preprocesses with the kontain headers" {
	kontain-gcc -S -o hello.s "$PROGRAMS/hello.c"
	grep -q "main:" hello.s
	run kontain-gcc -E "$PROGRAMS/hello.c"
	assert_success
	assert_output --partial "$KONTAIN/include/stdio.h"
	refute_output --partial "/usr/include/stdio.h"
}

@test "-I and -D reach the preprocessor" {
	mkdir inc
	echo '#define GREETING "from -I"' >inc/greeting.h
	printf '#include <stdio.h>\n#include "greeting.h"\nint main(void){puts(GREETING WHO);return 0;}\n' >m.c
	kontain-gcc -Iinc -DWHO='" and -D"' -o m.km m.c
	is_static_km m.km
	if [ -e /dev/kvm ]; then
		run km m.km
		assert_output "from -I and -D"
	fi
}

@test "multiple sources, a static library with -L -l, and -Wl options" {
	printf 'int twice(int x){return 2*x;}\n' >lib.c
	printf 'int twice(int);\nint main(void){return twice(21);}\n' >main.c
	kontain-gcc -c lib.c
	ar rcs libtwice.a lib.o
	kontain-gcc -o a.km main.c -L. -ltwice -Wl,-Map,a.map
	[ -s a.map ]
	is_static_km a.km
	printf 'int twice(int x){return 2*x;}\n' >other.c
	kontain-gcc -static -o b.km main.c other.c
	is_static_km b.km
	if [ -e /dev/kvm ]; then
		run km a.km
		assert_failure 42
		run km b.km
		assert_failure 42
	fi
}

@test "kontain-g++ builds C++ with the kontain runtime" {
	kontain-g++ -O2 -o cxx.km "$PROGRAMS/cxx_features.cpp"
	is_static_km cxx.km
	run nm cxx.km
	refute_output --regexp "GLIBC_|__libc_start_main@"
}

@test "-static-pie builds a position-independent static program" {
	kontain-gcc -static-pie -o pie.km "$PROGRAMS/hello.c"
	run readelf -h pie.km
	assert_output --partial "DYN"
	if [ -e /dev/kvm ]; then
		run km pie.km pie
		assert_success
		assert_output "Hello, pie!"
	fi
}

@test "-shared is refused with one clear line" {
	run kontain-gcc -shared -o lib.so "$PROGRAMS/hello.c"
	assert_failure
	assert_equal "${#lines[@]}" 1
	assert_output --partial "kontain-gcc: -shared is not supported: km runs static programs; link the code into the program (configure --disable-shared, or a static library)"
}

@test "a compile error is gcc's, with gcc's status" {
	printf 'int main(void) { return missing; }\n' >bad.c
	run env LC_ALL=C kontain-gcc -o bad.km bad.c
	assert_failure 1
	assert_output --partial "'missing' undeclared"
}

@test "the SDK works when its tree is moved" {
	cp -a "$KONTAIN" moved
	./moved/bin/kontain-gcc -o hello.km "$PROGRAMS/hello.c"
	is_static_km hello.km "$PWD/moved"
	./moved/bin/kontain-g++ -o cxx.km "$PROGRAMS/cxx_features.cpp"
	is_static_km cxx.km "$PWD/moved"
	if [ -e /dev/kvm ]; then
		run ./hello.km moved
		assert_output "Hello, moved!"
	fi
}

@test "a program runs when executed, as under km: arguments, argv[0], environment, stdin, status" {
	need_kvm
	kontain-gcc -o args.km "$PROGRAMS/args_env.c"
	kontain-gcc -static-pie -o echo.km "$PROGRAMS/stdio_echo.c"
	run env KM_TEST_FOO=bar ./args.km 3 "two words"
	assert_failure 3
	assert_output "$(printf 'argc=3\nargv[0]=./args.km\nargv[1]=3\nargv[2]=two words\nenv KM_TEST_FOO=bar')"
	run bash -c 'exec -a renamed ./args.km'
	assert_success
	assert_line "argv[0]=renamed"
	mkdir bin && cp args.km bin/onpath
	run env PATH="$PWD/bin:$PATH" onpath 5
	assert_failure 5
	assert_line "argv[0]=onpath"
	run bash -c 'echo "through stdin" | ./echo.km'
	assert_success
	assert_output "$(printf 'THROUGH STDIN\nlines=1')"
}

@test "an executed program's km errors are km's lines: no /dev/kvm, no km" {
	[ "$(id -u)" = 0 ] || skip "needs root to hide /dev/kvm in a mount namespace"
	kontain-gcc -o hello.km "$PROGRAMS/hello.c"
	run unshare --mount sh -c 'mount -t tmpfs none /dev && ./hello.km'
	assert_failure
	assert_equal "${#lines[@]}" 1
	assert_output --partial "/dev/kvm does not exist"
	cp -a "$KONTAIN" sdk
	./sdk/bin/kontain-gcc -o moved.km "$PROGRAMS/hello.c"
	rm sdk/bin/km
	run -127 ./moved.km
	assert_output "kontain-interp: cannot run km, $PWD/sdk/lib/../bin/km: no such file (in a container, run it with the OCI runtime krun: docker run --runtime=krun)"
	run "$KONTAIN/lib/kontain-interp"
	assert_failure 2
	assert_output --partial "kontain-interp: this is the ELF interpreter of programs built by kontain-gcc"
}

@test "-dumpmachine, -print-multiarch and -print-search-dirs describe the SDK, not the host" {
	run kontain-gcc -dumpmachine
	assert_output "x86_64-kontain-linux-musl"
	run kontain-gcc -print-multiarch
	assert_success
	assert_output ""
	run kontain-gcc -print-search-dirs
	assert_success
	assert_line --regexp "^libraries: =$KONTAIN/lib/:/usr/lib/gcc/x86_64-linux-gnu/12/\$"
	run kontain-gcc -print-file-name=libc.a
	assert_output "$KONTAIN/lib/libc.a"
}

@test "the triplet's tools build a program as kontain-gcc does" {
	for tool in gcc cc g++ c++ ar ranlib nm strip objdump readelf pkg-config; do
		command -v "x86_64-kontain-linux-musl-$tool" >/dev/null
	done
	printf 'int twice(int x){return 2*x;}\n' >lib.c
	printf 'int twice(int);\nint main(void){return twice(21);}\n' >main.c
	x86_64-kontain-linux-musl-cc -c lib.c
	x86_64-kontain-linux-musl-ar rc libtwice.a lib.o
	x86_64-kontain-linux-musl-ranlib libtwice.a
	x86_64-kontain-linux-musl-gcc -o t.km main.c -L. -ltwice
	is_static_km t.km
	x86_64-kontain-linux-musl-c++ -o cxx.km "$PROGRAMS/cxx_features.cpp"
	is_static_km cxx.km
	run x86_64-kontain-linux-musl-nm t.km
	assert_output --partial " T twice"
}

@test "kontain-pkg-config finds the SDK's libraries, not the host's" {
	pkg-config --exists zlib # the host's, for glibc
	run kontain-pkg-config --exists zlib
	assert_failure
	cp -a "$KONTAIN" sdk
	mkdir -p sdk/include sdk/lib/pkgconfig
	printf 'int greet_answer(void){return 42;}\n' >greet.c
	printf 'int greet_answer(void);\n' >sdk/include/greet.h
	./sdk/bin/kontain-gcc -c greet.c
	ar rcs sdk/lib/libgreet.a greet.o
	cat >sdk/lib/pkgconfig/greet.pc <<-'PC'
		prefix=${pcfiledir}/../..
		Name: greet
		Description: a library built for km
		Version: 1.0
		Cflags: -I${prefix}/include -DGREET
		Libs: -L${prefix}/lib -lgreet
	PC
	run ./sdk/bin/x86_64-kontain-linux-musl-pkg-config --modversion greet
	assert_output "1.0"
	run ./sdk/bin/kontain-pkg-config --cflags --libs greet
	assert_output --partial "-DGREET"
	refute_output --partial "/usr/"
	printf '#include <greet.h>\nint main(void){return greet_answer();}\n' >use.c
	./sdk/bin/kontain-gcc -o use.km use.c $(./sdk/bin/kontain-pkg-config --cflags --libs greet)
	if [ -e /dev/kvm ]; then
		run ./use.km
		assert_failure 42
	fi
}

# hello's own configure, make and make check: configure runs its test
# programs (./conftest) as a native build does, so it does not cross-compile.
# Compared with the same build by Debian's musl-gcc: hello's wprintf after
# printf on stdout prints with musl and not with glibc.
@test "GNU hello builds with ./configure CC=kontain-gcc && make && make check, as natively" {
	need_kvm
	need_native_speed "GNU hello"
	dpkg-source -x "$REPO/build/tests/sources/hello/hello_2.10-3.dsc" native >unpack.log 2>&1
	cp -a native km
	(cd native && ./configure -q CC=musl-gcc && make -s -j2 && make -s check) >native.log 2>&1
	(cd km && ./configure -q CC=kontain-gcc && make -s -j2 && make -s check) >km.log 2>&1 ||
		{ cat km.log; tail -n 40 km/config.log; false; }
	run grep -A5 "checking whether we are cross compiling" km/config.log
	assert_line --regexp "^configure:[0-9]+: ./conftest$"
	assert_line --regexp "^configure:[0-9]+: result: no$"
	is_static_km km/hello
	for args in "" "-t" "-g Bonjour" "--version" "--help"; do
		run -0 bash -c "cd native && ./hello $args"
		want=$output
		run -0 bash -c "cd km && ./hello $args"
		assert_output "$want"
	done
	run --separate-stderr bash -c "cd native && ./hello --bad-option extra"
	want=$output want_stderr=$stderr want_status=$status
	run --separate-stderr bash -c "cd km && ./hello --bad-option extra"
	assert_equal "$status" "$want_status"
	assert_equal "$stderr" "$want_stderr"
	assert_output "$want"
	assert_equal "$(grep -E '^# (TOTAL|PASS|SKIP|FAIL|ERROR)' km/test-suite.log)" \
		"$(grep -E '^# (TOTAL|PASS|SKIP|FAIL|ERROR)' native/test-suite.log)"
	grep -q '^# PASS: *4$' km/test-suite.log
}

# proj/: a library (greet.c) and a program printing its argument and the library's answer.
greet_project() {
	mkdir proj
	printf 'int greet_answer(void){return 42;}\n' >proj/greet.c
	printf '#include <stdio.h>\nint greet_answer(void);\nint main(int c,char**v){printf("%%s %%d\\n",c>1?v[1]:"none",greet_answer());return 0;}\n' >proj/main.c
}

@test "a CMake project builds with the SDK's toolchain file: static libraries, the SDK's packages only, ctest and try_run under km" {
	need_kvm
	greet_project
	cat >proj/CMakeLists.txt <<-'CMAKE'
		cmake_minimum_required(VERSION 3.16)
		project(greet C CXX)
		include(CheckCSourceRuns)
		check_c_source_runs("int main(void){return 0;}" PROGRAMS_RUN)
		find_library(HOST_ZLIB z)
		find_package(ZLIB)
		message(STATUS "kontain: runs=${PROGRAMS_RUN} zlib=${HOST_ZLIB} found=${ZLIB_FOUND} cross=${CMAKE_CROSSCOMPILING}")
		add_library(greet SHARED greet.c)
		add_executable(main main.c)
		target_link_libraries(main greet)
		enable_testing()
		add_test(NAME runs COMMAND main from-ctest)
		set_tests_properties(runs PROPERTIES PASS_REGULAR_EXPRESSION "from-ctest 42")
	CMAKE
	run cmake -S proj -B out -G Ninja -DCMAKE_TOOLCHAIN_FILE="$KONTAIN/share/kontain/kontain.cmake"
	assert_success
	assert_output --partial "kontain: runs=1 zlib=HOST_ZLIB-NOTFOUND found=FALSE cross=TRUE"
	assert_output --partial "ADD_LIBRARY called with SHARED option but the target platform does not"
	run cmake --build out
	assert_success
	[ -f out/libgreet.a ]
	is_static_km out/main
	run out/main direct
	assert_output "direct 42"
	run ctest --test-dir out --output-on-failure
	assert_success
	assert_output --partial "100% tests passed"
}

@test "a Meson project builds with the SDK's cross file: static libraries, meson test under km" {
	need_kvm
	greet_project
	cat >proj/meson.build <<-'MESON'
		project('greet', 'c')
		cc = meson.get_compiler('c')
		message('kontain: runs=@0@ zlib=@1@'.format(
			cc.run('int main(void){return 3;}').returncode(),
			dependency('zlib', required: false).found()))
		greet = library('greet', 'greet.c')
		main = executable('main', 'main.c', link_with: greet)
		test('runs', main, args: ['from-meson'])
	MESON
	run meson setup --cross-file "$KONTAIN/share/kontain/meson-cross.ini" out proj
	assert_success
	assert_output --partial "kontain: runs=3 zlib=false"
	run meson compile -C out
	assert_success
	[ -f out/libgreet.a ]
	is_static_km out/main
	run out/main direct
	assert_output "direct 42"
	run meson test -C out
	assert_success
	assert_output --partial "Ok:                 1"
}

# runenv-python's parts from Debian's sources, built by runenv/python's own
# recipes (what the image uses) with each one's build system, in order, into
# one prefix that later parts build against (as the image's are), once per
# content (runenv/python/prefix.sh caches them); ./prefix, ./work and
# ./NAME.log lead there.
build_part() {
	local dir
	dir=$("$REPO/runenv/python/prefix.sh" "$1") || return 1
	ln -sfn "$dir/prefix" prefix
	ln -sfn "$dir/work" work
	ln -sfn "$dir/$1.log" "$1.log"
}

@test "zlib from Debian's source: its configure, make and make test; minigzip and gzip read each other's output" {
	need_kvm
	need_native_speed zlib
	build_part zlib
	run make -C work/zlib test
	assert_success
	assert_output --partial "*** zlib 64-bit test OK ***"
	is_static_km work/zlib/minigzip
	seq 1 20000 >data
	work/zlib/minigzip <data >data.gz
	gzip -dc data.gz | cmp - data
	gzip -c data | work/zlib/minigzip -d | cmp - data
	local lib
	lib=$(readlink -f prefix/lib)
	run env PKG_CONFIG_PATH="$lib/pkgconfig" kontain-pkg-config --libs zlib
	assert_equal "$(echo $output)" "-L$lib -lz"
}

@test "SQLite from Debian's source: configure and make; its sqlite3 shell answers as Debian's, on the same database file" {
	need_kvm
	need_native_speed SQLite
	build_part sqlite3
	is_static_km prefix/bin/sqlite3
	cat >script.sql <<-'SQL'
		create table t(n integer primary key, sq, word text);
		with recursive c(x) as (select 1 union all select x + 1 from c where x < 5000)
			insert into t select x, x * x, printf('w%05d', x % 977) from c;
		create index t_word on t(word);
		select count(*), sum(sq), min(word), max(word), avg(n) from t;
		select word, count(*) from t group by word order by 2 desc, 1 limit 3;
		select json_object('n', n, 'w', word) from t where n in (7, 4999);
		create virtual table docs using fts5(body);
		insert into docs values ('kontain runs programs in a vm'), ('a unikernel is one program');
		select rowid, highlight(docs, 0, '[', ']') from docs where docs match 'program*';
		select strftime('%Y-%m-%d', '2026-11-30', '+1 month'), 7 / 2.0, typeof(1e300 * 1e300);
		pragma integrity_check;
	SQL
	run prefix/bin/sqlite3 km.db <script.sql
	assert_success
	km_output=$output
	run sqlite3 native.db <script.sql
	assert_success
	assert_equal "$km_output" "$output"
	# Each reads the other's file.
	run sqlite3 km.db "select count(*) from t where word = 'w00007'"
	assert_output "6"
	run prefix/bin/sqlite3 native.db "select sum(n) from t"
	assert_output "12502500"
}

@test "libffi from Debian's source: configure and make; its own call and closure tests pass as natively" {
	need_kvm
	need_native_speed libffi
	build_part libffi
	dpkg-source --no-copy -x "$REPO/build/sources/libffi/libffi_3.4.4-1.dsc" native >unpack.log 2>&1
	(cd native && ./configure -q --disable-shared --disable-docs && make -s -j2) >native.log 2>&1
	for tree in work/libffi native; do
		(cd "$tree"/x86_64-pc-linux-*/ && make check RUNTESTFLAGS="call.exp closure.exp") >"check.log" 2>&1 ||
			{ tail -n 30 check.log; false; }
		grep -E '^# of ' check.log >"$(basename "$tree").summary"
	done
	run cat libffi.summary
	assert_line --regexp "^# of expected passes[[:space:]]+[0-9]+$"
	refute_output --partial "unexpected"
	refute_output --partial "unresolved"
	assert_equal "$(cat libffi.summary)" "$(cat native.summary)"
}

@test "OpenSSL from Debian's source: Configure and make; its openssl digests, encrypts, signs and serves TLS with Debian's" {
	need_kvm
	need_native_speed OpenSSL
	build_part openssl
	local ossl=prefix/bin/openssl
	is_static_km "$ossl"
	# A part of its own suite: known answers for digests, EVP and X.509.
	run make -C work/openssl test TESTS="test_sha test_evp test_x509"
	assert_success
	assert_output --partial "All tests successful."
	run "$ossl" version
	assert_output --regexp "^OpenSSL 3\.0\.20 "
	head -c 1000000 /dev/urandom >data
	for digest in sha256 sha512 sha3-256 md5 blake2b512; do
		assert_equal "$("$ossl" dgst -$digest -r data)" "$(openssl dgst -$digest -r data)"
	done
	# Each decrypts what the other encrypted.
	openssl enc -aes-256-cbc -pbkdf2 -pass pass:k -in data -out data.debian
	"$ossl" enc -d -aes-256-cbc -pbkdf2 -pass pass:k -in data.debian | cmp - data
	"$ossl" enc -chacha20 -pbkdf2 -pass pass:k -in data -out data.km
	openssl enc -d -chacha20 -pbkdf2 -pass pass:k -in data.km | cmp - data
	# A key and certificate made under km; Debian's openssl checks them.
	"$ossl" req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout key.pem \
		-out cert.pem -days 2 -subj /CN=localhost 2>req.log
	"$ossl" dgst -sha256 -sign key.pem -out data.sig data
	openssl x509 -in cert.pem -pubkey -noout >pub.pem
	run openssl dgst -sha256 -verify pub.pem -signature data.sig data
	assert_output "Verified OK"
	run openssl verify -CAfile cert.pem cert.pem
	assert_output "cert.pem: OK"
	# TLS 1.3: a server under km, Debian's client.
	"$ossl" s_server -accept 127.0.0.1:0 -cert cert.pem -key key.pem -www -naccept 1 >server.log 2>&1 &
	local server=$! port=
	for _ in $(seq 100); do
		port=$(awk '/^ACCEPT/ { sub(/.*:/, "", $2); print $2 }' server.log)
		[ -n "$port" ] && break
		sleep 0.1
	done
	[ -n "$port" ] || { cat server.log; fail "s_server under km did not listen"; }
	run bash -c "printf 'GET / HTTP/1.0\r\n\r\n' | openssl s_client -connect 127.0.0.1:$port \
		-CAfile cert.pem -verify_return_error -quiet 2>/dev/null"
	assert_success
	assert_line --partial "HTTP/1.0 200 ok"
	assert_output --partial "New, TLSv1.3, Cipher is TLS_AES_256_GCM_SHA384"
	wait "$server"
}

@test "CPython 3.11 from Debian's source: ./configure and make with no cache answers; its modules and regression tests as Debian's python3.11" {
	need_kvm
	need_native_speed CPython
	build_part python3.11
	local py=prefix/bin/python3.11
	is_static_km "$py"
	# configure ran its checks' programs, so it found what a native build finds.
	run grep -E "^checking (whether we are cross compiling|for working tzset|for /dev/ptmx|whether kontain-gcc supports computed gotos|getaddrinfo bug)" python3.11.log
	assert_output "checking whether we are cross compiling... no
checking getaddrinfo bug... no
checking for working tzset()... yes
checking for /dev/ptmx... yes
checking whether kontain-gcc supports computed gotos... yes"
	run "$py" -c 'import ssl, sqlite3, json, zlib, bz2, lzma, hashlib, decimal, socket, select, datetime, unicodedata, array, math, struct, ctypes, subprocess, time
time.tzset()
f = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int)(lambda x: 3 * x)
print(ssl.OPENSSL_VERSION.split()[1], sqlite3.sqlite_version, zlib.ZLIB_VERSION, f(14),
      hashlib.sha256(b"km").hexdigest()[:12], subprocess.run(["echo", "child"], capture_output=True).stdout.decode().strip(),
      lzma.decompress(bz2.decompress(bz2.compress(lzma.compress(b"xz-bz2")))).decode())'
	assert_success
	assert_output "3.0.20 3.40.1 1.2.13 42 $(printf km | sha256sum | cut -c1-12) child xz-bz2"
	# Its own regression tests, in its build tree (Debian's install leaves them out).
	run work/python3.11/python -m test -j2 test_json test_math test_zlib test_bz2 test_lzma test_sqlite3 \
		test_hashlib test_decimal test_datetime test_ssl test_subprocess
	echo "$output" | tail -n 30
	assert_success
	assert_line "All 11 tests OK."
	assert_line "Tests result: SUCCESS"
	# ctypes' tests, as Debian's python3.11 runs them, less those that load its
	# _ctypes_test shared object or look up symbols by name (pythonapi, libc's
	# open): a static program has neither a loader nor a dynamic symbol table.
	local ctypes_tests native
	ctypes_tests=$(cd work/python3.11/Lib &&
		grep -L -e _ctypes_test -e pythonapi -e 'CDLL(libc_name' ctypes/test/test_*.py | sed 's,/,.,g; s,\.py$,,')
	native=$(cd work/python3.11/Lib && /usr/bin/python3.11 -m unittest $ctypes_tests 2>&1 | tail -n 3)
	run work/python3.11/python -m unittest $ctypes_tests
	echo "$output" | tail -n 30
	assert_success
	assert_equal "$(echo "$output" | tail -n 3 | sed 's/ in [0-9.]*s$//')" "$(echo "$native" | sed 's/ in [0-9.]*s$//')"
	assert_line --regexp "^OK"
}
