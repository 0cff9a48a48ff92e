# Kontain's musl: Debian's musl 1.2.3 with the patches in musl-patches/,
# built by build-musl.sh under $(BUILD)/musl and installed into $(PREFIX).
MUSL_WORK := $(BUILD)/musl
MUSL_INPUTS := $(wildcard $(TOP)/musl-patches/*.patch) \
	$(TOP)/musl-patches/build-musl.sh $(TOP)/musl-patches/fetch-debian-source.sh \
	$(TOP)/musl-patches/enable-deb-src.sh \
	$(TOP)/musl-patches/musl.sha256 $(TOP)/libkrt/include/kontain/hcall_abi.h
MUSL_LIBS := $(addprefix $(PREFIX)/lib/,libc.a crt1.o crti.o crtn.o rcrt1.o Scrt1.o)

SDK_PARTS += $(MUSL_LIBS)

musl: $(MUSL_LIBS)

# One run of the script makes all of them, and the headers.
$(MUSL_LIBS) &: $(MUSL_INPUTS) | $(DEPS_STAMP)
	$(TOP)/musl-patches/build-musl.sh $(MUSL_WORK) $(PREFIX)
	@touch $(MUSL_LIBS)

.PHONY: musl
