# CPython 3.11: its own configure, which runs its checks' programs as a
# native build does, with the libraries in PREFIX (zlib, sqlite3, libffi,
# openssl). Every extension module is built into the one static python:
# configure's Modules/Setup.stdlib (the list it makes for WebAssembly,
# static there as MODULE_BUILDTYPE says) up to its shared-only test
# modules, and _ctypes, which setup.py would build, with the libffi features
# setup.py looks for. setup.py, run by the new python under km, then has
# only those test modules left, which it cannot link. _testinternalcapi is
# left out too: 3.11 links every static module into _freeze_module, which
# lacks the getpath code that _testinternalcapi calls.
# Its prefix is the image's, /usr/local, installed staged into PREFIX: python
# falls back to that compiled-in path when its argv[0] leads nowhere.
MODULE_BUILDTYPE=static ./configure CC=kontain-gcc CXX=kontain-g++ --prefix=/usr/local --disable-shared \
	--without-ensurepip --with-openssl="$prefix" \
	PKG_CONFIG=kontain-pkg-config PKG_CONFIG_PATH="$prefix/lib/pkgconfig" \
	CPPFLAGS="-I$prefix/include" LDFLAGS="-L$prefix/lib"
ffi_features=
for f in ffi_prep_cif_var ffi_prep_closure_loc ffi_closure_alloc; do
	! grep -q "$f" "$prefix/include/ffi.h" || ffi_features+=" -DHAVE_${f^^}=1"
done
{
	sed '/^\*shared\*/,$d; /^_testinternalcapi /d' Modules/Setup.stdlib
	echo "CTYPES_FFI_CFLAGS=$ffi_features"
	echo "_ctypes _ctypes/_ctypes.c _ctypes/callbacks.c _ctypes/callproc.c _ctypes/stgdict.c" \
		"_ctypes/cfield.c \$(CTYPES_FFI_CFLAGS) -I$prefix/include -L$prefix/lib -lffi"
} >Modules/Setup.local
make -j"$jobs"
rm -rf staged
make install DESTDIR="$PWD/staged"
cp -a staged/usr/local/. "$prefix/"

# What links another python with more modules (kontain-python-link): the
# two archives of the build tree that python links, and its link flags, the
# prefix written @PREFIX@.
config=$prefix/lib/python3.11/config-3.11-x86_64-linux-musl
cp Modules/_decimal/libmpdec/libmpdec.a Modules/expat/libexpat.a "$config/"
printf 'print-link:\n\t@echo $(PY_CORE_LDFLAGS) $(LINKFORSHARED) $(LIBS) $(MODLIBS) $(SYSLIBS)\n' |
	make -s -f Makefile -f - print-link |
	sed -e "s|$prefix|@PREFIX@|g" \
		-e "s|Modules/_decimal/libmpdec/|@PREFIX@/lib/python3.11/config-3.11-x86_64-linux-musl/|" \
		-e "s|Modules/expat/|@PREFIX@/lib/python3.11/config-3.11-x86_64-linux-musl/|" >"$config/link-flags"
grep -q -- '-lssl' "$config/link-flags"
