# kontain-gcc, kontain-g++, their gcc specs and the km.ld linker script,
# installed into $(PREFIX) (bin/ and lib/) where the wrappers find them,
# plus the Linux UAPI headers that C programs expect beside libc's.
KONTAIN_GCC := $(PREFIX)/bin/kontain-gcc
KONTAIN_GXX := $(PREFIX)/bin/kontain-g++
KERNEL_HEADERS := $(PREFIX)/include/linux/version.h
TOOLCHAIN_FILES := $(KONTAIN_GCC) $(KONTAIN_GXX) $(PREFIX)/lib/kontain.specs \
	$(PREFIX)/lib/km.ld $(KERNEL_HEADERS)

SDK_PARTS += $(TOOLCHAIN_FILES)

toolchain: $(TOOLCHAIN_FILES)

$(KONTAIN_GCC): $(TOP)/toolchain/kontain-gcc $(PREFIX)/lib/kontain.specs | $(DEPS_STAMP)
	install -D -m 755 $< $@

$(KONTAIN_GXX): | $(KONTAIN_GCC)
	ln -sfn kontain-gcc $@

$(PREFIX)/lib/kontain.specs $(PREFIX)/lib/km.ld: $(PREFIX)/lib/%: $(TOP)/toolchain/%
	install -D -m 644 $< $@

# Debian's linux-libc-dev: kernel headers, not glibc's. Copied, not linked,
# so that a moved SDK keeps them.
$(KERNEL_HEADERS): /usr/include/linux/version.h | $(DEPS_STAMP)
	rm -rf $(PREFIX)/include/linux $(PREFIX)/include/asm $(PREFIX)/include/asm-generic
	mkdir -p $(PREFIX)/include
	cp -R /usr/include/linux /usr/include/asm-generic $(PREFIX)/include/
	cp -R /usr/include/x86_64-linux-gnu/asm $(PREFIX)/include/asm

.PHONY: toolchain
