# xz-utils: autoconf's configure; liblzma, static, and the xz program.
./configure CC=kontain-gcc --prefix="$prefix" --disable-shared --disable-nls \
	--disable-doc --disable-scripts --disable-lzmadec --disable-lzmainfo --disable-xzdec
make -j"$jobs"
make install
