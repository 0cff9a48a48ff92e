# zlib: its own configure script (not autoconf); a static library.
CC=kontain-gcc CFLAGS=-O2 ./configure --static --prefix="$prefix"
make -j"$jobs"
make install
