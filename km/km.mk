# km, the monitor: a host program on /dev/kvm and libelf.
KM_SRCS := $(wildcard km/*.c)
KM_OBJS := $(patsubst km/%.c,$(BUILD)/km/%.o,$(KM_SRCS)) $(BUILD)/km/stub.o $(BUILD)/km/syscall_names.o
KM_CFLAGS := $(CFLAGS) $(WARN) -std=gnu11 -D_GNU_SOURCE -DKM_VERSION='"$(VERSION)"' \
	-I$(TOP)/km -I$(TOP)/libkrt/include -MMD -MP
UNISTD_64 := /usr/include/x86_64-linux-gnu/asm/unistd_64.h

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

$(PREFIX)/bin/km: $(KM_OBJS)
	@mkdir -p $(@D)
	$(CC) -pthread -o $@ $^ -lelf

.PHONY: km
km: $(PREFIX)/bin/km

-include $(KM_OBJS:.o=.d)
