# libffi: autoconf; config.guess finds x86_64-pc-linux-musl by itself.
./configure CC=kontain-gcc CFLAGS=-O2 --prefix="$prefix" --disable-shared --disable-docs
make -j"$jobs"
make install
