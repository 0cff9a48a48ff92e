#!/usr/bin/env bats
# kontain-gcc and kontain-g++ behave like gcc and g++ for the usual flags.

setup() {
	load helpers
	cd "$BATS_TEST_TMPDIR"
}

is_static_km() {
	run file "$1"
	assert_output --partial "ELF 64-bit LSB"
	assert_output --partial "x86-64"
	assert_output --regexp "statically linked|static-pie linked"
	run objdump -d "$1"
	refute_output --regexp $'\tsyscall'
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
	assert_output --partial "kontain-gcc: -shared is not supported"
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
	is_static_km hello.km
	./moved/bin/kontain-g++ -o cxx.km "$PROGRAMS/cxx_features.cpp"
	is_static_km cxx.km
}
