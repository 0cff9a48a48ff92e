# krun, the OCI runtime that engines call to run containers under km: a
# static-PIE host program (like km) with json-c, installed beside km, whose
# path it bind-mounts into each container.
KRUN_SRCS := $(wildcard runenv/krun/*.c)
KRUN_OBJS := $(patsubst runenv/krun/%.c,$(BUILD)/krun/%.o,$(KRUN_SRCS))
KRUN_CFLAGS := $(CFLAGS) $(WARN) -fPIE -std=gnu11 -D_GNU_SOURCE -DKRUN_VERSION='"$(VERSION)"' -MMD -MP
# Linked into krun: the packages name them (Built-Using), as for km's.
KRUN_LIB_PACKAGES := libjson-c-dev
# runc is the runtime krun hands containers to.
DEPS_PACKAGES += $(KRUN_LIB_PACKAGES) runc

KRUN_SHARE := $(addprefix $(PREFIX)/share/kontain/,containerd-krun.toml runtimeclass-krun.yaml)
SDK_PARTS += $(PREFIX)/bin/krun $(KRUN_SHARE)

$(KRUN_SHARE): $(PREFIX)/share/kontain/%: runenv/krun/share/%
	install -D -m 644 $< $@

$(BUILD)/krun/%.o: runenv/krun/%.c runenv/krun/krun.mk | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(KRUN_CFLAGS) -c -o $@ $<

$(PREFIX)/bin/krun: $(KRUN_OBJS) runenv/krun/krun.mk
	@mkdir -p $(@D)
	$(CC) -static-pie -o $@ $(filter %.o,$^) -ljson-c

-include $(KRUN_OBJS:.o=.d)
