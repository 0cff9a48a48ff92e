# OpenSSL: its own perl Configure, for linux-x86_64 (km's target is the
# host's). no-module: providers and engines go into libcrypto, as nothing
# loads a shared object. Certificates and openssl.cnf where Debian keeps them.
./Configure linux-x86_64 CC=kontain-gcc no-shared no-module --prefix="$prefix" --libdir=lib \
	--openssldir=/etc/ssl
make -j"$jobs"
make install_sw
