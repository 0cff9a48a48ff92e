# The toolchain, installed into $(PREFIX) where the wrappers find their SDK:
# kontain-gcc and kontain-g++ (also under the target triplet's names, with
# binutils' names beside them, for cross builds), their gcc specs, km.ld,
# kontain-interp (the ELF interpreter of the programs they link),
# kontain-pkg-config, CMake's toolchain file and Meson's cross file, and the
# Linux UAPI headers that C programs expect beside libc's.
KONTAIN_TRIPLET := $(shell bash $(TOP)/toolchain/kontain-gcc -dumpmachine)
$(if $(KONTAIN_TRIPLET),,$(error toolchain/kontain-gcc -dumpmachine printed no target triplet))
KONTAIN_GCC := $(PREFIX)/bin/kontain-gcc
KONTAIN_GXX := $(PREFIX)/bin/kontain-g++
KONTAIN_INTERP := $(PREFIX)/lib/kontain-interp
KONTAIN_PKG_CONFIG := $(PREFIX)/bin/kontain-pkg-config
KERNEL_HEADERS := $(PREFIX)/include/linux/version.h
TRIPLET_COMPILERS := $(addprefix $(PREFIX)/bin/$(KONTAIN_TRIPLET)-,gcc cc g++ c++)
TRIPLET_BINUTILS := $(addprefix $(PREFIX)/bin/$(KONTAIN_TRIPLET)-,\
	ar ranlib nm strip objcopy objdump readelf size strings addr2line as ld)
BUILD_SYSTEM_FILES := $(addprefix $(PREFIX)/share/kontain/,kontain.cmake kontain-project.cmake)
MESON_CROSS := $(PREFIX)/share/kontain/meson-cross.ini
TOOLCHAIN_FILES := $(KONTAIN_GCC) $(KONTAIN_GXX) $(PREFIX)/lib/kontain.specs \
	$(PREFIX)/lib/km.ld $(KONTAIN_INTERP) $(KONTAIN_PKG_CONFIG) \
	$(PREFIX)/bin/$(KONTAIN_TRIPLET)-pkg-config $(TRIPLET_COMPILERS) $(TRIPLET_BINUTILS) \
	$(BUILD_SYSTEM_FILES) $(MESON_CROSS) $(KERNEL_HEADERS)

SDK_PARTS += $(TOOLCHAIN_FILES)
DEPS_PACKAGES += pkgconf

toolchain: $(TOOLCHAIN_FILES)

# What kontain-gcc needs to compile and link comes with it: whatever uses it
# depends on it alone.
$(KONTAIN_GCC): $(TOP)/toolchain/kontain-gcc $(PREFIX)/lib/kontain.specs $(PREFIX)/lib/km.ld \
		$(KONTAIN_INTERP) | $(DEPS_STAMP)
	install -D -m 755 $< $@

$(KONTAIN_PKG_CONFIG): $(TOP)/toolchain/kontain-pkg-config | $(DEPS_STAMP)
	install -D -m 755 $< $@

$(KONTAIN_GXX) $(TRIPLET_COMPILERS): | $(KONTAIN_GCC)
	ln -sfn kontain-gcc $@

$(PREFIX)/bin/$(KONTAIN_TRIPLET)-pkg-config: | $(KONTAIN_PKG_CONFIG)
	ln -sfn kontain-pkg-config $@

# binutils know no target but the host's, which is km's.
$(TRIPLET_BINUTILS): $(PREFIX)/bin/$(KONTAIN_TRIPLET)-%: | $(DEPS_STAMP)
	@mkdir -p $(@D)
	ln -sfn /usr/bin/$* $@

$(PREFIX)/lib/kontain.specs $(PREFIX)/lib/km.ld: $(PREFIX)/lib/%: $(TOP)/toolchain/%
	install -D -m 644 $< $@

$(BUILD_SYSTEM_FILES): $(PREFIX)/share/kontain/%: $(TOP)/toolchain/%
	install -D -m 644 $< $@

# Meson has no path relative to its cross file: the SDK's is written in.
$(MESON_CROSS): $(TOP)/toolchain/meson-cross.ini
	@mkdir -p $(@D)
	sed 's|@PREFIX@|$(PREFIX)|g' $< >$@

# Nothing relocates an ELF interpreter: the build fails if it needs relocating.
INTERP_CFLAGS := -Os -Wall -Wextra -Werror -fPIE -ffreestanding -fno-stack-protector \
	-fno-tree-loop-distribute-patterns -fcf-protection=none -fno-asynchronous-unwind-tables \
	-nostdlib -static-pie -Wl,--no-dynamic-linker -Wl,-z,noexecstack -Wl,--build-id=none
$(KONTAIN_INTERP): $(TOP)/toolchain/kontain-interp.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(INTERP_CFLAGS) -o $@.tmp $<
	@LC_ALL=C readelf -r $@.tmp | grep -q 'There are no relocations' || \
		{ echo "kontain-interp needs relocations: it cannot be an ELF interpreter"; exit 1; }
	strip $@.tmp && mv $@.tmp $@

# Debian's linux-libc-dev: kernel headers, not glibc's. Copied, not linked,
# so that a moved SDK keeps them.
$(KERNEL_HEADERS): /usr/include/linux/version.h | $(DEPS_STAMP)
	rm -rf $(PREFIX)/include/linux $(PREFIX)/include/asm $(PREFIX)/include/asm-generic
	mkdir -p $(PREFIX)/include
	cp -R /usr/include/linux /usr/include/asm-generic $(PREFIX)/include/
	cp -R /usr/include/x86_64-linux-gnu/asm $(PREFIX)/include/asm

.PHONY: toolchain
