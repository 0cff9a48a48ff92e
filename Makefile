# Kontain SDK: the one entry point. See README.md.
#   make            build the SDK into build/opt/kontain
#   make demo       build it, then build and run hello.km
#   make test       build it, then run sdk-tests
#   make bench      build it, then print the bench table (BENCH_QUICK=1: fewer repetitions)
#   make fuzz       build it, then run the fuzzers (FUZZ_SECONDS each, default 600)
SHELL := /bin/bash
TOP := $(abspath .)
BUILD := $(TOP)/build
PREFIX := $(BUILD)/opt/kontain
VERSION := $(shell cat $(TOP)/VERSION)

CC := gcc
CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Werror

all: sdk

include mk/deps.mk
include mk/demo.mk
include mk/vm.mk
include musl-patches/musl.mk
include libkrt/libkrt.mk
include toolchain/toolchain.mk
include km/km.mk
include runenv/krun/krun.mk
include runenv/runenv.mk
include sdk-tests/tests.mk
include sdk-tests/fuzz/fuzz.mk
include mk/packages.mk
include bench/bench.mk

sdk: $(SDK_PARTS)

.PHONY: all sdk demo test clean
clean:
	rm -rf $(BUILD)
