# make bench: one markdown table of km against native and its peers (bench/table);
# on a host with /dev/kvm it builds the runenv images first, for their rows.
#   make bench BENCH_QUICK=1   the same table with fewer repetitions
# Guest programs are built here with the installed kontain-gcc and, from the
# same source, natively with Debian's musl; the bench itself runs where KVM is
# (bench/run: here with /dev/kvm, else in one boot of the nested test VM).
BENCH_DIR := $(BUILD)/bench
BENCH_GUESTS := hello exits hash smallio touch
BENCH_KM := $(addprefix $(BENCH_DIR)/,$(addsuffix .km,$(BENCH_GUESTS)) hello_cxx.km http_server.km)
BENCH_NATIVE := $(addprefix $(BENCH_DIR)/native/,$(BENCH_GUESTS) http_server)
BENCH_HOST := $(BENCH_DIR)/runtime $(BENCH_DIR)/floor
BENCH_PEERS := $(BENCH_DIR)/bundle/config.json $(BENCH_DIR)/hello-initramfs.cpio.gz \
	$(BENCH_DIR)/vmlinuz
# What the peers and the profile need; installed by `make bench` only, not by the build or tests.
BENCH_PACKAGES := crun runsc qemu-system-x86 cpio musl-tools zlib1g-dev valgrind strace linux-perf \
	docker.io containerd wrk
BENCH_DEPS_STAMP := $(BUILD)/stamps/bench-deps
BENCH_SRC_DIR := $(TOP)/bench

$(BENCH_DEPS_STAMP): bench/bench.mk | $(DEPS_STAMP)
	$(call install-missing,bench,$(BENCH_PACKAGES))

$(BENCH_DIR)/hello.km: sdk-tests/programs/hello.c $(SDK_PARTS)
	@mkdir -p $(@D)
	$(PREFIX)/bin/kontain-gcc -O2 -o $@ $<

$(BENCH_DIR)/native/hello: sdk-tests/programs/hello.c | $(BENCH_DEPS_STAMP)
	@mkdir -p $(@D)
	musl-gcc -static -O2 -o $@ $<

# The server of sdk-tests/server.bats, for the rows of a server under load.
$(BENCH_DIR)/http_server.km: sdk-tests/programs/http_server.c sdk-tests/programs/check.h $(SDK_PARTS)
	@mkdir -p $(@D)
	$(PREFIX)/bin/kontain-gcc -O2 -o $@ $<

$(BENCH_DIR)/native/http_server: sdk-tests/programs/http_server.c sdk-tests/programs/check.h | $(BENCH_DEPS_STAMP)
	@mkdir -p $(@D)
	musl-gcc -static -O2 -o $@ $<

$(BENCH_DIR)/%.km: bench/%.c bench/measure.h $(SDK_PARTS)
	@mkdir -p $(@D)
	$(PREFIX)/bin/kontain-gcc -O2 $(WARN) -o $@ $<

$(BENCH_DIR)/%.km: bench/%.cpp $(SDK_PARTS)
	@mkdir -p $(@D)
	$(PREFIX)/bin/kontain-g++ -O2 $(WARN) -o $@ $<

$(BENCH_DIR)/native/%: bench/%.c bench/measure.h | $(BENCH_DEPS_STAMP)
	@mkdir -p $(@D)
	musl-gcc -static -O2 $(WARN) -o $@ $<

# Static: a dynamic loader is work a monitor can avoid.
$(BENCH_DIR)/floor: bench/floor.c bench/floor_user.c bench/floor.h bench/measure.h | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(WARN) -static -pthread -o $@ bench/floor.c bench/floor_user.c

$(BENCH_DIR)/runtime: bench/runtime.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(WARN) -o $@ $<

# crun's bundle: the native hello alone in a read-only root.
$(BENCH_DIR)/bundle/config.json: bench/oci-config.json $(BENCH_DIR)/native/hello
	@mkdir -p $(@D)/rootfs/dev $(@D)/rootfs/proc
	cp $(BENCH_DIR)/native/hello $(@D)/rootfs/hello
	cp $< $@

# The qemu peer: Debian's kernel, and an initramfs whose /init is a native hello.
$(BENCH_DIR)/hello-initramfs.cpio.gz: bench/init_hello.c | $(BENCH_DEPS_STAMP)
	@rm -rf $(BENCH_DIR)/initramfs && mkdir -p $(BENCH_DIR)/initramfs
	musl-gcc -static -O2 $(WARN) -o $(BENCH_DIR)/initramfs/init $<
	(cd $(BENCH_DIR)/initramfs && echo init | cpio -o -H newc --quiet) | gzip -1 >$@

$(BENCH_DIR)/vmlinuz: bench/debian-kernel.sh | $(BENCH_DEPS_STAMP)
	bench/debian-kernel.sh $(BUILD) $@

bench-programs: $(BENCH_KM) $(BENCH_NATIVE) $(BENCH_HOST) $(BENCH_PEERS)

bench: sdk bench-programs $(if $(wildcard /dev/kvm),runenv)
	$(TOP)/bench/run $(if $(BENCH_QUICK),--quick)

.PHONY: bench bench-programs
