# The runenv images: `make runenv` builds kontainapp/runenv-python from
# Debian's sources with the SDK (runenv/python/prefix.sh caches that build
# by content) into build/runenv/python: an OCI layout, its tar, and a
# docker-archive; then prints its size against its goal.
RUNENV_OUT := $(BUILD)/runenv
DEPS_PACKAGES += skopeo ca-certificates python3.11 dpkg-dev

# The sources of runenv-python's parts, which toolchain.bats builds with
# runenv/python's recipes.
RUNENV_PARTS := $(shell awk '!/^\#/ { print $$1 }' runenv/python/sources/versions)
RUNENV_SOURCES := $(patsubst %,$(BUILD)/sources/%/.fetched,$(RUNENV_PARTS))
$(BUILD)/sources/%/.fetched: runenv/python/sources/%.sha256 runenv/python/sources/versions | $(DEPS_STAMP)
	$(TOP)/runenv/python/fetch.sh $* >/dev/null
	touch $@

runenv: runenv-python

runenv-python: sdk $(RUNENV_SOURCES) | $(DEPS_STAMP)
	dir=$$(runenv/python/prefix.sh) && runenv/python/image.sh "$$dir/prefix" $(RUNENV_OUT)/python
	@runenv/image-size.sh $(RUNENV_OUT)/python/oci kontainapp/runenv-python 25

.PHONY: runenv runenv-python
