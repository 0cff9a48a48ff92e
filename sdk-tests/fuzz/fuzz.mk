# Fuzzers (sdk-tests/fuzz): the hypercall fuzzer, a guest that km runs in a
# sandbox, and a libFuzzer harness on km's program loading and exec checks.
#   make fuzz              both at once, each for FUZZ_SECONDS (default 600,
#                          so about ten minutes in all); fails on a finding
#   make fuzz-build        build them (make test does: sdk-tests/fuzz.bats
#                          runs each for 60 seconds)
FUZZ_DIR := $(BUILD)/fuzz
FUZZ_SECONDS ?= 600
HCALL_FUZZER := $(FUZZ_DIR)/hcall_fuzz.km
ELF_FUZZER := $(FUZZ_DIR)/elf_fuzz
ELF_SEEDS := $(FUZZ_DIR)/elf-seeds/.made
# The harness is built from km's own loader, exec and memory code, with the
# sanitizers; what it stubs is listed at the top of elf_fuzz.c.
ELF_FUZZ_KM := km/elf.c km/exec.c km/vma.c km/mem.c km/pagetable.c km/limits.c km/options.c
ELF_FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-std=gnu11 -D_GNU_SOURCE -Wall -Wextra -I$(TOP)/km -I$(TOP)/libkrt/include

DEPS_PACKAGES += clang-14 libclang-rt-14-dev util-linux mount
$(DEPS_STAMP): $(TOP)/sdk-tests/fuzz/fuzz.mk

# km's syscall table, as names, for the fuzzer to cover every call km serves.
$(FUZZ_DIR)/km_syscalls.inc: km/syscalls.h sdk-tests/fuzz/fuzz.mk
	@mkdir -p $(@D)
	awk '/^#define KM_SYSCALLS\(X\)/ { on = 1 } on { print } on && !/\\$$/ { exit }' $< | \
		grep -o 'X([a-z0-9_]*,' | sed 's/,$$/)/' >$@

$(HCALL_FUZZER): sdk-tests/fuzz/hcall_fuzz.c $(FUZZ_DIR)/km_syscalls.inc $(SDK_PARTS)
	$(PREFIX)/bin/kontain-gcc -O2 -g $(WARN) -I$(FUZZ_DIR) -o $@ $<

$(ELF_FUZZER): sdk-tests/fuzz/elf_fuzz.c $(ELF_FUZZ_KM) $(wildcard km/*.h) \
		libkrt/include/kontain/hcall_abi.h | $(DEPS_STAMP)
	@mkdir -p $(@D)
	clang-14 $(ELF_FUZZ_CFLAGS) -o $@ $< $(ELF_FUZZ_KM) -lelf -lpthread

$(ELF_SEEDS): sdk-tests/fuzz/make-seeds $(SDK_PARTS) $(TEST_DIR)/hello.km $(TEST_DIR)/args_env.km \
		$(TEST_DIR)/raw_syscall
	sdk-tests/fuzz/make-seeds $(@D)
	touch $@

fuzz-build: $(HCALL_FUZZER) $(ELF_FUZZER) $(ELF_SEEDS)

fuzz: fuzz-build
	$(TOP)/sdk-tests/fuzz/run-fuzzers $(FUZZ_SECONDS)

test: fuzz-build

.PHONY: fuzz fuzz-build
