# sdk-tests: bats suites that use the SDK exactly as installed under build/opt/kontain.
# The test programs are built here, with the installed kontain-gcc/g++, so a
# suite that runs in the nested test VM does not compile under emulation.
TEST_DIR := $(BUILD)/tests
TEST_C := $(wildcard sdk-tests/programs/*.c)
TEST_CXX := $(wildcard sdk-tests/programs/*.cpp)
TEST_PROGRAMS := $(patsubst sdk-tests/programs/%.c,$(TEST_DIR)/%.km,$(TEST_C)) \
	$(patsubst sdk-tests/programs/%.cpp,$(TEST_DIR)/%.km,$(TEST_CXX)) \
	$(TEST_DIR)/raw_syscall $(TEST_DIR)/seccomp_probe

$(TEST_DIR)/%.km: sdk-tests/programs/%.c sdk-tests/programs/check.h $(SDK_PARTS)
	@mkdir -p $(@D)
	$(PREFIX)/bin/kontain-gcc -O2 -g -o $@ $<

$(TEST_DIR)/%.km: sdk-tests/programs/%.cpp $(SDK_PARTS)
	@mkdir -p $(@D)
	$(PREFIX)/bin/kontain-g++ -O2 -g -o $@ $<

# Not built with the SDK on purpose: it stands for an unmodified program.
$(TEST_DIR)/raw_syscall: sdk-tests/programs/raw_syscall.S
	@mkdir -p $(@D)
	$(CC) -nostdlib -static -o $@ $<

# km's seccomp module on its own: the probe includes km/seccomp.c, and links
# km's other objects but main (sdk-tests/km).
$(TEST_DIR)/seccomp_probe: sdk-tests/km/seccomp_probe.c km/seccomp.c km/syscalls.h km/km.h \
		$(filter-out $(BUILD)/km/main.o $(BUILD)/km/seccomp.o,$(KM_OBJS))
	@mkdir -p $(@D)
	$(CC) $(filter-out -MMD -MP,$(KM_CFLAGS)) -static-pie -pthread -o $@ $< \
		$(filter %.o,$^) $(KM_LIBS)

# Native builds of the programs whose suites compare km with Linux itself.
NATIVE_C := threads signals net http_server process vdso isolation guest_values proc_guard limits more_calls \
	fpenv realloc_grow crash large_pages fast_calls exec_flips
NATIVE_CXX := cxx_threads
NATIVE_PROGRAMS := $(addprefix $(TEST_DIR)/native/,$(NATIVE_C) $(NATIVE_CXX))
DEPS_PACKAGES += musl-tools wrk busybox-static python3 openjdk-17-jre-headless nodejs \
	openjdk-17-jdk-headless age openssl libpython3.11-testsuite cmake meson ninja-build zlib1g-dev \
	tcl sqlite3 dejagnu perl python3.11-dev
# The engines containers.bats starts itself, krun under each.
DEPS_PACKAGES += docker.io containerd podman buildah skopeo curl python3-setuptools-whl

# esbuild, a static Go program, as npm ships it (unmodified.bats): pinned by version and hash.
ESBUILD_VERSION := 0.19.12
ESBUILD_SHA512 := B71g1QpxfwBvNrfyJdVDexenDIt1CiDN1TIXLbhOw0KhJzE78KIFGX6OJ9MrtC0oOqMWf+0xop4qEU8JrJTwCg==
ESBUILD := $(TEST_DIR)/esbuild/package/bin/esbuild
$(ESBUILD): | $(DEPS_STAMP)
	@rm -rf $(TEST_DIR)/esbuild && mkdir -p $(TEST_DIR)/esbuild
	cd $(TEST_DIR)/esbuild && npm pack --silent @esbuild/linux-x64@$(ESBUILD_VERSION) >/dev/null
	[ "$$(openssl dgst -sha512 -binary $(TEST_DIR)/esbuild/esbuild-linux-x64-$(ESBUILD_VERSION).tgz | \
		base64 -w0)" = "$(ESBUILD_SHA512)" ] || { echo "esbuild: the package's hash is not the pinned one"; exit 1; }
	tar -xzf $(TEST_DIR)/esbuild/esbuild-linux-x64-$(ESBUILD_VERSION).tgz -C $(TEST_DIR)/esbuild
	touch $@

# Java programs for unmodified.bats, compiled here so the nested VM only runs them.
JAVA_PROGRAMS := $(patsubst sdk-tests/programs/runtimes/%.java,$(TEST_DIR)/java/%.class,\
	$(wildcard sdk-tests/programs/runtimes/*.java))
$(TEST_DIR)/java/%.class: sdk-tests/programs/runtimes/%.java | $(DEPS_STAMP)
	@mkdir -p $(@D)
	javac -d $(@D) $<

$(addprefix $(TEST_DIR)/native/,$(NATIVE_C)): $(TEST_DIR)/native/%: sdk-tests/programs/%.c \
		sdk-tests/programs/check.h | $(DEPS_STAMP)
	@mkdir -p $(@D)/uapi
	ln -sfn /usr/include/linux /usr/include/asm-generic /usr/include/x86_64-linux-gnu/asm $(@D)/uapi/
	musl-gcc -static -O2 -g -idirafter $(@D)/uapi -o $@ $<

$(addprefix $(TEST_DIR)/native/,$(NATIVE_CXX)): $(TEST_DIR)/native/%: sdk-tests/programs/%.cpp \
		| $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CXX) -static -pthread -O2 -g -o $@ $<

# An unmodified dynamic glibc program that dumps core (debug.bats).
$(TEST_DIR)/native/crash_glibc: sdk-tests/programs/crash.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) -O2 -g -pthread -o $@ $<

# An unmodified dynamic glibc program for gdb (debug.bats): its shared libraries.
$(TEST_DIR)/native/debuggee_glibc: sdk-tests/programs/debuggee.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) -O1 -g -pthread -o $@ $<

# GNU hello's source (toolchain.bats builds it with its own configure), as
# Debian ships it, pinned by sum.
HELLO_SOURCE := $(TEST_DIR)/sources/hello/hello_2.10-3.dsc
$(HELLO_SOURCE): sdk-tests/sources/hello.sha256 | $(DEPS_STAMP)
	$(TOP)/musl-patches/fetch-debian-source.sh hello 2.10-3 $< $(@D)
	touch $@

# MarkupSafe's source (runenv.bats builds it into python, the example of
# native code), as Debian's archive has it from upstream, pinned by sum.
MARKUPSAFE_SOURCE := $(TEST_DIR)/sources/markupsafe/markupsafe_2.1.2.orig.tar.gz
$(MARKUPSAFE_SOURCE): sdk-tests/sources/markupsafe.sha256 | $(DEPS_STAMP)
	$(TOP)/musl-patches/enable-deb-src.sh
	@mkdir -p $(@D)
	cd $(@D) && apt-get source -q --download-only --tar-only markupsafe=2.1.2-1 >/dev/null
	cd $(@D) && sha256sum --quiet -c $(TOP)/$<
	touch $@

test-programs: $(TEST_PROGRAMS) $(NATIVE_PROGRAMS) $(TEST_DIR)/native/crash_glibc \
	$(TEST_DIR)/native/debuggee_glibc $(JAVA_PROGRAMS) $(ESBUILD) $(HELLO_SOURCE) \
	$(RUNENV_SOURCES) $(MARKUPSAFE_SOURCE)

# The runenv images are built here, on the host, for both passes (runenv.bats
# skips without them): CPython's configure runs its checks under km, too
# slow under the nested VM's emulation.
test: sdk test-programs $(if $(wildcard /dev/kvm),runenv)
	$(TOP)/sdk-tests/run

.PHONY: test test-programs
