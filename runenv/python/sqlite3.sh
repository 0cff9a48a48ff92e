# SQLite: autoconf. No readline: configure looks for its header in
# /usr/include by path, which finds the host's, built for glibc.
./configure CC=kontain-gcc CFLAGS=-O2 --prefix="$prefix" --disable-shared \
	--disable-tcl --disable-readline --disable-editline --enable-fts5
make -j"$jobs" sqlite3 libsqlite3.la
make install
