# bzip2: its plain Makefile. Debian's links the bzip2 program with the
# shared library, so the static library is made alone and the program linked
# with it here; the Makefile's own test then runs that program.
make -j"$jobs" CC=kontain-gcc libbz2.a
kontain-gcc -O2 -D_FILE_OFFSET_BITS=64 -o bzip2 bzip2.c libbz2.a
make -o bzip2 test
install -D -m 644 bzlib.h "$prefix/include/bzlib.h"
install -D -m 644 libbz2.a "$prefix/lib/libbz2.a"
