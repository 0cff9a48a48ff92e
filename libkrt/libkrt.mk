# libkrt.a: what a guest needs beyond musl, compiled by kontain-gcc against
# Kontain's musl headers; the kontain/ headers shared with km; and the C++
# runtime (libstdc++ built for musl by build-libstdcxx.sh).
LIBKRT_SRCS := $(wildcard $(TOP)/libkrt/*.c)
LIBKRT_OBJS := $(patsubst $(TOP)/libkrt/%.c,$(BUILD)/libkrt/%.o,$(LIBKRT_SRCS))
LIBKRT_HEADERS := $(patsubst $(TOP)/libkrt/include/%,$(PREFIX)/include/%,\
	$(wildcard $(TOP)/libkrt/include/kontain/*.h))
LIBKRT_CC := $(PREFIX)/bin/kontain-gcc
LIBKRT_CFLAGS := $(CFLAGS) $(WARN) -std=gnu11
LIBSTDCXX := $(PREFIX)/lib/libstdc++.a $(PREFIX)/lib/libsupc++.a
LIBSTDCXX_INPUTS := $(TOP)/libkrt/build-libstdcxx.sh $(TOP)/libkrt/gcc-12.sha256 \
	$(TOP)/musl-patches/fetch-debian-source.sh

SDK_PARTS += $(PREFIX)/lib/libkrt.a $(LIBKRT_HEADERS) $(LIBSTDCXX)

libkrt: $(PREFIX)/lib/libkrt.a $(LIBKRT_HEADERS) $(LIBSTDCXX)

$(BUILD)/libkrt/%.o: $(TOP)/libkrt/%.c $(LIBKRT_HEADERS) $(LIBKRT_CC) $(PREFIX)/lib/libc.a
	@mkdir -p $(@D)
	$(LIBKRT_CC) $(LIBKRT_CFLAGS) -c $< -o $@

$(PREFIX)/lib/libkrt.a: $(LIBKRT_OBJS)
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^

$(PREFIX)/include/kontain/%.h: $(TOP)/libkrt/include/kontain/%.h
	install -D -m 644 $< $@

# Configured by linking with the whole C toolchain, so built after it. The
# archive holds no musl code: only another musl release (new headers) is
# worth the minutes of a rebuild, not a change to our patches.
$(LIBSTDCXX) &: $(LIBSTDCXX_INPUTS) $(TOP)/musl-patches/musl.sha256 \
		| $(DEPS_STAMP) $(MUSL_LIBS) $(PREFIX)/lib/libkrt.a \
		$(PREFIX)/bin/kontain-gcc $(PREFIX)/lib/kontain.specs $(PREFIX)/lib/km.ld \
		$(PREFIX)/include/linux/version.h
	$(TOP)/libkrt/build-libstdcxx.sh $(BUILD)/libstdcxx $(PREFIX)
	@touch $(LIBSTDCXX)

.PHONY: libkrt
