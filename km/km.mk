# km, the monitor: a host program on /dev/kvm and libelf, linked static-PIE
# (docs/architecture.md, "km is one static binary").
KM_SRCS := $(wildcard km/*.c)
KM_OBJS := $(patsubst km/%.c,$(BUILD)/km/%.o,$(KM_SRCS)) $(BUILD)/km/stub.o $(BUILD)/km/syscall_names.o \
	$(BUILD)/km/vdso_image.o
KM_CFLAGS := $(CFLAGS) $(WARN) -std=gnu11 -D_GNU_SOURCE -DKM_VERSION='"$(VERSION)"' \
	-I$(TOP)/km -I$(TOP)/km/vdso -I$(TOP)/libkrt/include -MMD -MP
UNISTD_64 := /usr/include/x86_64-linux-gnu/asm/unistd_64.h
# The libraries linked into km, and Debian's packages of them, which the
# packages name (Built-Using, bundled()) since km carries their code.
KM_LIBS := -lelf -lz
KM_LIB_PACKAGES := libc6-dev libelf-dev zlib1g-dev
DEPS_PACKAGES += $(KM_LIB_PACKAGES)

SDK_PARTS += $(PREFIX)/bin/km

$(BUILD)/km/%.o: km/%.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(KM_CFLAGS) -c -o $@ $<

$(BUILD)/km/stub.o: km/stub.S libkrt/include/kontain/hcall_abi.h
	@mkdir -p $(@D)
	$(CC) -I$(TOP)/libkrt/include -c -o $@ $<

# Syscall names for km -v, from the kernel headers of the build host.
$(BUILD)/km/syscall_names.c: $(UNISTD_64) km/km.mk | $(DEPS_STAMP)
	@mkdir -p $(@D)
	awk 'BEGIN { print "const char *const km_syscall_names[] = {" } \
	     $$1 == "#define" && $$2 ~ /^__NR_/ { n = $$3 + 0; if (n > max) max = n; \
	       printf "\t[%d] = \"%s\",\n", n, substr($$2, 6) } \
	     END { print "};"; printf "const unsigned km_syscall_names_count = %d;\n", max + 1 }' \
	     $< > $@

$(BUILD)/km/syscall_names.o: $(BUILD)/km/syscall_names.c
	$(CC) $(CFLAGS) -c -o $@ $<

# The guest's vDSO: position-independent, one segment, no relocations (checked),
# embedded in km, which copies it into every guest.
VDSO_CFLAGS := -O2 -fPIC -fno-stack-protector -fno-builtin -ffreestanding $(WARN) \
	-I$(TOP)/libkrt/include -I$(TOP)/km/vdso
VDSO_LDFLAGS := -nostdlib -shared -Wl,-T,km/vdso/vdso.lds -Wl,--version-script=km/vdso/vdso.map \
	-Wl,-soname=linux-vdso.so.1 -Wl,--hash-style=both -Wl,--no-undefined \
	-Wl,-z,max-page-size=4096 -Wl,--build-id=none

$(BUILD)/km/vdso.so: km/vdso/vdso.c km/vdso/vvar.h km/vdso/vdso.lds km/vdso/vdso.map \
		libkrt/include/kontain/hcall_abi.h | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(VDSO_CFLAGS) $(VDSO_LDFLAGS) -o $@ km/vdso/vdso.c
	@if readelf -rW $@ | grep -q R_X86_64; then echo "vdso.so has relocations" >&2; rm -f $@; exit 1; fi

$(BUILD)/km/vdso_image.o: km/vdso_image.S $(BUILD)/km/vdso.so
	$(CC) -DKM_VDSO_PATH='"$(BUILD)/km/vdso.so"' -c -o $@ $<

$(PREFIX)/bin/km: $(KM_OBJS)
	@mkdir -p $(@D)
	$(CC) -static-pie -pthread -o $@ $^ $(KM_LIBS)

.PHONY: km
km: $(PREFIX)/bin/km

-include $(KM_OBJS:.o=.d)
